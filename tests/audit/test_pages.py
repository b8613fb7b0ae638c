"""The auditor's pages: search, replay stepper, export, report, anchors; refused to other roles."""
import json

import pytest

from app.services import events
from tests.audit.helpers import basic_case
from tests.security.helpers import PASSWORDS, csrf, fresh_client


def login(app, username):
    c = fresh_client(app)
    r = c.post("/login", data={"username": username, "password": PASSWORDS[username], "csrf_token": csrf(c)})
    assert r.status_code == 302
    return c


def test_search_filters_and_pages(app):
    basic_case(rounds=1)
    c = login(app, "auditor")
    r = c.get("/audit/?action=task.completed&username=zj-reviewer&tier=basic&province=330000")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert html.count("<tr>") == 3  # header + the two reviews
    assert c.get("/audit/?since=2026-11-01&until=2026-11-30").status_code == 200
    assert "0" in c.get("/audit/?since=2030-01-01").get_data(as_text=True)
    assert c.get("/audit/?since=yesterday").status_code == 422


def test_case_page_steps_through_the_history(app):
    case_id = basic_case(rounds=1)
    c = login(app, "miit-1")
    r = c.get(f"/audit/cases/{case_id}?at=4")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'id="step-slider"' in html and 'value="4"' in html and 'max="7"' in html
    assert 'id="step-back"' in html and 'id="step-forward"' in html
    assert 'data-active="self_assessment"' in html and "zj-reviewer" in html
    assert "<script>" not in html  # CSP: scripts only from files
    r = c.get(f"/audit/cases/{case_id}?at=99")
    assert r.status_code == 404 and 'id="replay-failure"' in r.get_data(as_text=True)
    assert c.get(f"/audit/cases/{case_id}/diagram.bpmn").data.startswith(b"<?xml")


def test_export_is_verifiable_offline(app):
    case_id = basic_case(rounds=1)
    c = login(app, "auditor")
    r = c.get(f"/audit/cases/{case_id}/export.json")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    doc = json.loads(r.get_data(as_text=True))
    assert doc["chain"]["verified"] is True and len(doc["events"]) == 7
    # the documented offline procedure, with nothing but hashlib and json
    import hashlib

    prev = "0" * 64
    for ev in doc["events"]:
        fields = {k: ev[k] for k in ("case_id", "seq", "at", "actor_id", "action", "task_uuid", "element", "data",
                                     "process_version_id", "state_hash")}
        fields.update({k: ev[k] for k in ("digest", "replay") if ev[k] is not None})
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert ev["prev_hash"] == prev
        prev = hashlib.sha256(prev.encode() + text.encode()).hexdigest()
        assert prev == ev["hash"]
    assert prev == doc["case"]["head"]["hash"]
    assert events.GENESIS == doc["chain"]["genesis"]
    report = c.get(f"/audit/cases/{case_id}/report")
    assert report.status_code == 200 and "第1轮：请补充说明。" in report.get_data(as_text=True)


@pytest.mark.parametrize("username", ["acme", "zj-reviewer", "expert-7"])
def test_other_roles_are_refused(app, username):
    case_id = basic_case(rounds=0)
    c = login(app, username)
    for path in ("/audit/", "/audit/anchors", f"/audit/cases/{case_id}", f"/audit/cases/{case_id}/export.json"):
        assert c.get(path).status_code == 403, path


def test_admin_rewinds_from_the_page(app):
    case_id = basic_case(rounds=1, finish=None)
    c = login(app, "admin")
    html = c.get(f"/audit/cases/{case_id}").get_data(as_text=True)
    assert 'id="rewind-form"' in html
    r = c.post(f"/audit/cases/{case_id}/rewind", data={"to": "4", "reason": "复核", "csrf_token": csrf(c, "/")})
    assert r.status_code == 302
    html = c.get(f"/audit/cases/{case_id}").get_data(as_text=True)
    assert "case.rewound" in html or "abandoned" in html
    auditor = login(app, "auditor")
    assert 'id="rewind-form"' not in auditor.get(f"/audit/cases/{case_id}").get_data(as_text=True)
