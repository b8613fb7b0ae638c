"""The counts per filter value against an oracle: random queues, every combination of filters, each facet's count
computed in Python from the rows (every filter but the facet's own applied)."""
import random
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import insert

from app.extensions import db
from app.models import HumanTask
from app.services import clock as clock_service
from app.services import inbox
from app.services.clock import SHANGHAI
from tests.conftest import user
from tests.inbox.conftest import submitted_basic

REGIONS = [("330000", "330100"), ("330000", "330200"), ("330000", "330300"), ("330000", None)]
KINDS = [("basic", "organizer_review"), ("basic", "recheck"), ("advanced", "co_review_ndrc"),
         ("excellent", "recommender_review")]


def _oracle(rows, me, f, now, soon, skip):
    end = datetime.combine(f.due_before + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI) if f.due_before else None
    out = []
    for r in rows:
        if "tier" not in skip and f.tier and r["tier"] != f.tier:
            continue
        if "element" not in skip and f.element and r["element"] != f.element:
            continue
        if "view" not in skip and f.view == "mine" and r["claimed_by"] != me:
            continue
        if "view" not in skip and f.view == "unclaimed" and r["claimed_by"] is not None:
            continue
        if "region" not in skip and f.region and f.region not in (r["province_code"], r["city_code"]):
            continue
        if "due" not in skip and end and not (r["due_at"] is not None and r["due_at"] < end):
            continue
        out.append(r)
    return out


def _tally(rows, key):
    out: dict = {}
    for r in rows:
        if r[key]:
            out[r[key]] = out.get(r[key], 0) + 1
    return out


def test_every_facet_count_matches_the_rows(review_tasks):
    me = user("zj-reviewer")
    other = user("zj-ndrc")
    now = clock_service.now()
    soon = inbox.soon_cutoff(now)
    rng = random.Random(7)
    rows = [dict(case_id=t.case_id, element=t.element, tier=t.tier, claimed_by=None, due_at=t.due_at,
                 province_code=t.province_code, city_code=t.city_code) for t in review_tasks]
    extra = []
    for i in range(160):
        tier, element = rng.choice(KINDS)
        prov, city = rng.choice(REGIONS)
        due = rng.choice([None, now + timedelta(hours=rng.randint(-200, 400))])
        claimed = rng.choice([None, None, me.id, other.id])
        extra.append(dict(case_id=review_tasks[i % 3].case_id, task_uuid=str(uuid.UUID(int=rng.getrandbits(128))),
                          element=element, title=f"任务{element}", title_en=element, form=None,
                          role="provincial_reviewer", scope="province:330000", province_code=prov, city_code=city,
                          state=rng.choice(["open", "open", "completed"]), tier=tier, due_at=due,
                          claimed_by=claimed, created_at=now))
    db.session.execute(insert(HumanTask), extra)
    db.session.commit()
    rows += [r for r in extra if r["state"] == "open"]
    days = [None, (now + timedelta(days=2)).astimezone(SHANGHAI).date(), (now - timedelta(days=3)).date()]
    checked = 0
    for view in inbox.VIEWS:
        for tier in (None, "basic", "excellent"):
            for element in (None, "recheck"):
                for region in (None, "330200", "330000"):
                    for day in days:
                        f = inbox.Filters(view=view, tier=tier, element=element, region=region, due_before=day)
                        page = inbox.inbox_page(me, f)
                        got = {facet: {v: n for v, _label, n in page.counts[facet]} for facet in page.counts}
                        assert page.total == len(_oracle(rows, me.id, f, now, soon, ()))
                        assert got["tier"] == _tally(_oracle(rows, me.id, f, now, soon, ("tier",)), "tier")
                        assert got["element"] == _tally(_oracle(rows, me.id, f, now, soon, ("element",)), "element")
                        assert got["region"] == _tally(_oracle(rows, me.id, f, now, soon, ("region",)), "city_code")
                        views = _oracle(rows, me.id, f, now, soon, ("view",))
                        assert got["view"] == {"group": len(views),
                                               "mine": sum(r["claimed_by"] == me.id for r in views),
                                               "unclaimed": sum(r["claimed_by"] is None for r in views)}
                        assert got["due"] == {
                            "overdue": sum(r["due_at"] is not None and r["due_at"] <= now for r in views),
                            "due_soon": sum(r["due_at"] is not None and now < r["due_at"] < soon for r in views)}
                        checked += 1
    assert checked == 3 * 3 * 2 * 3 * 3


def test_counts_are_one_grouped_statement_whatever_the_queue(review_tasks):
    """Titles come from one row per task kind by id: the statements do not grow with the queue."""
    from sqlalchemy import event

    def statements():
        seen = []
        listener = lambda *a: seen.append(a[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            inbox._counts_cache.clear()
            inbox.inbox_page(user("zj-reviewer"), inbox.Filters())
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return seen

    few = statements()
    submitted_basic("qingdao-home")  # another province: not in this queue, but more rows in the table
    assert len(statements()) == len(few)
    grouped = [s for s in few if "GROUP BY" in s]
    assert len(grouped) == 1 and "JOIN" not in grouped[0]
