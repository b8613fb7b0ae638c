"""The lighthouse tier through the API: provincial recommendation within the DMN quota, expert committee,
cultivation targets, six-monthly progress with guidance, acceptance after a failed attempt, or expiry."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.extensions import db
from app.models import TierRecord
from tests.api.test_advanced import complete, my_task, status
from tests.api.test_excellent import application, drawn_expert, panel_review, username

SD = "sd-reviewer"


def lighthouse_form(client, h, cid):
    form = application(client, h, cid, ai=("工厂数字化规划设计", "数字基础设施建设", "产品数字化设计"))
    form.update(industry_leader=True, future_modes="探索未来制造模式：全流程自主决策与人机协同。" * 2)
    return form


def expert_do(client, auth_headers, miit, cid, element, data):
    h = auth_headers(username(drawn_expert(client, miit, cid, element)["expert"]))
    complete(client, h, my_task(client, h, cid, element)["id"], data)


def to_cultivation(client, auth_headers):
    ent, prov, miit = auth_headers("qingdao-home"), auth_headers(SD), auth_headers("miit-1")
    r = client.post("/api/v1/cases", json={"tier": "lighthouse", "campaign": 2026}, headers=ent)
    assert r.status_code == 201, r.get_json()
    cid = r.get_json()["id"]
    form = lighthouse_form(client, ent, cid)
    bad = complete(client, ent, my_task(client, ent, cid)["id"], dict(form, ai_scenarios=["工厂数字化规划设计"]),
                   status=422)
    assert "ai_scenarios" in bad["errors"]  # 1 of 5 is under the lighthouse's 60%
    complete(client, ent, my_task(client, ent, cid)["id"], form)
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    r = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "lighthouse", "campaign": 2026,
                                           "case_ids": [cid], "final": True}, headers=prov)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["details"]["quota"] == 3  # Shandong had 22 excellent factories in 2024
    panel_review(client, auth_headers, miit, cid, "material_review")
    expert_do(client, auth_headers, miit, cid, "material_review",
              {"decision": "approve", "review_comment": "材料评审通过"})
    panel_review(client, auth_headers, miit, cid, "onsite_inspection")
    expert_do(client, auth_headers, miit, cid, "onsite_inspection",
              {"decision": "approve", "review_comment": "现场考察通过"})
    complete(client, miit, my_task(client, miit, cid, "target_decision")["id"], {"decision": "approve"})
    assert status(client, ent, cid) == "cultivating"
    return cid


def test_cultivation_progress_and_acceptance(app, client, auth_headers, clock):
    cid = to_cultivation(client, auth_headers)
    runner = app.test_cli_runner()
    clock.at = clock.at + timedelta(days=190)
    out = runner.invoke(args=["timers", "run", "--now", clock.at.isoformat()])
    assert "progress_due fired" in out.output
    ent, prov, miit = auth_headers("qingdao-home"), auth_headers(SD), auth_headers("miit-1")
    complete(client, ent, my_task(client, ent, cid, "progress_report")["id"],
             {"progress": "完成数字孪生平台一期建设，覆盖主要产线。", "percent_done": 35})
    expert_do(client, auth_headers, miit, cid, "guidance_note", {"guidance": "建议加快人工智能质检推广。"})

    acceptance = my_task(client, ent, cid, "acceptance_application")
    up = client.post(f"/api/v1/cases/{cid}/attachments", headers=ent,
                     data={"file": (__import__("io").BytesIO(b"%PDF-1.4 acceptance"), "验收材料.pdf")})
    accept_form = {"targets_met": True, "achievements": "全部培育目标完成，形成全球标杆。" * 2,
                   "materials": [up.get_json()["id"]]}
    complete(client, ent, acceptance["id"], accept_form)
    complete(client, prov, my_task(client, prov, cid, "preliminary_review")["id"], {"decision": "approve"})
    # the expert committee (three drawn experts) scores, the national body concludes on the panel's result
    panel_review(client, auth_headers, miit, cid, "acceptance_review", scores=(50, 55, 62))
    complete(client, miit, my_task(client, miit, cid, "national_acceptance")["id"],
             {"decision": "reject", "review_comment": "部分指标未达标"})
    assert status(client, ent, cid) == "cultivating"  # still within the two years: try again
    complete(client, ent, my_task(client, ent, cid, "acceptance_application")["id"], accept_form)
    complete(client, prov, my_task(client, prov, cid, "preliminary_review")["id"], {"decision": "approve"})
    panel_review(client, auth_headers, miit, cid, "acceptance_review", scores=(88, 90, 92))
    complete(client, miit, my_task(client, miit, cid, "national_acceptance")["id"],
             {"decision": "approve", "review_comment": "通过验收"})
    assert status(client, ent, cid) == "public_notice"
    runner.invoke(args=["timers", "run", "--now", (clock.at + timedelta(days=7, seconds=1)).isoformat()])
    assert status(client, ent, cid) == "accepted"
    rec = db.session.scalar(select(TierRecord).where(TierRecord.case_id == cid))
    assert (rec.tier, rec.source) == ("lighthouse", "accepted")


def test_cultivation_expires_after_two_years(app, client, auth_headers):
    cid = to_cultivation(client, auth_headers)
    start = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
    out = app.test_cli_runner().invoke(args=["timers", "run", "--now",
                                             (start + timedelta(days=732)).isoformat()])
    assert "cultivation_deadline fired" in out.output
    assert status(client, auth_headers("qingdao-home"), cid) == "expired"


def test_only_provinces_recommend_lighthouse(client, auth_headers):
    r = client.post("/api/v1/cases", json={"tier": "lighthouse", "campaign": 2026},
                    headers=auth_headers("hz-precision"))
    assert r.status_code == 422 and r.get_json()["errors"]["rules"][0]["rule"] == "requires_excellent"
