"""Issue 16.7 in the browser: the panel lead sees the panel's computed result; concluding otherwise without a reason
is sent back in Chinese with what was chosen kept; with a reason it goes on, and the next decision-maker's page shows
the panel's result and the reason. Elements by id and name, not by visible text."""
from tests.api.test_advanced import my_task
from tests.browser.helpers import confirm, screenshot, sign_in
from tests.services.test_panels import to_expert_lead

SUBMIT = "button[name=action][value=submit]"
REASON = "经组长复核，专家对人工智能应用场景的判断有误，达到卓越级要求。"


def test_a_lead_overriding_the_panel_gives_a_reason_the_next_step_sees(page, client, auth_headers):
    cid, lead, task = to_expert_lead(client, auth_headers, scores=(10, 20, 15))
    sign_in(page, lead)
    page.goto(f"/tasks/{task['id']}")
    assert page.inner_text("#f_panel_result") == "不通过" and page.inner_text("#f_panel_mean") == "15.0"
    page.check("#f_decision_approve")
    page.fill("#f_review_comment", "同意推荐。")
    with page.expect_navigation():
        page.click(SUBMIT)
        confirm(page)
    assert page.locator(".field.has-error #f_override_reason").count() == 1
    assert "改判理由" in page.inner_text("#f_override_reason_err")
    assert page.is_checked("#f_decision_approve")  # what was chosen stays, and the panel's result is still shown
    assert page.inner_text("#f_panel_result") == "不通过"
    screenshot(page, "panel-lead-override-needs-reason")
    page.fill("#f_override_reason", REASON)
    with page.expect_navigation():
        page.click(SUBMIT)
        confirm(page)
    assert f"/cases/{cid}" in page.url
    # an expert of the next panel reads the lead's conclusion, the panel's result and the reason
    from tests.api.test_excellent import drawn_expert, username

    nxt = username(drawn_expert(client, auth_headers("miit-1"), cid, "onsite_verification_1")["expert"])
    nxt_task = my_task(client, auth_headers(nxt), cid, "onsite_verification_1")
    page.context.clear_cookies()
    sign_in(page, nxt)
    page.goto(f"/tasks/{nxt_task['id']}")
    body = page.inner_text("main")
    assert "专家组汇总结果（系统计算）" in body and REASON in body and "不通过" in body
    screenshot(page, "next-step-sees-the-override")
