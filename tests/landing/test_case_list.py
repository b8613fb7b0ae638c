"""The case list (issue 15): search by enterprise name or credit code, filters by tier, status, region (by name) and
campaign, pages, the one scope rule, the roles it is for; and `GET /api/v1/cases?q=`."""
import re

import pytest

from app.services import case_list, cases
from app.uow import unit_of_work
from tests.conftest import user


@pytest.fixture
def world():
    """Basic cases of acme (杭州), ningbo-parts (宁波), sinopec-plant (a Sinopec member in Zhejiang) and qingdao-home
    (Shandong), all in campaign 2026."""
    out = {}
    with unit_of_work():
        for name in ("acme", "ningbo-parts", "sinopec-plant", "qingdao-home"):
            out[name] = cases.create_case(user(name), "basic", 2026).id
    return out


def rows(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'<tr data-case="(\d+)">', html)}


def test_a_province_sees_its_cases_and_finds_them_by_name_or_code(browser_as, world):
    web = browser_as("zj-reviewer")
    html = web.get("/cases").get_data(as_text=True)
    assert rows(html) == {world["acme"], world["ningbo-parts"]}  # not the SOE member's, not Shandong's
    assert "杭州示范智能装备有限公司" in html and "宁波市" in html
    assert rows(web.get("/cases?q=宁波示范").get_data(as_text=True)) == {world["ningbo-parts"]}
    assert rows(web.get("/cases?q=91330100ma2b").get_data(as_text=True)) == {world["acme"]}  # code start, any case
    assert rows(web.get("/cases?q=MA2B000018").get_data(as_text=True)) == set()  # the middle of a code: no match
    # another province's enterprise is not found by its name either
    assert rows(web.get("/cases?q=青岛示范").get_data(as_text=True)) == set()
    html = web.get("/cases?q=青岛示范").get_data(as_text=True)
    assert 'id="no-cases"' in html and 'value="青岛示范"' in html  # what was typed is kept


def test_filters_by_tier_status_region_and_campaign(browser_as, world):
    web = browser_as("admin")
    everyone = set(world.values())
    assert rows(web.get("/cases").get_data(as_text=True)) >= everyone
    assert rows(web.get("/cases?tier=advanced").get_data(as_text=True)) & everyone == set()
    assert rows(web.get("/cases?tier=basic&campaign=2026").get_data(as_text=True)) >= everyone
    assert rows(web.get("/cases?campaign=2025").get_data(as_text=True)) & everyone == set()
    assert rows(web.get("/cases?region=370000").get_data(as_text=True)) == {world["qingdao-home"]}
    assert rows(web.get("/cases?region=330200").get_data(as_text=True)) == {world["ningbo-parts"]}  # a city
    status = cases.get_case(user("admin"), world["acme"]).status
    assert rows(web.get(f"/cases?status={status}").get_data(as_text=True)) >= everyone
    assert rows(web.get("/cases?status=certified").get_data(as_text=True)) & everyone == set()
    html = web.get("/cases").get_data(as_text=True)
    # regions and statuses offered by their names, never a bare code
    assert re.search(r'<option value="330000"\s*>浙江省</option>', html), html
    assert re.search(rf'<option value="{status}"\s*>[^<a-z]+</option>', html)


def test_hostile_filters_fall_back_and_wildcards_are_literal(browser_as, world):
    web = browser_as("admin")
    for q in ("%", "_", "' OR 1=1 --"):
        r = web.get("/cases", query_string={"q": q})
        assert r.status_code == 200 and rows(r.get_data(as_text=True)) & set(world.values()) == set(), q
    for args in ("region=abc", "tier=platinum", "campaign=x", "page=-3", "per_page=100000"):
        r = web.get(f"/cases?{args}")
        assert r.status_code == 200, args
        assert rows(r.get_data(as_text=True)) >= set(world.values()) or "tier" in args, args


def test_pages(world):
    admin = user("admin")
    first = case_list.page(admin, case_list.Filters(per_page=2))
    assert first["total"] >= 4 and first["pages"] == -(-first["total"] // 2)
    second = case_list.page(admin, case_list.Filters(per_page=2, page=2))
    ids = [r.id for r in first["rows"]] + [r.id for r in second["rows"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4  # newest first, no row twice
    beyond = case_list.page(admin, case_list.Filters(per_page=2, page=10_000))
    assert beyond["filters"].page == beyond["pages"]  # past the end: the last page


@pytest.mark.parametrize("name", ["acme", "expert-7", "zj-ndrc", "zj-admin"])
def test_roles_that_do_not_oversee_many_cases_are_refused(browser_as, name):
    assert browser_as(name).get("/cases").status_code == 403


def test_api_searches_name_and_credit_code(client, auth_headers, world):
    zj = auth_headers("zj-reviewer")
    found = client.get("/api/v1/cases", query_string={"q": "宁波示范"}, headers=zj).get_json()
    assert [c["id"] for c in found["items"]] == [world["ningbo-parts"]]
    found = client.get("/api/v1/cases", query_string={"q": "91330100MA2B00001"}, headers=zj).get_json()
    assert [c["id"] for c in found["items"]] == [world["acme"]]
    assert client.get("/api/v1/cases", query_string={"q": "青岛"}, headers=zj).get_json()["items"] == []


def test_name_search_follows_inserts_renames_and_deletes(world):
    from sqlalchemy import delete, insert, select

    from app.extensions import db
    from app.models import Enterprise, EnterpriseNameGram

    admin = user("admin")

    def found(q):
        return {r.id for r in case_list.page(admin, case_list.Filters(q=q))["rows"]}

    acme = db.session.get(Enterprise, user("acme").enterprise_id)
    assert world["acme"] in found("示范智能")
    acme.name = "杭州TCL新名字有限公司"
    db.session.flush()
    assert found("tcl新名") == {world["acme"]}  # ASCII case ignored, the new name's pieces indexed
    assert world["acme"] not in found("示范智能")  # the old name's pieces are gone
    assert world["acme"] in found("新")  # one character: no piece, the names are scanned
    # a Core bulk insert (as the imports do) is indexed too, and a deleted enterprise leaves no piece behind
    db.session.execute(insert(Enterprise), [{"id": 900_001, "credit_code": "91330100MA2B0900XX",
                                             "name": "绍兴织造试验厂", "legal_person": True, "industry": "textiles",
                                             "province_code": "330000", "declarations": {}}])
    named = case_list.enterprises_named
    assert set(db.session.scalars(named("织造试验"))) == {900_001}
    db.session.execute(delete(Enterprise).where(Enterprise.id == 900_001))
    assert db.session.scalars(select(EnterpriseNameGram).where(EnterpriseNameGram.enterprise_id == 900_001)).all() == []
    db.session.rollback()


def test_a_broad_name_search_finds_the_same_cases(world, monkeypatch):
    """Above PROBE enterprises per piece the page walks the cases newest first: the same rows, the same order."""
    admin = user("admin")
    narrow = case_list.page(admin, case_list.Filters(q="示范", per_page=2))
    monkeypatch.setattr(case_list, "PROBE", 0)  # every piece counts as common
    assert case_list._named("示范")[1] is True
    broad = case_list.page(admin, case_list.Filters(q="示范", per_page=2))
    assert [r.id for r in broad["rows"]] == [r.id for r in narrow["rows"]] and broad["total"] == narrow["total"]
    zj = user("zj-reviewer")
    assert {r.id for r in case_list.page(zj, case_list.Filters(q="示范"))["rows"]} == {world["acme"],
                                                                                      world["ningbo-parts"]}
