"""The inbox service: filters, counts per filter value, pagination, due badges, bulk decisions, dashboard."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from app.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.models import CaseEvent, HumanTask
from app.services import inbox, instances, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.inbox.conftest import case_of, submitted_basic

APPROVE = {"decision": "approve", "review_comment": "符合基础级要求。"}


def page(username, **args):
    return inbox.inbox_page(user(username), inbox.Filters.parse(args))


def counts(p, facet):
    return {value: n for value, _label, n in p.counts[facet]}


def test_queue_filters_and_counts(review_tasks):
    p = page("zj-reviewer")
    assert [t.id for t in p.rows] == [t.id for t in review_tasks]  # due first (same due: by id)
    assert p.total == 3 and counts(p, "tier") == {"basic": 3}
    assert counts(p, "element") == {review_tasks[0].element: 3}
    assert counts(p, "view") == {"group": 3, "mine": 0, "unclaimed": 3}
    assert counts(p, "region") == {"330100": 2, "330200": 1}  # Hangzhou (acme, hz-precision), Ningbo
    # whose case each row is: the enterprise and its city
    ningbo = case_of(review_tasks[1])
    name, city = p.subjects[ningbo.id]
    assert name == ningbo.enterprise.name and city.name_zh == "宁波市" and len(p.subjects) == 3
    assert page("sd-reviewer").total == 0  # another province's queue
    assert page("acme").total == 0  # the enterprise's task is done

    ningbo = page("zj-reviewer", region="330200")
    assert [t.id for t in ningbo.rows] == [review_tasks[1].id]
    assert counts(ningbo, "region") == {"330100": 2, "330200": 1}  # a facet's counts ignore its own filter
    assert counts(ningbo, "tier") == {"basic": 1}
    assert page("zj-reviewer", region="330000").total == 3  # the province
    assert page("zj-reviewer", tier="advanced").total == 0
    assert page("zj-reviewer", task="no_such_step").total == 0

    with unit_of_work():
        tasks.claim(user("zj-reviewer"), review_tasks[2].id)
    assert [t.id for t in page("zj-reviewer", view="mine").rows] == [review_tasks[2].id]
    assert page("zj-reviewer", view="unclaimed").total == 2
    p = page("zj-reviewer", view="mine")
    assert counts(p, "view") == {"group": 3, "mine": 1, "unclaimed": 2}
    assert p.claimants == {user("zj-reviewer").id: "zj-reviewer"}

    with unit_of_work():
        tasks.complete(user("zj-reviewer"), review_tasks[0].id, APPROVE)
    assert page("zj-reviewer").total == 2
    done = page("zj-reviewer", state="completed")
    assert [t.id for t in done.rows] == [review_tasks[0].id]


def test_pagination_and_sort(review_tasks):
    first = page("zj-reviewer", per_page="20")
    assert first.pages == 1
    with unit_of_work():  # spread the due dates: the last task due first
        for n, t in enumerate(review_tasks):
            db.session.get(HumanTask, t.id).due_at = t.due_at - timedelta(days=n)
    ids = [t.id for t in review_tasks]
    assert [t.id for t in page("zj-reviewer").rows] == ids[::-1]
    assert [t.id for t in page("zj-reviewer", sort="-due").rows] == ids
    assert [t.id for t in page("zj-reviewer", sort="case").rows] == ids
    f = inbox.Filters(per_page=20)
    assert f.args(page=2) == {"page": 2, "per_page": 20}
    p = inbox.inbox_page(user("zj-reviewer"), inbox.Filters(per_page=20, page=9))
    assert p.filters.page == 1 and p.pages == 1  # a page past the end shows the last one
    bad = inbox.Filters.parse({"page": "x", "per_page": "7", "view": "nope", "due_before": "tomorrow"})
    assert (bad.page, bad.per_page, bad.view, bad.due_before) == (1, 50, "group", None)


def test_due_badges_in_shanghai_days(review_tasks, clock):
    due = review_tasks[0].due_at  # 15 days after it opened
    p = page("zj-reviewer")
    assert p.badge(review_tasks[0]) is None and counts(p, "due") == {"overdue": 0, "due_soon": 0}
    clock.at = due - timedelta(days=3)
    p = page("zj-reviewer")
    assert p.badge(review_tasks[0]) == "due_soon" and counts(p, "due") == {"overdue": 0, "due_soon": 3}
    clock.at = due
    p = page("zj-reviewer")
    assert p.badge(review_tasks[0]) == "overdue" and counts(p, "due") == {"overdue": 3, "due_soon": 0}
    # the window ends at the end of the third Shanghai day after today, not 72 hours later
    now = inbox.soon_cutoff(clock.at) - timedelta(days=4, minutes=-1)  # 00:01 Shanghai today
    assert inbox.badge(inbox.soon_cutoff(now) - timedelta(minutes=1), now) == "due_soon"
    assert inbox.badge(inbox.soon_cutoff(now), now) is None
    from datetime import date
    assert page("zj-reviewer", due_before=(due - timedelta(days=1)).date().isoformat()).total == 0
    assert page("zj-reviewer", due_before=(due + timedelta(days=1)).date().isoformat()).total == 3
    assert date.fromisoformat("2026-01-01")


def _add_tasks(task: HumanTask, n: int) -> None:
    """n more inbox rows in the same queue (rows only: what an inbox page reads)."""
    with unit_of_work():
        for i in range(n):
            db.session.add(HumanTask(case_id=task.case_id, task_uuid=str(uuid.uuid4()), element=task.element,
                                     title=task.title, title_en=task.title_en, form=task.form, role=task.role,
                                     scope=task.scope, state="open", tier=task.tier,
                                     province_code=task.province_code, city_code=task.city_code,
                                     due_at=task.due_at + timedelta(hours=i), created_at=task.created_at,
                                     claimed_by=user("zj-reviewer").id if i % 3 == 0 else None))


def _statements(fn) -> list[str]:
    seen = []

    def count(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def test_inbox_page_statements_do_not_grow_with_tasks():
    """No N+1: an inbox page costs the same number of statements with 5 or 50 tasks, none reads the state."""
    task = submitted_basic("acme")
    _add_tasks(task, 4)
    db.session.expire_all()
    small = _statements(lambda: page("zj-reviewer", region="330100"))
    _add_tasks(task, 45)
    db.session.expire_all()
    large_page = {}
    large = _statements(lambda: large_page.setdefault("p", page("zj-reviewer", region="330100")))
    assert large_page["p"].total == 50 and len(large_page["p"].rows) == 50
    assert len(small) == len(large), (small, large)
    assert not any("cases.state" in s for s in large)  # no workflow is read, let alone deserialized


def test_bulk_completes_each_task_alone(review_tasks):
    reviewer = user("zj-reviewer")
    ids = [t.id for t in review_tasks]
    with unit_of_work():  # the second task is completed meanwhile by the same queue
        tasks.complete(reviewer, ids[1], APPROVE)
    results = inbox.bulk_complete(reviewer, ids, APPROVE, unit_of_work)
    assert [(r["id"], r["ok"], r["status"]) for r in results] == [(ids[0], True, 200), (ids[1], False, 409),
                                                                  (ids[2], True, 200)]
    assert "already completed" in results[1]["error"]
    for t in review_tasks:
        assert case_of(t).status == "certified"
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.case_id == review_tasks[1].case_id,
                                    CaseEvent.action == "task.completed")) == 2  # once by the enterprise, once here


def test_bulk_failure_inside_a_completion_leaves_that_task_untouched(review_tasks, monkeypatch):
    reviewer = user("zj-reviewer")
    ids = [t.id for t in review_tasks]
    real = instances.commit_case
    events_before = db.session.scalar(select(func.count()).select_from(CaseEvent))

    def flaky(case):
        if case.id == review_tasks[1].case_id:
            raise Conflict("the case was changed by someone else at the same time; reload and try again")
        return real(case)

    monkeypatch.setattr(instances, "commit_case", flaky)
    results = inbox.bulk_complete(reviewer, ids, APPROVE, unit_of_work)
    assert [r["ok"] for r in results] == [True, False, True]
    db.session.expire_all()
    failed = db.session.get(HumanTask, ids[1])
    assert failed.state == "open" and failed.completed_by is None  # the conditional update was rolled back
    assert case_of(review_tasks[1]).status == "in_review"
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == events_before + 2 * 2  # 2 cases done


def test_bulk_refusals(review_tasks):
    reviewer = user("zj-reviewer")
    ids = [t.id for t in review_tasks]
    # the same invalid decision fails for each task and changes nothing
    results = inbox.bulk_complete(reviewer, ids, {"decision": "reject"}, unit_of_work)
    assert {r["status"] for r in results} == {422} and all("review_comment" in r["errors"] for r in results)
    assert page("zj-reviewer").total == 3
    # another province's reviewer: each task looks absent
    results = inbox.bulk_complete(user("sd-reviewer"), ids, APPROVE, unit_of_work)
    assert {r["status"] for r in results} == {404}
    with pytest.raises(Forbidden):
        inbox.bulk_complete(user("auditor"), ids, APPROVE, unit_of_work)
    for bad in ([], "1,2", [True], ["x"], list(range(inbox.BULK_LIMIT + 1))):
        with pytest.raises(Invalid):
            inbox.bulk_complete(reviewer, bad, APPROVE, unit_of_work)
    # tasks of different kinds are refused before anything is done
    enterprise_task = submitted_basic("qingdao-home")  # Shandong; fine: refused one by one, kind not revealed
    results = inbox.bulk_complete(reviewer, [ids[0], enterprise_task.id], APPROVE, unit_of_work)
    assert [r["ok"] for r in results] == [True, False] and results[1]["status"] == 404
    with unit_of_work():
        other = db.session.get(HumanTask, ids[1])
        other.element, other.form = "other_step", "other.json"
    with pytest.raises(Invalid):
        inbox.bulk_complete(reviewer, [ids[1], ids[2]], APPROVE, unit_of_work)
    assert db.session.get(HumanTask, ids[2]).state == "open"


def test_dashboard_counts_within_scope(review_tasks, clock):
    submitted_basic("qingdao-home")
    submitted_basic("sinopec-plant")  # Zhejiang, but a Sinopec group member: the group's business
    zj = inbox.dashboard(user("zj-reviewer"))
    assert zj["total"] == 3 and zj["tier"] == [("basic", 3)]
    assert [(code, n) for code, _r, n in zj["province"]] == [("330000", 3)]
    assert zj["campaign"] == [(2026, 3)]
    assert zj["status"] == [("in_review", 3)]
    assert zj["funnel"] == [{"tier": "basic", "applied": 3, "submitted": 3, "decided": 0, "certified": 0}]
    national = inbox.dashboard(user("miit-1"))
    assert national["total"] == 5
    assert [(code, n) for code, _r, n in national["province"]] == [("330000", 4), ("370000", 1)]
    assert national["overdue"] == []
    assert inbox.dashboard(user("sinopec-reviewer"))["total"] == 1
    clock.at = review_tasks[0].due_at + timedelta(days=1)
    national = inbox.dashboard(user("miit-1"))
    assert [(o["scope"], o["count"]) for o in national["overdue"]] == [
        ("province:330000", 3), ("province:370000", 1), ("soe:sinopec", 1)]
    assert national["overdue"][0]["region"].name_zh == "浙江省"
    assert national["overdue"][2]["name"] == "中国石油化工集团有限公司"
    assert [(o["scope"], o["count"]) for o in inbox.dashboard(user("zj-reviewer"))["overdue"]] == [
        ("province:330000", 3)]
    with pytest.raises(Forbidden):
        inbox.dashboard(user("acme"))


def test_counts_of_a_big_queue_are_kept_a_minute(review_tasks, monkeypatch, clock):
    monkeypatch.setattr(inbox, "CACHE_ABOVE", 2)
    monkeypatch.setattr(inbox, "_counts_cache", {})
    first = page("zj-reviewer")
    assert counts(first, "region") == {"330100": 2, "330200": 1} and first.counted_at == clock.at
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), review_tasks[1].id, APPROVE)  # the Ningbo task leaves the queue
    monkeypatch.setattr(inbox, "CACHE_ABOVE", 1)
    seen = _statements(lambda: page("zj-reviewer"))
    assert not any("GROUP BY" in s for s in seen)  # served from the cache
    cached = page("zj-reviewer")
    assert [t.id for t in cached.rows] == [review_tasks[0].id, review_tasks[2].id]  # the rows are always exact
    assert counts(cached, "region") == {"330100": 2, "330200": 1} and cached.counted_at == first.counted_at
    clock.at = clock.at + timedelta(seconds=inbox.CACHE_SECONDS + 1)
    fresh = page("zj-reviewer")
    assert counts(fresh, "region") == {"330100": 2} and fresh.counted_at == clock.at
    # a small queue is always counted afresh
    monkeypatch.setattr(inbox, "CACHE_ABOVE", 2000)
    assert page("zj-reviewer").counted_at is None
