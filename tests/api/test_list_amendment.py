"""The list amendment window (issue 16 item 3): a recommender amends its recommendation list — add, remove,
reorder — until the recommendation deadline with `PUT /api/v1/lists/{id}`; the quota applies to the list as it
stands; every amendment is an event; at the deadline the list freezes and only then do its cases learn the outcome."""
from datetime import datetime, timezone

from sqlalchemy import select

from app.extensions import db
from app.models import SystemEvent
from app.services import loading
from app.services.credit_code import with_check_char
from tests.api.test_advanced import complete, my_task, status
from tests.api.test_excellent import application, start
from tests.conftest import token

DEADLINE_PASSED = "2027-07-30T16:00:01+00:00"  # 24:00 Shanghai on the 2026 campaign's recommendation day, plus 1 s


def second_zhejiang_applicant(client) -> dict:
    """Another Zhejiang enterprise holding the advanced tier (eligible for excellent), with its login."""
    code = with_check_char("91330100MA2B0009" + "X")
    loading.load(f"""
enterprises:
  - {{credit_code: {code}, name: 杭州第二示范装备有限公司, province: "330000", city: "330100", soe_group: null,
     legal_person: true, industry: equipment, tiers: [{{tier: basic, year: 2024}}, {{tier: advanced, year: 2024}}]}}
users:
  - {{username: hz-second, password: "hz-second-2026-x", role: enterprise, enterprise: {code}}}
""")
    db.session.commit()
    return token(client, "hz-second", "hz-second-2026-x")


def approved_case(client, ent, prov) -> int:
    cid = start(client, ent)
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    assert status(client, prov, cid) == "recommendation"
    return cid


def amendments(list_id: int) -> list[SystemEvent]:
    return list(db.session.scalars(select(SystemEvent).where(SystemEvent.action == "list.amended",
                                                             SystemEvent.subject == f"list {list_id}")
                                   .order_by(SystemEvent.seq)))  # in the chain's order (PostgreSQL keeps none)


def test_a_list_is_amended_until_the_deadline_then_freezes(app, client, auth_headers):
    prov = auth_headers("zj-reviewer")
    first = approved_case(client, auth_headers("hz-precision"), prov)
    r = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                           "case_ids": [first]}, headers=prov)
    assert r.status_code == 201, r.get_json()
    lst = r.get_json()
    assert lst["frozen_at"] is None and status(client, prov, first) == "recommendation"  # held for amendment
    # a case approved after the first submission can be added, and the order changed
    later = approved_case(client, second_zhejiang_applicant(client), prov)
    r = client.put(f"/api/v1/lists/{lst['id']}", json={"case_ids": [later, first]}, headers=prov)
    assert r.status_code == 200, r.get_json()
    assert [(c["position"], c["case_id"]) for c in r.get_json()["cases"]] == [(1, later), (2, first)]
    # removed again, then re-added: every amendment is an event naming what changed
    assert client.put(f"/api/v1/lists/{lst['id']}", json={"case_ids": [later]}, headers=prov).status_code == 200
    r = client.put(f"/api/v1/lists/{lst['id']}", json={"case_ids": [first, later]}, headers=prov)
    assert r.status_code == 200
    events = amendments(lst["id"])
    assert [e.data["removed"] for e in events] == [[], [first], []]
    assert events[0].data["added"] == [later] and events[-1].data["after"] == [first, later]
    # hostile: another recommender, a case that is not waiting, over the quota
    assert client.put(f"/api/v1/lists/{lst['id']}", json={"case_ids": [first]},
                      headers=auth_headers("sd-reviewer")).status_code == 404
    assert client.put(f"/api/v1/lists/{lst['id']}", json={"case_ids": [first, 999999]},
                      headers=prov).status_code == 422
    r = client.put(f"/api/v1/lists/{lst['id']}", json={"case_ids": list(range(900000, 900041))}, headers=prov)
    assert r.status_code == 422 and "quota of 40" in r.get_json()["message"]
    assert [c["case_id"] for c in client.get(f"/api/v1/lists/{lst['id']}", headers=prov).get_json()["cases"]] \
        == [first, later]  # nothing recorded by a refused amendment
    # the deadline freezes the list: its cases learn the outcome with their rank, before their own timers fire
    out = app.test_cli_runner().invoke(args=["timers", "run", "--now", DEADLINE_PASSED])
    assert f"recommendation list {lst['id']} frozen" in out.output, out.output
    assert status(client, prov, first) == "paper_check" and status(client, prov, later) == "paper_check"
    frozen = client.get(f"/api/v1/lists/{lst['id']}", headers=prov).get_json()
    assert frozen["frozen_at"] and frozen["verified"]


def test_no_amendment_after_the_deadline_even_before_the_sweep(client, auth_headers, clock):
    prov = auth_headers("zj-reviewer")
    cid = approved_case(client, auth_headers("hz-precision"), prov)
    lst = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                             "case_ids": []}, headers=prov).get_json()
    clock.at = datetime(2027, 7, 30, 16, 0, 1, tzinfo=timezone.utc)
    prov = auth_headers("zj-reviewer")
    r = client.put(f"/api/v1/lists/{lst['id']}", json={"case_ids": [cid]}, headers=prov)
    assert r.status_code == 422 and "deadline" in r.get_json()["message"]


def test_a_removed_case_is_not_recommended_at_the_freeze(app, client, auth_headers):
    prov = auth_headers("zj-reviewer")
    cid = approved_case(client, auth_headers("hz-precision"), prov)
    lst = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                             "case_ids": [cid]}, headers=prov).get_json()
    assert client.put(f"/api/v1/lists/{lst['id']}", json={"case_ids": []}, headers=prov).status_code == 200
    app.test_cli_runner().invoke(args=["timers", "run", "--now", DEADLINE_PASSED])
    assert status(client, prov, cid) == "rejected"  # not recommended (未获推荐), not expired
    r = client.put(f"/api/v1/lists/{lst['id']}", json={"case_ids": [cid]}, headers=prov)
    assert r.status_code == 422


def test_final_closes_the_list_now(client, auth_headers):
    prov = auth_headers("zj-reviewer")
    cid = approved_case(client, auth_headers("hz-precision"), prov)
    r = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                           "case_ids": [cid], "final": True}, headers=prov)
    assert r.status_code == 201 and r.get_json()["frozen_at"]
    assert status(client, prov, cid) == "paper_check"
    r = client.put(f"/api/v1/lists/{r.get_json()['id']}", json={"case_ids": []}, headers=prov)
    assert r.status_code == 422 and "frozen" in r.get_json()["message"]
