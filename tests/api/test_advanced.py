"""The advanced tier through the API: joint review, return, SOE path, batch publication of the certified list."""
import io

from sqlalchemy import select

from app.extensions import db
from app.models import TierRecord
from tests.factories import maturity_evidence

DEPTS = {"ndrc": "zj-ndrc", "finance": "zj-finance", "sasac": "zj-sasac", "samr": "zj-samr", "data": "zj-data"}


def application(client, h, case_id):
    up = client.post(f"/api/v1/cases/{case_id}/attachments", headers=h,
                     data={"file": (io.BytesIO(b"%PDF-1.4 materials"), "申报书.pdf")})
    assert up.status_code == 201
    text = "建设内容说明：已完成生产线数字化改造与网络化协同。"
    return {"project_name": "宁波示范汽车零部件智能工厂", "contact_name": "张三", "contact_phone": "0574-12345678",
            **maturity_evidence(up.get_json()["id"], 3),
            "outcomes": "生产效率提升25%，形成区域标杆。" * 2, "materials": [up.get_json()["id"]],
            "accept_responsibility": True,
            "construction": {k: text for k in ("factory_construction", "rd_design", "production_operations",
                                               "production_management", "operations_management")}}


def my_task(client, h, case_id, name=None):
    items = [t for t in client.get("/api/v1/tasks", headers=h).get_json()["items"] if t["case_id"] == case_id]
    if name:
        items = [t for t in items if t["name"] == name]
    assert len(items) == 1, items
    return items[0]


def complete(client, h, task_id, data, status=200):
    r = client.post(f"/api/v1/tasks/{task_id}/complete", headers=h, json={"data": data})
    assert r.status_code == status, r.get_json()
    return r.get_json()


def status(client, h, case_id):
    return client.get(f"/api/v1/cases/{case_id}", headers=h).get_json()["status"]


NOTICE_OVER = "2026-12-02T16:00:01+00:00"  # 5 working days after 2026-11-25 (Wed), to the end of 2026-12-02


def end_notice(app, client, h, cid):
    """The provincial list's public notice (5 working days) runs out: the case is certified."""
    assert status(client, h, cid) == "public_notice"
    out = app.test_cli_runner().invoke(args=["timers", "run", "--now", NOTICE_OVER])
    assert f"case {cid}: wait_public_notice fired" in out.output
    assert status(client, h, cid) == "certified"


def test_provincial_certification_with_joint_review_and_publication(app, client, auth_headers):
    ent, prov = auth_headers("ningbo-parts"), auth_headers("zj-reviewer")
    case = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()
    cid = case["id"]
    form = application(client, ent, cid)
    complete(client, ent, my_task(client, ent, cid)["id"], dict(form, materials=[]), status=422)
    complete(client, ent, my_task(client, ent, cid)["id"], form)
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "return", "review_comment": "请补充成效数据"})
    assert status(client, ent, cid) == "returned"
    complete(client, ent, my_task(client, ent, cid)["id"], form)
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    assert status(client, prov, cid) == "joint_review"

    # each department sees only its own joint-review task; another department cannot complete it
    tasks = {d: my_task(client, auth_headers(u), cid) for d, u in DEPTS.items()}
    assert {t["name"] for t in tasks.values()} == {f"joint_{d}" for d in DEPTS}
    r = client.post(f"/api/v1/tasks/{tasks['finance']['id']}/complete", headers=auth_headers("zj-ndrc"),
                    json={"data": {"decision": "approve", "comment": "同意"}})
    assert r.status_code == 403
    for d, u in DEPTS.items():
        complete(client, auth_headers(u), tasks[d]["id"], {"decision": "approve", "comment": f"{d} 同意"})

    decision = my_task(client, prov, cid, "certifier_decision")
    view = client.get(f"/api/v1/tasks/{decision['id']}", headers=prov).get_json()
    assert view["data"] == {}  # nothing prefilled; the joint opinions are in the case data
    complete(client, prov, decision["id"], {"decision": "approve", "decision_comment": "认定"})
    assert status(client, prov, cid) == "approved"

    # the list: another province's reviewer cannot publish it, nor can an enterprise
    body = {"tier": "advanced", "campaign": 2026, "case_ids": [cid]}
    assert client.post("/api/v1/lists", json=body, headers=auth_headers("sd-reviewer")).status_code == 422
    assert client.post("/api/v1/lists", json=body, headers=ent).status_code == 403
    r = client.post("/api/v1/lists", json=body, headers=prov)
    assert r.status_code == 201, r.get_json()
    lst = r.get_json()
    assert [(c["position"], c["case_id"]) for c in lst["cases"]] == [(1, cid)] and lst["scope"] == "province:330000"
    end_notice(app, client, ent, cid)
    rec = db.session.scalar(select(TierRecord).where(TierRecord.case_id == cid))
    assert (rec.tier, rec.source) == ("advanced", "certified")
    # reported to the national reviewers; not to SASAC (not an SOE list); a second publication is refused
    assert [x["id"] for x in client.get("/api/v1/lists", headers=auth_headers("miit-1")).get_json()["items"]] \
        == [lst["id"]]
    assert client.get("/api/v1/lists", headers=auth_headers("sasac-1")).get_json()["items"] == []
    assert client.post("/api/v1/lists", json=body, headers=prov).status_code == 422
    actions = [e["action"] for e in client.get(f"/api/v1/cases/{cid}/events", headers=ent).get_json()["events"]]
    assert actions[-3:] == ["message.received", "timer.fired", "case.closed"]


