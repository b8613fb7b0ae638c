"""The lists page: a recommender ranks its cases within the quota; a certifier publishes its certified list."""
from tests.api.test_advanced import application as advanced_application
from tests.api.test_advanced import complete, my_task, status
from tests.api.test_excellent import application, start
from tests.security.helpers import browser_login, csrf, fresh_client


def _approved(client, auth_headers):
    ent, prov = auth_headers("hz-precision"), auth_headers("zj-reviewer")
    cid = start(client, ent)
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    return cid, prov


def _post(web, cid, **fields):
    data = {"csrf_token": csrf(web, "/lists/"), "kind": "recommendation", "tier": "excellent", "campaign": "2026"}
    data.update({k.replace("CID", str(cid)): v for k, v in fields.items()})
    return web.post("/lists/", data=data)


def test_recommender_ranks_confirms_and_submits_in_the_browser(app, client, auth_headers):
    cid, prov = _approved(client, auth_headers)
    web = fresh_client(app)
    browser_login(web, "zj-reviewer")
    page = web.get("/lists/?kind=recommendation&tier=excellent").get_data(as_text=True)
    assert 'id="quota">40<' in page and f'name="choice_{cid}"' in page and f'name="rank_{cid}"' in page
    # the confirmation shows who will be recommended and who not; nothing is recorded yet
    r = _post(web, cid, choice_CID="yes", rank_CID="1")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="confirm-recommended"' in page and "杭州示范精密机械有限公司" in page
    assert client.get("/api/v1/lists", headers=prov).get_json()["items"] == []
    r = _post(web, cid, choice_CID="yes", rank_CID="1", confirm="1")
    assert r.status_code == 302
    (lst,) = client.get("/api/v1/lists", headers=prov).get_json()["items"]
    assert [c["case_id"] for c in lst["cases"]] == [cid] and lst["frozen_at"] is None
    assert status(client, prov, cid) == "recommendation"  # held: amendable until the deadline
    page = web.get("/lists/?kind=recommendation&tier=excellent").get_data(as_text=True)
    assert f"/lists/{lst['id']}/export?format=xlsx" in page and 'id="list-state"' in page
    assert f'id="yes_{cid}" name="choice_{cid}" value="yes" checked' in page  # the list as it stands
    detail = web.get(f"/lists/{lst['id']}").get_data(as_text=True)
    assert 'id="list-entries"' in detail and "杭州示范精密机械有限公司" in detail
    # closing it now releases the case at once
    r = _post(web, cid, choice_CID="yes", rank_CID="1", final="1")
    assert r.status_code == 302 and status(client, prov, cid) == "paper_check"
    # another province's recommender has no quota figure: it is said, not guessed, with what still fits
    other = fresh_client(app)
    browser_login(other, "sd-reviewer")
    page = other.get("/lists/?kind=recommendation&tier=excellent").get_data(as_text=True)
    assert 'id="quota-error"' in page and "iva_rank_2024" not in page


def test_a_blank_choice_is_refused_naming_the_case(app, client, auth_headers):
    """Issue 15 defect 1: an empty box no longer decides a case."""
    cid, prov = _approved(client, auth_headers)
    web = fresh_client(app)
    browser_login(web, "zj-reviewer")
    for fields in ({}, {"confirm": "1"}, {"rank_CID": "", "confirm": "1"}):
        r = _post(web, cid, **fields)
        page = r.get_data(as_text=True)
        assert r.status_code == 422 and 'id="choice-errors"' in page and "杭州示范精密机械有限公司" in page
    for rank in ("第一", "²", "٣", "0", str(10**22)):  # not a whole number from 1: the form again, typed kept
        r = _post(web, cid, choice_CID="yes", rank_CID=rank, confirm="1")
        page = r.get_data(as_text=True)
        assert r.status_code == 422 and f'value="{rank}"' in page and "名次" in page, rank
    assert client.get("/api/v1/lists", headers=prov).get_json()["items"] == []
    assert status(client, prov, cid) == "recommendation"


def test_the_service_refuses_an_undecided_case_too(client, auth_headers):
    import pytest

    from app.errors import Invalid
    from app.services import lists
    from tests.conftest import user

    cid, _prov = _approved(client, auth_headers)
    with pytest.raises(Invalid) as exc:
        lists.recommend(user("zj-reviewer"), "excellent", 2026, [], not_recommended=[])
    assert str(cid) in exc.value.errors and "杭州示范精密机械有限公司" in exc.value.message
    lst = lists.recommend(user("zj-reviewer"), "excellent", 2026, [], not_recommended=[cid])
    assert lst.details["not_recommended"] == [cid]


def test_certifier_publishes_in_the_browser(app, client, auth_headers):
    ent, soe = auth_headers("sinopec-ningbo"), auth_headers("sinopec-reviewer")
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()["id"]
    complete(client, ent, my_task(client, ent, cid)["id"], advanced_application(client, ent, cid))
    complete(client, soe, my_task(client, soe, cid)["id"], {"decision": "approve"})
    web = fresh_client(app)
    browser_login(web, "sinopec-reviewer")
    page = web.get("/lists/?kind=certified&tier=advanced").get_data(as_text=True)
    assert f'name="case" value="{cid}"' in page
    r = web.post("/lists/", data={"csrf_token": csrf(web, "/lists/"), "kind": "certified", "tier": "advanced",
                                  "campaign": "2026", "case": str(cid)})
    assert r.status_code == 302 and status(client, ent, cid) == "public_notice"  # the list's 5 working days
    (lst,) = client.get("/api/v1/lists", headers=soe).get_json()["items"]
    x = web.get(f"/lists/{lst['id']}/export?format=csv")
    assert x.status_code == 200 and "中国石化示范化工宁波分公司" in x.data.decode("utf-8-sig")
