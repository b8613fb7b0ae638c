"""The peer corpus (`../shared/corpus`, public BPMN models nobody here wrote): each file gets the outcome
`expectations.tsv` gives it, through the same path as an administrator's upload (`processes.deploy`).

- ACCEPT-RUN: deployed (as a model bound to no tier: only what the engine needs is checked), started with no data;
  with every human task completed with empty data it reaches its end, or waits for a timer or a message as the
  expectation says (23 complete, 2 wait).
- NOT-EXECUTABLE: refused, saying the process is not executable.
- REJECT: refused, each problem naming the element type (`bpmn:<type>`) and id, never Python error text; the two
  XXE files are refused before parsing (DTDs are never read).
- GUARD: refused at upload (recursion, unquoted timer, service task without a handler, a script calling `open`).
"""
import csv
import re
from pathlib import Path

import pytest

from app.errors import Invalid
from app.services import clock, processes
from workflows.instance import Instance

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
ROWS = list(csv.DictReader((CORPUS / "expectations.tsv").open(encoding="utf-8"), delimiter="\t")) \
    if (CORPUS / "expectations.tsv").is_file() else []
RAW = re.compile(r"Traceback|0x[0-9a-f]{6,}|<Element |Error:|Exception")

pytestmark = pytest.mark.skipif(not ROWS, reason=f"the peer corpus is missing: {CORPUS}/expectations.tsv "
                                                 "(it sits beside the clone in CI)")


def _refusal(path: Path) -> list[dict]:
    with pytest.raises(Invalid) as info:
        processes.deploy(f"corpus_{path.stem[:40]}", path.read_bytes(), None, "corpus")
    errors = info.value.errors
    assert errors and all(set(e) == {"element", "message"} for e in errors), errors
    for e in errors:
        assert not RAW.search(e["message"]), e
    return errors


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['group']}:{r['file'].split('/')[-1]}" for r in ROWS])
def test_corpus_file(row):
    path = CORPUS / row["file"]
    group = row["group"]
    if group == "ACCEPT-RUN":
        version = processes.deploy(f"corpus_{path.stem[:40]}", path.read_bytes(), None, "corpus")
        inst = Instance.start(processes.bundle(version), {}, clock.now())
        assert inst.completed or inst.human_tasks() or inst.waiting_timers() or inst.waiting_messages() \
            or inst.active_elements(), "neither finished nor waiting"
        for _ in range(40):  # every human task completed with empty data
            ready = inst.human_tasks()
            if inst.completed or not ready:
                break
            inst.complete(ready[0].uuid, {}, clock.now())
        if "waits" in row["expectation"]:  # "waits on ...": a timer or a message, nothing for a person
            assert not inst.completed and not inst.human_tasks()
            assert inst.waiting_timers() or inst.waiting_messages() or inst.active_elements()
        else:  # "completes", "completes after 10", "completes immediately", ...
            assert inst.completed and inst.end_event() is not None
    elif group == "NOT-EXECUTABLE":
        errors = _refusal(path)
        assert any("not marked executable" in e["message"] for e in errors), errors
    elif group == "REJECT":
        errors = _refusal(path)
        if "XXE" in row["expectation"]:
            assert any("DTD" in e["message"] for e in errors), errors
            assert not any("root:" in e["message"] for e in errors)
        else:
            assert any(e["element"] and f" {e['element']}" in e["message"] and "bpmn:" in e["message"]
                       for e in errors), errors
    elif group == "GUARD":
        errors = _refusal(path)
        assert all(e["element"] for e in errors), errors
    else:
        pytest.fail(f"unknown group {group}")


def test_every_group_is_covered():
    groups = {}
    for r in ROWS:
        groups[r["group"]] = groups.get(r["group"], 0) + 1
    assert groups == {"ACCEPT-RUN": 25, "NOT-EXECUTABLE": 4, "REJECT": 16, "GUARD": 4}


def test_undefined_message_is_named_not_a_type_error():
    from app.config import ROOT

    xml = (ROOT / "bpmn" / "excellent_national_review.bpmn").read_bytes()
    xml = xml.replace(b'<bpmn:message id="recommendation_result" name="recommendation_result" />', b"")
    with pytest.raises(Invalid) as info:
        processes.validate_diagram(xml)
    (err,) = [e for e in info.value.errors if "recommendation_result" in e["message"]][:1]
    assert err["element"] and err["message"].startswith("bpmn:") and "is not defined" in err["message"]