def test_soe_group_certifies_its_member_without_joint_review(app, client, auth_headers):
    ent, soe = auth_headers("sinopec-ningbo"), auth_headers("sinopec-reviewer")
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()["id"]
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    assert client.get("/api/v1/tasks", headers=auth_headers("zj-reviewer")).get_json()["total"] == 0
    complete(client, soe, my_task(client, soe, cid)["id"], {"decision": "approve"})
    assert status(client, soe, cid) == "approved"
    assert all(client.get("/api/v1/tasks", headers=auth_headers(u)).get_json()["total"] == 0
               for u in DEPTS.values())
    lst = client.post("/api/v1/lists", json={"tier": "advanced", "campaign": 2026, "case_ids": [cid]},
                      headers=soe).get_json()
    assert lst["scope"] == "soe:sinopec"
    end_notice(app, client, ent, cid)
    assert [x["id"] for x in client.get("/api/v1/lists", headers=auth_headers("sasac-1")).get_json()["items"]] \
        == [lst["id"]]


def test_a_list_with_an_unready_case_records_nothing(client, auth_headers):
    ent, prov = auth_headers("ningbo-parts"), auth_headers("zj-reviewer")
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()["id"]
    r = client.post("/api/v1/lists", json={"tier": "advanced", "campaign": 2026, "case_ids": [cid]}, headers=prov)
    assert r.status_code == 422 and str(cid) in r.get_json()["errors"]
    assert client.get("/api/v1/lists", headers=prov).get_json()["items"] == []
    assert status(client, ent, cid) == "draft"


def test_advanced_needs_basic(client, auth_headers):
    r = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=auth_headers("acme"))
    assert r.status_code == 422 and r.get_json()["errors"]["rules"][0]["rule"] == "requires_basic"


def test_certified_list_exports_as_xlsx_and_csv(client, auth_headers):
    import csv
    import io as _io

    from openpyxl import load_workbook

    ent, soe = auth_headers("sinopec-ningbo"), auth_headers("sinopec-reviewer")
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()["id"]
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    complete(client, soe, my_task(client, soe, cid)["id"], {"decision": "approve"})
    lst = client.post("/api/v1/lists", json={"tier": "advanced", "campaign": 2026, "case_ids": [cid]},
                      headers=soe).get_json()
    x = client.get(f"/api/v1/lists/{lst['id']}/export?format=xlsx", headers=auth_headers("sasac-1"))
    assert x.status_code == 200 and x.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(_io.BytesIO(x.data)).active
    header, row = [c.value for c in ws[1]], [c.value for c in ws[2]]  # our layout (no sourced template exists)
    assert header == ["推荐单位", "推荐顺序", "申报主体", "统一社会信用代码", "智能工厂名称", "所在地区", "所属行业",
                      "联系人及电话", "备注", "状态"]
    assert row[:5] == ["中国石油化工集团有限公司", "1", "中国石化示范化工宁波分公司", "91330200MA2B00006W",
                       "宁波示范汽车零部件智能工厂"]
    c = client.get(f"/api/v1/lists/{lst['id']}/export?format=csv", headers=soe)
    rows = list(csv.reader(_io.StringIO(c.data.decode("utf-8-sig"))))
    assert rows[1][2] == "中国石化示范化工宁波分公司" and rows[1][7] == "张三 0574-12345678"
    assert client.get(f"/api/v1/lists/{lst['id']}/export?format=pdf", headers=soe).status_code == 422
    assert client.get(f"/api/v1/lists/{lst['id']}/export", headers=auth_headers("zj-reviewer")).status_code == 404


def test_enterprise_lineage_drives_eligibility(client, auth_headers):
    ent = auth_headers("acme")
    me = client.get("/api/v1/me", headers=ent).get_json()["enterprise_id"]
    view = client.get(f"/api/v1/enterprises/{me}", headers=ent).get_json()
    assert view["eligibility"]["basic"]["eligible"] is True
    assert view["eligibility"]["advanced"]["unmet"][0]["rule"] == "requires_basic"
    assert client.get(f"/api/v1/enterprises/{me}", headers=auth_headers("sd-reviewer")).status_code == 404
    assert client.get(f"/api/v1/enterprises/{me}", headers=auth_headers("zj-reviewer")).status_code == 200
    cid = client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026}, headers=ent).get_json()["id"]
    from tests.factories import GOOD_ASSESSMENT

    complete(client, ent, my_task(client, ent, cid)["id"], GOOD_ASSESSMENT)
    prov = auth_headers("zj-reviewer")
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    view = client.get(f"/api/v1/enterprises/{me}", headers=ent).get_json()
    assert view["tiers"] == [{"tier": "basic", "year": 2026, "source": "self_assessment", "case_id": cid}]
    assert view["eligibility"]["advanced"]["eligible"] is True
    assert view["eligibility"]["basic"]["unmet"][0]["rule"] == "one_case_per_campaign"
    assert [c["status"] for c in view["cases"]] == ["certified"]
