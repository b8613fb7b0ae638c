"""An advanced case by hand in headless Chromium, from the application to the public notice (公示), with one
dissenting department: the data department answers 不同意 with a reason, and the certifier's 认定单位审定 page shows
the five co-department opinions side by side with the dissent marked (issue 15). Elements are found by id, name,
class and data attributes; Chinese text is checked only where it is the point (the opinion and its reason)."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask
from app.services import lists
from app.uow import unit_of_work
from tests.browser.helpers import confirm, screenshot, sign_in, watch_errors
from tests.conftest import user

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DEPARTMENTS = {"ndrc": "zj-ndrc", "finance": "zj-finance", "sasac": "zj-sasac", "samr": "zj-samr", "data": "zj-data"}
TEXT = "建设内容说明：已完成生产线数字化改造与网络化协同。"
REASON = "数据资产登记不完整，数据安全管理制度未见落实材料。"
SUBMIT = "button[name=action][value=submit]"


def sign_out(page) -> None:
    with page.expect_navigation():
        page.click("header .who form[action='/logout'] button[type=submit]")


def submit(page, expect_status: int = 302) -> None:
    with page.expect_navigation(), \
            page.expect_response(lambda r: r.request.method == "POST" and "/tasks/" in r.url) as resp:
        page.click(SUBMIT)
        confirm(page)  # a submission cannot be taken back: the page asks first
    assert resp.value.status == expect_status, resp.value.status


def open_task(case_id: int, element: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(HumanTask.id).where(HumanTask.case_id == case_id, HumanTask.element == element,
                                                        HumanTask.state == "open"))


@pytest.mark.browser
def test_advanced_case_with_a_dissenting_department_to_public_notice(page):
    errors = watch_errors(page)
    # --- the enterprise applies --------------------------------------------------------------------------------
    sign_in(page, "ningbo-parts")
    page.select_option("#tier", "advanced")
    page.select_option("#campaign", "2026")
    with page.expect_navigation():
        page.click("form[action='/cases'] button[type=submit]")
    assert re.search(r"/tasks/\d+$", page.url), page.url
    page.fill("#f_project_name", "宁波示范汽车零部件智能工厂")
    page.set_input_files("#upload-file", files=[{"name": "先进级申报书.pdf", "mimeType": "application/pdf",
                                                 "buffer": PDF}])
    with page.expect_navigation():
        page.click("button[name=action][value=upload]")
    assert page.locator('input[name="materials"]').first.is_checked()
    page.fill("#f_contact_name", "张三")
    page.fill("#f_contact_phone", "0574-12345678")
    page.fill("#f_maturity_level", "3")
    for name in ("above_scale", "sound_operations", "no_bad_record", "secure_controllable", "organisation_talent"):
        page.check(f"#f_{name}")  # the basic requirements every tier asks (16.9)
    page.locator("#f_maturity_report input[type=checkbox]").first.check()  # the report for the claimed level
    page.fill("#f_maturity_report_level", "3")
    for name in ("factory_construction", "rd_design", "production_operations", "production_management",
                 "operations_management"):
        page.fill(f"#f_construction__{name}", TEXT)
    page.fill("#f_outcomes", "生产效率提升25%，形成区域标杆。" * 2)
    page.check("#f_accept_responsibility")
    submit(page)
    case_id = int(re.search(r"/cases/(\d+)$", page.url).group(1))
    sign_out(page)

    # --- the certifier's preliminary review -------------------------------------------------------------------------
    sign_in(page, "zj-reviewer")
    page.goto(f"/tasks/{open_task(case_id, 'certifier_review')}")
    page.check("#f_decision_approve")
    page.fill("#f_review_comment", "材料齐全，同意提交联审。")
    submit(page)
    sign_out(page)

    # --- five departments: the data department disagrees with a reason ---------------------------------------------
    for dept, username in DEPARTMENTS.items():
        sign_in(page, username)
        page.goto(f"/tasks/{open_task(case_id, f'joint_{dept}')}")
        steps = page.locator("#case-steps")
        assert steps.locator("li.step[data-element=certifier_review]").count() == 1
        # a page shows no value a step has not produced: no certifier's decision, no objection handling yet
        assert steps.locator("li.step[data-element=certifier_decision]").count() == 0
        assert page.locator("#objections").count() == 0
        if dept == "data":
            page.check("#f_decision_reject")
            page.fill("#f_comment", REASON)
        else:
            page.check("#f_decision_approve")
            page.fill("#f_comment", "同意。")
        submit(page)
        sign_out(page)

    # --- the certifier sees the five opinions side by side, the dissent marked ---------------------------------------
    sign_in(page, "zj-reviewer")
    page.goto(f"/tasks/{open_task(case_id, 'certifier_decision')}")
    table = page.locator("#co-department-opinions")
    assert table.locator("tbody tr").count() == 5
    dissent = table.locator("tr.dissent")
    assert dissent.count() == 1 and dissent.get_attribute("data-department") == "data"
    assert "不同意" in dissent.inner_text() and REASON in dissent.inner_text()
    assert table.locator("tr:not(.dissent) strong.decision-approve").count() == 4
    table.scroll_into_view_if_needed()
    screenshot(page, "certifier-decision-dissent")
    page.check("#f_decision_approve")
    page.fill("#f_decision_comment", "经研究，数据管理部门意见已责成企业整改，予以认定。")
    submit(page)
    assert page.locator("#case-status.status-approved").count() == 1
    # the certified list is published (services: the list page is another part's work) and the notice begins
    with unit_of_work():
        lists.publish_certified(user("zj-reviewer"), "advanced", 2026, [case_id])
    page.goto(f"/cases/{case_id}")
    assert page.locator("#case-status.status-public_notice").count() == 1
    assert page.locator("#co-department-opinions tr.dissent[data-department=data]").count() == 1
    screenshot(page, "advanced-public-notice")
    sign_out(page)

    # --- the enterprise reads the opinions by department, never by username ----------------------------------------
    sign_in(page, "ningbo-parts")
    page.goto(f"/cases/{case_id}")
    body = page.locator("main").inner_text()
    assert REASON in body and "zj-data" not in body and "zj-reviewer" not in body
    assert not [e for e in errors if not e.endswith("favicon.ico")], errors
