"""The case timeline and who sees what (issue 15 defects 2-4, issue 17 item 5), through the Flask client: pages show
only what a step produced, the certifier sees the co-departments' opinions side by side with the dissent marked,
the objection handler reads the objection; the objected enterprise never learns who objected nor gets the
evidence; the applicant sees neither the expert draw nor individual scores; an expert sees the other experts'
scores only after its own."""
import io
import re

from tests.api.test_advanced import DEPTS, application, complete, my_task
from tests.api.test_excellent import drawn_expert, to_expert_panel, username


def _page(web, url) -> str:
    r = web.get(url)
    assert r.status_code == 200, url
    return r.get_data(as_text=True)


def _section(html: str, sid: str) -> str:
    m = re.search(rf'<section[^>]*id="{sid}".*?</section>', html, re.S)
    return m.group(0) if m else ""


def _advanced_to_joint(client, auth_headers) -> int:
    ent, prov = auth_headers("ningbo-parts"), auth_headers("zj-reviewer")
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()["id"]
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve", "review_comment": "材料齐全"})
    return cid


def test_a_co_department_reviewer_sees_only_steps_taken(client, auth_headers, browser_as):
    """Defect 2: in 联审 no 先进级审定 or 公示异议处理 value appears; the preliminary review shows its own decision."""
    cid = _advanced_to_joint(client, auth_headers)
    task = my_task(client, auth_headers("zj-data"), cid)
    html = _page(browser_as("zj-data"), f"/tasks/{task['id']}")
    steps = _section(html, "case-steps")
    assert "认定单位初审" in steps and "材料齐全" in steps and "通过" in steps
    for never in ("审定结论", "认定单位审定", "处理结论", "异议不成立", "异议成立"):
        assert never not in html, never
    case_page = _page(browser_as("zj-data"), f"/cases/{cid}")
    assert "异议不成立" not in case_page and "审定结论" not in case_page


def test_the_certifier_sees_the_five_opinions_side_by_side_with_the_dissent(client, auth_headers, browser_as):
    """Defect 3: the data department says 不同意 with a reason; the certifier's task page shows all five."""
    cid = _advanced_to_joint(client, auth_headers)
    for d, u in DEPTS.items():
        h = auth_headers(u)
        answer = {"decision": "reject", "comment": "数据资产登记不完整"} if d == "data" else \
            {"decision": "approve", "comment": f"{d} 同意"}
        complete(client, h, my_task(client, h, cid)["id"], answer)
    prov = auth_headers("zj-reviewer")
    decision = my_task(client, prov, cid, "certifier_decision")
    html = _page(browser_as("zj-reviewer"), f"/tasks/{decision['id']}")
    table = _section(html, "co-department-opinions")
    rows = re.findall(r'<tr class="([^"]*)" data-department="(\w+)">(.*?)</tr>', table, re.S)
    assert sorted(d for _c, d, _r in rows) == sorted(DEPTS)
    by_dept = {d: (cls, body) for cls, d, body in rows}
    cls, body = by_dept["data"]
    assert cls == "dissent" and "不同意" in body and "数据资产登记不完整" in body and "数据管理部门" in body
    assert all(by_dept[d][0] == "" and "同意" in by_dept[d][1] for d in DEPTS if d != "data")
    assert "北京时间" in table
    # the enterprise reads the same opinions by department, never by username
    ent_page = _page(browser_as("ningbo-parts"), f"/cases/{cid}")
    assert "数据资产登记不完整" in ent_page and "zj-data" not in ent_page and "zj-reviewer" not in ent_page


