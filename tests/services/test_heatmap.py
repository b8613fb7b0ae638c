"""The process heatmap (issue 19) on the real database: counts per element within the caller's scope, durations
from the injectable clock, the summary kept by triggers equal to the inbox rows, timers timed to their firing."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Case, HumanTask
from app.models.heatmap import HEATMAP_CELLS
from app.services import cases, heatmap, tasks, timers
from app.services.heatmap import Filters, bucket
from app.uow import unit_of_work
from tests.conftest import START, user
from tests.factories import GOOD_ASSESSMENT

BASIC = "basic_self_assessment"
EXCELLENT = "excellent_national_review"
DAY, HOUR = 86400, 3600


def start(username, tier="basic", campaign=2026) -> int:
    with unit_of_work():
        return cases.create_case(user(username), tier, campaign).id


def open_task(case_id) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "open"))


def complete(username, case_id, data):
    with unit_of_work():
        tasks.complete(user(username), open_task(case_id).id, data)


def els(username, key=BASIC, **f):
    return heatmap.heatmap(user(username), key, Filters(**f))["elements"]


def test_waiting_counts_within_each_scope():
    acme, qingdao, sinopec = start("acme"), start("qingdao-home"), start("sinopec-plant")
    assert els("admin")["self_assessment"]["waiting"] == 3
    assert els("miit-1", campaign=2026)["self_assessment"]["waiting"] == 3
    assert els("auditor", campaign=2025)["self_assessment"]["waiting"] == 0
    assert els("miit-1", province="370000")["self_assessment"]["waiting"] == 1
    assert els("miit-1", soe="sinopec")["self_assessment"]["waiting"] == 1
    # a province does not see an SOE group member's basic case (scope.case_filter); the group does
    assert els("zj-reviewer")["self_assessment"]["waiting"] == 1
    assert els("zj-reviewer", province="330000")["self_assessment"]["waiting"] == 1
    assert els("sd-reviewer")["self_assessment"]["waiting"] == 1
    assert els("sinopec-reviewer")["self_assessment"]["waiting"] == 1
    # the elements of the newest diagram are all there, with nothing passed yet
    got = els("admin")
    assert set(got) >= {"start", "self_assessment", "organizer_review", "end_certified"}
    assert got["organizer_review"] == {"passed": 0, "waiting": 0, "median_s": None, "p90_s": None,
                                       "late_share": None}
    complete("acme", acme, GOOD_ASSESSMENT)
    assert els("zj-reviewer")["organizer_review"]["waiting"] == 1
    assert els("sd-reviewer")["organizer_review"]["waiting"] == 0
    assert els("admin")["self_assessment"] == {"passed": 1, "waiting": 2, "median_s": 0, "p90_s": 0,
                                               "late_share": 0.0}
    assert {qingdao, sinopec}


@pytest.mark.parametrize("username, f", [
    ("zj-reviewer", {"province": "370000"}),  # another province
    ("zj-reviewer", {"soe": "sinopec"}),  # a group, not the province's
    ("sinopec-reviewer", {"soe": "other"}),
    ("acme", {}), ("expert-7", {}), ("zj-ndrc", {}), ("zj-admin", {}),
])
def test_outside_the_scope_is_refused(username, f):
    with pytest.raises(Forbidden):
        heatmap.heatmap(user(username), BASIC, Filters(**f))


def test_bad_filters_are_named():
    with pytest.raises(Invalid) as exc:
        heatmap.heatmap(user("admin"), BASIC, Filters(campaign=1999, province="33", soe="nobody",
                                                      since=date(2026, 12, 2), until=date(2026, 12, 1)))
    assert set(exc.value.errors) == {"campaign", "province", "soe", "since"}
    with pytest.raises(NotFound):
        heatmap.heatmap(user("admin"), "no_such_model")


def test_median_p90_and_late_share_from_the_clock(clock):
    ids = [start(u) for u in ("acme", "qingdao-home", "hz-precision")]
    steps = ((ids[0], "acme", timedelta(days=1)), (ids[1], "qingdao-home", timedelta(days=3)),
             (ids[2], "hz-precision", timedelta(days=5, hours=4)))
    for case_id, username, after in steps:
        clock.at = START + after
        complete(username, case_id, GOOD_ASSESSMENT)
    got = els("admin", campaign=2026)["self_assessment"]
    # nearest rank: the median is the 2nd of 3, p90 the 3rd; each low by less than 1/16 (its bucket)
    assert got == {"passed": 3, "waiting": 0, "median_s": bucket(3 * DAY), "p90_s": bucket(5 * DAY + 4 * HOUR),
                   "late_share": 0.0}
    assert 15 / 16 * 3 * DAY < got["median_s"] <= 3 * DAY
    # acme's review opened at +1 day, due 15 days later: decided at +20 days it is late; qingdao's in time
    clock.at = START + timedelta(days=20)
    complete("zj-reviewer", ids[0], {"decision": "approve", "review_comment": "符合"})
    clock.at = START + timedelta(days=4)  # (the clock only has to be after the task opened)
    complete("sd-reviewer", ids[1], {"decision": "approve", "review_comment": "符合"})
    review = els("admin")["organizer_review"]
    assert review["passed"] == 2 and review["waiting"] == 1 and review["late_share"] == 0.5
    assert (review["median_s"], review["p90_s"]) == (bucket(DAY), bucket(19 * DAY))
    assert els("zj-reviewer")["organizer_review"]["late_share"] == 1.0
    assert els("sd-reviewer")["organizer_review"] == {"passed": 1, "waiting": 0, "median_s": bucket(DAY),
                                                      "p90_s": bucket(DAY), "late_share": 0.0}
    # a date range (Beijing days of completion) reads the rows: qingdao's review only, on 2026-11-29
    day = (START + timedelta(days=4)).astimezone(timezone(timedelta(hours=8))).date()
    ranged = els("admin", since=day, until=day)["organizer_review"]
    assert (ranged["passed"], ranged["median_s"], ranged["waiting"]) == (1, bucket(DAY), 1)
    assert els("admin", since=day + timedelta(days=1))["organizer_review"]["passed"] == 1  # acme's, at +20 days


def test_summary_equals_the_inbox_rows(clock):
    """The triggers' table against the rows it summarises, after creating, completing and cancelling tasks."""
    a, b = start("acme"), start("qingdao-home")
    clock.at = START + timedelta(hours=5, minutes=7)
    complete("acme", a, GOOD_ASSESSMENT)
    clock.at = START + timedelta(days=40)
    complete("qingdao-home", b, GOOD_ASSESSMENT)
    complete("sd-reviewer", b, {"decision": "return", "review_comment": "请补充"})
    open_rows = dict(db.session.execute(select(HumanTask.element, func.count()).where(HumanTask.state == "open")
                                        .group_by(HumanTask.element)).all())
    cells = dict(db.session.execute(select(HEATMAP_CELLS.c.element, func.sum(HEATMAP_CELLS.c.waiting))
                                    .where(HEATMAP_CELLS.c.bucket_s == -1).group_by(HEATMAP_CELLS.c.element)).all())
    assert {k: v for k, v in cells.items() if v} == open_rows
    got = els("admin")
    assert got["self_assessment"]["passed"] == 2 and got["self_assessment"]["waiting"] == 1  # b returned
    assert (got["self_assessment"]["median_s"], got["self_assessment"]["p90_s"]) == (bucket(5 * HOUR + 7 * 60),
                                                                                      bucket(40 * DAY))
    assert got["organizer_review"]["passed"] == 1 and got["organizer_review"]["waiting"] == 1
    # the rows read directly (a date range reaching back far enough) give what the triggers summed
    assert els("admin", since=date(2020, 1, 1)) == got


