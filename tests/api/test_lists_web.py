"""The lists page: a recommender ranks its cases within the quota; a certifier publishes its certified list."""
from tests.api.test_advanced import application as advanced_application
from tests.api.test_advanced import complete, my_task, status
from tests.api.test_excellent import application, start
from tests.security.helpers import browser_login, csrf, fresh_client


def test_recommender_ranks_and_submits_in_the_browser(app, client, auth_headers):
    ent, prov = auth_headers("hz-precision"), auth_headers("zj-reviewer")
    cid = start(client, ent)
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    web = fresh_client(app)
    browser_login(web, "zj-reviewer")
    page = web.get("/lists/?kind=recommendation&tier=excellent").get_data(as_text=True)
    assert 'id="quota">40<' in page and f'name="priority_{cid}"' in page
    r = web.post("/lists/", data={"csrf_token": csrf(web, "/lists/"), "kind": "recommendation", "tier": "excellent",
                                  "campaign": "2026", f"priority_{cid}": "1"})
    assert r.status_code == 302
    assert status(client, prov, cid) == "paper_check"
    (lst,) = client.get("/api/v1/lists", headers=prov).get_json()["items"]
    page = web.get("/lists/?kind=recommendation&tier=excellent").get_data(as_text=True)
    assert f"/lists/{lst['id']}/export?format=xlsx" in page
    # another province's recommender has no quota figure: it is said, not guessed
    other = fresh_client(app)
    browser_login(other, "sd-reviewer")
    assert 'id="quota-error"' in other.get("/lists/?kind=recommendation&tier=excellent").get_data(as_text=True)


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
