"""A factory lodges an objection in headless Chromium: from the main menu to the public notices, the objection form
(reasons typed, an evidence file attached), back to the list where the case is now held for review. Elements are
found by id and name only."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Objection
from tests.browser.helpers import confirm, screenshot, sign_in, watch_errors
from tests.inbox.conftest import case_in_notice

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.browser
def test_a_factory_lodges_an_objection_during_a_notice(page):
    case_id = case_in_notice()
    errors = watch_errors(page)
    sign_in(page, "acme")
    with page.expect_navigation():
        page.click("#nav-notices")
    assert page.locator(f"#notices tr[data-case='{case_id}'] .status-public_notice").count() == 1
    screenshot(page, "notices")
    with page.expect_navigation():
        page.click(f"#object-{case_id}")
    page.fill("#reason", "该企业申报的产线于2025年已停产，申报材料与实际不符。")
    page.set_input_files("#evidence", files=[{"name": "停产证明.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    screenshot(page, "objection-form")
    with page.expect_navigation():
        page.click("#objection-form button[type=submit]")
        confirm(page)
    assert page.url.endswith("/notices")
    assert page.locator(".flash.info").count() == 1
    assert page.locator(f"#notices tr[data-case='{case_id}'] .status-objection_review").count() == 1
    db.session.rollback()
    (obj,) = db.session.scalars(select(Objection).where(Objection.case_id == case_id))
    assert obj.state == "open" and len(obj.attachments) == 1
    assert not errors, errors
