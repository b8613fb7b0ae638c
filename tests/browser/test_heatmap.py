"""The process heatmap in headless Chromium (issue 19, "Done when"): a national reviewer opens the excellent tier's
heatmap for Shandong and sees, on the diagram and in the table, the waiting counts of that province's inboxes (open
tasks per element, read from the database here) — not Zhejiang's; colouring by median time swaps badges and legend.
Elements are found by id, data attributes and class only."""
import pytest
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import Case, Enterprise, HumanTask, MessageWait, TierRecord, TimerRow
from tests.api.test_advanced import complete, my_task
from tests.api.test_excellent import application, start
from tests.browser.helpers import screenshot, sign_in, watch_errors
from tests.browser.test_accessibility import AXE, _axe
from tests.conftest import token
from tests.security.helpers import fresh_client


def _world(app):
    """Shandong: one excellent application submitted (at the province's review), Zhejiang: one still being written."""
    client = fresh_client(app)
    qd = db.session.scalar(select(Enterprise.id).where(Enterprise.credit_code == "91370200MA3C000040"))
    db.session.execute(delete(TierRecord).where(TierRecord.enterprise_id == qd, TierRecord.tier == "excellent"))
    db.session.commit()  # (the test's cleanup puts the record back)
    hq, hz = token(client, "qingdao-home"), token(client, "hz-precision")
    qd_case = start(client, hq)
    complete(client, hq, my_task(client, hq, qd_case)["id"], application(client, hq, qd_case))
    start(client, hz)
    return client


def _expected(province: str) -> dict[str, int]:
    """Open inbox rows, waiting timers and message waits per element of the province's excellent cases, from the
    rows."""
    out: dict[str, int] = {}
    for table in (HumanTask, TimerRow, MessageWait):
        q = (select(table.element, func.count()).join(Case, Case.id == table.case_id)
             .where(Case.tier == "excellent", Case.province_code == province).group_by(table.element))
        if table is HumanTask:
            q = q.where(HumanTask.state == "open")
        for el, n in db.session.execute(q):
            out[el] = out.get(el, 0) + n
    db.session.rollback()
    return out


@pytest.mark.browser
def test_national_reviewer_sees_the_province_inbox_counts(app, page):
    client = _world(app)
    expected = _expected("370000")
    assert expected.get("recommender_review") == 1  # Shandong's reviewer has it in the inbox
    sd = client.get("/api/v1/tasks", headers=token(client, "sd-reviewer")).get_json()["items"]
    assert sum(1 for t in sd if t["name"] == "recommender_review") == expected["recommender_review"]
    assert _expected("330000").get("application") == 1  # Zhejiang's application must not show

    errors = watch_errors(page)
    sign_in(page, "miit-1")
    page.goto("/dashboard/heatmap?tier=excellent&campaign=2026&province=370000")
    page.wait_for_selector("#heatmap-diagram[data-ready=true]")
    shown = {tr.get_attribute("data-element"): int(tr.locator("td.waiting").inner_text())
             for tr in page.locator("#heatmap-table tbody tr[data-element]").all()}
    assert {el: n for el, n in shown.items() if n} == expected
    for el, n in expected.items():  # the badge on the diagram and the colour class of the element
        assert page.locator(f".heat-badge[data-element='{el}']").inner_text() == str(n)
        assert "heat-4" in (page.locator(f"g.djs-element[data-element-id='{el}']").get_attribute("class") or "")
    assert page.locator(".heat-badge[data-element='application']").count() == 0
    assert page.locator("#heatmap-table tbody tr[data-element='application'] th").inner_text() == "填写卓越级申报书"
    assert page.locator("#heat-legend-waiting").is_visible()
    screenshot(page, "heatmap-waiting")

    # colour by median time: the application (completed once in Shandong) gets a duration badge, the legend swaps
    page.select_option("#hm-color", "median")
    assert page.locator("#heatmap-diagram[data-metric=median]").count() == 1
    assert page.locator("#heat-legend-median").is_visible() and not page.locator("#heat-legend-waiting").is_visible()
    assert page.locator(".heat-badge[data-element='application']").inner_text() == "0分钟"
    assert page.locator(".heat-badge[data-element='recommender_review']").count() == 0
    if AXE is not None:
        assert _axe(page) == []
    screenshot(page, "heatmap-median")

    # the filter form: another province shows the other inbox
    page.select_option("#hm-province", "330000")
    with page.expect_navigation():
        page.click("#heatmap-filters button[type=submit]")
    page.wait_for_selector("#heatmap-diagram[data-ready=true]")
    assert page.locator(".heat-badge[data-element='recommender_review']").count() == 0
    assert page.locator("#heatmap-table tbody tr[data-element='application'] td.waiting").inner_text() == "1"
    assert errors == []
