"""An auditor steps through a case in headless Chromium: search, open the case, step back and forward with the
links and the keyboard, move the slider, see the diagram with the token on the active element (bpmn-js from our
own static files, under the CSP), export. Elements are found by id only."""
import re

import pytest

from tests.audit.helpers import basic_case
from tests.browser.helpers import screenshot, sign_in, watch_errors


@pytest.mark.browser
def test_auditor_steps_through_a_case(page):
    case_id = basic_case(rounds=1)  # 7 events
    errors = watch_errors(page)
    sign_in(page, "auditor")

    page.goto(f"/audit/?case={case_id}")
    assert page.locator("#event-results tbody tr").count() == 7
    with page.expect_navigation():
        page.click(f"#event-results a[href='/audit/cases/{case_id}?at=4']")
    assert page.locator("#step-seq").inner_text() == "4"
    assert page.locator("#step-actor").inner_text() == "zj-reviewer"
    assert page.locator("#data-diff tr.added").count() >= 1
    page.wait_for_selector("#diagram[data-ready=true]")
    assert page.locator("#diagram [data-element-id=self_assessment].token").count() == 1
    screenshot(page, "audit-replay")

    with page.expect_navigation():
        page.click("#step-back")
    assert page.locator("#step-seq").inner_text() == "3"
    with page.expect_navigation():
        page.keyboard.press("ArrowRight")
    assert page.locator("#step-seq").inner_text() == "4"

    slider = page.locator("#step-slider")
    with page.expect_navigation():
        slider.focus()
        slider.fill("2")  # fires input and change: the page moves to step 2
    assert re.search(r"at=2$", page.url) and page.locator("#step-seq").inner_text() == "2"
    page.wait_for_selector("#diagram[data-ready=true]")
    assert page.locator("#diagram [data-element-id=organizer_review].token").count() == 1

    with page.expect_download() as dl:
        page.click("#export-json")
    assert dl.value.suggested_filename == f"case-{case_id}-history.json"
    assert not errors, errors
