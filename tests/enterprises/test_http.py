"""The enterprise API and pages over HTTP: scope, dry run and commit, hostile files, the form keeping bad input."""
import io
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.models import Enterprise
from tests.conftest import token
from tests.enterprises.helpers import PA_USERNAME, PREFIX, as_csv, as_xlsx, cleanup, code, provincial_admin, row

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class _FreshContextClient(FlaskClient):
    """Each request in its own app context, as in production (see tests/api/test_i18n.py: otherwise `g`, where
    Flask-WTF keeps the CSRF token, outlives the request)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def web(app):
    return _FreshContextClient(app, app.response_class, use_cookies=True)


@pytest.fixture(autouse=True)
def _ents(db_context):
    provincial_admin()
    yield
    cleanup()


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Enterprise)
                             .where(Enterprise.credit_code.startswith(PREFIX)))


def _pa(client):
    return token(client, PA_USERNAME, "pa-secret-2026")


def _post(client, headers, data, commit=0, name="f.csv"):
    return client.post(f"/api/v1/enterprises/import?commit={commit}", headers=headers,
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_list_is_scoped(client):
    h = token(client, "admin")
    items = client.get("/api/v1/enterprises?q=示范", headers=h).get_json()["items"]
    assert {e["province"] for e in items} == {"330000", "370000"}
    items = client.get("/api/v1/enterprises?q=示范", headers=_pa(client)).get_json()["items"]
    assert {e["province"] for e in items} == {"330000"} and items
    by_code = client.get("/api/v1/enterprises?q=91370200", headers=_pa(client)).get_json()
    assert by_code["total"] == 0  # Qingdao's enterprise is Shandong's
    assert client.get("/api/v1/enterprises", headers=token(client, "zj-reviewer")).status_code == 403
    assert client.get("/api/v1/enterprises").status_code == 401


def test_dry_run_then_commit(client):
    h = _pa(client)
    r = _post(client, h, as_xlsx([row(1), row(2)]), 0, "f.xlsx")
    assert r.status_code == 200 and r.get_json() == {"create": 2, "update": 0, "unchanged": 0, "errors": []}
    assert _count() == 0
    r = _post(client, h, as_xlsx([row(1), row(2)]), 1, "f.xlsx")
    assert r.status_code == 200 and r.get_json()["create"] == 2 and _count() == 2
    r = _post(client, h, as_csv([row(1), row(2)]), 0)
    assert r.get_json()["unchanged"] == 2


def test_commit_with_a_bad_row_writes_nothing_and_names_it(client):
    r = _post(client, _pa(client), as_csv([row(1), row(2, province="山东省", city="370200")]), 1)
    assert r.status_code == 422
    body = r.get_json()
    assert body["errors"] == [{"row": 3, "column": "所在省份", "field": "province", "code": "other_province",
                               "message": "属于其他省份"}]
    assert body["error"] == "invalid" and _count() == 0


@pytest.mark.parametrize("data, name, status", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "x.png", 415),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", 415),
    (b"PK\x03\x04garbage", "x.xlsx", 415),
])
def test_hostile_files(client, data, name, status):
    r = _post(client, _pa(client), data, 1, name)
    assert r.status_code == status and r.get_json()["error"], r.get_json()
    assert _count() == 0


def test_huge_file_is_refused(client):
    r = _post(client, _pa(client), b"x" * (26 * 1024 * 1024), 0)
    assert r.status_code == 413


def test_formula_cells_and_wrong_headers(client):
    h = _pa(client)
    r = _post(client, h, as_xlsx([row(1, name="=cmd|' /C calc'!A0")]), 1, "f.xlsx")
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "formula"
    r = _post(client, h, as_csv([row(1)], headers=["a", "b"]), 0)
    assert {e["code"] for e in r.get_json()["errors"]} == {"unknown_header", "missing_header"}
    assert _count() == 0


def test_missing_file_and_bad_commit_flag(client):
    h = _pa(client)
    assert client.post("/api/v1/enterprises/import", headers=h).status_code == 422
    assert _post(client, h, as_csv([row(1)]), "yes").status_code == 422


def test_other_roles_are_refused(client):
    for who in ("zj-reviewer", "auditor", "acme"):
        assert _post(client, token(client, who), as_csv([row(1)]), 1).status_code == 403
    assert _count() == 0


def test_case_search_by_enterprise_name_and_code(client):
    from app.services import cases
    from app.uow import unit_of_work
    from tests.conftest import user

    with unit_of_work():
        case = cases.create_case(user("acme"), "basic", 2026)
    h = token(client, "admin")
    ids = {c["id"] for c in client.get("/api/v1/cases?q=杭州示范智能", headers=h).get_json()["items"]}
    assert case.id in ids
    ids = {c["id"] for c in client.get("/api/v1/cases?q=91330100MA2B000018", headers=h).get_json()["items"]}
    assert ids == {case.id}
    assert client.get("/api/v1/cases?q=青岛示范", headers=h).get_json()["total"] == 0


def _login(client, username, password):
    page = client.get("/login")
    csrf = TOKEN.search(page.get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf}).status_code == 302
    return TOKEN.search(client.get("/notices").get_data(as_text=True)).group(1)


def test_form_keeps_bad_input_and_says_what_is_wrong_in_chinese(web):
    client = web
    csrf = _login(client, PA_USERNAME, "pa-secret-2026")
    form = {"csrf_token": csrf, "credit_code": code(7)[:17] + "0", "name": "表单测试企业", "province": "330000",
            "city": "370200", "industry": "equipment", "legal_person": "是", "soe_group": ""}
    if code(7)[17] == "0":
        form["credit_code"] = code(7)[:17] + "1"
    r = client.post("/admin/enterprises/new", data=form)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "表单测试企业" in html and form["credit_code"] in html
    assert "校验码" in html and 'aria-invalid="true"' in html and _count() == 0
    form["credit_code"], form["city"] = code(7), "330100"
    assert client.post("/admin/enterprises/new", data=form).status_code == 302
    assert _count() == 1
    other = db.session.scalar(select(Enterprise.id).where(Enterprise.province_code == "370000"))
    assert client.get(f"/admin/enterprises/{other}/edit").status_code == 404


def test_pages_are_for_administrators_only(web):
    client = web
    _login(client, "zj-reviewer", "zj-demo-2026")
    assert client.get("/admin/enterprises").status_code == 403
    assert client.get("/admin/enterprises/import").status_code == 403


def test_api_import_with_accounts_answers_each_one_time_password_once(client):
    h = _pa(client)
    sheet = as_csv([row(31), row(32)])
    bad = client.post("/api/v1/enterprises/import?commit=1&accounts=yes", headers=h,
                      data={"file": (io.BytesIO(sheet), "f.csv")}, content_type="multipart/form-data")
    assert bad.status_code == 422 and _count() == 0
    r = client.post("/api/v1/enterprises/import?commit=1&accounts=1", headers=h,
                    data={"file": (io.BytesIO(sheet), "f.csv")}, content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["create"] == 2 and out["accounts"] == 2
    made = {p["username"]: p["one_time_password"] for p in out["one_time_passwords"]}
    assert set(made) == {code(31), code(32)}
    ent = token(client, code(31), made[code(31)])
    assert client.get("/api/v1/tasks", headers=ent).status_code == 403  # the one-time password must be changed
    # the same file again: nothing new, no second account, no password answered again
    again = client.post("/api/v1/enterprises/import?commit=1&accounts=1", headers=h,
                        data={"file": (io.BytesIO(sheet), "f.csv")}, content_type="multipart/form-data")
    assert again.get_json()["unchanged"] == 2 and again.get_json()["one_time_passwords"] == []
