"""The inbox (issue 15): search by enterprise name, and the 已办 view of the tasks I completed with their completion
times in Beijing time."""
import re

from app.services import inbox, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.inbox.conftest import submitted_basic


def rows(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-task="(\d+)"', html)]


def test_search_by_enterprise_name(browser_as):
    acme, ningbo = submitted_basic("acme"), submitted_basic("ningbo-parts")
    web = browser_as("zj-reviewer")
    assert set(rows(web.get("/inbox").get_data(as_text=True))) == {acme.id, ningbo.id}
    html = web.get("/inbox", query_string={"q": "宁波示范"}).get_data(as_text=True)
    assert rows(html) == [ningbo.id] and 'value="宁波示范"' in html
    # the counts follow the search too
    assert re.search(r'<option value="basic"\s*>[^<]+\(1\)</option>', html), html
    assert rows(web.get("/inbox", query_string={"q": "%"}).get_data(as_text=True)) == []  # literal, not a wildcard
    assert rows(web.get("/inbox", query_string={"q": "青岛示范"}).get_data(as_text=True)) == []
    # the filter is kept on the page links
    assert inbox.Filters.parse({"q": "宁波"}).args() == {"q": "宁波"}


def test_done_view_lists_what_i_completed_with_beijing_times(browser_as, clock):
    first, second = submitted_basic("acme"), submitted_basic("ningbo-parts")
    reviewer = user("zj-reviewer")
    with unit_of_work():
        tasks.complete(reviewer, first.id, {"decision": "approve"})
    clock.advance(hours=2)
    with unit_of_work():
        tasks.complete(reviewer, second.id, {"decision": "approve"})
    web = browser_as("zj-reviewer")
    html = web.get("/inbox?state=completed").get_data(as_text=True)
    assert 'id="tab-done" href="/inbox?state=completed" aria-current="page"' in html
    assert rows(html) == [second.id, first.id]  # the latest completion first
    times = re.findall(r'<td class="completed-at"><time datetime="[^"]+">([^<]+)</time>', html)
    # START is 2026-11-25 02:00 UTC = 10:00 in Beijing
    assert times == ["2026年11月25日 12:00（北京时间）", "2026年11月25日 10:00（北京时间）"], times
    # someone else's completions are not in my 已办
    assert rows(browser_as("miit-1").get("/inbox?state=completed").get_data(as_text=True)) == []
