"""The excellent tier through the API: eligibility, deadlines as timers, ranked recommendation within the DMN
quota, paper-copy check against the declared hash, drawn experts with recusal, public notice, certification."""
import io
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import TierRecord
from tests.api.test_advanced import complete, my_task, status
from tests.factories import maturity_evidence

SCENARIOS = ["工厂数字化规划设计", "数字基础设施建设", "产品数字化设计", "生产计划优化", "在线智能检测"]


def application(client, h, case_id, ai=("在线智能检测",)):
    up = client.post(f"/api/v1/cases/{case_id}/attachments", headers=h,
                     data={"file": (io.BytesIO(b"%PDF-1.4 excellent application"), "卓越级申报书.pdf")})
    text = "智能化升级：建成数字孪生工厂，关键工序智能决策覆盖率显著提升。"
    return {"project_name": "杭州示范精密机械卓越级智能工厂", "contact_name": "李四", "contact_phone": "0571-87654321",
            **maturity_evidence(up.get_json()["id"], 3),
            "scenarios": SCENARIOS, "ai_scenarios": list(ai), "materials": [up.get_json()["id"]],
            "outcomes": "国内领先水平，研发周期缩短30%，不良品率下降50%。" * 2, "ai_exploration": True,
            "onsite_consent": True, "accept_responsibility": True,
            "construction": {k: text for k in ("factory_construction", "rd_design", "production_operations",
                                               "production_management", "operations_management")}}


def start(client, h):
    r = client.post("/api/v1/cases", json={"tier": "excellent", "campaign": 2026}, headers=h)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def events_of(client, h, cid):
    return client.get(f"/api/v1/cases/{cid}/events", headers=h).get_json()["events"]


def drawn_expert(client, h, cid, element):
    draws = [e for e in events_of(client, h, cid) if e["action"] == "expert.drawn" and e["element"] == element]
    return draws[-1]["data"]  # the latest draw for that task


def panel_review(client, auth_headers, miit, cid, element, scores=(85, 88, 90)):
    """Each of the three drawn panel members scores; the lead's task opens afterwards."""
    for i, score in enumerate(scores, start=1):
        h = auth_headers(username(drawn_expert(client, miit, cid, f"{element}_{i}")["expert"]))
        complete(client, h, my_task(client, h, cid, f"{element}_{i}")["id"],
                 {"decision": "approve" if score >= 60 else "reject", "score": score, "review_comment": "评审意见"})


def username(uid):
    from app.models import User

    return db.session.get(User, uid).username


def test_provincial_path_to_certification(app, client, auth_headers):
    ent, prov, miit = auth_headers("hz-precision"), auth_headers("zj-reviewer"), auth_headers("miit-1")
    cid = start(client, ent)
    form = application(client, ent, cid)
    bad = complete(client, ent, my_task(client, ent, cid)["id"],
                   dict(form, ai_scenarios=["产品虚拟验证"]), status=422)
    assert "ai_scenarios" in bad["errors"]  # an AI scenario must be one of the declared scenarios
    complete(client, ent, my_task(client, ent, cid)["id"], form)
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    assert status(client, prov, cid) == "recommendation"

    r = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                           "case_ids": [cid], "final": True}, headers=prov)
    assert r.status_code == 201, r.get_json()
    lst = r.get_json()
    assert lst["details"]["quota"] == 40 and lst["details"]["inputs"]["iva_rank_2024"] == 4
    assert status(client, prov, cid) == "paper_check"

    paper = my_task(client, miit, cid, "paper_check")
    declared = client.get(f"/api/v1/tasks/{paper['id']}", headers=miit).get_json()
    assert declared["data"] == {}
    history = events_of(client, miit, cid)
    submitted = [e for e in history if e["element"] == "application" and e["action"] == "task.completed"]
    assert len(submitted[-1]["data"]["declared_hash"]) == 64
    complete(client, miit, paper["id"], {"decision": "approve"}, status=422)  # must confirm the paper matches
    complete(client, miit, paper["id"], {"decision": "approve", "paper_matches": True})
    complete(client, miit, my_task(client, miit, cid, "formal_review")["id"], {"decision": "approve"})

    draws = [drawn_expert(client, miit, cid, f"expert_review_{i}") for i in (1, 2, 3)]
    members = [d["expert"] for d in draws]
    assert len(set(members)) == 3  # three different experts on the panel
    recused = auth_headers("expert-8")  # a Zhejiang expert never reviews a Zhejiang factory
    from app.models import User

    assert all(db.session.get(User, m).province_code != "330000" for m in members)
    assert client.get(f"/api/v1/cases/{cid}", headers=recused).status_code == 404
    assert all(len(d["seed"]) == 16 and d["recused"] for d in draws)
    panel_review(client, auth_headers, miit, cid, "expert_review", scores=(88, 90, 60))
    lead = drawn_expert(client, miit, cid, "expert_review")
    view = client.get(f"/api/v1/tasks/{my_task(client, auth_headers(username(lead['expert'])), cid)['id']}",
                      headers=auth_headers(username(lead["expert"]))).get_json()
    assert view["form"]["title"] == "评审组长汇总意见"
    h = auth_headers(username(lead["expert"]))
    complete(client, h, my_task(client, h, cid, "expert_review")["id"],
             {"decision": "approve", "review_comment": "达到国内领先水平"})
    panel_review(client, auth_headers, miit, cid, "onsite_verification")
    onsite = auth_headers(username(drawn_expert(client, miit, cid, "onsite_verification")["expert"]))
    complete(client, onsite, my_task(client, onsite, cid, "onsite_verification")["id"],
             {"decision": "approve", "review_comment": "现场核验属实"})
    complete(client, miit, my_task(client, miit, cid, "national_decision")["id"], {"decision": "approve"})
    assert status(client, miit, cid) == "public_notice"

    runner = app.test_cli_runner()
    runner.invoke(args=["timers", "run", "--now", "2026-12-02T01:59:00+00:00"])
    assert status(client, miit, cid) == "public_notice"
    out = runner.invoke(args=["timers", "run", "--now", "2026-12-02T02:00:01+00:00"])
    assert "wait_public_notice fired" in out.output
    assert status(client, ent, cid) == "certified"
    rec = db.session.scalar(select(TierRecord).where(TierRecord.case_id == cid))
    assert (rec.tier, rec.year) == ("excellent", 2026)


