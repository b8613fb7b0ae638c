"""Issue 15, defects 5 to 9, walked in headless Chromium and shown gone: a confirmation before an irreversible step
(5), Chinese first on error pages, upload errors and the editors (6), readable diagrams (7), people-facing values
(8) and the public notice without a login (9). Elements are found by id, name and class."""
import pytest
import yaml
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Case, Enterprise, HumanTask
from app.services.demo import DEMO_FILE
from tests.browser.helpers import screenshot, sign_in, watch_errors
from tests.inbox.conftest import case_in_notice
from tests.pages.walk import load_sample_cases

pytestmark = pytest.mark.browser


def _open_task(owner: str, element: str | None = None) -> HumanTask:
    db.session.rollback()
    stmt = (select(HumanTask).join(Case, Case.id == HumanTask.case_id)
            .join(Enterprise, Enterprise.id == Case.enterprise_id).where(HumanTask.state == "open"))
    stmt = stmt.where(Enterprise.credit_code == _code(owner))
    if element:
        stmt = stmt.where(HumanTask.element == element)
    return db.session.scalars(stmt).first()


def _code(owner: str) -> str:
    """The credit code of a demo enterprise account's enterprise."""
    users = {u["username"]: u for u in yaml.safe_load(DEMO_FILE.read_text())["users"]}
    return users[owner]["enterprise"]


