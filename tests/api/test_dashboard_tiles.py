"""The dashboard's tile map, province pages and exports through the Flask client (issue 19, part 2): who gets which
page, the heatmap link, bad selectors kept and named, XLSX exports that openpyxl opens with the rows (and a formula
in a name stays text)."""
import io
import re

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import SoeGroup
from app.uow import unit_of_work
from tests.inbox.conftest import submitted_basic
from tests.security.helpers import browser_login, fresh_client

ALLOWED = ("admin", "auditor", "miit-1", "zj-reviewer", "zj-ndrc", "sinopec-reviewer", "sasac-1")
REFUSED = ("acme", "expert-7", "zj-admin")


@pytest.fixture
def as_user(app):
    def login(name):
        client = fresh_client(app)
        assert browser_login(client, name).status_code == 302
        return client
    return login


def _sheet(resp) -> list[tuple]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


def test_the_dashboard_and_its_exports_for_each_role(app, as_user):
    for name in ALLOWED:
        client = as_user(name)
        assert client.get("/dashboard").status_code == 200, name
        assert client.get("/dashboard/export.xlsx?chart=tiles").status_code == 200, name
    for name in REFUSED:
        client = as_user(name)
        assert client.get("/dashboard").status_code == 403, name
        assert client.get("/dashboard/export.xlsx?chart=tiles").status_code == 403, name
        assert client.get("/dashboard/provinces/330000").status_code == 403, name
    for url in ("/dashboard", "/dashboard/provinces/330000", "/dashboard/export.xlsx"):
        assert fresh_client(app).get(url).status_code == 302  # to the login page


def test_the_tile_map_page_national_and_provincial(as_user):
    submitted_basic("acme")
    submitted_basic("qingdao-home")
    html = as_user("miit-1").get("/dashboard?tier=basic&campaign=2026&figure=applications").get_data(as_text=True)
    assert len(re.findall(r'<a class="tile lvl-\d[^"]*" id="tile-\d{6}"', html)) == 32
    sd = re.search(r'<a class="tile lvl-(\d)[^"]*" id="tile-370000"[^>]*href="([^"]+)"', html)
    assert sd.group(1) == "4" and sd.group(2) == "/dashboard/provinces/370000?tier=basic&amp;campaign=2026"
    assert 'id="tile-soe-sinopec"' in html and 'id="tile-legend"' in html and 'id="table-tiles"' in html
    assert re.search(r'<th scope="row">山东省</th><td class="num">1</td>', html)
    # a provincial reviewer: its own square outlined and linked, the others without figures or links
    html = as_user("zj-reviewer").get("/dashboard?tier=basic&campaign=2026").get_data(as_text=True)
    assert re.search(r'<a class="tile lvl-4 own" id="tile-330000"', html)
    assert re.search(r'<span class="tile hidden-figures" id="tile-370000"', html)
    assert "山东省</th>" not in html  # no row of another province in the data table
    assert len(re.findall(r'<a class="tile', html)) == 1


def test_the_province_page_links_its_heatmap(as_user):
    submitted_basic("qingdao-home")
    client = as_user("miit-1")
    html = client.get("/dashboard/provinces/370000?tier=excellent&campaign=2026").get_data(as_text=True)
    assert 'href="/dashboard/heatmap?tier=excellent&amp;campaign=2026&amp;province=370000"' in html
    assert re.search(r'<tr data-tier="basic"><th scope="row">基础级</th><td class="num">1</td>', html)
    assert "名额未知" in html  # Shandong's excellent quota: its IVA rank is not known
    html = client.get("/dashboard/groups/sinopec?tier=advanced").get_data(as_text=True)
    assert "中国石油化工集团有限公司" in html
    assert 'href="/dashboard/heatmap?tier=advanced&amp;campaign=2026&amp;soe=sinopec"' in html  # its group's heatmap
    assert as_user("miit-1").get("/dashboard/heatmap?tier=advanced&campaign=2026&soe=sinopec").status_code == 200
    assert client.get("/dashboard/provinces/330100").status_code == 404  # a city
    assert client.get("/dashboard/provinces/999999").status_code == 404
    assert client.get("/dashboard/groups/nobody").status_code == 404
    zj = as_user("zj-reviewer")
    assert zj.get("/dashboard/provinces/330000").status_code == 200
    r = zj.get("/dashboard/provinces/370000")
    assert r.status_code == 403 and "山东" not in r.get_data(as_text=True)
    assert as_user("sinopec-reviewer").get("/dashboard/provinces/330000").status_code == 403
    assert as_user("sasac-1").get("/dashboard/groups/sinopec").status_code == 200


