"""Reassignment and corrections (issue 18 part 4) through the API: a task handed to a colleague of the same role
and scope (422 otherwise), by its holder, an administrator or the province's administrator; a corrected value is
an event, the original stays visible in the history and in replay."""
from app.extensions import db
from app.models import CaseEvent, HumanTask
from app.services import notifications, people
from app.services import tasks as task_service
from app.uow import unit_of_work
from tests.conftest import user
from tests.incidents.helpers import case_waiting_for_review


def _colleague(name="zj-reviewer-2", province="330000"):
    with unit_of_work():
        people.create_account(user("admin"), username=name, role="provincial_reviewer", province=province)
    return user(name)


def test_reassign_to_a_colleague_of_the_same_role_and_scope(client, auth_headers):
    _case_id, task_id = case_waiting_for_review()
    colleague = _colleague()
    h = auth_headers("zj-reviewer")
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=h).status_code == 200
    r = client.post(f"/api/v1/tasks/{task_id}/reassign", json={"to": "sd-reviewer", "reason": "出差"}, headers=h)
    assert r.status_code == 422 and "to" in r.get_json()["errors"]  # another province
    r = client.post(f"/api/v1/tasks/{task_id}/reassign", json={"to": "acme", "reason": "出差"}, headers=h)
    assert r.status_code == 422  # another role
    r = client.post(f"/api/v1/tasks/{task_id}/reassign", json={"to": colleague.username}, headers=h)
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    for name, status in (("acme", 404), ("sd-reviewer", 404), ("auditor", 404), ("sd-admin", 404)):
        if user(name) is None:
            continue
        r = client.post(f"/api/v1/tasks/{task_id}/reassign", json={"to": colleague.username, "reason": "x"},
                        headers=auth_headers(name))
        assert r.status_code in (status, 403), (name, r.status_code)
    r = client.post(f"/api/v1/tasks/{task_id}/reassign", json={"to": colleague.username, "reason": "本人出差一周"},
                    headers=h)
    assert r.status_code == 200 and r.get_json()["claimed_by"] == colleague.id
    db.session.expire_all()
    task = db.session.get(HumanTask, task_id)
    assert task.claimed_by == colleague.id and task.claimed_at is not None
    ev = db.session.query(CaseEvent).filter_by(case_id=task.case_id, action="task.reassigned").one()
    assert ev.data == {"from": user("zj-reviewer").id, "to": colleague.id, "reason": "本人出差一周"}
    # the former holder no longer holds it; the province's administrator hands it back
    r = client.post(f"/api/v1/tasks/{task_id}/reassign", json={"to": "zj-reviewer", "reason": "x"}, headers=h)
    assert r.status_code == 403
    r = client.post(f"/api/v1/tasks/{task_id}/reassign", json={"to": "zj-reviewer", "reason": "已返岗"},
                    headers=auth_headers("zj-admin"))
    assert r.status_code == 200
    (note,) = notifications.for_user(colleague)  # the colleague was told (one-time password: no API token yet)
    assert "转办" in note.title and note.read_at is None


def test_an_administrator_corrects_a_completed_value_and_the_original_stays_in_replay(client, auth_headers):
    case_id, task_id = case_waiting_for_review()
    admin = auth_headers("admin")
    body = {"element": "self_assessment", "field": "outcomes", "value": "生产效率提升25%。", "reason": "企业来函更正"}
    for name in ("zj-reviewer", "auditor", "acme"):
        assert client.post(f"/api/v1/cases/{case_id}/corrections", json=body,
                           headers=auth_headers(name)).status_code == 403
    assert client.post(f"/api/v1/cases/{case_id}/corrections", json=dict(body, reason=""),
                       headers=admin).status_code == 422
    assert client.post(f"/api/v1/cases/{case_id}/corrections", json=dict(body, field="nope"),
                       headers=admin).status_code == 422
    assert client.post(f"/api/v1/cases/{case_id}/corrections", json=dict(body, value=12),
                       headers=admin).status_code == 422  # the field's schema: a text
    r = client.post(f"/api/v1/cases/{case_id}/corrections", json=body, headers=admin)
    assert r.status_code == 200 and r.get_json()["from"] == "生产效率提升20%。"
    evs = client.get(f"/api/v1/cases/{case_id}/events", headers=admin).get_json()
    evs = evs["events"]
    done = next(e for e in evs if e["action"] == "task.completed")
    assert done["data"]["outcomes"] == "生产效率提升20%。"  # the original, untouched
    last = evs[-1]
    assert last["action"] == "case.corrected" and last["data"]["from"] == "生产效率提升20%。"
    before = client.get(f"/api/v1/cases/{case_id}/replay?at={last['seq'] - 1}", headers=admin).get_json()
    after = client.get(f"/api/v1/cases/{case_id}/replay?at={last['seq']}&check=all", headers=admin)
    assert after.status_code == 200, after.get_json()
    assert before["data"] == after.get_json()["data"]  # the basic form feeds no process variable (no outputs)
    # the step's record now holds the new value: the reviewer's timeline shows it, the event keeps the original
    view = task_service.get_task(user("zj-reviewer"), task_id)
    (step,) = [s for s in view["timeline"]["steps"] if s["element"] == "self_assessment"]
    assert step["data"]["outcomes"] == "生产效率提升25%。"


def test_a_correction_of_a_field_a_step_outputs_changes_the_process_variable_and_replays(client, auth_headers):
    from tests.api.test_advanced import application, complete, my_task

    ent, admin = auth_headers("ningbo-parts"), auth_headers("admin")
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()["id"]
    form = application(client, ent, cid)
    complete(client, ent, my_task(client, ent, cid)["id"], form)  # `application` outputs contact_phone
    body = {"element": "application", "field": "contact_phone", "value": "0574-88886666", "reason": "企业来函更正"}
    r = client.post(f"/api/v1/cases/{cid}/corrections", json=body, headers=admin)
    assert r.status_code == 200 and r.get_json()["from"] == form["contact_phone"]
    evs = client.get(f"/api/v1/cases/{cid}/events", headers=admin).get_json()["events"]
    last = evs[-1]
    before = client.get(f"/api/v1/cases/{cid}/replay?at={last['seq'] - 1}", headers=admin).get_json()
    after = client.get(f"/api/v1/cases/{cid}/replay?at={last['seq']}&check=all", headers=admin)
    assert after.status_code == 200, after.get_json()
    assert before["data"]["contact_phone"] == form["contact_phone"]
    assert after.get_json()["data"]["contact_phone"] == "0574-88886666"
