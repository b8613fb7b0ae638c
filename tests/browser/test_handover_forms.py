"""转办 and 更正 in the browser (issue 18): the reviewer hands a task to a colleague chosen from a list, after a
confirmation; the administrator corrects a mistyped value of a completed step, a refusal keeps what was typed, and
the original stays in the history."""
import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import CaseEvent, CaseStep, HumanTask
from app.services import people
from app.uow import unit_of_work
from tests.browser.helpers import confirm, screenshot, sign_in, watch_errors
from tests.conftest import user
from tests.incidents.helpers import case_waiting_for_review


@pytest.mark.browser
def test_the_reviewer_hands_the_task_to_a_colleague(page):
    _case_id, task_id = case_waiting_for_review()
    with unit_of_work():
        people.create_account(user("admin"), username="zj-reviewer-2", role="provincial_reviewer", province="330000")
    colleague = user("zj-reviewer-2")
    errors = watch_errors(page)
    sign_in(page, "zj-reviewer")
    page.goto(f"/tasks/{task_id}")
    expect(page.locator("#reassign h2")).to_have_text("转办给同事")
    assert page.locator("#reassign-to option").all_inner_texts() == ["请选择接办人", "zj-reviewer-2"]
    page.select_option("#reassign-to", str(colleague.id))
    page.fill("#reassign-reason", "本人出差一周，请同事代为审核")
    screenshot(page, "task-reassign-form")
    page.click("#reassign-submit")
    question = confirm(page, "转办给所选同事")
    assert f"#{_case_id}" in question
    expect(page.locator(".flash.info")).to_contain_text("任务已转办，已通知接办人。")
    expect(page.locator("#reassign-form")).to_have_count(0)
    db.session.rollback()
    assert db.session.get(HumanTask, task_id).claimed_by == colleague.id
    assert errors == [], errors


@pytest.mark.browser
def test_the_administrator_corrects_a_value_and_a_refusal_keeps_the_input(page):
    case_id, _task_id = case_waiting_for_review()
    errors = watch_errors(page)
    sign_in(page, "admin")
    page.goto(f"/cases/{case_id}")
    expect(page.locator("#correct h2")).to_have_text("更正")
    page.select_option("#correct-target", "self_assessment/outcomes")
    page.fill("#correct-value", "生产效率提升25%，已核实。")
    page.click("#correct-submit")  # no reason yet: the browser asks first, the server refuses, the input stays
    confirm(page)
    expect(page.locator("#correct-reason-error")).to_have_text("请填写理由。")
    assert page.input_value("#correct-value") == "生产效率提升25%，已核实。"
    assert page.input_value("#correct-target") == "self_assessment/outcomes"
    page.fill("#correct-reason", "企业来函更正笔误")
    screenshot(page, "case-correct-form")
    page.click("#correct-submit")
    confirm(page, "无法撤回")
    expect(page.locator(".flash.info")).to_contain_text("已更正，原值保留在历史记录中。")
    db.session.rollback()
    step = db.session.query(CaseStep).filter_by(case_id=case_id, element="self_assessment").one()
    assert step.data["outcomes"] == "生产效率提升25%，已核实。"
    ev = db.session.query(CaseEvent).filter_by(case_id=case_id, action="case.corrected").one()
    assert ev.data["from"] != ev.data["to"] and ev.data["reason"] == "企业来函更正笔误"
    assert [e for e in errors if " 422 " not in f" {e} " and not e.startswith("422")] == [], errors
