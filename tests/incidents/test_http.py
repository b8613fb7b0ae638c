"""Incidents and notifications over HTTP: the API contract (GET /api/v1/incidents?state=open, POST .../retry), the
held answer of a failed completion, the administrator's pages, the bell."""
from app.extensions import db
from app.models import HumanTask, Incident
from tests.incidents.helpers import BROKEN, REVIEW, case_waiting_for_review, deploy, fix_and_migrate
from tests.security.helpers import browser_login as login
from tests.security.helpers import csrf, fresh_client


def _held_over_api(client, auth_headers):
    deploy(BROKEN, "a broken approval condition")
    case_id, task_id = case_waiting_for_review()
    r = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": REVIEW}, headers=auth_headers("zj-reviewer"))
    assert r.status_code == 409 and r.get_json()["error"] == "held", r.get_json()
    return case_id, task_id, r.get_json()["errors"]["incident"]


def test_api_lists_and_retries_incidents_for_administrators_only(client, auth_headers):
    case_id, task_id, inc_id = _held_over_api(client, auth_headers)
    admin = auth_headers("admin")
    listed = client.get("/api/v1/incidents?state=open", headers=admin).get_json()
    assert [(i["id"], i["case_id"], i["element"]) for i in listed] == [(inc_id, case_id, "organizer_review")]
    assert {"id", "case_id", "element", "message", "created_at"} <= set(listed[0])
    for name in ("zj-reviewer", "auditor", "acme", "zj-admin"):
        h = auth_headers(name)
        assert client.get("/api/v1/incidents", headers=h).status_code == 403
        assert client.post(f"/api/v1/incidents/{inc_id}/retry", headers=h).status_code == 403
    assert client.get("/api/v1/incidents?state=nonsense", headers=admin).status_code == 422
    assert client.post("/api/v1/incidents/999999/retry", headers=admin).status_code == 404
    r = client.post(f"/api/v1/incidents/{inc_id}/retry", headers=admin)
    assert r.status_code == 409 and r.get_json()["error"] == "held"  # no fix yet
    fix_and_migrate(case_id)
    r = client.post(f"/api/v1/incidents/{inc_id}/retry", headers=admin)
    assert r.status_code == 200 and r.get_json()["resolution"] == "retried"
    assert client.get("/api/v1/incidents?state=open", headers=admin).get_json() == []
    assert client.post(f"/api/v1/incidents/{inc_id}/retry", headers=admin).status_code == 409
    assert client.get(f"/api/v1/cases/{case_id}", headers=admin).get_json()["status"] == "certified"


def test_cancel_over_api_needs_a_reason(client, auth_headers):
    case_id, _t, inc_id = _held_over_api(client, auth_headers)
    admin = auth_headers("admin")
    assert client.post(f"/api/v1/incidents/{inc_id}/cancel", json={}, headers=admin).status_code == 422
    assert client.post(f"/api/v1/incidents/{inc_id}/skip", json={"reason": "x"}, headers=admin).status_code == 422
    r = client.post(f"/api/v1/incidents/{inc_id}/cancel", json={"reason": "企业撤回申请"}, headers=admin)
    assert r.status_code == 200 and r.get_json()["resolution"] == "cancelled"


def test_the_reviewer_sees_the_held_message_and_the_input_stays(app, client, auth_headers):
    deploy(BROKEN, "a broken approval condition")
    _case_id, task_id = case_waiting_for_review()
    web = fresh_client(app)
    login(web, "zj-reviewer")
    token = csrf(web, f"/tasks/{task_id}")
    r = web.post(f"/tasks/{task_id}", data={"csrf_token": token, "decision": "approve",
                                            "review_comment": "材料齐全，同意。"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "案件已暂停" in page and "管理员" in page
    assert "材料齐全，同意。" in page  # the draft fills the form again
    db.session.expire_all()
    assert db.session.get(HumanTask, task_id).draft == REVIEW
    admin = fresh_client(app)
    login(admin, "admin")
    home = admin.get("/notifications").get_data(as_text=True)
    assert 'id="nav-incidents"' in home and 'class="badge"' in home
    inc = db.session.query(Incident).one()
    listing = admin.get("/admin/incidents").get_data(as_text=True)
    assert "组织单位审核" in listing and f"/admin/incidents/{inc.id}" in listing
    detail = admin.get(f"/admin/incidents/{inc.id}").get_data(as_text=True)
    assert 'data-current="organizer_review review_decision"' in detail
    assert "流程事件" in admin.get("/notifications").get_data(as_text=True)  # the administrators were told
    # cancel asks for confirmation first, and keeps the reason typed
    token = csrf(admin, f"/admin/incidents/{inc.id}")
    r = admin.post(f"/admin/incidents/{inc.id}/cancel", data={"csrf_token": token, "reason": "撤回"})
    assert r.status_code == 422 and "撤回" in r.get_data(as_text=True)
    reviewer_page = web.get(f"/admin/incidents/{inc.id}")
    assert reviewer_page.status_code == 403


def test_the_dashboard_shows_the_open_incident_count_to_administrators(app):
    admin = fresh_client(app)
    login(admin, "admin")
    assert 'id="dash-incidents"' in admin.get("/dashboard").get_data(as_text=True)
    reviewer = fresh_client(app)
    login(reviewer, "zj-reviewer")
    assert 'id="dash-incidents"' not in reviewer.get("/dashboard").get_data(as_text=True)
