"""The basic tier (基础级自评自建) done by hand in headless Chromium against the real app on loopback: the enterprise
applies, uploads evidence, meets a server-side field error, submits; the provincial reviewer returns it with a
comment; the enterprise resubmits; the reviewer approves; the case page shows the certificate, the timeline and the
file's SHA-256. Elements are found by id, name and class only, never by the (translatable) visible text."""
import hashlib
import re

import pytest

from tests.browser.helpers import confirm, screenshot

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PDF_SHA = hashlib.sha256(PDF).hexdigest()
PASSWORDS = {"acme": "acme-demo-2026", "zj-reviewer": "zj-demo-2026"}
CONSTRUCTION = {
    "factory_construction": "新建数字化车间两个，完成厂区网络改造。",
    "rd_design": "采用三维设计与仿真平台，设计数据统一管理。",
    "production_operations": "关键工序数控化率达到百分之七十以上。",
    "production_management": "部署制造执行系统，实现生产计划排程。",
    "operations_management": "ERP 与 MES 集成，财务业务一体化运行。",
}
RETURN_COMMENT = "请补充关键工序数控化率的统计口径说明。"
SUBMIT = "button[name=action][value=submit]"
BASIC_REQUIREMENTS = ["above_scale", "sound_operations", "no_bad_record", "secure_controllable",
                      "organisation_talent"]


def login(page, username: str) -> None:
    resp = page.goto("/login")
    assert resp.status == 200, f"GET /login answered {resp.status}"
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    with page.expect_navigation():
        page.press("#password", "Enter")  # submitting with the keyboard
    assert re.search(r"/$", page.url), page.url
    assert page.locator("header .who form[action='/logout']").count() == 1


def logout(page) -> None:
    with page.expect_navigation():
        page.click("header .who form[action='/logout'] button[type=submit]")
    assert page.url.endswith("/login")
    assert page.locator("header .who").count() == 0


def submit_task(page, expect_status: int = 302):
    """Press the submit button; 302 (on to the case page) when accepted, 422 when the form is sent back."""
    with page.expect_navigation(), \
            page.expect_response(lambda r: r.request.method == "POST" and "/tasks/" in r.url) as resp:
        page.click(SUBMIT)
        confirm(page)
    assert resp.value.status == expect_status, resp.value.status


def case_id_from(page) -> int:
    m = re.search(r"/cases/(\d+)$", page.url)
    assert m, page.url
    return int(m.group(1))