def test_5_an_irreversible_submission_asks_first_and_esc_cancels(page):
    load_sample_cases()
    task = _open_task("hz-precision")  # the basic self-assessment waiting for the Zhejiang reviewer
    errors = watch_errors(page)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/tasks/" in r.url else None)
    sign_in(page, "zj-reviewer")
    page.goto(f"/tasks/{task.id}")
    page.check("#f_decision_approve")
    page.fill("#f_review_comment", "符合基础级要求。")
    page.click("#task-submit")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    question = page.locator("#confirm-text").inner_text()
    assert "杭州" in question or "提交" in question, question  # it names what will happen
    assert "不能" in question
    expect(page.locator("#confirm-cancel")).to_be_focused()  # the safe choice first
    # labelled and modal: the rest of the page cannot be reached while it is open
    assert dialog.get_attribute("aria-labelledby") == "confirm-title"
    screenshot(page, "issue15-5-confirm-dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#task-submit")).to_be_focused()  # focus back where it was
    assert posts == []  # nothing was sent
    assert page.input_value("#f_review_comment") == "符合基础级要求。"  # what was typed is kept
    # asked again, confirmed with the keyboard: Tab from 取消 to 确认, Enter
    page.click("#task-submit")
    expect(page.locator("#confirm-cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#confirm-ok")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert len(posts) == 1
    assert f"/cases/{task.case_id}" in page.url
    db.session.rollback()
    assert db.session.get(HumanTask, task.id).state == "completed"
    assert not errors, errors


def test_6_error_pages_and_upload_errors_are_chinese(page):
    load_sample_cases()
    sign_in(page, "acme")
    resp = page.goto("/cases/999999")
    assert resp.status == 404
    text = page.locator("main").inner_text()
    assert "找不到" in text and "no such" not in text
    resp = page.goto("/no/such/page")
    assert resp.status == 404
    assert "找不到页面" in page.locator("h1").inner_text()
    resp = page.goto("/admin/processes")
    assert resp.status == 403 and "administrators" not in page.locator("main").inner_text()
    screenshot(page, "issue15-6-error-page")
    # an upload of a refused type: the message names the type, in Chinese
    task = _open_task("sinopec-plant")  # the excellent application, waiting for the enterprise
    page.context.clear_cookies()
    sign_in(page, "sinopec-plant")
    page.goto(f"/tasks/{task.id}")
    page.set_input_files("#upload-file", files=[{"name": "tool.exe", "mimeType": "application/octet-stream",
                                                  "buffer": b"MZ\x90\x00"}])
    with page.expect_navigation():
        page.click("button[name=action][value=upload]")
    joined = " ".join(page.locator("main").all_inner_texts())
    assert "不允许上传“exe”类型的文件" in joined, joined
    assert "is not allowed" not in joined
    screenshot(page, "issue15-6-upload-error")


def test_6_the_decision_table_and_diagram_editors_speak_chinese(page):
    sign_in(page, "admin")
    page.goto("/admin/decision-tables/excellent_quota/edit")
    page.wait_for_selector(".tjs-table, .dmn-decision-table-container, table", timeout=15_000)
    page.wait_for_timeout(300)
    text = page.locator("main").inner_text()
    for english in ("When", "Then", "Hit policy", "Annotation"):
        assert english not in text, english
    assert "命中策略" in text
    screenshot(page, "issue15-6-dmn-editor")
    page.goto("/admin/processes/advanced_certification/edit")
    page.wait_for_selector("#editor.ready")
    palette = page.locator("#canvas .djs-palette").inner_html()
    titles = page.locator("#canvas .djs-palette .entry").evaluate_all("es => es.map(e => e.title)")
    assert titles and all(not any(w in t for w in ("Create", "Activate", "tool")) for t in titles), titles
    assert palette


def test_7_diagrams_are_as_wide_as_the_page_zoom_and_show_the_current_step(page):
    load_sample_cases()
    task = _open_task("qingdao-home")  # the lighthouse application: the widest diagram
    errors = watch_errors(page)
    sign_in(page, "admin")
    for url in (f"/cases/{task.case_id}", f"/tasks/{task.id}", f"/audit/cases/{task.case_id}"):
        page.goto(url)
        box = page.locator("[data-ready=true]").first
        box.wait_for(timeout=15_000)
        box.scroll_into_view_if_needed()
        b = box.bounding_box()
        assert b["width"] >= 1200 and b["height"] >= 480, (url, b)
        zoom = box.evaluate("c => c.tierflowCanvas.zoom()")
        assert zoom >= 0.8, (url, zoom)  # readable labels, not a 380 px thumbnail
        current = page.locator(f"[data-element-id={task.element}]").first
        cb = current.bounding_box()
        assert b["x"] <= cb["x"] and cb["x"] + cb["width"] <= b["x"] + b["width"], (url, cb, b)  # in view
        # the wheel zooms, the buttons zoom and fit
        page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
        page.mouse.wheel(0, -300)
        page.wait_for_function("z => document.querySelector('[data-ready=true]').tierflowCanvas.zoom() > z", arg=zoom)
        page.click(".diagram-tools [data-action=fit]")
        fitted = box.evaluate("c => c.tierflowCanvas.zoom()")
        page.click(".diagram-tools [data-action=zoom-in]")
        assert box.evaluate("c => c.tierflowCanvas.zoom()") > fitted
        page.click(".diagram-tools [data-action=zoom-out]")
        box.focus()
        page.keyboard.press("0")
        assert abs(box.evaluate("c => c.tierflowCanvas.zoom()") - fitted) < 0.01
        screenshot(page, "issue15-7-diagram-" + url.strip("/").replace("/", "-"))
    # the editor: the palette beside the drawing, not over it
    page.goto("/admin/processes/lighthouse_cultivation/edit")
    page.wait_for_selector("#editor.ready")
    palette = page.locator("#canvas .djs-palette").bounding_box()
    svg = page.locator("#canvas .djs-container > svg").first.bounding_box()
    assert palette["x"] + palette["width"] <= svg["x"] + 1, (palette, svg)
    screenshot(page, "issue15-7-editor")
    assert not errors, errors


def test_8_people_facing_values_on_the_pages(page):
    load_sample_cases()
    sign_in(page, "admin")
    page.goto("/admin/processes/advanced_certification")
    text = page.locator("main").inner_text()
    assert "北京时间" in text  # admin pages too, with the zone named
    assert "先进级认定" in page.locator("h1").inner_text() and "Advanced" not in text
    task = _open_task("ningbo-parts")
    page.goto(f"/cases/{task.case_id}")
    text = page.locator("main").inner_text()
    assert "北京时间" in text
    for raw in ("advanced_certification", "province:", "None", "False", "{'", "SHA-256"):
        assert raw not in text, raw
    page.goto("/enterprises/2")
    assert "automotive" not in page.locator("main").inner_text()
    screenshot(page, "issue15-8-case-page")


def test_9_the_public_notice_opens_without_login(page):
    case_id = case_in_notice()
    page.goto("/notices")
    assert page.url.endswith("/notices")
    expect(page.locator(f"#notices tr[data-case='{case_id}']")).to_have_count(1)
    row = page.locator(f"#notices tr[data-case='{case_id}']").inner_text()
    assert "浙江省" in row and "北京时间" in row
    assert page.locator("#how-title").count() == 1
    screenshot(page, "issue15-9-public-notice")
    with page.expect_navigation():
        page.click(f"#object-{case_id}")
    assert "/login" in page.url  # objecting still needs a login
    assert "请先登录" in page.locator("main").inner_text()