def test_timer_timed_from_its_start_to_its_firing():
    case_id = start("hz-precision", "excellent")
    assert els("admin", EXCELLENT)["application_deadline"]["waiting"] == 1
    assert els("admin", EXCELLENT)["application"]["waiting"] == 1
    fire_at = datetime(2027, 7, 16, 16, 0, 1, tzinfo=timezone.utc)  # the application deadline passed
    with unit_of_work():
        fired = timers.fire_case(case_id, fire_at)
    assert "application_deadline" in fired
    assert db.session.get(Case, case_id).status == "expired"
    got = els("admin", EXCELLENT)
    assert got["application"]["waiting"] == 0 and got["application_deadline"]["waiting"] == 0
    timer = got["application_deadline"]
    assert timer["passed"] == 1 and timer["median_s"] == bucket((fire_at - START).total_seconds())
    assert els("zj-reviewer", EXCELLENT)["application_deadline"]["passed"] == 1
    assert els("sd-reviewer", EXCELLENT)["application_deadline"]["passed"] == 0
    assert els("admin", EXCELLENT, since=date(2027, 7, 17))["application_deadline"]["passed"] == 1
    assert els("admin", EXCELLENT, until=date(2027, 7, 16))["application_deadline"]["passed"] == 0


def test_buckets_keep_one_sixteenth():
    assert [bucket(s) for s in (-3, 0, 15.4, 15.6, 31, 33, 3600, 86400)] == [0, 0, 15, 16, 31, 32, 3584, 86016]
    for s in range(16, 10**7, 9973):
        assert s * 15 / 16 < bucket(s) <= s


def test_model_of_a_tier():
    assert heatmap.model_for_tier("excellent") == EXCELLENT
    with pytest.raises(NotFound):
        heatmap.model_for_tier("nonsense")


def test_a_case_moved_to_another_campaign_moves_its_counts(clock):
    """No product code moves a case's campaign, province or diagram, but tests do (onto test diagrams): the summary
    follows the case (trigger on cases), so it stays equal to the rows."""
    from app.models import Campaign

    a = start("acme")
    clock.at = START + timedelta(days=2)
    complete("acme", a, GOOD_ASSESSMENT)
    assert els("admin", campaign=2026)["organizer_review"]["waiting"] == 1
    with unit_of_work():
        db.session.get(Case, a).campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.year == 2025))
    assert els("admin", campaign=2026)["organizer_review"]["waiting"] == 0
    assert els("admin", campaign=2026)["self_assessment"]["passed"] == 0
    moved = els("admin", campaign=2025)
    assert moved["organizer_review"]["waiting"] == 1 and moved["self_assessment"]["passed"] == 1
    assert moved["self_assessment"]["median_s"] == bucket(2 * DAY)