def test_quota_refusals_name_the_quota_and_its_inputs(client, auth_headers):
    r = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                           "case_ids": [1, 2, 3, 4, 5, 6]}, headers=auth_headers("sinopec-reviewer"))
    assert r.status_code == 422 and "quota of 5" in r.get_json()["message"]
    assert r.get_json()["errors"]["case_ids"]["inputs"]["recommender_kind"] == "soe"
    r = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                           "case_ids": list(range(900000, 900021))},
                    headers=auth_headers("sd-reviewer"))
    assert r.status_code == 422 and "cannot be computed" in r.get_json()["message"]  # 21 > 20: the rank matters
    r = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "lighthouse", "campaign": 2026,
                                           "case_ids": []}, headers=auth_headers("sinopec-reviewer"))
    assert r.status_code == 403  # only provinces recommend lighthouse


def test_soe_branch_not_recommended_and_deadline(client, auth_headers, clock):
    ent, soe = auth_headers("sinopec-plant"), auth_headers("sinopec-reviewer")
    cid = start(client, ent)  # a branch, but in petrochemicals: allowed
    form = application(client, ent, cid)
    complete(client, ent, my_task(client, ent, cid)["id"], form)
    complete(client, soe, my_task(client, soe, cid)["id"], {"decision": "approve"})
    body = {"kind": "recommendation", "tier": "excellent", "campaign": 2026, "case_ids": [], "final": True}
    clock.at = datetime(2027, 7, 30, 16, 0, 1, tzinfo=timezone.utc)  # after 24:00 Shanghai on the deadline day
    soe, ent = auth_headers("sinopec-reviewer"), auth_headers("sinopec-plant")  # fresh tokens at the new time
    r = client.post("/api/v1/lists", json=body, headers=soe)
    assert r.status_code == 422 and "deadline" in r.get_json()["message"]
    clock.at = datetime(2027, 7, 30, 15, 0, tzinfo=timezone.utc)
    r = client.post("/api/v1/lists", json=body, headers=soe)
    assert r.status_code == 201 and r.get_json()["details"]["not_recommended"] == [cid]
    assert status(client, ent, cid) == "rejected"


def test_missed_application_deadline_expires(app, client, auth_headers):
    ent = auth_headers("sinopec-plant")
    cid = start(client, ent)
    out = app.test_cli_runner().invoke(args=["timers", "run", "--now", "2027-07-17T00:00:01+08:00"])
    assert f"case {cid}: application_deadline fired" in out.output
    assert status(client, ent, cid) == "expired"
    assert my_task.__name__ and client.get("/api/v1/tasks", headers=ent).get_json()["total"] == 0


@pytest.mark.parametrize("who,rule", [("acme", "requires_advanced"), ("ningbo-parts", "requires_advanced")])
def test_ineligible(client, auth_headers, who, rule):
    r = client.post("/api/v1/cases", json={"tier": "excellent", "campaign": 2026}, headers=auth_headers(who))
    assert r.status_code == 422 and rule in [x["rule"] for x in r.get_json()["errors"]["rules"]]


def to_expert_panel(client, auth_headers) -> int:
    """An excellent case of hz-precision applied, recommended (a closed list), paper-checked and formally reviewed:
    waiting for its expert panel."""
    ent, prov, miit = auth_headers("hz-precision"), auth_headers("zj-reviewer"), auth_headers("miit-1")
    cid = start(client, ent)
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                       "case_ids": [cid], "final": True}, headers=prov)
    complete(client, miit, my_task(client, miit, cid, "paper_check")["id"],
             {"decision": "approve", "paper_matches": True})
    complete(client, miit, my_task(client, miit, cid, "formal_review")["id"], {"decision": "approve"})
    return cid