def test_bad_selectors_are_named_and_the_defaults_shown(as_user):
    r = as_user("miit-1").get("/dashboard?tier=gold&campaign=1999&figure=votes")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="dash-errors"' in html and 'aria-invalid="true" aria-describedby="sel-tier-error"' in html
    assert "级别无效，已显示卓越级" in html and "批次无效" in html and "着色指标无效" in html
    assert '<option value="excellent" selected>' in html
    r = as_user("miit-1").get("/dashboard/export.xlsx?chart=tiles&tier=gold")
    assert r.status_code == 422
    assert as_user("miit-1").get("/dashboard/export.xlsx?chart=secrets").status_code == 422


def test_the_exports_hold_the_rows(as_user):
    submitted_basic("acme")
    submitted_basic("sinopec-plant")
    client = as_user("miit-1")
    rows = _sheet(client.get("/dashboard/export.xlsx?chart=tiles&tier=basic&campaign=2026"))
    assert rows[0] == ("推荐单位", "申报数", "已认定", "审核中", "逾期任务", "已推荐", "推荐名额")
    assert len(rows) == 1 + 32 + 1
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["浙江省"][1:5] == ("1", "0", "1", "0") and by_name["浙江省"][6] == "不适用"
    assert by_name["中国石油化工集团有限公司"][1] == "1"
    rows = _sheet(client.get("/dashboard/export.xlsx?chart=tiles&tier=excellent&campaign=2026&figure=quota"))
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["浙江省"][5:] == ("0", "40") and by_name["山东省"][6] == "未知"
    rows = _sheet(client.get("/dashboard/export.xlsx?chart=funnel&tier=basic&campaign=2026"))
    assert rows == [("阶段", "申报记录"), ("已申报", "2"), ("已提交自评", "2"), ("组织单位已审核", "0"),
                    ("自评为基础级", "0")]
    rows = _sheet(client.get("/dashboard/export.xlsx?chart=funnel&tier=basic&campaign=2026"
                             "&recommender=soe:sinopec"))
    assert [r[1] for r in rows[1:]] == ["1", "1", "0", "0"]
    rows = _sheet(client.get("/dashboard/export.xlsx?chart=calendar&campaign=2025"))
    assert rows[0][0] == "级别" and [r[0] for r in rows[1:]] == ["基础级", "先进级", "卓越级", "领航级"]
    excellent = rows[3]
    assert excellent[1] == "2025年7月18日" and excellent[3] == "10个工作日" and excellent[6] == "7天"
    rows = _sheet(client.get("/dashboard/export.xlsx?chart=tier"))
    assert rows == [("级别", "数量"), ("基础级", "2")]
    # a provincial reviewer exports its own only, and no other recommender's funnel
    zj = as_user("zj-reviewer")
    rows = _sheet(zj.get("/dashboard/export.xlsx?chart=tiles&tier=basic&campaign=2026"))
    assert [r[0] for r in rows[1:]] == ["浙江省"]
    assert zj.get("/dashboard/export.xlsx?chart=funnel&tier=basic&recommender=province:370000").status_code == 403


def test_a_formula_in_a_name_stays_text_in_the_export(as_user):
    with unit_of_work():
        db.session.add(SoeGroup(key="zz-formula", name='=HYPERLINK("http://example.invalid","x")'))
    rows = _sheet(as_user("miit-1").get("/dashboard/export.xlsx?chart=tiles&tier=basic"))
    names = [r[0] for r in rows]
    assert "'=HYPERLINK(\"http://example.invalid\",\"x\")" in names


def test_a_provinces_page_has_its_calendar_and_export(as_user):
    client = as_user("miit-1")
    html = client.get("/dashboard/provinces/370000?tier=excellent&campaign=2025").get_data(as_text=True)
    assert 'id="table-calendar"' in html and "2025年8月1日" in html
    rows = _sheet(client.get("/dashboard/export.xlsx?chart=calendar&campaign=2025&recommender=province:370000"))
    assert rows[3][0] == "卓越级" and rows[3][2] == "2025年8月1日"
    zj = as_user("zj-reviewer")
    assert zj.get("/dashboard/export.xlsx?chart=calendar&campaign=2025&recommender=province:370000"
                  ).status_code == 403
    assert 'id="table-calendar"' not in client.get("/dashboard/groups/sinopec").get_data(as_text=True)
