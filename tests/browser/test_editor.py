"""The administrator edits a diagram in headless Chromium (bpmn-js Modeler from our static files, under the CSP):
opens the editor, changes a user task's due date in the properties panel, validates and sees the problem marked on
the element, fixes it, deploys; a new case starts on the new version while an old case stays on the old one."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.services import cases, processes
from app.uow import unit_of_work
from tests.browser.helpers import confirm, screenshot
from tests.conftest import user

KEY = "basic_self_assessment"


@pytest.mark.browser
def test_admin_edits_validates_and_deploys(page):
    with unit_of_work():
        old_case = cases.create_case(user("acme"), "basic", 2026).id
    v1 = processes.latest_version(KEY).version
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and "/validate" not in r.url and not r.url.endswith("/favicon.ico") else None)
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", "admin-demo-2026")
    with page.expect_navigation():
        page.press("#password", "Enter")

    page.goto(f"/admin/processes/{KEY}/edit")
    page.wait_for_selector("#editor.ready")
    page.click("#canvas [data-element-id=organizer_review]")
    assert "organizer_review" in page.locator("#prop-element").inner_text()
    assert page.input_value("#f-due") == "P15D"
    page.fill("#f-due", "ten days")
    page.press("#f-due", "Tab")  # change event: written as a spiffworkflow property
    page.click("#validate")
    page.wait_for_selector("#problems li[data-element=organizer_review]")
    assert "ISO-8601" in page.locator("#problems li[data-element=organizer_review]").first.inner_text()
    assert page.locator("#canvas [data-element-id=organizer_review].has-problem").count() == 1
    screenshot(page, "editor-validation-error")

    page.click("#problems li[data-element=organizer_review]")  # selects the element with the problem
    assert "organizer_review" in page.locator("#prop-element").inner_text()
    page.fill("#f-due", "P10D")
    page.press("#f-due", "Tab")
    page.click("#validate")
    page.wait_for_selector("#status.ok")
    assert page.locator("#problems li").count() == 0
    assert page.locator("#canvas .has-problem").count() == 0
    page.fill("#deploy-message", "review due in 10 days")
    page.click("#deploy")
    confirm(page)
    expect(page.locator("#origin")).to_have_text(f"v{v1 + 1}")
    resp = page.goto(f"/admin/processes/{KEY}/versions/{v1 + 1}")
    assert resp.status == 200
    screenshot(page, "version-page")

    db.session.rollback()
    latest = processes.latest_version(KEY)
    assert latest.version == v1 + 1 and latest.message == "review due in 10 days"
    props = processes.version_info(latest.id).properties["organizer_review"]
    assert props["due"] == "P10D" and props["form"] == "basic_review.json"
    with unit_of_work():
        new_case = cases.create_case(user("ningbo-parts"), "basic", 2026).id
    by_id = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_([old_case, new_case])))}
    assert processes.version_info(by_id[old_case].process_version_id).version == v1
    assert processes.version_info(by_id[new_case].process_version_id).version == v1 + 1
    assert not errors, errors


@pytest.mark.browser
def test_admin_opens_the_quota_table_and_validates(page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", "admin-demo-2026")
    with page.expect_navigation():
        page.press("#password", "Enter")
    page.goto("/admin/decision-tables/excellent_quota/edit")
    page.wait_for_selector("#dmn-editor.ready")
    assert page.locator("#dmn-canvas .tjs-table").count() == 1  # the decision table view (dmn-js)
    assert "xpcc" in page.locator("#dmn-canvas").inner_text()
    page.click("#dmn-validate")
    page.wait_for_selector("#status.ok")
    assert page.locator("#problems li").count() == 0
    assert not errors, errors


@pytest.mark.browser
def test_every_shipped_diagram_round_trips_through_the_modeler(page):
    """Opened in bpmn-js and saved again unchanged, each diagram still validates: the spiffworkflow extension
    elements (properties, message variables) survive the Modeler."""
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", "admin-demo-2026")
    with page.expect_navigation():
        page.press("#password", "Enter")
    for key in ("basic_self_assessment", "advanced_certification", "lighthouse_cultivation",
                "excellent_national_review"):  # excellent last: its script task is looked at below
        page.goto(f"/admin/processes/{key}/edit")
        page.wait_for_selector("#editor.ready")
        page.click("#validate")
        page.wait_for_selector("#status.ok, #status.error")
        assert page.locator("#status.ok").count() == 1, (key, page.locator("#problems").inner_text())
    # the script of a script task is shown in the panel (excellent: the expert panel's consolidation rule)
    page.click("#canvas [data-element-id=expert_review_consolidate]")
    assert page.locator("#prop-script").is_visible()
    assert page.input_value("#f-script").strip() != ""
