"""Hostile input through the product's doors: uploaded diagrams (entities, DTDs, bombs, huge bodies, scripts that try
to escape), YAML bombs through `flask load`, hostile uploads and file names, and SQL/HTML injection in every text
field of the basic self-assessment form. Every refusal is a clear error and writes nothing."""
import io
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.config import ROOT
from app.extensions import db
from app.models import Attachment, Case, CaseEvent, ProcessVersion, User
from tests.engine.test_sandbox_escapes import CHECK_TIME_SCRIPTS
from tests.factories import GOOD_ASSESSMENT
from tests.security.helpers import api_token, browser_login, fresh_client

NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'


def _diagram(script: str = "x = 1", condition: str | None = "x == 1", prolog: str = "", name: str = "s") -> bytes:
    from xml.sax.saxutils import escape

    cond = ""
    if condition is not None:
        cond = f'<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>'
    return f"""<?xml version="1.0"?>{prolog}<bpmn:definitions {NS} id="d" targetNamespace="x">
      <bpmn:process id="p" isExecutable="true">
      <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:scriptTask id="evil" name="{name}"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
        <bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
      <bpmn:exclusiveGateway id="gw" default="f4"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
        <bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>
      <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="evil"/>
      <bpmn:sequenceFlow id="f2" sourceRef="evil" targetRef="gw"/>
      <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="end">{cond}</bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end"/>
      </bpmn:process></bpmn:definitions>""".encode()


def _versions() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ProcessVersion))


def _deploy(client, headers, xml: bytes, key: str = "hostile"):
    return client.post(f"/api/v1/process-models/{key}/versions", data=xml, headers=headers,
                       content_type="application/xml")


def test_a_harmless_diagram_deploys(client):
    """The control: the same diagram with a harmless script and condition is accepted."""
    r = _deploy(client, api_token(client, "admin"), _diagram("x = 1", "x == 1"))
    assert r.status_code == 201, r.get_json()


XML_ATTACKS = {
    "external entity": '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    "parameter entity": '<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
    "billion laughs": ('<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                       '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'),
    "plain DTD": '<!DOCTYPE d SYSTEM "http://127.0.0.1:9/bpmn.dtd">',
}


@pytest.mark.parametrize("attack", XML_ATTACKS)
def test_hostile_xml_is_refused_and_writes_nothing(client, attack):
    before = _versions()
    name = "&xxe;" if attack == "external entity" else ("&d;" if attack == "billion laughs" else "s")
    r = _deploy(client, api_token(client, "admin"), _diagram(prolog=XML_ATTACKS[attack], name=name))
    assert r.status_code == 422, (attack, r.status_code)
    body = r.get_json()
    assert body["error"] == "invalid" and body["errors"]
    assert "root:" not in r.get_data(as_text=True)  # nothing of /etc/passwd came back
    assert _versions() == before


def test_fifty_megabyte_body_is_refused_with_json_413(client):
    before = _versions()
    h = api_token(client, "admin")
    big = _diagram() + b"<!--" + b"x" * (50 * 1024 * 1024) + b"-->"
    r = _deploy(client, h, big)
    assert r.status_code == 413 and r.is_json and r.get_json()["error"] == "too_large"
    assert _versions() == before


def test_diagram_over_its_own_limit_is_refused(client):
    """Under the request limit (21 MB) but over the diagram limit (5 MB): refused by the parser, not parsed."""
    before = _versions()
    big = _diagram() + b"<!--" + b"x" * (6 * 1024 * 1024) + b"-->"
    r = _deploy(client, api_token(client, "admin"), big)
    assert r.status_code == 422 and _versions() == before


def test_garbage_and_empty_bodies_are_refused(client):
    h = api_token(client, "admin")
    before = _versions()
    for body in (b"", b"not xml at all", b"\x00\xff" * 100, b"<a>" * 10000, "<中文/>".encode()):
        r = _deploy(client, h, body)
        assert r.status_code == 422, (body[:20], r.status_code)
    assert _versions() == before


ESCAPE_CONDITIONS = ["__import__('os').system('id')", "().__class__", "(x for x in []).gi_frame",
                     "(lambda: 0).__globals__", "__builtins__", "eval('1')", "f'{().__class__}'",
                     "[y for y in ().__class__.__mro__]"]


@pytest.mark.parametrize("script", CHECK_TIME_SCRIPTS)
def test_script_escapes_are_refused_at_deploy(client, script):
    before = _versions()
    r = _deploy(client, api_token(client, "admin"), _diagram(script))
    assert r.status_code == 422, (script, r.status_code)
    assert "evil" in [e["element"] for e in r.get_json()["errors"]]
    assert _versions() == before


@pytest.mark.parametrize("condition", ESCAPE_CONDITIONS)
def test_condition_escapes_are_refused_at_deploy(client, condition):
    before = _versions()
    r = _deploy(client, api_token(client, "admin"), _diagram("x = 1", condition))
    assert r.status_code == 422, (condition, r.status_code)
    assert {"f3", "gw"} & {e["element"] for e in r.get_json()["errors"]}
    assert _versions() == before


# --- flask load -----------------------------------------------------------------------------------------------------

def _load(app, tmp_path, body: str | bytes):
    path = tmp_path / "hostile.yaml"
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return app.test_cli_runner().invoke(args=["load", str(path)])


def _users() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(User))