def open_task_href(page, case_id) -> str:
    """The case's single open task, which its enterprise's case page names without a link when it is the
    reviewer's (the enterprise cannot open it: issue 15)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import HumanTask

    assert page.locator("main ul a[href^='/tasks/']").count() == 0
    (task_id,) = db.session.scalars(select(HumanTask.id).where(HumanTask.case_id == case_id,
                                                               HumanTask.state == "open")).all()
    return f"/tasks/{task_id}"


@pytest.mark.browser
def test_basic_tier_by_hand(page):
    server_errors = []
    page.on("response", lambda r: server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)

    # --- the enterprise applies -----------------------------------------------------------------------------------
    login(page, "acme")
    # eligibility per tier, with the reason when not: acme holds no tier yet
    assert page.locator("#eligibility tr[data-tier=basic] .status-certified").count() == 1
    assert page.locator("#eligibility tr[data-tier=advanced] .status-rejected").count() == 1
    assert page.locator("#eligibility tr[data-tier=advanced] td").nth(2).inner_text().strip()
    screenshot(page, "enterprise-home")
    page.select_option("#tier", "basic")
    page.select_option("#campaign", "2026")
    with page.expect_navigation():
        page.click("form[action='/cases'] button[type=submit]")
    assert re.search(r"/tasks/\d+$", page.url), page.url
    first_task = page.url[page.url.index("/tasks/"):]
    assert page.locator("#task-form").count() == 1
    assert page.locator(".meta .status-draft").count() == 1

    # --- upload one PDF from the task form: what was typed before survives, the new file is ticked ----------------
    page.fill("#f_construction__rd_design", CONSTRUCTION["rd_design"])
    page.set_input_files("#upload-file", files=[{"name": "自评佐证.pdf", "mimeType": "application/pdf",
                                                 "buffer": PDF}])
    with page.expect_navigation():
        page.click("button[name=action][value=upload]")
    assert page.url.endswith(first_task)
    assert page.locator(".flash.info").count() == 1
    assert page.input_value("#f_construction__rd_design") == CONSTRUCTION["rd_design"]
    evidence = page.locator('input[name="evidence"]')
    assert evidence.count() == 1 and evidence.is_checked()
    # listed by its name; the content hash is for the audit pages only (issue 15 defect 8)
    assert "自评佐证.pdf" in page.locator("#f_evidence").inner_text()
    assert PDF_SHA[:16] not in page.locator("#f_evidence").inner_text()

    # --- the basic requirements by keyboard: focus the first box, then Space / Tab through the rest ---------------
    page.focus(f"#f_{BASIC_REQUIREMENTS[0]}")
    for i, name in enumerate(BASIC_REQUIREMENTS):
        if i:
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == f"f_{name}"
        page.keyboard.press("Space")
        assert page.is_checked(f"#f_{name}")

    # --- the rest of the form, with a maturity level the schema refuses -------------------------------------------
    page.fill("#f_maturity_level", "1")
    for name, text in CONSTRUCTION.items():
        page.fill(f"#f_construction__{name}", text)
    evidence.check()
    page.check("#f_accept_responsibility")
    submit_task(page, 422)
    assert page.url.endswith(first_task)
    screenshot(page, "task-form-errors")
    bad = page.locator(".field.has-error")
    assert bad.count() == 1  # everything else was filled right
    assert page.locator(".field.has-error #f_maturity_level").count() == 1
    assert page.get_attribute("#f_maturity_level", "aria-invalid") == "true"
    # the error first, then the field's rules stated up front (issue 15)
    assert page.get_attribute("#f_maturity_level", "aria-describedby").split() == ["f_maturity_level_err",
                                                                                   "f_maturity_level_rules"]
    assert page.is_visible("#f_maturity_level_err")
    assert page.locator(".flash.error[role=alert]").count() >= 1
    # what was typed survives the round trip
    assert page.input_value("#f_maturity_level") == "1"
    assert page.input_value("#f_construction__rd_design") == CONSTRUCTION["rd_design"]
    assert all(page.is_checked(f"#f_{n}") for n in BASIC_REQUIREMENTS + ["accept_responsibility"])
    assert page.locator('input[name="evidence"]').first.is_checked()

    page.fill("#f_maturity_level", "2")
    submit_task(page)
    case_id = case_id_from(page)
    assert page.locator("#case-status.status-in_review").count() == 1
    review_task = open_task_href(page, case_id)
    logout(page)

    # --- the provincial reviewer returns it with a comment --------------------------------------------------------
    login(page, "zj-reviewer")
    link = page.locator(f"table[aria-labelledby=inbox] a[href='{review_task}']")
    assert link.count() == 1
    with page.expect_navigation():
        link.click()
    assert page.url.endswith(review_task)
    screenshot(page, "review-task")
    held = page.locator("#case-steps")  # the enterprise's step, with its own answers and files
    assert held.locator("dd", has_text=CONSTRUCTION["rd_design"]).count() >= 1
    assert held.locator("a[href^='/attachments/']").count() == 1
    page.check("#f_decision_return")
    page.fill("#f_review_comment", RETURN_COMMENT)
    submit_task(page)
    assert case_id_from(page) == case_id
    assert page.locator("#case-status.status-returned").count() == 1
    logout(page)

    # --- the enterprise sees the returned task and resubmits ------------------------------------------------------
    login(page, "acme")
    # its landing names the next step and links it (no inbox: issue 15)
    links = page.locator("#applications a[id^='do-']")
    assert links.count() == 1
    returned_task = links.first.get_attribute("href")
    assert returned_task not in (first_task, review_task)
    with page.expect_navigation():
        links.first.click()
    # the earlier answers come back pre-filled
    assert page.input_value("#f_maturity_level") == "2"
    assert page.input_value("#f_construction__factory_construction") == CONSTRUCTION["factory_construction"]
    assert all(page.is_checked(f"#f_{n}") for n in BASIC_REQUIREMENTS + ["accept_responsibility"])
    assert page.locator('input[name="evidence"]').first.is_checked()
    # why it was returned, read-only beside the form
    assert page.locator("#case-steps blockquote", has_text=RETURN_COMMENT).count() == 1
    page.fill("#f_construction__production_operations", CONSTRUCTION["production_operations"] + "统计口径见附件。")
    submit_task(page)
    assert case_id_from(page) == case_id
    assert page.locator("#case-status.status-in_review").count() == 1
    second_review = open_task_href(page, case_id)
    assert second_review != review_task
    logout(page)

    # --- the reviewer approves ------------------------------------------------------------------------------------
    login(page, "zj-reviewer")
    link = page.locator(f"table[aria-labelledby=inbox] a[href='{second_review}']")
    assert link.count() == 1
    with page.expect_navigation():
        link.click()
    assert not page.is_checked("#f_decision_return")  # the last round's decision is not prefilled
    assert page.input_value("#f_review_comment") == ""
    page.check("#f_decision_approve")
    page.fill("#f_review_comment", "符合基础级要求。")
    submit_task(page)
    assert case_id_from(page) == case_id

    # --- the case page: certified, the timeline, the file (its SHA-256 on the audit page only) -----------------
    status = page.locator("#case-status")
    assert "status-certified" in status.get_attribute("class").split()
    assert page.locator("main ul a[href^='/tasks/']").count() == 0  # no open task left
    timeline = page.locator("ol.timeline > li")
    # created, uploaded, submitted, returned, resubmitted, approved, closed
    assert timeline.count() == 7
    assert timeline.locator("code.hash").count() == 0  # hashes are for the audit pages only (issue 15)
    steps = page.locator("#case-steps li.step")  # submitted, returned, resubmitted, approved
    assert steps.count() == 4 and steps.locator("strong.decision-return").count() == 1
    assert page.locator("#case-steps li.history", has_text=RETURN_COMMENT).count() == 1  # an earlier round
    assert page.locator("#materials + ul a[href^='/attachments/']").count() == 1
    assert page.locator("main code", has_text=PDF_SHA).count() == 0
    screenshot(page, "case-certified")

    assert not server_errors, server_errors