def _to_notice(client, auth_headers):
    """An excellent case of hz-precision up to its public notice."""
    miit = auth_headers("miit-1")
    cid = to_expert_panel(client, auth_headers)
    for step in ("expert_review", "onsite_verification"):
        panel_review(client, auth_headers, miit, cid, step)
        h = auth_headers(username(drawn_expert(client, miit, cid, step)["expert"]))
        complete(client, h, my_task(client, h, cid, step)["id"],
                 {"decision": "approve", "score": 80, "review_comment": "通过"})
    complete(client, miit, my_task(client, miit, cid, "national_decision")["id"], {"decision": "approve"})
    assert status(client, miit, cid) == "public_notice"
    return cid


def test_objection_upheld_holds_then_rejects(app, client, auth_headers):
    cid = _to_notice(client, auth_headers)
    other = auth_headers("qingdao-home")  # anyone logged in, even from another province
    notice = client.get("/api/v1/notices", headers=other).get_json()["items"]
    assert [n["case_id"] for n in notice] == [cid] and notice[0]["notice_until"]
    assert client.post(f"/api/v1/cases/{cid}/objections", json={"reason": "短"}, headers=other).status_code == 422
    assert client.post(f"/api/v1/cases/{cid}/objections", json={"reason": "申报数据与实际产能不符，疑似夸大。"},
                       headers=auth_headers("auditor")).status_code == 403
    r = client.post(f"/api/v1/cases/{cid}/objections", json={"reason": "申报数据与实际产能不符，疑似夸大。"},
                    headers=other)
    assert r.status_code == 201
    miit = auth_headers("miit-1")
    assert status(client, miit, cid) == "objection_review"
    # held: the end of the notice period passes, nothing is certified while the objection is open
    out = app.test_cli_runner().invoke(args=["timers", "run", "--now", "2026-12-10T00:00:00+00:00"])
    assert "0 timer(s) fired" in out.output and status(client, miit, cid) == "objection_review"
    r = client.post(f"/api/v1/cases/{cid}/objections", headers=other,
                    data={"reason": "第二份异议：环保处罚未披露。",
                          "file": [(__import__("io").BytesIO(b"%PDF-1.4 penalty notice"), "处罚决定书.pdf")]})
    assert r.status_code == 201, r.get_json()
    (evidence,) = r.get_json()["attachments"]
    assert client.get(f"/api/v1/attachments/{evidence}", headers=miit).data == b"%PDF-1.4 penalty notice"
    bad = client.post(f"/api/v1/cases/{cid}/objections", headers=other,
                      data={"reason": "第三份异议。", "file": [(__import__("io").BytesIO(b"MZ"), "x.exe")]})
    assert bad.status_code == 415
    complete(client, miit, my_task(client, miit, cid, "objection_review")["id"],
             {"decision": "reject", "resolution": "经核实异议成立"})
    assert status(client, miit, cid) == "rejected"
    states = [o["state"] for o in client.get(f"/api/v1/cases/{cid}/objections", headers=miit).get_json()["items"]]
    assert states == ["upheld", "upheld"]


def test_objection_dismissed_then_certified(app, client, auth_headers):
    cid = _to_notice(client, auth_headers)
    client.post(f"/api/v1/cases/{cid}/objections", json={"reason": "怀疑现场核验走过场。"},
                headers=auth_headers("acme"))
    miit = auth_headers("miit-1")
    complete(client, miit, my_task(client, miit, cid, "objection_review")["id"],
             {"decision": "approve", "resolution": "异议不成立"})
    assert status(client, miit, cid) == "public_notice"
    app.test_cli_runner().invoke(args=["timers", "run", "--now", "2026-12-02T02:00:01+00:00"])
    assert status(client, miit, cid) == "certified"
    # after the notice the case is no longer public: 404 for another enterprise, 422 for one who may view it
    assert client.post(f"/api/v1/cases/{cid}/objections", json={"reason": "公示结束后的异议。"},
                       headers=auth_headers("acme")).status_code == 404
    assert client.post(f"/api/v1/cases/{cid}/objections", json={"reason": "公示结束后的异议。"},
                       headers=miit).status_code == 422


def test_missed_recommendation_deadline_and_out_of_scope_list(app, client, auth_headers):
    ent, prov = auth_headers("hz-precision"), auth_headers("zj-reviewer")
    cid = start(client, ent)
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    # another province cannot put this case on its list (nothing recorded)
    r = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                           "case_ids": [cid]}, headers=auth_headers("sinopec-reviewer"))
    assert r.status_code == 422 and "not a case of yours" in r.get_json()["message"]
    assert status(client, prov, cid) == "recommender_review"
    out = app.test_cli_runner().invoke(args=["timers", "run", "--now", "2027-07-31T00:00:01+08:00"])
    assert f"case {cid}: recommendation_deadline fired" in out.output
    # the recommender's deadline binds the recommender: its review is overdue, the enterprise's case is not expired
    # (issue 16.2); the review stays in its inbox
    assert status(client, ent, cid) == "recommender_review"
    assert my_task(client, prov, cid)["name"] == "recommender_review"
