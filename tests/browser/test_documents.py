"""Issue 19 part 3, "Done when", in headless Chromium: an administrator edits the announcement template (adds a
line, previews it, saves it as a new version after the confirmation), generates the announcement of a published
list from the list's page (after the confirmation) and downloads the DOCX and the PDF, whose text holds every
listed enterprise, the notice period computed from the working-day calendar and the added line."""
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseListEntry
from app.services import workdays
from app.services.clock import SHANGHAI
from tests.api.test_documents import docx_lines
from tests.browser.helpers import confirm, screenshot, sign_in, watch_errors
from tests.browser.test_accessibility import AXE, _axe
from tests.inbox.conftest import case_in_notice
from tests.services.test_documents import pdf_text, zh

ADDED = "本公告同时在本单位门户网站发布。"


@pytest.mark.browser
def test_an_administrator_edits_the_template_and_downloads_the_announcement(page):
    case_id = case_in_notice()
    entry = db.session.scalar(select(CaseListEntry).where(CaseListEntry.case_id == case_id))
    lst = entry.list
    names = [db.session.get(Case, e.case_id).enterprise.name for e in lst.entries]
    start = lst.created_at.astimezone(SHANGHAI).date()
    period = f"{zh(start)}至{zh(workdays.add_working_days(start, 5))}"
    errors = watch_errors(page)

    sign_in(page, "admin")
    with page.expect_navigation():
        page.click("#nav-document-templates")
    with page.expect_navigation():
        page.click("#edit-announcement")
    body = page.input_value("#body")
    assert "{{ notice_start }}" in body
    page.fill("#body", body.rstrip() + "\n" + ADDED + "\n")
    with page.expect_navigation():
        page.click("#preview-button")
    assert ADDED in page.inner_text("#template-preview")
    assert ADDED in page.input_value("#body")  # what was typed is kept
    screenshot(page, "document-template-preview")
    assert AXE is None or _axe(page) == []
    with page.expect_navigation():
        page.click("#save-button")
        assert "新版本" in confirm(page)
    assert page.locator(".flash.info").count() == 1
    assert page.locator("#template-versions tbody tr").count() == 2
    screenshot(page, "document-template-saved")

    page.goto(f"/lists/{lst.id}")
    assert page.locator("#no-documents").count() == 1
    page.fill("#doc-contact", "王五 010-68200000")
    with page.expect_navigation():
        page.click("#generate-announcement")
        confirm(page)
    assert page.locator(".flash.info").count() == 1
    row = page.locator("#document-versions tbody tr[data-kind='announcement']")
    assert row.count() == 1
    screenshot(page, "list-documents")
    assert AXE is None or _axe(page) == []
    files = {}
    for fmt in ("docx", "pdf"):
        with page.expect_download() as dl:
            row.locator(f".download-{fmt}").click()
        assert dl.value.suggested_filename.endswith(f".{fmt}")
        files[fmt] = Path(dl.value.path()).read_bytes()
    docx_text = "\n".join(docx_lines(files["docx"]))
    pdf = pdf_text(files["pdf"])
    for name in names:
        assert name in docx_text and name in pdf
    assert period in docx_text and period in pdf
    assert ADDED in docx_text and ADDED in pdf
    assert "王五 010-68200000" in docx_text
    assert page.input_value("#doc-contact") == "王五 010-68200000"  # kept for the next document
    assert not errors, errors


@pytest.mark.browser
def test_an_administrator_generates_a_certification_notice_from_the_case_page(page):
    from tests.api.test_case_notice import certified_basic_case

    case_id = certified_basic_case()
    name = db.session.get(Case, case_id).enterprise.name
    errors = watch_errors(page)
    sign_in(page, "admin")
    page.goto(f"/cases/{case_id}")
    assert page.locator("#no-notice").count() == 1
    button = page.locator("#generate-notice")
    assert button.inner_text() == "生成认定通知书"
    # asked first: Esc changes nothing
    button.click()
    page.locator("#confirm-dialog").wait_for(state="visible")
    page.keyboard.press("Escape")
    page.locator("#confirm-dialog").wait_for(state="hidden")
    assert page.locator("#notice-versions").count() == 0
    with page.expect_navigation():
        button.click()
        assert name in confirm(page)
    assert page.locator(".flash.info").count() == 1
    rows = page.locator("#notice-versions tbody tr")
    assert rows.count() == 1 and "第1版" in rows.first.inner_text() and "北京时间" in rows.first.inner_text()
    with page.expect_navigation():  # again: a new version, the first kept as the earlier one
        page.click("#generate-notice")
        confirm(page)
    assert rows.count() == 2
    assert "第2版 · 最新版本" in rows.nth(0).inner_text() and "第1版 · 较早版本" in rows.nth(1).inner_text()
    screenshot(page, "case-certification-notice")
    assert AXE is None or _axe(page) == []
    with page.expect_download() as dl:
        rows.first.locator(".download-pdf").click()
    assert dl.value.suggested_filename.endswith(".pdf")
    text = pdf_text(Path(dl.value.path()).read_bytes())
    assert name in text and "认定通知书" in text
    assert not errors, errors
