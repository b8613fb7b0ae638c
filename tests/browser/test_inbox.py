"""The provincial reviewer works the inbox in headless Chromium: filters to one kind of task, selects every task on
the page, applies one decision with one comment, reads each result, then opens the dashboard (Chart.js from our
own static files, under the CSP) and switches it to English and back; a national reviewer opens a case page with
its diagram (bpmn-js) marking the path taken. Elements are
found by id, name and class only. Screenshots go to the test artifacts (tests/browser/helpers.py)."""
import pytest

from tests.browser.helpers import confirm, screenshot, sign_in, watch_errors
from tests.inbox.conftest import ZJ_ENTERPRISES, submitted_basic


@pytest.mark.browser
def test_bulk_decision_and_dashboard(page):
    review = [submitted_basic(owner) for owner in ZJ_ENTERPRISES]
    errors = watch_errors(page)
    sign_in(page, "zj-reviewer")
    assert page.locator("table[aria-labelledby=inbox] tbody tr[data-task]").count() == 3
    assert page.locator("#bulk-form").count() == 0  # one kind of task first

    # claim one: it moves to "claimed by me"; release it again
    with page.expect_navigation():
        page.click(f"tr[data-task='{review[1].id}'] button.claim")
    with page.expect_navigation():
        page.click("#view-mine")
    assert page.locator("table[aria-labelledby=inbox] tbody tr[data-task]").count() == 1
    with page.expect_navigation():
        page.click(f"tr[data-task='{review[1].id}'] button.release")
    assert "view=mine" in page.url
    assert page.locator("table[aria-labelledby=inbox] tbody tr[data-task]").count() == 0
    with page.expect_navigation():
        page.click("#view-group")

    # filter to the basic review, with the keyboard
    page.select_option("#flt-task", review[0].element)
    page.focus("#apply-filters")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "task=" in page.url
    assert page.locator("#bulk-form").count() == 1
    page.click("#select-all")
    assert page.locator("input.pick:checked").count() == 3
    page.check("#f_decision_approve")
    page.fill("#f_review_comment", "符合基础级要求，批量通过。")
    screenshot(page, "inbox")
    with page.expect_navigation():
        page.click("#bulk-submit")
        confirm(page)
    assert page.locator("#bulk-results tbody tr.ok").count() == 3
    assert page.locator("#bulk-results tbody tr.failed").count() == 0
    screenshot(page, "inbox-bulk-results")
    with page.expect_navigation():
        page.click("#back-to-inbox")
    assert page.locator("table[aria-labelledby=inbox] tbody tr[data-task]").count() == 0

    # the dashboard
    page.goto("/")
    with page.expect_navigation():
        page.click("#dashboard-link")
    page.wait_for_selector("#chart-tier[data-ready=true]")
    assert page.locator("#table-funnel-basic tbody tr").count() == 4  # applied, submitted, reviewed, certified
    assert page.locator("#table-funnel-basic tbody tr td.num").all_inner_texts() == ["3", "3", "3", "3"]
    screenshot(page, "dashboard")

    # the language switch keeps the page
    with page.expect_navigation():
        page.click("header .lang form[action='/lang/en'] button[type=submit]")
    assert page.url.endswith("/dashboard")
    assert page.get_attribute("html", "lang") == "en"
    page.wait_for_selector("#chart-tier[data-ready=true]")
    screenshot(page, "dashboard-en")
    with page.expect_navigation():
        page.click("header .lang form[action='/lang/zh'] button[type=submit]")
    assert page.get_attribute("html", "lang") == "zh-CN"

    # a national reviewer opens a case page: the diagram with the path taken marked
    with page.expect_navigation():
        page.click("header .who form[action='/logout'] button[type=submit]")
    page.fill("#username", "miit-1")
    page.fill("#password", "miit-demo-2026")
    with page.expect_navigation():
        page.press("#password", "Enter")
    page.goto(f"/cases/{review[0].case_id}")
    page.wait_for_selector("#case-diagram[data-ready=true]")
    assert page.locator("#case-status.status-certified").count() == 1
    marked = page.locator("#case-diagram g.djs-element.path")
    assert marked.count() == 3  # the self-assessment, the review and the end event reached
    assert page.locator("#case-diagram g.djs-element.path[data-element-id=end_certified]").count() == 1
    assert page.locator("#case-diagram g.djs-element.current").count() == 0
    screenshot(page, "case")
    assert errors == [], errors