@pytest.mark.parametrize("name, body, message", [
    ("alias bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
     "aliases are not allowed"),
    ("python object", "users: !!python/object/apply:os.system ['touch /tmp/tierflow-pwned']\n", "malformed YAML"),
    ("python name", "users: !!python/name:os.system\n", "malformed YAML"),
    ("deep nesting", "users: " + "[" * 5000 + "]" * 5000 + "\n", "malformed YAML"),
    ("not a mapping", "- just\n- a list\n", "must be a mapping"),
    ("unknown section", "commands: [rm]\n", "unknown sections"),
    ("binary", b"\x00\xff\xfe" * 1000, "error"),
])
def test_hostile_yaml_is_refused_and_writes_nothing(app, tmp_path, name, body, message):
    before = _users()
    r = _load(app, tmp_path, body)
    assert r.exit_code == 1, (name, r.output)
    assert message in r.output, (name, r.output)
    assert _users() == before
    assert not Path("/tmp/tierflow-pwned").exists()


def test_huge_yaml_is_refused_before_parsing(app, tmp_path, monkeypatch):
    from app.services import loading

    monkeypatch.setattr(loading, "MAX_BYTES", 1024 * 1024)
    before = _users()
    r = _load(app, tmp_path, "users: [" + "x, " * 600_000 + "]\n")
    assert r.exit_code == 1 and "too large" in r.output
    assert _users() == before


# --- uploads --------------------------------------------------------------------------------------------------------

@pytest.fixture
def case_id(client):
    h = api_token(client, "acme")
    return client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026}, headers=h).get_json()["id"]


@pytest.mark.parametrize("name, content, status", [
    ("tool.exe", b"MZ\x90\x00", 415),
    ("report.pdf.exe", b"%PDF-1.4", 415),
    ("noextension", b"%PDF-1.4", 415),
    ("page.html", b"<script>alert(1)</script>", 415),
    ("image.svg", b"<svg onload='alert(1)'/>", 415),
    ("fake.pdf", b"<html><script>alert(1)</script>", 415),
    ("fake.png", b"%PDF-1.4", 415),
    ("empty.pdf", b"", 415),
    (".pdf", b"<x>", 415),
])
def test_wrong_type_uploads_are_refused(client, case_id, name, content, status):
    h = api_token(client, "acme")
    r = client.post(f"/api/v1/cases/{case_id}/attachments", headers=h,
                    data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")
    assert r.status_code == status and r.is_json, (name, r.status_code)
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_upload_over_the_request_limit_is_json_413(app, client, case_id):
    h = api_token(client, "acme")
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        r = client.post(f"/api/v1/cases/{case_id}/attachments", headers=h, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(b"%PDF-" + b"0" * (2 * 1024 * 1024)), "big.pdf")})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = (app.config["MAX_UPLOAD_MB"] + 1) * 1024 * 1024
    assert r.status_code == 413 and r.get_json()["error"] == "too_large"
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    leftovers = [p for p in Path(app.config["UPLOAD_DIR"]).rglob(".upload-*")]
    assert leftovers == []