def test_a_returned_round_keeps_the_earlier_opinion_as_history(client, auth_headers, browser_as):
    ent, prov = auth_headers("ningbo-parts"), auth_headers("zj-reviewer")
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()["id"]
    form = application(client, ent, cid)
    complete(client, ent, my_task(client, ent, cid)["id"], form)
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "return", "review_comment": "请补充成效数据"})
    again = my_task(client, ent, cid)
    view = client.get(f"/api/v1/tasks/{again['id']}", headers=ent).get_json()
    assert view["data"]["project_name"] == form["project_name"]  # the application comes back as it was sent
    complete(client, ent, again["id"], form)
    review = my_task(client, prov, cid)
    assert client.get(f"/api/v1/tasks/{review['id']}", headers=prov).get_json()["data"] == {}  # nothing prefilled
    steps = _section(_page(browser_as("zj-reviewer"), f"/tasks/{review['id']}"), "case-steps")
    first = re.search(r'<li class="step history" data-element="certifier_review">(.*?)</li>', steps, re.S)
    assert first and "请补充成效数据" in first.group(1) and "较早一轮" in first.group(1)
    assert "第2轮" in steps
    # the second round's review done: the resubmitted application and that review are current, not history
    complete(client, prov, review["id"], {"decision": "approve", "review_comment": "材料齐全"})
    steps = _section(_page(browser_as("zj-reviewer"), f"/cases/{cid}"), "case-steps")
    current = re.findall(r'<li class="step" data-element="(\w+)"', steps)
    assert current.count("application") == 1 and current.count("certifier_review") == 1, current
    assert re.findall(r'<li class="step history" data-element="(\w+)"', steps) == ["application", "certifier_review"]


def _objected_case(client, auth_headers):
    from tests.inbox.conftest import case_in_notice

    cid = case_in_notice()  # sinopec-ningbo's advanced case, in public notice
    r = client.post(f"/api/v1/cases/{cid}/objections", headers=auth_headers("acme"),
                    data={"reason": "该企业申报的产线已停产，材料与实际不符。",
                          "file": [(io.BytesIO(b"%PDF-1.4 evidence"), "停产证明.pdf")]})
    assert r.status_code == 201, r.get_json()
    return cid, r.get_json()["attachments"][0]


def test_the_objected_enterprise_never_learns_the_objector_nor_gets_the_evidence(client, auth_headers, browser_as):
    from tests.conftest import user

    cid, evidence = _objected_case(client, auth_headers)
    objector = user("acme").id
    ent = auth_headers("sinopec-ningbo")
    events = client.get(f"/api/v1/cases/{cid}/events", headers=ent).get_json()["events"]
    assert objector not in {e["actor_id"] for e in events}
    assert not any(e["action"] == "attachment.uploaded" and e["data"]["attachment"] == evidence for e in events)
    received = [e for e in events if e["action"] == "message.received" and e["element"] == "objection_lodged"]
    assert received and received[0]["redacted"] and "attachments" not in received[0]["data"]
    assert client.get(f"/api/v1/attachments/{evidence}", headers=ent).status_code == 404
    listed = client.get(f"/api/v1/cases/{cid}/objections", headers=ent).get_json()["items"]
    assert listed and all(o["attachments"] == [] for o in listed)
    staff = client.get(f"/api/v1/cases/{cid}/objections", headers=auth_headers("miit-1")).get_json()["items"]
    assert staff[0]["attachments"] == [evidence]
    web = browser_as("sinopec-ningbo")
    page = _page(web, f"/cases/{cid}")
    assert "acme" not in page and "停产证明.pdf" not in page
    # messages and waits by the diagram's Chinese names, not their ids
    text = re.sub(r"<[^>]+>", " ", page)  # what the reader sees (ids stay in the viewer's data attributes)
    assert "certified_list_published" not in text and "objection_lodged" not in text and "收到异议" in text
    assert web.get(f"/attachments/{evidence}").status_code == 404
    for n in range(1, len(client.get(f"/api/v1/cases/{cid}/events",
                                     headers=auth_headers("auditor")).get_json()["events"]) + 1):
        state = client.get(f"/api/v1/cases/{cid}/replay?at={n}", headers=ent).get_json()
        assert state["event"].get("actor_id") != objector
        assert "attachments" not in (state["data"].get("objection") or {})
    # reviewers see the objector; the auditor sees everything, unredacted
    audit = client.get(f"/api/v1/cases/{cid}/events", headers=auth_headers("auditor")).get_json()["events"]
    assert objector in {e["actor_id"] for e in audit} and not any(e.get("redacted") for e in audit)


def test_the_objection_handler_reads_the_objection_with_labelled_evidence(client, auth_headers, browser_as):
    """Defect 4: the reason, the evidence (labelled as such) and when, on the objection task page."""
    cid, evidence = _objected_case(client, auth_headers)
    reviewer = "miit-1"  # the national reviewer handles objections
    task = my_task(client, auth_headers(reviewer), cid, "objection_review")
    html = _page(browser_as(reviewer), f"/tasks/{task['id']}")
    section = _section(html, "objections")
    assert "该企业申报的产线已停产" in section and "停产证明.pdf" in section and "异议佐证材料" in section
    assert "acme" in section and "北京时间" in section
    assert f"/attachments/{evidence}" in section


