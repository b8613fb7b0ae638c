"""Issue 15 defect 1 in headless Chromium: on the recommendation-list page a blank choice no longer decides a case.
The recommender leaves the case undecided and is told which one; then recommends it with a rank, sees who will be
recommended and who not on the confirmation page, and confirms; the list is recorded and still amendable."""
import pytest

from tests.api.test_advanced import status
from tests.api.test_lists_web import _approved
from tests.browser.helpers import screenshot, sign_in, watch_errors


@pytest.mark.browser
def test_a_recommender_decides_every_case_and_confirms(page, client, auth_headers):
    cid, prov = _approved(client, auth_headers)
    errors = watch_errors(page)
    sign_in(page, "zj-reviewer")
    page.goto("/lists/?kind=recommendation&tier=excellent")
    screenshot(page, "recommendation-list")
    with page.expect_navigation():
        page.click("form .actions button[type=submit]")
    assert page.locator("#choice-errors").count() == 1
    assert "杭州示范精密机械有限公司" in page.locator("#choice-errors").inner_text()
    screenshot(page, "recommendation-list-undecided")
    page.check(f"#yes_{cid}")
    page.fill(f"#rank_{cid}", "1")
    with page.expect_navigation():
        page.click("form .actions button[type=submit]")
    assert page.locator("#confirm-recommended").count() == 1
    assert "杭州示范精密机械有限公司" in page.locator("#confirm-recommended").inner_text()
    screenshot(page, "recommendation-list-confirm")
    with page.expect_navigation():
        page.click("#confirm-submit")
    assert page.locator("#list-state").count() == 1
    screenshot(page, "recommendation-list-submitted")
    with page.expect_navigation():
        page.click("#recorded-lists tbody a >> nth=0")
    assert "杭州示范精密机械有限公司" in page.locator("#list-entries").inner_text()
    assert "province:" not in page.content()  # the recommender by name, never its scope code
    screenshot(page, "recommendation-list-detail")
    assert status(client, prov, cid) == "recommendation"  # held until the deadline: still amendable
    assert [e for e in errors if "422" not in e] == []  # the refused blank answered 422, nothing else