@pytest.mark.parametrize("name, stored", [
    ("../../../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\windows\\system32\\x.pdf", None),
    ("/etc/cron.d/evil.pdf", "evil.pdf"),
    ("....//....//x.pdf", "x.pdf"),
    ("..", None),
    ("%2e%2e%2f%2e%2e%2fx.pdf", "%2e%2e%2f%2e%2e%2fx.pdf"),
    ("证明材料<script>.pdf", "证明材料<script>.pdf"),
    ("a" * 500 + ".pdf", "a" * 196 + ".pdf"),
    ("bell\x07\x00name.pdf", "bellname.pdf"),
])
def test_path_traversal_in_names_stays_inside_the_upload_dir(app, client, case_id, name, stored):
    h = api_token(client, "acme")
    root = Path(app.config["UPLOAD_DIR"]).resolve()
    r = client.post(f"/api/v1/cases/{case_id}/attachments", headers=h,
                    data={"file": (io.BytesIO(b"%PDF-1.4 " + name.encode()), name)}, content_type="multipart/form-data")
    if name == "..":
        assert r.status_code == 415  # no name, no type
        return
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert "/" not in out["filename"] and "\\" not in out["filename"] and not out["filename"].startswith(".")
    assert len(out["filename"]) <= 200
    if stored:
        assert out["filename"] == stored
    att = db.session.get(Attachment, out["id"])
    from app.services.attachments import store_path

    path = store_path(att.sha256).resolve()
    assert root in path.parents and path.read_bytes().startswith(b"%PDF-")
    # the download names the file safely (no header injection, no path)
    dl = client.get(f"/api/v1/attachments/{out['id']}", headers=h)
    assert dl.status_code == 200
    disposition = dl.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\n" not in disposition and "/" not in disposition.split(";")[1]
    assert dl.headers["X-Content-Type-Options"] == "nosniff"


def test_header_injection_in_file_names_is_neutralised(client, case_id):
    h = api_token(client, "acme")
    r = client.post(f"/api/v1/cases/{case_id}/attachments", headers=h, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(b"%PDF-1.4"), "x\r\nSet-Cookie: a=b.pdf")})
    if r.status_code == 201:
        dl = client.get(f"/api/v1/attachments/{r.get_json()['id']}", headers=h)
        assert "Set-Cookie" not in dl.headers


# --- SQL and HTML injection in the self-assessment form -----------------------------------------------------------

SQL = "'); DROP TABLE cases; --"
HTML = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _text_fields(schema: dict, prefix: str = "") -> list[str]:
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("type") == "object":
            out += _text_fields(prop, f"{prefix}{name}.")
        elif prop.get("type") == "string" and "enum" not in prop and prop.get("format") != "attachment":
            out.append(f"{prefix}{name}")
    return out


def _set(data: dict, dotted: str, value: str) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        data = data.setdefault(p, {})
    data[last] = value


def test_injection_in_every_text_field_is_stored_verbatim_and_rendered_escaped(app, client):
    import json

    form = json.loads((ROOT / "bpmn" / "forms" / "basic_self_assessment.json").read_text(encoding="utf-8"))
    fields = _text_fields(form)
    assert len(fields) >= 6, fields
    h = api_token(client, "acme")
    case = client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026}, headers=h).get_json()
    data = json.loads(json.dumps(GOOD_ASSESSMENT))
    for i, f in enumerate(fields):
        _set(data, f, (SQL if i % 2 else HTML) + f" #{f}")
    r = client.post(f"/api/v1/tasks/{case['open_tasks'][0]['id']}/complete", headers=h, json={"data": data})
    assert r.status_code == 200, r.get_json()
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1  # the table is still there
    # the reviewer's task page shows what the enterprise wrote, escaped; so does the case page
    reviewer = fresh_client(app)
    browser_login(reviewer, "zj-reviewer")
    review_id = client.get("/api/v1/tasks", headers=api_token(client, "zj-reviewer")).get_json()["items"][0]["id"]
    for url in (f"/tasks/{review_id}", f"/cases/{case['id']}"):
        html = reviewer.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
        if url.startswith("/tasks"):
            assert "&lt;script&gt;alert(" in html and "DROP TABLE cases" in html
    # the enterprise's own view of its data round-trips exactly
    events = client.get(f"/api/v1/cases/{case['id']}/events", headers=h).get_json()["events"]
    stored = next(e for e in events if e["action"] == "task.completed")["data"]
    for i, f in enumerate(fields):
        value = stored
        for part in f.split("."):
            value = value[part]
        assert value == (SQL if i % 2 else HTML) + f" #{f}"


def test_injection_in_query_parameters_and_ids(client):
    h = api_token(client, "miit-1")
    for q in ("?tier=' OR 1=1 --", "?status=<script>", "?page=1;DROP TABLE cases", "?page=-1", "?page=99999999999"):
        r = client.get("/api/v1/cases" + q, headers=h)
        assert r.status_code in (200, 422), (q, r.status_code)
        assert r.is_json
    assert client.get("/api/v1/cases/1%20OR%201=1", headers=h).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == 0
    assert os.path.exists(Path(db.engine.url.database or "")) or db.engine.url.get_backend_name() != "sqlite"
