"""The heatmap over a date range (issue 19) from the day and month summary (migration 0025): the ranges cut into
months and days, and every range and scope equal to what the completed inbox rows themselves give."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Campaign, HumanTask
from app.services import heatmap, heatmap_ranges
from app.services.heatmap import Filters
from app.uow import unit_of_work
from tests.conftest import START, user
from tests.factories import GOOD_ASSESSMENT
from tests.services.test_heatmap import BASIC, complete, start


def test_a_range_is_whole_months_and_the_days_at_its_ends():
    spans = heatmap_ranges.spans
    assert spans(date(2026, 4, 6), date(2026, 4, 12)) == [("d", "2026-04-06", "2026-04-12")]
    assert spans(date(2026, 4, 1), date(2026, 4, 30)) == [("m", "2026-04", "2026-04")]
    assert spans(date(2026, 3, 15), date(2026, 6, 20)) == [("m", "2026-04", "2026-05"),
                                                           ("d", "2026-03-15", "2026-03-31"),
                                                           ("d", "2026-06-01", "2026-06-20")]
    assert spans(date(2025, 12, 31), date(2026, 1, 31)) == [("m", "2026-01", "2026-01"),
                                                            ("d", "2025-12-31", "2025-12-31")]
    assert spans(date(2024, 2, 1), date(2024, 2, 29)) == [("m", "2024-02", "2024-02")]  # a leap year's February
    assert spans(None, date(2026, 4, 12)) == [("m", "1900-01", "2026-03"), ("d", "2026-04-01", "2026-04-12")]
    assert spans(date(2026, 4, 12), None) == [("m", "2026-05", "9000-12"), ("d", "2026-04-12", "2026-04-30")]
    assert spans(date(1, 1, 2), date(1, 1, 2)) == []  # wholly outside 1900-9000: nothing was completed then
    assert spans(date(9999, 12, 31), None) == [] and spans(None, date(1, 1, 31)) == []
    assert spans(date(1, 1, 1), date(9999, 12, 31)) == [("m", "1900-01", "9000-12")]


def _raw(username, key, f):
    """The same view computed from the inbox rows (the path kept for a province and a group asked at once)."""
    actor = user(username)
    f = heatmap._scope(actor, f)
    tier = db.session.scalar(select(HumanTask.tier).where(HumanTask.state == "completed").limit(1))
    campaign_id = heatmap._check(f)
    counts: dict = {}
    for el, b, n, late in heatmap._done_in_range(key, tier, campaign_id, f, actor):
        counts.setdefault(el, {})[b] = (n, late)
    return counts


def _summary(username, key, f):
    actor = user(username)
    f = heatmap._scope(actor, f)
    tier = db.session.scalar(select(HumanTask.tier).where(HumanTask.state == "completed").limit(1))
    views = heatmap_ranges.scopes(actor, tier, f.province, f.soe)
    counts: dict = {}
    for el, b, n, late in heatmap_ranges.done(key, heatmap._check(f), views, f.since, f.until):
        if n:
            counts.setdefault(el, {})[b] = (n, late)
    return counts


@pytest.fixture
def spread(clock):
    """Steps completed over two months across provinces and an SOE group member, one after its due date."""
    ids = {u: start(u) for u in ("acme", "qingdao-home", "hz-precision", "sinopec-plant")}
    offsets = {"acme": 1, "qingdao-home": 9, "hz-precision": 33, "sinopec-plant": 40}
    for u, days in offsets.items():
        clock.at = START + timedelta(days=days, hours=days % 7)
        complete(u, ids[u], GOOD_ASSESSMENT)
    reviewers = {"acme": "zj-reviewer", "qingdao-home": "sd-reviewer", "hz-precision": "zj-reviewer",
                 "sinopec-plant": "sinopec-reviewer"}
    for u, days in offsets.items():
        clock.at = START + timedelta(days=days + 3 + (20 if u == "hz-precision" else 0))
        complete(reviewers[u], ids[u], {"decision": "approve", "review_comment": "符合"})
    return ids


RANGES = [(None, None), (date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 11, 27), date(2026, 12, 3)),
          (date(2026, 11, 20), date(2027, 1, 15)), (None, date(2026, 12, 10)), (date(2026, 12, 6), None),
          (date(2027, 1, 1), date(2027, 1, 1))]


@pytest.mark.parametrize("since, until", RANGES)
@pytest.mark.parametrize("username, extra", [
    ("admin", {}), ("miit-1", {"campaign": 2026}), ("miit-1", {"province": "330000"}),
    ("miit-1", {"soe": "sinopec"}), ("zj-reviewer", {}), ("sd-reviewer", {}), ("sinopec-reviewer", {}),
])
def test_every_range_and_scope_equals_the_inbox_rows(spread, since, until, username, extra):
    f = Filters(since=since or date(1900, 1, 1), until=until or date(9000, 12, 31), **extra)
    assert _summary(username, BASIC, f) == _raw(username, BASIC, f)
    got = heatmap.heatmap(user(username), BASIC, Filters(since=since, until=until, **extra))["elements"]
    raw = _raw(username, BASIC, f)
    for el, cell in got.items():
        assert cell["passed"] == sum(n for n, _ in raw.get(el, {}).values()), el


def test_the_range_summary_follows_corrections_of_the_rows(spread, clock):
    """A row whose completion time changes (a test's cleanup, a data repair) moves its count between days."""
    row = db.session.scalar(select(HumanTask).where(HumanTask.case_id == spread["acme"],
                                                    HumanTask.element == "self_assessment"))
    day = row.completed_at.astimezone(heatmap.SHANGHAI).date()
    f = Filters(since=day, until=day)
    assert heatmap.heatmap(user("admin"), BASIC, f)["elements"]["self_assessment"]["passed"] == 1
    with unit_of_work():
        db.session.get(HumanTask, row.id).completed_at = row.completed_at + timedelta(days=45)
    assert heatmap.heatmap(user("admin"), BASIC, f)["elements"]["self_assessment"]["passed"] == 0
    later = day + timedelta(days=45)
    assert heatmap.heatmap(user("admin"), BASIC, Filters(since=later, until=later)
                           )["elements"]["self_assessment"]["passed"] == 1
    assert _summary("admin", BASIC, Filters(since=day - timedelta(days=60), until=later + timedelta(days=60))) == \
        _raw("admin", BASIC, Filters(since=day - timedelta(days=60), until=later + timedelta(days=60)))


def test_a_case_moved_to_another_campaign_moves_its_range_counts(spread):
    c2025 = db.session.scalar(select(Campaign.id).where(Campaign.year == 2025))
    from app.models import Case

    f25 = Filters(campaign=2025, since=date(2026, 1, 1), until=date(2027, 12, 31))
    assert heatmap.heatmap(user("admin"), BASIC, f25)["elements"]["self_assessment"]["passed"] == 0
    with unit_of_work():
        db.session.get(Case, spread["qingdao-home"]).campaign_id = c2025
    assert heatmap.heatmap(user("admin"), BASIC, f25)["elements"]["self_assessment"]["passed"] == 1
    f26 = Filters(campaign=2026, since=date(2026, 1, 1), until=date(2027, 12, 31))
    assert heatmap.heatmap(user("admin"), BASIC, f26)["elements"]["self_assessment"]["passed"] == 3
    assert _summary("admin", BASIC, f25) == _raw("admin", BASIC, f25)