def _excellent_to_panel(client, auth_headers) -> int:
    return to_expert_panel(client, auth_headers)


def test_experts_and_the_applicant_see_scores_only_as_allowed(client, auth_headers, browser_as):
    cid = _excellent_to_panel(client, auth_headers)
    miit, ent = auth_headers("miit-1"), auth_headers("hz-precision")
    members = [username(drawn_expert(client, miit, cid, f"expert_review_{i}")["expert"]) for i in (1, 2, 3)]
    first, second = auth_headers(members[0]), auth_headers(members[1])
    complete(client, first, my_task(client, first, cid)["id"],
             {"decision": "approve", "score": 91, "review_comment": "第一位专家意见"})
    # the second expert, before its own score: sees neither the first one's step nor its score
    task2 = my_task(client, second, cid)
    page = _page(browser_as(members[1]), f"/tasks/{task2['id']}")
    assert "第一位专家意见" not in page and ">91<" not in page
    evs = client.get(f"/api/v1/cases/{cid}/events", headers=second).get_json()["events"]
    assert not any(e["action"] == "task.completed" and e["element"] == "expert_review_1" for e in evs)
    assert not any(e["action"] == "expert.drawn" for e in evs)
    # and an expert in the first material review sees no later step's value (defect 2)
    assert "国家审定" not in _section(page, "case-steps") and "组长汇总" not in _section(page, "case-steps")
    complete(client, second, task2["id"], {"decision": "approve", "score": 85, "review_comment": "第二位专家意见"})
    page = _page(browser_as(members[1]), f"/cases/{cid}")
    assert "第一位专家意见" in page  # after its own: the panel's other answers
    # the applicant: no draw, no individual step, no individual score anywhere, not even the open tasks' holders
    opened = client.get(f"/api/v1/cases/{cid}", headers=ent).get_json()["open_tasks"]
    assert opened and all(t["scope"] == "expert" and t["claimed_by"] is None for t in opened), opened
    staff = client.get(f"/api/v1/cases/{cid}", headers=miit).get_json()["open_tasks"]
    assert all(t["scope"].startswith("expert:") for t in staff)
    evs = client.get(f"/api/v1/cases/{cid}/events", headers=ent).get_json()["events"]
    assert not any(e["action"] == "expert.drawn" for e in evs)
    assert not any(e["action"] == "task.completed" and (e["element"] or "").startswith("expert_review_")
                   for e in evs)
    page = _page(browser_as("hz-precision"), f"/cases/{cid}")
    assert "第一位专家意见" not in page and not any(m in page for m in members)
    third = auth_headers(members[2])
    complete(client, third, my_task(client, third, cid)["id"],
             {"decision": "reject", "score": 55, "review_comment": "第三位专家意见"})
    n = len(client.get(f"/api/v1/cases/{cid}/events", headers=miit).get_json()["events"])
    # after the join the three answers are process data: the national reviewer reads them, the applicant not
    assert client.get(f"/api/v1/cases/{cid}/replay?at={n}", headers=miit).get_json()["data"]["expert_review_1"] == {
        "decision": "approve", "score": 91}  # the declared outputs, per reviewer
    state = client.get(f"/api/v1/cases/{cid}/replay?at={n}", headers=ent).get_json()
    assert not {"expert_review_1", "expert_review_2", "expert_review_3"} & set(state["data"]), sorted(state["data"])
    individual = {"expert_review_1", "expert_review_2", "expert_review_3"}
    assert not any(k.split(".")[0] in individual for part in state["diff"].values() for k in part)
    assert state["data"]["expert_review_mean"] == 77.0  # the consolidated result is the applicant's to read
    assert "第三位专家意见" not in _page(browser_as("hz-precision"), f"/cases/{cid}")
    # the national reviewer sees every expert's step
    evs = client.get(f"/api/v1/cases/{cid}/events", headers=miit).get_json()["events"]
    assert {"expert_review_1", "expert_review_2"} <= {e["element"] for e in evs if e["action"] == "task.completed"}
