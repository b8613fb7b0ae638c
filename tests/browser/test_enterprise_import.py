"""A provincial administrator imports a spreadsheet with one bad row (refused: row and column named, nothing
written), then the corrected file (all rows created after confirming, the account list downloaded once)."""
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Enterprise, User
from tests.browser.helpers import confirm, screenshot, watch_errors
from tests.enterprises.helpers import PA_USERNAME, PREFIX, as_csv, as_xlsx, cleanup, code, provincial_admin, row


@pytest.fixture(autouse=True)
def _ents(db_context):
    provincial_admin()
    yield
    cleanup()


def _count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Enterprise)
                             .where(Enterprise.credit_code.startswith(PREFIX)))


def test_provincial_admin_imports_a_corrected_file(page, tmp_path):
    errors = watch_errors(page)
    page.goto("/login")
    page.fill("#username", PA_USERNAME)
    page.fill("#password", "pa-secret-2026")
    with page.expect_navigation():
        page.press("#password", "Enter")
    page.click("#nav-enterprises")
    assert page.locator("h1").inner_text() == "企业管理"
    page.click("#import-enterprises")
    with page.expect_download() as dl:
        page.click("#template")
    headers = next(load_workbook(io.BytesIO(open(dl.value.path(), "rb").read())).active.iter_rows(values_only=True))
    assert headers[:2] == ("统一社会信用代码", "企业名称")

    bad = tmp_path / "企业名单.csv"
    bad.write_bytes(as_csv([row(1), row(2), row(3, industry="炼钢")]))
    page.set_input_files("#file", str(bad))
    page.click("#check")
    page.wait_for_selector("#errors")
    cells = page.locator("#errors tbody tr td").all_inner_texts()
    assert cells == ["4", "所属行业", "未知行业 炼钢（请填写行业目录中的行业名称，或 GB/T 4754-2017 大类代码，如 C34）"]
    assert "未保存任何数据" in page.locator("#refused").inner_text()
    assert page.locator("#commit").count() == 0
    screenshot(page, "enterprise-import-refused")
    assert _count() == 0

    good = tmp_path / "企业名单-改.xlsx"
    good.write_bytes(as_xlsx([row(1), row(2), row(3, industry="C35")]))
    page.set_input_files("#file", str(good))
    page.click("#check")
    page.wait_for_selector("#commit")
    assert "将新增 3 家" in page.locator("#counts").inner_text()
    page.check("#accounts")
    page.click("#commit")
    messages = [confirm(page)]
    page.wait_for_selector("#import-done")
    assert "新增 3 家" in messages[0]
    assert "新增 3 家" in page.locator("#import-done").inner_text()
    screenshot(page, "enterprise-import-done")
    assert _count() == 3
    with page.expect_download() as dl:
        page.click("#passwords")
    sheet = list(load_workbook(io.BytesIO(open(dl.value.path(), "rb").read())).active.iter_rows(values_only=True))
    assert {r[0] for r in sheet[1:]} == {code(1), code(2), code(3)} and all(len(r[2]) >= 12 for r in sheet[1:])
    again = page.request.get(page.locator("#passwords").get_attribute("href"))
    assert again.status == 404  # once only
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username.startswith(PREFIX))) == 3
    page.goto("/admin/enterprises?q=测试导入企业")
    assert page.locator("#enterprises tbody tr").count() == 3
    assert "专用设备" not in page.content() and "装备制造" in page.content()  # C35 shown as its industry
    screenshot(page, "enterprise-list")
    # the refused check answers 422 (the report), the second password download 404: nothing else went wrong
    assert [e for e in errors if "422" not in e and "/import/passwords/" not in e] == []
