"""Landing pages and the case list in headless Chromium (issue 15, defect 10): an enterprise lands on its application
and the next step, with no claim button anywhere and no way into the reviewer's task; an expert lands on the reviews
drawn for it; a provincial reviewer finds a case in the case list by name and by credit code. Screenshots go to the
test artifacts (tests/browser/helpers.py)."""
import pytest

from app.services import cases
from app.uow import unit_of_work
from tests.api.test_advanced import complete, my_task
from tests.api.test_excellent import application, drawn_expert, start, username
from tests.browser.helpers import screenshot, sign_in, watch_errors
from tests.conftest import user
from tests.inbox.conftest import submitted_basic


@pytest.mark.browser
def test_enterprise_lands_on_its_application_and_next_step(page, live_server):
    review = submitted_basic("acme")  # the reviewer's task now
    with unit_of_work():
        cases.create_case(user("hz-precision"), "excellent", 2026)
    errors = watch_errors(page)
    sign_in(page, "hz-precision")
    assert page.locator("#applications-title").inner_text() == "我的申报"
    step = page.locator("p.next-step").first.inner_text()
    assert "轮到您了" in step and "2027年7月16日" in step, step
    assert page.get_by_text("认领").count() == 0 and page.locator("#inbox").count() == 0
    screenshot(page, "landing-enterprise")
    with page.expect_navigation():
        page.locator("a.button.primary").first.click()
    assert "/tasks/" in page.url and page.locator("#task-form").count() == 1
    assert page.locator("button[value=claim]").count() == 0
    assert errors == [] or all("diagram" in e or "favicon" in e for e in errors), errors

    # acme waits for its reviewer: told so in words, and the reviewer's task does not exist for it
    page.context.clear_cookies()
    sign_in(page, "acme")
    step = page.locator(f"#next-{review.case_id}").inner_text()
    assert "目前无需您操作" in step and "省级" in step, step
    assert page.get_by_text("认领").count() == 0
    resp = page.goto(f"/tasks/{review.id}")
    assert resp.status == 404 and page.locator("#task-form").count() == 0


@pytest.mark.browser
def test_expert_lands_on_its_assigned_reviews(page, client, auth_headers):
    ent, prov, miit = auth_headers("hz-precision"), auth_headers("zj-reviewer"), auth_headers("miit-1")
    cid = start(client, ent)
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    assert client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                              "case_ids": [cid], "final": True}, headers=prov).status_code == 201
    complete(client, miit, my_task(client, miit, cid, "paper_check")["id"], {"decision": "approve",
                                                                           "paper_matches": True})
    complete(client, miit, my_task(client, miit, cid, "formal_review")["id"], {"decision": "approve"})
    expert = username(drawn_expert(client, miit, cid, "expert_review_1")["expert"])
    task = my_task(client, auth_headers(expert), cid, "expert_review_1")
    sign_in(page, expert)
    assert page.locator("#reviews-title").count() == 1
    row = page.locator(f"#open-reviews tr[data-task='{task['id']}']")
    assert "杭州示范精密机械有限公司" in row.inner_text()
    screenshot(page, "landing-expert")
    with page.expect_navigation():
        row.locator("a").click()
    assert page.locator("#task-form").count() == 1


@pytest.mark.browser
def test_case_list_search_by_name_and_code(page):
    with unit_of_work():
        mine = cases.create_case(user("ningbo-parts"), "basic", 2026).id
        other = cases.create_case(user("acme"), "basic", 2026).id
    sign_in(page, "zj-reviewer")
    with page.expect_navigation():
        page.click("#nav-cases")
    for case_id in (mine, other):
        assert page.locator(f"tr[data-case='{case_id}']").count() == 1
    page.fill("#cl-q", "宁波示范")
    with page.expect_navigation():
        page.press("#cl-q", "Enter")
    assert page.locator("#case-table tbody tr[data-case]").count() == 1
    assert page.locator(f"tr[data-case='{mine}']").count() == 1
    assert page.input_value("#cl-q") == "宁波示范"  # what was typed stays
    page.fill("#cl-q", "91330200MA2B")  # the start of ningbo-parts' credit code
    page.select_option("#cl-region", label="宁波市")  # the city, chosen by its name
    with page.expect_navigation():
        page.click("#cl-apply")
    rows = page.locator("#case-table tbody tr[data-case]")
    assert rows.count() == 1 and rows.first.get_attribute("data-case") == str(mine)
    assert rows.first.locator("td").nth(5).inner_text() == "浙江省 · 宁波市"  # names, not codes
    screenshot(page, "case-list-search")


@pytest.mark.browser
def test_admin_and_national_reviewer_landings(page):
    submitted_basic("acme")
    sign_in(page, "admin")
    assert page.locator("#overview-models tbody tr[data-model]").count() >= 4
    assert page.locator("#overview-deployments tbody tr").count() >= 1
    screenshot(page, "landing-admin")
    page.context.clear_cookies()
    sign_in(page, "miit-1")
    assert page.locator("#national-figures").count() == 1 and page.locator("#inbox").count() == 1
    assert page.locator("#figures-funnel tr[data-tier=basic]").count() == 1
    screenshot(page, "landing-national")
