"""The browser forms for reassignment (转办, task page) and corrections (更正, case page) over HTTP: shown to whom
the services allow, filled from the services (not free text), refusals in Chinese with what was typed kept."""
import re

from app.extensions import db
from app.models import CaseEvent, CaseStep, HumanTask
from app.services import people
from app.uow import unit_of_work
from tests.conftest import user
from tests.incidents.helpers import case_waiting_for_review
from tests.security.helpers import browser_login as login
from tests.security.helpers import csrf, fresh_client


def _colleague(name="zj-reviewer-2", province="330000"):
    with unit_of_work():
        people.create_account(user("admin"), username=name, role="provincial_reviewer", province=province)
    return user(name)


def _client(app, name):
    web = fresh_client(app)
    login(web, name)
    return web


def _options(page: str, select_id: str) -> list[str]:
    block = re.search(rf'<select id="{select_id}".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="([^"]+)"', block)


def test_the_holder_hands_the_task_on_through_the_form(app):
    _case_id, task_id = case_waiting_for_review()
    colleague = _colleague()
    _colleague("sd-reviewer-2", "370000")  # another province: never offered
    web = _client(app, "zj-reviewer")
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="reassign-form"' in page and "转办给同事" in page
    assert _options(page, "reassign-to") == [str(colleague.id)]  # the same role and scope only, the holder aside
    token = csrf(web, f"/tasks/{task_id}")
    # no reason: refused in Chinese, the choice kept
    r = web.post(f"/tasks/{task_id}/reassign", data={"csrf_token": token, "to": str(colleague.id), "reason": " "})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "请填写理由。" in page
    assert f'<option value="{colleague.id}" selected>' in page
    # a user of another role typed into the request by hand: refused, the reason kept
    r = web.post(f"/tasks/{task_id}/reassign", data={"csrf_token": token, "to": str(user("acme").id),
                                                     "reason": "出差一周"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "接办人须为与本任务角色和范围相同的在用账号。" in page and "出差一周" in page
    assert db.session.get(HumanTask, task_id).claimed_by is None
    r = web.post(f"/tasks/{task_id}/reassign", data={"csrf_token": token, "to": str(colleague.id),
                                                     "reason": "出差一周"}, follow_redirects=True)
    assert r.status_code == 200 and "任务已转办，已通知接办人。" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(HumanTask, task_id).claimed_by == colleague.id
    assert 'id="reassign-form"' not in web.get(f"/tasks/{task_id}").get_data(as_text=True)  # no longer theirs


def test_who_sees_the_reassign_form(app):
    _case_id, task_id = case_waiting_for_review()
    _colleague()
    # (the provincial administrator may hand it on over the API; the task page itself is not theirs to open)
    for name, shown in (("admin", True), ("zj-reviewer", True), ("acme", False), ("auditor", False)):
        page = _client(app, name).get(f"/tasks/{task_id}")
        assert ('id="reassign-form"' in page.get_data(as_text=True)) is shown, (name, page.status_code)
    web = _client(app, "acme")  # the form's address reached by hand: refused, nothing changes
    token = csrf(web, "/")
    r = web.post(f"/tasks/{task_id}/reassign", data={"csrf_token": token, "to": str(user("zj-reviewer-2").id),
                                                     "reason": "代为转办"})
    assert r.status_code in (403, 404)
    assert db.session.get(HumanTask, task_id).claimed_by is None


def test_an_administrator_corrects_a_value_through_the_form(app):
    case_id, _task_id = case_waiting_for_review()
    for name in ("zj-reviewer", "acme", "auditor"):
        assert 'id="correct-form"' not in _client(app, name).get(f"/cases/{case_id}").get_data(as_text=True)
    web = _client(app, "admin")
    page = web.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="correct-form"' in page and "更正" in page
    targets = _options(page, "correct-target")
    assert "self_assessment/outcomes" in targets
    assert not [t for t in targets if t.endswith("/accept_responsibility") or t.endswith("/materials")]
    token = csrf(web, f"/cases/{case_id}")
    r = web.post(f"/cases/{case_id}/corrections", data={"csrf_token": token, "target": "self_assessment/outcomes",
                                                        "value": "生产效率提升25%。", "reason": ""})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "请填写理由。" in page and "生产效率提升25%。" in page
    assert '<option value="self_assessment/outcomes" selected>' in page
    r = web.post(f"/cases/{case_id}/corrections", data={"csrf_token": token, "target": "self_assessment/no_field",
                                                        "value": "x", "reason": "企业来函更正"})
    assert r.status_code == 422 and "企业来函更正" in r.get_data(as_text=True)
    r = web.post(f"/cases/{case_id}/corrections", data={"csrf_token": token, "target": "self_assessment/outcomes",
                                                        "value": "生产效率提升25%。", "reason": "企业来函更正"},
                 follow_redirects=True)
    assert r.status_code == 200 and "已更正，原值保留在历史记录中。" in r.get_data(as_text=True)
    db.session.expire_all()
    step = db.session.query(CaseStep).filter_by(case_id=case_id, element="self_assessment").one()
    assert step.data["outcomes"] == "生产效率提升25%。"
    ev = db.session.query(CaseEvent).filter_by(case_id=case_id, action="case.corrected").one()
    assert ev.data["to"] == "生产效率提升25%。" and ev.data["reason"] == "企业来函更正"
    reviewer = _client(app, "zj-reviewer")
    token = csrf(reviewer, f"/cases/{case_id}")
    r = reviewer.post(f"/cases/{case_id}/corrections", data={"csrf_token": token, "target": "self_assessment/outcomes",
                                                             "value": "改", "reason": "越权"})
    assert r.status_code == 403


def test_no_handover_section_when_there_is_nobody_to_hand_to(app):
    from app.models import Case
    from app.services import cases

    with unit_of_work():
        case = cases.create_case(user("acme"), "basic", 2026)
    (task,) = cases.open_tasks(db.session.get(Case, case.id))
    page = _client(app, "acme").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="reassign"' not in page  # an enterprise's only account: no section saying it cannot hand on


def test_the_provincial_administrator_hands_on_the_tasks_a_person_holds_from_the_people_page(app):
    from app.services import tasks as task_service

    _case_id, task_id = case_waiting_for_review()
    with unit_of_work():
        task_service.claim(user("zj-reviewer"), task_id)  # the reviewer holds it, then goes away
    colleague = _colleague()
    holder = user("zj-reviewer")
    admin = _client(app, "zj-admin")
    assert admin.get(f"/tasks/{task_id}").status_code == 404  # the task page is not theirs to read
    page = admin.get(f"/admin/users/{holder.id}").get_data(as_text=True)
    assert 'id="held-tasks"' in page and f'data-task="{task_id}"' in page and "组织单位审核" in page
    assert _options(page, f"to-{task_id}") == [str(colleague.id)]
    token = csrf(admin, f"/admin/users/{holder.id}")
    r = admin.post(f"/tasks/{task_id}/reassign", data={"csrf_token": token, "to": str(colleague.id), "reason": "",
                                                       "from_person": str(holder.id)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/admin/users/{holder.id}#held-tasks")
    assert "请填写理由。" in admin.get(f"/admin/users/{holder.id}").get_data(as_text=True)  # said on the page
    db.session.expire_all()
    assert db.session.get(HumanTask, task_id).claimed_by == holder.id  # nothing changed
    r = admin.post(f"/tasks/{task_id}/reassign", data={"csrf_token": token, "to": str(colleague.id),
                                                       "reason": "本人病休", "from_person": str(holder.id)})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(HumanTask, task_id).claimed_by == colleague.id
    assert f'data-task="{task_id}"' not in admin.get(f"/admin/users/{holder.id}").get_data(as_text=True)
    ev = db.session.query(CaseEvent).filter_by(action="task.reassigned").one()
    assert ev.data["reason"] == "本人病休"
