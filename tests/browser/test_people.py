"""People in headless Chromium (issue 14): an administrator creates a provincial reviewer under 系统管理 › 用户; the
reviewer logs in with the one-time password, is held on 我的账号 until it has chosen its own, then works a review
task of its province; the administrator deactivates the account and the reviewer's open session stops at its next
request. Elements are found by id and name, never by the (translatable) visible text."""
import re

import pytest

from tests.admin.test_people_support import by_name, people_cleanup
from tests.browser.helpers import confirm, screenshot, watch_errors
from tests.inbox.conftest import submitted_basic

OWN_PASSWORD = "zj-browser-own-2026"


@pytest.fixture(autouse=True)
def _people(db_context):
    with people_cleanup():
        yield


def _login(page, username, password):
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.press("#password", "Enter")


@pytest.mark.browser
def test_admin_creates_a_reviewer_who_changes_the_password_works_and_is_deactivated(page, browser, live_server):
    review = submitted_basic("acme")  # a basic review task in Zhejiang's provincial inbox
    errors = watch_errors(page)

    # --- the administrator creates the account ---------------------------------------------------------------
    _login(page, "admin", "admin-demo-2026")
    with page.expect_navigation():
        page.click("#nav-users")
    assert page.url.endswith("/admin/users/")
    screenshot(page, "people-list")
    with page.expect_navigation():
        page.click("#new-user")
    page.fill("#username", "zj-browser")
    page.select_option("#role", "provincial_reviewer")
    page.select_option("#province", "330000")
    screenshot(page, "people-new")
    with page.expect_navigation():
        page.click("#new-user-form button[type=submit]")
    otp = page.locator("#one-time-password").inner_text().strip()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", otp), otp
    screenshot(page, "people-one-time-password")

    # --- the reviewer logs in and must change the one-time password first ------------------------------------------
    reviewer_ctx = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    reviewer_ctx.set_default_timeout(10_000)
    rp = reviewer_ctx.new_page()
    try:
        _login(rp, "zj-browser", otp)
        assert rp.url.endswith("/account") and rp.locator("#must-change").count() == 1
        rp.goto("/inbox")
        assert rp.url.endswith("/account")  # every page leads back here until the password is changed
        rp.fill("#current", otp)
        rp.fill("#new", "1234567890")
        rp.fill("#confirm", "1234567890")
        with rp.expect_navigation():
            rp.click("#password-form button[type=submit]")
        assert rp.locator("#password-form .error").count() >= 1  # the policy, said in the page
        screenshot(rp, "people-change-password")
        rp.fill("#current", otp)
        rp.fill("#new", OWN_PASSWORD)
        rp.fill("#confirm", OWN_PASSWORD)
        with rp.expect_navigation():
            rp.click("#password-form button[type=submit]")
        assert rp.url.endswith("/"), rp.url
        assert not by_name("zj-browser").must_change_password

        # --- it works a task of its province ------------------------------------------------------------------
        rp.goto("/inbox")
        link = rp.locator(f"a[href='/tasks/{review.id}']")
        assert link.count() >= 1
        with rp.expect_navigation():
            link.first.click()
        rp.check("#f_decision_approve")
        rp.fill("#f_review_comment", "符合基础级要求。")
        with rp.expect_navigation(), rp.expect_response(
                lambda r: r.request.method == "POST" and "/tasks/" in r.url) as resp:
            rp.click("button[name=action][value=submit]")
            confirm(rp)
        assert resp.value.status == 302
        assert re.search(rf"/cases/{review.case_id}$", rp.url), rp.url

        # --- the administrator deactivates it; the open session stops at the next request ---------------------------
        uid = by_name("zj-browser").id
        page.goto(f"/admin/users/{uid}")
        screenshot(page, "people-edit")
        with page.expect_navigation():
            page.click("#deactivate")
            confirm(page)
        assert page.locator("#reactivate").count() == 1
        rp.goto("/inbox")
        assert "/login" in rp.url, rp.url
    finally:
        reviewer_ctx.close()
    assert not [e for e in errors if not e.startswith("4")], errors
