"""The landing page of each role at `/` (issue 15, defect 10) through the Flask client, and the enterprise that can
never open a reviewer's task (404 on the page and the API, not a greyed-out form)."""
import re

from tests.api.test_advanced import complete, my_task
from tests.api.test_excellent import application, drawn_expert, start, username
from tests.inbox.conftest import submitted_basic
from tests.security.helpers import csrf


def home(web) -> str:
    r = web.get("/")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_enterprise_lands_on_its_applications_with_the_next_step_and_no_claim(browser_as):
    web = browser_as("hz-precision")
    html = home(web)
    assert "我的申报" in html and 'id="no-applications"' in html
    assert "认领" not in html and 'id="inbox"' not in html  # no reviewer's inbox, no claim button
    r = web.post("/cases", data={"tier": "excellent", "campaign": "2026", "csrf_token": csrf(web, "/")})
    assert r.status_code == 302
    html = home(web)
    (case_id,) = re.findall(r'<article class="application" data-case="(\d+)"', html)
    step = re.search(rf'<p class="next-step" id="next-{case_id}">(.*?)</p>', html, re.S).group(1)
    # the enterprise's own step, due by the campaign's application deadline (2027-07-16, ending 24:00 Beijing time)
    assert "轮到您了" in step and "2027年7月16日（北京时间）24时前" in step, step
    assert f'id="do-{case_id}"' in html and "认领" not in html


def test_enterprise_sees_whom_its_case_waits_for_and_cannot_open_the_reviewers_task(app, browser_as, client,
                                                                                  auth_headers):
    review = submitted_basic("acme")  # now the Zhejiang reviewer's task
    web = browser_as("acme")
    html = home(web)
    step = re.search(rf'<p class="next-step" id="next-{review.case_id}">(.*?)</p>', html, re.S).group(1)
    assert "目前无需您操作" in step and "省级" in step, step
    assert "provincial_reviewer" not in html and "认领" not in html
    assert f'href="/tasks/{review.id}"' not in html
    # the reviewer's task is absent for the enterprise, on the page, in a post and in the API
    assert web.get(f"/tasks/{review.id}").status_code == 404
    token = csrf(web, "/")
    assert web.post(f"/tasks/{review.id}", data={"action": "claim", "csrf_token": token}).status_code == 404
    acme = auth_headers("acme")
    assert client.get(f"/api/v1/tasks/{review.id}", headers=acme).status_code == 404
    assert client.post(f"/api/v1/tasks/{review.id}/claim", headers=acme).status_code == 404
    # the case itself stays readable by its enterprise, and the reviewer still opens the task
    case_page = web.get(f"/cases/{review.case_id}")
    assert case_page.status_code == 200
    assert f'href="/tasks/{review.id}"' not in case_page.get_data(as_text=True)  # named, not linked
    assert browser_as("zj-reviewer").get(f"/tasks/{review.id}").status_code == 200


def test_admin_lands_on_the_system_overview(browser_as):
    html = home(browser_as("admin"))
    assert "系统概览" in html and 'id="overview-models"' in html
    assert re.search(r'<tr data-model="basic_self_assessment">', html), html
    assert re.search(r'<tr data-role="admin"><td>[^<]+</td><td>[1-9]\d*</td></tr>', html)
    assert 'id="overview-deployments"' in html and 'id="inbox"' not in html
    assert 'id="overview-incidents"' in html and "没有待处理事件" in html and 'id="to-incidents"' not in html


def test_admin_landing_names_the_open_incidents_and_leads_to_them(browser_as):
    from tests.incidents.test_incidents import _fail_review

    _fail_review()  # a broken condition holds a case: one open incident
    html = home(browser_as("admin"))
    link = re.search(r'<a href="([^"]+)" id="to-incidents">([^<]+)</a>', html)
    assert link and link.group(1) == "/admin/incidents" and "1 个案件" in link.group(2), html


def test_auditor_lands_on_the_audit_search(browser_as):
    web = browser_as("auditor")
    html = home(web)
    assert 'id="audit-search"' in html and 'id="inbox"' not in html  # the audit search itself, at /


def test_national_reviewer_lands_on_its_queue_and_the_national_figures(browser_as):
    submitted_basic("acme")
    html = home(browser_as("miit-1"))
    assert 'id="national-figures"' in html and 'id="inbox"' in html
    row = re.search(r'<tr data-tier="basic"><td>[^<]+</td><td>(\d+)</td>', html)
    assert row and int(row.group(1)) >= 1


def test_reviewers_keep_their_inbox(browser_as):
    task = submitted_basic("acme")
    html = home(browser_as("zj-reviewer"))
    assert 'id="inbox"' in html and f'data-task="{task.id}"' in html


def test_expert_lands_on_its_assigned_reviews(app, client, auth_headers, browser_as):
    ent, prov, miit = auth_headers("hz-precision"), auth_headers("zj-reviewer"), auth_headers("miit-1")
    cid = start(client, ent)
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    r = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                           "case_ids": [cid], "final": True}, headers=prov)
    assert r.status_code == 201, r.get_json()
    complete(client, miit, my_task(client, miit, cid, "paper_check")["id"], {"decision": "approve",
                                                                           "paper_matches": True})
    complete(client, miit, my_task(client, miit, cid, "formal_review")["id"], {"decision": "approve"})
    expert = username(drawn_expert(client, miit, cid, "expert_review_1")["expert"])
    h = auth_headers(expert)
    task = my_task(client, h, cid, "expert_review_1")
    web = browser_as(expert)
    html = home(web)
    assert 'id="assigned-reviews"' in html and f'<tr data-task="{task["id"]}">' in html
    assert "杭州示范精密机械" in html  # the enterprise's name, not a case number alone
    complete(client, h, task["id"], {"decision": "approve", "score": 88, "review_comment": "评审意见"})
    html = home(web)
    done = re.search(r'<table aria-labelledby="done-title" id="done-reviews">(.*?)</table>', html, re.S).group(1)
    assert f'data-task="{task["id"]}"' in done and "年" in done  # completed, with its time in Beijing time


def test_a_provincial_admin_lands_on_its_accounts(browser_as):
    html = home(browser_as("zj-admin"))
    assert 'id="new-user"' in html and 'id="inbox"' not in html
