"""Issue 17 item 4: form schemas never make the server fetch anything.

A `$ref` that is not local ('#/...') is refused at deploy, naming the form and the reference; the validator used at
each completion resolves through a registry that never retrieves, so a schema stored before this rule still fetches
nothing (a local HTTP server counts the requests)."""
import http.server
import threading

import pytest
from referencing.exceptions import Unresolvable

from app.config import ROOT
from app.models import ProcessVersion
from app.services import processes

BASIC = (ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes()
KEY = "basic_self_assessment"


@pytest.fixture
def counting_server():
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            body = b'{"type": "string"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def _form_with(ref: str) -> dict:
    form = dict(processes.latest_version(KEY).forms["basic_review.json"])
    form["properties"] = {**form["properties"], "extra": {"$ref": ref}}
    return form


@pytest.mark.parametrize("ref", ["http://127.0.0.1:9/x.json", "https://example.org/s.json#/a", "file:///etc/passwd",
                                 "other.json", "//evil.example/x", "urn:x:y"])
def test_non_local_reference_refused_at_deploy_naming_form_and_ref(ref):
    _bundle, _forms, problems = processes.diagram_problems(BASIC, {"basic_review.json": _form_with(ref)})
    mine = [p for p in problems if p["element"] == "basic_review.json"]
    assert mine and ref in mine[0]["message"] and "basic_review.json" in mine[0]["message"], problems


def test_local_references_still_deploy():
    form = _form_with("#/$defs/note")
    form["$defs"] = {"note": {"type": "string", "maxLength": 10}}
    _bundle, _forms, problems = processes.diagram_problems(BASIC, {"basic_review.json": form})
    assert problems == []


def test_validator_never_retrieves_a_stored_remote_reference(counting_server):
    base, hits = counting_server
    for ref in (f"{base}/schema.json", "file:///etc/hostname"):
        version = ProcessVersion(id=-abs(hash(ref)) % 10**9, version=1,
                                 forms={"f.json": {"type": "object", "properties": {"x": {"$ref": ref}}}})
        validator = processes.form_validator(version, "f.json")
        with pytest.raises(Unresolvable):
            list(validator.iter_errors({"x": "hello"}))
    assert hits == []


def test_validator_resolves_local_references():
    version = ProcessVersion(id=-7, version=1, forms={"f.json": {
        "type": "object", "$defs": {"n": {"type": "integer"}}, "properties": {"x": {"$ref": "#/$defs/n"}}}})
    validator = processes.form_validator(version, "f.json")
    assert [e.message for e in validator.iter_errors({"x": "a"})] == ["'a' is not of type 'integer'"]
    assert list(validator.iter_errors({"x": 1})) == []
