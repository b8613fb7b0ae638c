"""The enterprise import as a service, on the real database: every refusal reason by row and column, CSV and XLSX,
counts of create/update/unchanged, all or nothing, the provincial administrator's scope, accounts."""
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.errors import Forbidden, NotFound, TooLarge, UnsupportedType
from app.extensions import db
from app.models import Enterprise, User
from app.services import downloads, enterprise_import
from app.uow import unit_of_work
from tests.conftest import user
from tests.enterprises.helpers import PREFIX, as_csv, as_xlsx, cleanup, code, provincial_admin, row


@pytest.fixture(autouse=True)
def _ents(db_context):
    yield
    cleanup()


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Enterprise)
                             .where(Enterprise.credit_code.startswith(PREFIX)))


def _errors(report):
    return [(e["row"], e["column"], e["code"]) for e in report.errors]


@pytest.mark.parametrize("fmt", [as_csv, as_xlsx])
def test_good_file_dry_run_then_commit(fmt):
    data = fmt([row(1), row(2, industry="C36"), row(3, industry="equipment")])
    report = enterprise_import.check(user("admin"), data, "f")
    assert (report.create, report.update, report.unchanged, report.errors) == (3, 0, 0, [])
    assert _count() == 0  # a dry run writes nothing
    with unit_of_work():
        report = enterprise_import.commit(user("admin"), data, "f")
    assert report.create == 3 and _count() == 3
    ent = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code(2)))
    assert (ent.industry, ent.industry_division, ent.city_code, ent.legal_person) == ("automotive", "C36", "330100",
                                                                                      True)


def test_update_and_unchanged_counts():
    with unit_of_work():
        enterprise_import.commit(user("admin"), as_csv([row(1), row(2)]), "f")
    data = as_csv([row(1), row(2, name="改名后的企业有限公司"), row(3)])
    report = enterprise_import.check(user("admin"), data, "f")
    assert (report.create, report.update, report.unchanged) == (1, 1, 1)
    with unit_of_work():
        enterprise_import.commit(user("admin"), data, "f")
    assert db.session.scalar(select(Enterprise.name).where(Enterprise.credit_code == code(2))) == "改名后的企业有限公司"


@pytest.mark.parametrize("over, column, reason", [
    ({"credit_code": code(1)[:17] + ("0" if code(1)[17] != "0" else "1")}, "统一社会信用代码", "check_digit"),
    ({"credit_code": "91330100"}, "统一社会信用代码", "length"),
    ({"credit_code": "91330100MA7QIIII1X"}, "统一社会信用代码", "alphabet"),
    ({"credit_code": ""}, "统一社会信用代码", "required"),
    ({"name": ""}, "企业名称", "required"),
    ({"name": "企" * 201}, "企业名称", "too_long"),
    ({"province": "火星"}, "所在省份", "unknown_region"),
    ({"province": "330200"}, "所在省份", "unknown_region"),  # a plan-listed city is not a province
    ({"city": "370200"}, "所在城市", "city_not_in_province"),  # Qingdao is in Shandong
    ({"city": "331234"}, "所在城市", "unknown_city"),
    ({"city": "杭州"}, "所在城市", "unknown_city"),
    ({"industry": "钢铁冶炼"}, "所属行业", "unknown_industry"),
    ({"industry": "C99"}, "所属行业", "unknown_industry"),
    ({"legal_person": "也许"}, "是否独立法人", "boolean"),
    ({"soe_group": "no-such-group"}, "所属中央企业集团", "unknown_soe_group"),
    ({"name": "=HYPERLINK(\"http://x\")"}, "企业名称", "formula"),
])
def test_each_refusal_reason_is_named_by_row_and_column(over, column, reason):
    data = as_csv([row(1), row(2, **over)])
    report = enterprise_import.check(user("admin"), data, "f")
    assert (3, column, reason) in _errors(report), report.errors
    assert all(e["row"] == 3 for e in report.errors)
    with unit_of_work():
        report = enterprise_import.commit(user("admin"), data, "f")
    assert report.errors and _count() == 0  # all or nothing: the good row 2 is not written either


def test_duplicate_in_the_file_names_the_first_row():
    report = enterprise_import.check(user("admin"), as_csv([row(1), row(2), row(1)]), "f")
    assert _errors(report) == [(4, "统一社会信用代码", "duplicate")]
    assert report.errors[0]["message"] == "the same credit code is in row 2"


