"""The replay and rewind calls of the API, and the auditor as a reader who changes nothing."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CaseEvent, HumanTask
from tests.audit.helpers import basic_case, open_task, rechain
from tests.conftest import user


def test_replay_answers_the_state_after_a_step(client, auth_headers):
    case_id = basic_case(rounds=1)
    r = client.get(f"/api/v1/cases/{case_id}/replay?at=4", headers=auth_headers("auditor"))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert set(body) >= {"at", "event", "active_elements", "open_tasks", "data", "diff"}
    assert body["at"] == 4 and body["event"]["action"] == "task.completed"
    assert body["event"]["actor"] == "zj-reviewer" and body["active_elements"] == ["self_assessment"]
    assert [t["element"] for t in body["open_tasks"]] == ["self_assessment"]
    assert body["data"]["organizer_decision"] == "return" and body["diff"]["added"]["organizer_decision"] == "return"
    last = client.get(f"/api/v1/cases/{case_id}/replay", headers=auth_headers("miit-1")).get_json()
    assert last["at"] == 7 and last["end_event"] == "end_certified"
    assert client.get(f"/api/v1/cases/{case_id}/replay?at=2&check=all",
                      headers=auth_headers("acme")).status_code == 200


def test_replay_bad_inputs(client, auth_headers):
    case_id = basic_case(rounds=0)
    h = auth_headers("auditor")
    r = client.get(f"/api/v1/cases/{case_id}/replay?at=99", headers=h)
    assert r.status_code == 404 and r.get_json()["error"] == "not_found" and r.get_json()["errors"] == {"last": 4}
    assert client.get(f"/api/v1/cases/{case_id}/replay?at=0", headers=h).get_json()["errors"] == {"last": 4}
    r = client.get(f"/api/v1/cases/{case_id}/replay?at=two", headers=h)
    assert r.status_code == 422 and r.get_json()["errors"] == {"at": "integer"}
    assert client.get("/api/v1/cases/999999/replay?at=1", headers=h).status_code == 404
    assert client.get(f"/api/v1/cases/{case_id}/replay?at=1").status_code == 401
    assert client.get(f"/api/v1/cases/{case_id}/replay?at=1",
                      headers=auth_headers("qingdao-home")).status_code == 404


def test_a_history_that_does_not_replay_answers_409_naming_the_step(client, auth_headers):
    case_id = basic_case(rounds=1)
    rechain(case_id, lambda rows: rows[1].update(data={**rows[1]["data"], "maturity_level": 4}))
    r = client.get(f"/api/v1/cases/{case_id}/replay?at=6", headers=auth_headers("auditor"))
    assert r.status_code == 409
    body = r.get_json()
    assert body["error"] == "replay_mismatch" and body["errors"]["step"] == 2 and "event 2" in body["message"]
    assert "data" not in body  # no state is shown


def test_rewind_over_the_api(client, auth_headers):
    case_id = basic_case(rounds=1, finish=None)
    url = f"/api/v1/cases/{case_id}/rewind"
    assert client.post(url, json={"to": 4, "reason": "x"}, headers=auth_headers("auditor")).status_code == 403
    assert client.post(url, json={"to": 4, "reason": "x"},
                       headers=auth_headers("qingdao-home")).status_code == 404
    r = client.post(url, json={"to": 4}, headers=auth_headers("admin"))
    assert r.status_code == 422 and r.get_json()["errors"] == {"reason": "required"}
    r = client.post(url, json={"to": "4", "reason": "x"}, headers=auth_headers("admin"))
    assert r.status_code == 422 and "to" in r.get_json()["errors"]
    r = client.post(url, json={"to": 4, "reason": "退回重审"}, headers=auth_headers("admin"))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["task"] == "organizer_review" and open_task(case_id).element == "organizer_review"
    r = client.get(f"/api/v1/cases/{case_id}/replay", headers=auth_headers("auditor"))
    assert r.status_code == 200 and r.get_json()["event"]["action"] == "case.rewound"


def _counts():
    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(CaseEvent)),
            db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "open")))


@pytest.mark.parametrize("method, path, body", [
    ("post", "/api/v1/cases", {"tier": "basic", "campaign": 2026, "enterprise_id": 1}),
    ("post", "/api/v1/tasks/{task}/claim", None),
    ("post", "/api/v1/tasks/{task}/release", None),
    ("put", "/api/v1/tasks/{task}/draft", {"data": {}}),
    ("post", "/api/v1/tasks/{task}/complete", {"data": {"decision": "approve", "review_comment": "x"}}),
    ("post", "/api/v1/cases/{case}/rewind", {"to": 2, "reason": "x"}),
    ("post", "/api/v1/process-models/basic_self_assessment/versions", None),
])
def test_the_auditor_changes_nothing(client, auth_headers, method, path, body):
    case_id = basic_case(rounds=0, finish=None)
    task_id = open_task(case_id).id
    before = _counts()
    h = auth_headers("auditor")
    kwargs = {"json": body} if body is not None else {"data": b"<x/>", "content_type": "application/xml"}
    r = getattr(client, method)(path.format(task=task_id, case=case_id), headers=h, **kwargs)
    assert r.status_code == 403, (path, r.status_code, r.get_json())
    assert _counts() == before
    assert user("auditor").role == "auditor"
