"""The inbox, bulk decisions, dashboard and case page through the Flask client (pages and the JSON API)."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask
from tests.inbox.conftest import case_of


def _rows(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-task="(\d+)"', html)]


def test_inbox_page_filters_counts_and_pages(browser_as, review_tasks):
    web = browser_as("zj-reviewer")
    html = web.get("/inbox").get_data(as_text=True)
    assert _rows(html) == [t.id for t in review_tasks]
    assert 'id="view-group"' in html and 'id="count-overdue"' in html
    assert re.search(r'<option value="330200"[^>]*>宁波市 \(1\)</option>', html), html
    html = web.get("/inbox?region=330200").get_data(as_text=True)
    assert _rows(html) == [review_tasks[1].id]
    html = web.get("/inbox?per_page=20&page=1").get_data(as_text=True)
    assert 'id="page-next"' not in html
    # the home page shows the same inbox
    assert _rows(web.get("/").get_data(as_text=True)) == [t.id for t in review_tasks]
    # nonsense filters fall back to their defaults
    assert web.get("/inbox?page=zz&per_page=-3&view=x&due_before=y&sort=z").status_code == 200
    # another province sees none of them
    assert _rows(browser_as("sd-reviewer").get("/inbox").get_data(as_text=True)) == []


def test_claim_and_release_from_the_inbox(browser_as, review_tasks):
    web = browser_as("zj-reviewer")
    t = review_tasks[0]
    r = web.post(f"/inbox/tasks/{t.id}/claim", data={"csrf_token": web.token, "back": "view=mine&tier=basic"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/inbox?view=mine&tier=basic")
    html = web.get(r.headers["Location"]).get_data(as_text=True)
    assert _rows(html) == [t.id] and f'action="/inbox/tasks/{t.id}/release"' in html
    # claimed twice: a message, nothing overwritten
    r = web.post(f"/inbox/tasks/{t.id}/release", data={"csrf_token": web.token, "to": "home"})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    r = web.post(f"/inbox/tasks/{t.id}/release", data={"csrf_token": web.token, "back": "https://evil.example/"})
    assert r.status_code == 302 and r.headers["Location"] == "/inbox"  # never an outside URL
    assert "flash error" in web.get("/inbox").get_data(as_text=True)
    # without the CSRF token: refused
    assert web.post(f"/inbox/tasks/{t.id}/claim", data={}).status_code == 400


def test_bulk_decision_page(browser_as, review_tasks):
    web = browser_as("zj-reviewer")
    element = review_tasks[0].element
    html = web.get(f"/inbox?task={element}").get_data(as_text=True)
    assert 'id="bulk-form"' in html and 'name="decision"' in html and 'form="bulk-form"' in html
    assert 'id="bulk-form"' not in web.get("/inbox").get_data(as_text=True)  # only for one kind of task
    ids = [str(t.id) for t in review_tasks]
    r = web.post("/inbox/bulk", data={"csrf_token": web.token, "task_ids": ids, "decision": "reject",
                                      "review_comment": "", "back": f"task={element}"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert html.count('class="failed"') == 3 and "review_comment" in html  # why: the comment is required
    r = web.post("/inbox/bulk", data={"csrf_token": web.token, "task_ids": ids, "decision": "approve",
                                      "review_comment": "同意。", "back": f"task={element}"})
    html = r.get_data(as_text=True)
    assert html.count('class="ok"') == 3, html
    assert all(case_of(t).status == "certified" for t in review_tasks)
    r = web.post("/inbox/bulk", data={"csrf_token": web.token, "back": ""})
    assert r.status_code == 302  # nothing chosen: a message back at the inbox


def test_bulk_complete_api(client, auth_headers, review_tasks):
    ids = [t.id for t in review_tasks]
    headers = auth_headers("zj-reviewer")
    r = client.post("/api/v1/tasks/bulk-complete", headers=headers,
                    json={"task_ids": [ids[0], 999999, ids[1]], "data": {"decision": "approve"}})
    assert r.status_code == 200
    results = r.get_json()["results"]
    assert [(x["id"], x["ok"]) for x in results] == [(ids[0], True), (999999, False), (ids[1], True)]
    assert results[1]["error"] and results[1]["status"] == 404
    r = client.post("/api/v1/tasks/bulk-complete", headers=headers, json={"task_ids": [ids[0]]})
    assert r.status_code == 422
    r = client.post("/api/v1/tasks/bulk-complete", headers=headers, json={"task_ids": [], "data": {}})
    assert r.status_code == 422 and r.get_json()["errors"] == {"task_ids": "required"}
    assert client.post("/api/v1/tasks/bulk-complete", json={"task_ids": ids, "data": {}}).status_code == 401
    assert db.session.scalar(select(HumanTask.state).where(HumanTask.id == ids[2])) == "open"


def test_dashboard_page(browser_as, review_tasks):
    html = browser_as("miit-1").get("/dashboard").get_data(as_text=True)
    assert 'id="chart-tier"' in html and "vendor/chart.js/chart.umd.min.js" in html
    table = re.search(r'<table id="table-tier".*?</table>', html, re.DOTALL).group(0)
    assert re.search(r"<td>基础级</td><td class=\"num\">3</td>", table), table
    assert "浙江省" in html
    # the working-day calendar in use: the library's years and the years loaded as data with their source
    assert re.search(r'id="calendar-library">chinesecalendar [\d.]+: 2004–2026<', html), html
    assert re.search(r'<li data-year="2027">2027: 示例数据', html)  # the demo year's source, in Chinese (issue 15)
    assert browser_as("acme").get("/dashboard").status_code == 403


def test_case_page_diagram_and_data(browser_as, review_tasks):
    t = review_tasks[0]
    web = browser_as("zj-reviewer")
    html = web.get(f"/cases/{t.case_id}").get_data(as_text=True)
    assert f'data-current="{t.element}"' in html
    assert re.search(r'data-path="[^"]+"', html)  # the self-assessment, completed
    assert 'id="steps-title"' in html and "生产效率提升20%" in html  # the self-assessment's own fields
    assert "bpmn-viewer.production.min.js" in html and "case.js" in html
    r = web.get(f"/cases/{t.case_id}/diagram.bpmn")
    assert r.status_code == 200 and r.mimetype == "application/xml" and b"definitions" in r.data[:2000]
    assert browser_as("sd-reviewer").get(f"/cases/{t.case_id}/diagram.bpmn").status_code == 404