def test_a_code_registered_in_another_province_is_refused():
    with unit_of_work():
        enterprise_import.commit(user("admin"), as_csv([row(1)]), "f")
    report = enterprise_import.check(user("admin"), as_csv([row(1, province="山东省", city="370200")]), "f")
    assert _errors(report) == [(2, "统一社会信用代码", "registered_elsewhere")]


def test_names_and_soe_groups_by_name_and_key():
    data = as_csv([row(1, province="浙江", city="宁波市", soe_group="中国石油化工集团有限公司", legal_person="否",
                       industry="石油化工"),
                   row(2, province="330000", city="", soe_group="sinopec", industry="c26")])
    report = enterprise_import.check(user("admin"), data, "f")
    assert report.errors == [] and report.create == 2


def test_wrong_headers():
    report = enterprise_import.check(user("admin"), as_csv([row(1)], headers=["代码", "企业名称", "所在省份"]), "f")
    cols = {(e["column"], e["code"]) for e in report.errors}
    assert ("代码", "unknown_header") in cols and ("统一社会信用代码", "missing_header") in cols
    assert ("所属行业", "missing_header") in cols


def test_gb18030_csv_is_read():
    report = enterprise_import.check(user("admin"), as_csv([row(1)], encoding="gb18030"), "f.csv")
    assert report.errors == [] and report.create == 1


def test_xlsx_formula_cell_is_refused():
    report = enterprise_import.check(user("admin"), as_xlsx([row(1, name="=1+1")]), "f.xlsx")
    assert _errors(report) == [(2, "企业名称", "formula")]


def test_not_a_spreadsheet_and_too_large():
    with pytest.raises(UnsupportedType):
        enterprise_import.check(user("admin"), b"\x89PNG\r\n\x1a\n\x00\x00binary", "x.png")
    with pytest.raises(UnsupportedType):
        enterprise_import.check(user("admin"), b"PK\x03\x04 not really a zip", "x.xlsx")
    with pytest.raises(TooLarge):
        enterprise_import.check(user("admin"), b"a," * (13 * 1024 * 1024), "x.csv")


def test_provincial_admin_is_limited_to_its_province():
    pa = provincial_admin("330000")
    data = as_csv([row(1), row(2, province="山东省", city="370200")])
    report = enterprise_import.check(pa, data, "f")
    assert _errors(report) == [(3, "所在省份", "other_province")]
    assert report.errors[0]["message"] == "belongs to another province"
    # a Shandong enterprise's code in a Zhejiang row: the enterprise is another province's
    with unit_of_work():
        enterprise_import.commit(user("admin"), as_csv([row(3, province="山东省", city="370200")]), "f")
    report = enterprise_import.check(pa, as_csv([row(3)]), "f")
    assert _errors(report) == [(2, "统一社会信用代码", "other_province")]


@pytest.mark.parametrize("username", ["zj-reviewer", "auditor", "acme", "miit-1"])
def test_other_roles_may_not_import(username):
    with pytest.raises(Forbidden):
        enterprise_import.check(user(username), as_csv([row(1)]), "f")


def test_accounts_one_per_row_and_the_password_list_downloads_once():
    pa = provincial_admin()
    with unit_of_work():
        report = enterprise_import.commit(pa, as_csv([row(1), row(2)]), "f", accounts=True)
    assert report.accounts == 2 and report.passwords_token
    made = db.session.scalars(select(User).where(User.username.in_([code(1), code(2)]))).all()
    assert {u.role for u in made} == {"enterprise"} and all(u.enterprise_id for u in made)
    with pytest.raises(NotFound):  # another user may not fetch it
        downloads.take(user("admin"), "passwords", report.passwords_token)
    with unit_of_work():
        name, content = downloads.take(pa, "passwords", report.passwords_token)
    assert content[:2] == b"PK"
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[0][0].startswith("用户名") and {r[0] for r in rows[1:]} == {code(1), code(2)}
    pw = {r[0]: r[2] for r in rows[1:]}
    assert all(check_password_hash(u.password_hash, pw[u.username]) for u in made)
    with pytest.raises(NotFound):
        downloads.take(pa, "passwords", report.passwords_token)  # once only
    # a second import of the same rows makes no second account
    with unit_of_work():
        again = enterprise_import.commit(pa, as_csv([row(1), row(2)]), "f", accounts=True)
    assert again.unchanged == 2 and again.accounts == 0 and again.passwords_token is None
