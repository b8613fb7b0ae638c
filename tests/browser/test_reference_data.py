"""An administrator, in headless Chromium, creates a campaign and enters a province's quota inputs with their
sources under 系统管理, and sees the quota each figure yields. Elements are found by id and name only."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Campaign, Region
from tests.browser.helpers import screenshot, sign_in, watch_errors
from tests.reference.conftest_helpers import restored_reference_data


@pytest.fixture(autouse=True)
def _restore(db_context):
    with restored_reference_data():
        yield


@pytest.mark.browser
def test_an_administrator_creates_a_campaign_and_enters_quota_inputs(page):
    errors = watch_errors(page)
    sign_in(page, "admin")
    with page.expect_navigation():
        page.click("#nav-reference")
    screenshot(page, "reference-experts")
    with page.expect_navigation():
        page.click("nav.views a[href='/reference/campaigns']")
    with page.expect_navigation():
        page.click("#new-campaign")
    page.fill("#year", "2027")
    page.fill("#name", "2027年度智能工厂梯度培育")
    for tier in ("excellent", "lighthouse"):
        page.fill(f"#{tier}_application_deadline", "2028-07-14")
        page.fill(f"#{tier}_recommendation_deadline", "2028-07-28")
    page.check("input[name=branch_industries][value=textiles]")
    screenshot(page, "reference-campaign-form")
    with page.expect_navigation():
        page.click("#save-campaign")
    assert page.url.endswith("/reference/campaigns")
    assert "2028-07-14" in page.inner_text("#campaign-2027")
    assert "纺织服装" in page.inner_text("#campaign-2027")
    screenshot(page, "reference-campaigns")

    with page.expect_navigation():
        page.click("nav.views a[href='/reference/quotas']")
    assert "缺失" in page.inner_text("#row-320000")
    with page.expect_navigation():
        page.click("#row-320000 a")
    page.fill("#iva_rank_2024", "2")
    page.fill("#excellent_2024", "15")
    page.fill("#excellent_2024_source", "江苏省工业和信息化厅 2025年1月通报")
    with page.expect_navigation():
        page.click("#save-quota")  # the rank has no source: refused, what was typed kept
    assert page.locator("#iva_rank_2024_source_err").inner_text().startswith("必须注明来源")
    assert page.input_value("#iva_rank_2024") == "2" and page.input_value("#excellent_2024") == "15"
    screenshot(page, "reference-quota-error")
    page.fill("#iva_rank_2024_source", "国家统计局 分省年度数据 2024年 工业增加值")
    with page.expect_navigation():
        page.click("#save-quota")
    row = page.inner_text("#row-320000")
    assert "国家统计局" in row and "40" in row and "江苏省工业和信息化厅" in row
    assert page.locator("#row-320000.lacking").count() == 0
    screenshot(page, "reference-quotas")
    db.session.rollback()
    assert db.session.get(Region, "320000").iva_rank_2024 == 2
    assert db.session.scalar(select(Campaign.name).where(Campaign.year == 2027)) == "2027年度智能工厂梯度培育"
    assert [e for e in errors if "422" not in e] == [], errors  # the refused form answers 422 on purpose
