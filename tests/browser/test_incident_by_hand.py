"""Issue 18 by hand in headless Chromium: a reviewer's approval hits a deliberately broken condition and sees that
the case is held; the administrator sees the incident (count in the header, the list, the diagram with the failing
step marked), deploys a fix, migrates the case on the migration page and retries; the reviewer's input is there."""
import pytest

from app.extensions import db
from app.models import Case, CaseEvent
from tests.browser.helpers import confirm, screenshot, sign_in, watch_errors
from tests.incidents.helpers import BASIC, BROKEN, KEY, case_waiting_for_review, deploy
from tests.security.helpers import PASSWORDS

pytestmark = pytest.mark.browser
COMMENT = "材料齐全，同意认定。"


def test_held_step_is_fixed_migrated_and_retried_with_the_reviewers_input(page, browser, live_server):
    deploy(BROKEN, "a broken approval condition")
    case_id, task_id = case_waiting_for_review()
    db.session.commit()
    errors = watch_errors(page)

    sign_in(page, "zj-reviewer")
    page.goto(f"/tasks/{task_id}")
    if page.locator("select[name=decision]").count():
        page.select_option("select[name=decision]", "approve")
    else:
        page.check("input[name=decision][value=approve]")
    page.fill("[name=review_comment]", COMMENT)
    with page.expect_navigation():
        page.click("button[name=action][value=submit]")
        confirm(page)
    held = page.locator(".flash.held")
    assert held.count() == 1 and "案件已暂停" in held.inner_text() and "管理员" in held.inner_text()
    assert page.url.endswith(f"/tasks/{task_id}")
    assert page.locator("[name=review_comment]").input_value() == COMMENT  # kept as the task's draft
    screenshot(page, "incident-held-reviewer")

    admin = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    admin.set_default_timeout(10_000)
    ap = admin.new_page()
    sign_in(ap, "admin")
    assert ap.locator("#nav-incidents .badge").inner_text() == "1"
    ap.click("#nav-incidents")
    ap.locator("#incidents a[href^='/admin/incidents/']").first.click()
    ap.wait_for_selector("#case-diagram[data-ready=true]")
    assert ap.locator("#case-diagram .djs-element.current").count() >= 1  # the failing step marked
    screenshot(ap, "incident-admin-detail")
    incident_url = ap.url

    # the fix: a new version through the API, then the case moved to it on the migration page
    token = ap.request.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORDS["admin"]})
    bearer = {"Authorization": "Bearer " + token.json()["token"], "Content-Type": "application/xml"}
    made = ap.request.post(f"/api/v1/process-models/{KEY}/versions", data=BASIC, headers=bearer)
    assert made.status == 201, made.text()
    fixed = made.json()["version"]
    ap.goto(f"/admin/processes/{KEY}/migration?to={fixed}")
    ap.evaluate("id => document.querySelectorAll('#migrate-form input[name=case_id]')"
                ".forEach(b => { b.checked = b.value === String(id); })", case_id)
    with ap.expect_navigation():
        ap.click("#migrate-form button[type=submit]")
        confirm(ap)
    ap.goto(incident_url)
    with ap.expect_navigation():
        ap.click("#retry")
    assert ap.locator("#incident-state").inner_text().startswith("已处理")
    assert ap.locator("#nav-incidents .badge").count() == 0
    screenshot(ap, "incident-admin-retried")
    admin.close()

    db.session.expire_all()
    assert db.session.get(Case, case_id).status == "certified"
    done = db.session.query(CaseEvent).filter_by(case_id=case_id, action="task.completed",
                                                 element="organizer_review").one()
    assert done.data["review_comment"] == COMMENT
    page.goto(f"/cases/{case_id}")
    assert COMMENT in page.content()
    assert not [e for e in errors if "favicon" not in e], errors
