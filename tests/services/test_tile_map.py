"""The provinces at a glance (issue 19, part 2): figures per recommender on the demo world and on constructed cases,
who sees which figures, the quota used against a quota that can or cannot be computed, the funnel per tier and the
campaign's calendar counted in working days."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Campaign, Case, CaseList, CaseListEntry, HumanTask
from app.services import clock, dashboard_calendar, funnel, tile_map
from app.uow import unit_of_work
from tests.conftest import user
from tests.inbox.conftest import submitted_basic

APPROVE = {"decision": "approve", "review_comment": "符合基础级要求。"}


def _tiles(view) -> dict:
    return {t["scope"]: t for t in view["tiles"] + view["groups"]}


def test_the_grid_places_every_province_and_the_xpcc_once():
    from app.models import Region

    codes = set(db.session.scalars(select(Region.code).where(Region.kind.in_(("province", "xpcc")))))
    assert set(tile_map.GRID) == codes and len(codes) == 32
    places = list(tile_map.GRID.values())
    assert len(set(places)) == len(places)  # no two squares on one place
    assert all(0 <= c < tile_map.COLUMNS and 0 <= r < tile_map.ROWS for c, r in places)
    # roughly where they lie: Heilongjiang north-east of Hainan, Xinjiang west of Shanghai
    assert tile_map.GRID["230000"][1] < tile_map.GRID["460000"][1]
    assert tile_map.GRID["650000"][0] < tile_map.GRID["310000"][0]


def test_the_demo_world_has_no_cases_and_its_quotas_as_the_figures_allow():
    view = tile_map.tile_map(user("miit-1"), "excellent", 2026, "quota")
    tiles = _tiles(view)
    assert len(view["tiles"]) == 32 and [g["code"] for g in view["groups"]] == ["sinopec"]
    assert all(t["visible"] and t["figures"]["applications"] == 0 for t in tiles.values())
    zj, sd = tiles["province:330000"]["figures"], tiles["province:370000"]["figures"]
    assert (zj["quota_state"], zj["quota"], zj["recommended"]) == ("known", 40, 0)  # rank 4 (illustrative): ≤ 40
    assert sd["quota_state"] == "unknown" and sd["quota"] is None and sd["quota_missing"] == ["iva_rank_2024"]
    assert tiles["province:370000"]["value"] is None and tiles["province:370000"]["level"] is None  # never guessed
    assert tiles["province:660000"]["figures"]["quota"] == 5  # the XPCC
    assert tiles["soe:sinopec"]["figures"]["quota"] == 5
    light = _tiles(tile_map.tile_map(user("miit-1"), "lighthouse", 2026, "quota"))
    assert light["province:370000"]["figures"]["quota"] == 3  # 22 excellent factories in 2024 (verified): ≤ 3
    assert light["soe:sinopec"]["figures"]["quota_state"] == "not_applicable"  # only provinces recommend lighthouse
    assert light["province:660000"]["figures"]["quota_state"] == "not_applicable"  # not in this campaign
    basic = _tiles(tile_map.tile_map(user("miit-1"), "basic", 2026, "quota"))
    assert all(t["figures"]["quota_state"] == "not_applicable" for t in basic.values())


def test_figures_per_province_and_group_on_constructed_cases(clock):
    zj = [submitted_basic(o) for o in ("acme", "ningbo-parts", "hz-precision")]
    sd = submitted_basic("qingdao-home")
    submitted_basic("sinopec-plant")  # in Zhejiang, but a Sinopec member: the group's
    with unit_of_work():
        from app.services import cases

        draft = cases.create_case(user("sinopec-ningbo"), "basic", 2026)  # a draft: applied, not in review
    from app.services import tasks

    with unit_of_work():
        tasks.complete(user("zj-reviewer"), zj[0].id, APPROVE)
    view = tile_map.tile_map(user("miit-1"), "basic", 2026, "applications")
    tiles = _tiles(view)
    f = tiles["province:330000"]["figures"]
    assert (f["applications"], f["certified"], f["in_review"], f["overdue"]) == (3, 1, 2, 0)
    g = tiles["soe:sinopec"]["figures"]
    assert (g["applications"], g["certified"], g["in_review"]) == (2, 0, 1)
    assert tiles["province:370000"]["figures"]["applications"] == 1
    assert tiles["province:110000"]["figures"]["applications"] == 0
    assert view["top"] == 3 and tiles["province:330000"]["level"] == 4 and tiles["province:110000"]["level"] == 0
    assert tiles["province:370000"]["level"] == 2  # 1 of 3: the second step
    # another campaign or tier: nothing
    assert _tiles(tile_map.tile_map(user("miit-1"), "basic", 2025, "applications"))[
        "province:330000"]["figures"]["applications"] == 0
    assert _tiles(tile_map.tile_map(user("miit-1"), "advanced", 2026, "applications"))[
        "province:330000"]["figures"]["applications"] == 0
    # overdue: the reviewers' open tasks past their due time, now
    due = db.session.scalar(select(HumanTask.due_at).where(HumanTask.id == sd.id))
    clock.at = due + timedelta(days=1)
    tiles = _tiles(tile_map.tile_map(user("miit-1"), "basic", 2026, "overdue"))
    assert tiles["province:330000"]["figures"]["overdue"] == 2  # the third was decided
    assert tiles["province:370000"]["figures"]["overdue"] == 1
    assert tiles["soe:sinopec"]["figures"]["overdue"] == 1  # the draft's task is the enterprise's: not counted
    assert draft.id


def test_quota_used_counts_the_recommenders_latest_list():
    cases = [submitted_basic(o) for o in ("acme", "ningbo-parts", "hz-precision")]
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    with unit_of_work():
        for n, scope in ((1, "province:330000"), (3, "province:330000"), (2, "province:370000")):
            lst = CaseList(kind="recommendation", tier="excellent", campaign_id=campaign.id, scope=scope,
                           created_by=user("zj-reviewer").id, created_at=clock.now(), details={})
            for i in range(n):
                lst.entries.append(CaseListEntry(case_id=cases[i].case_id, position=i + 1))
            db.session.add(lst)
    tiles = _tiles(tile_map.tile_map(user("miit-1"), "excellent", 2026, "quota"))
    zj, sd = tiles["province:330000"], tiles["province:370000"]
    assert (zj["figures"]["recommended"], zj["figures"]["quota"]) == (3, 40)
    assert zj["value"] == pytest.approx(3 / 40) and zj["level"] == 1
    assert sd["figures"]["recommended"] == 2 and sd["value"] is None  # recommended, against an unknown quota
    bj = tiles["province:110000"]  # no list, and no rank: nothing recommended, against an unknown quota
    assert bj["figures"]["recommended"] == 0 and bj["figures"]["quota_state"] == "unknown" and bj["level"] is None
    assert tiles["soe:sinopec"]["figures"]["recommended"] == 0 and tiles["soe:sinopec"]["level"] == 0


def test_quota_levels_and_legend():
    assert [tile_map.level(v, None) for v in (0, 0.1, 0.4, 0.7, 1, 1.5)] == [0, 1, 2, 3, 4, 4]
    assert [tile_map.level(v, 8) for v in (0, 1, 2, 3, 4, 8)] == [0, 1, 1, 2, 2, 4]
    legend = tile_map.legend("applications", 8)
    assert [(s["low"], s["high"]) for s in legend] == [(0, 0), (1, 2), (3, 4), (5, 6), (7, 8)]
    assert [(s["level"], s["low"], s["high"]) for s in tile_map.legend("applications", 2)] == [
        (0, 0, 0), (2, 1, 1), (4, 2, 2)]  # steps that no whole number falls in are left out
    assert tile_map.legend("applications", 0) == [{"level": 0, "low": 0, "high": 0}]


def test_who_sees_which_figures():
    submitted_basic("acme")
    submitted_basic("qingdao-home")
    submitted_basic("sinopec-plant")
    for name in ("admin", "auditor", "miit-1"):
        tiles = _tiles(tile_map.tile_map(user(name), "basic", 2026, "applications"))
        assert all(t["visible"] for t in tiles.values()), name
    zj = tile_map.tile_map(user("zj-reviewer"), "basic", 2026, "applications")
    tiles = _tiles(zj)
    assert [s for s, t in tiles.items() if t["visible"]] == ["province:330000"]
    assert zj["own"] == "province:330000" and tiles["province:330000"]["own"]
    assert tiles["province:370000"]["figures"] is None and tiles["province:370000"]["value"] is None
    assert zj["top"] == 1  # the colour scale is made of what the reader sees
    assert [s for s, t in _tiles(tile_map.tile_map(user("zj-ndrc"), "basic", 2026, None)).items()
            if t["visible"]] == ["province:330000"]
    assert [s for s, t in _tiles(tile_map.tile_map(user("sinopec-reviewer"), "basic", 2026, None)).items()
            if t["visible"]] == ["soe:sinopec"]
    assert [s for s, t in _tiles(tile_map.tile_map(user("sasac-1"), "basic", 2026, None)).items()
            if t["visible"]] == ["soe:sinopec"]
    for name in ("acme", "expert-7", "zj-admin"):
        with pytest.raises(Forbidden):
            tile_map.tile_map(user(name), "basic", 2026, None)
    # one recommender's page: its own, not another's; an unknown one is not found
    assert tile_map.recommender(user("zj-reviewer"), "province:330000", 2026)["tiers"]["basic"]["applications"] == 1
    with pytest.raises(Forbidden):
        tile_map.recommender(user("zj-reviewer"), "province:370000", 2026)
    with pytest.raises(Forbidden):
        tile_map.recommender(user("sasac-1"), "province:330000", 2026)
    with pytest.raises(NotFound):
        tile_map.recommender(user("miit-1"), "province:330100", 2026)  # a city, not a recommender
    with pytest.raises(NotFound):
        tile_map.recommender(user("miit-1"), "soe:nobody", 2026)
    sd = tile_map.recommender(user("miit-1"), "province:370000", 2026)
    assert sd["name_zh"] == "山东省" and sd["tiers"]["basic"]["applications"] == 1
    assert tile_map.recommender(user("miit-1"), "soe:sinopec", 2026)["tiers"]["basic"]["applications"] == 1


def test_bad_selectors_are_named():
    with pytest.raises(Invalid) as exc:
        tile_map.choose("gold", "1999", "votes")
    assert set(exc.value.errors) == {"tier", "campaign", "figure"}
    tier, campaign, figure = tile_map.choose(None, None, None)
    assert (tier, campaign.year, figure) == ("excellent", 2026, "applications")  # the newest campaign


def test_funnel_per_tier_within_scope():
    from app.services import tasks

    zj = [submitted_basic(o) for o in ("acme", "ningbo-parts")]
    submitted_basic("sinopec-plant")
    with unit_of_work():
        from app.services import cases

        cases.create_case(user("hz-precision"), "basic", 2026)  # a draft
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), zj[0].id, APPROVE)
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), zj[1].id, {"decision": "reject", "review_comment": "材料不全，不予认可。"})
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    rows = {r["tier"]: r for r in funnel.funnel(user("miit-1"), campaign)}
    assert list(rows) == ["basic", "advanced", "excellent", "lighthouse"]
    assert [(s["key"], s["count"]) for s in rows["basic"]["stages"]] == [
        ("applied", 4), ("submitted", 3), ("reviewed", 2), ("certified", 1)]
    assert [s["key"] for s in rows["advanced"]["stages"]] == ["applied", "preliminary", "joint", "certified"]
    assert [s["key"] for s in rows["excellent"]["stages"]] == ["applied", "recommended", "reviewed", "certified"]
    assert [s["count"] for s in rows["lighthouse"]["stages"]] == [0, 0, 0, 0, 0]
    (zj_basic,) = funnel.funnel(user("zj-reviewer"), campaign, tiers=("basic",))
    assert [s["count"] for s in zj_basic["stages"]] == [3, 2, 2, 1]  # the Sinopec member is not the province's
    (group,) = funnel.funnel(user("miit-1"), campaign, recommender="soe:sinopec", tiers=("basic",))
    assert [s["count"] for s in group["stages"]] == [1, 1, 0, 0]
    (zj_only,) = funnel.funnel(user("miit-1"), campaign, recommender="province:330000", tiers=("basic",))
    assert [s["count"] for s in zj_only["stages"]] == [3, 2, 2, 1]
    with pytest.raises(Forbidden):
        funnel.funnel(user("acme"), campaign)


def test_the_advanced_funnel_counts_the_joint_review_from_the_inbox_rows():
    """Constructed: an advanced case whose certifier's decision opened (after the joint review), and one that
    waits for the certified list (a central SOE's, with no joint review)."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    a, b = submitted_basic("acme"), submitted_basic("sinopec-plant")
    with unit_of_work():
        for task, element in ((a, "certifier_decision"), (b, "certifier_review")):
            db.session.execute(Case.__table__.update().where(Case.id == task.case_id).values(tier="advanced"))
            db.session.execute(HumanTask.__table__.update().where(HumanTask.id == task.id).values(
                element=element, tier="advanced"))
        db.session.execute(Case.__table__.update().where(Case.id == b.case_id).values(status="approved"))
    (row,) = funnel.funnel(user("miit-1"), campaign, tiers=("advanced",))
    assert [s["count"] for s in row["stages"]] == [2, 2, 2, 0]


def test_the_campaign_calendar_counts_working_days(clock):
    clock.at = datetime(2025, 7, 10, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2025))
    cal = dashboard_calendar.calendar(user("miit-1"), campaign)
    rows = {r["tier"]: r for r in cal["tiers"]}
    ex = rows["excellent"]
    assert (ex["application_deadline"].isoformat(), ex["recommendation_deadline"].isoformat()) == (
        "2025-07-18", "2025-08-01")
    assert ex["review_working_days"] == {"days": 10, "error": None}  # 21–25 July, 28 July–1 August
    assert ex["application_left"] == {"days": 6, "error": None}  # 11, 14–18 July
    assert ex["notice"] == {"period": "P7D"}
    assert rows["advanced"]["notice"] == {"working_days": 5}
    assert rows["basic"]["notice"] is None
    clock.at = datetime(2025, 9, 1, tzinfo=timezone.utc)
    ex = {r["tier"]: r for r in dashboard_calendar.calendar(user("miit-1"), campaign)["tiers"]}["excellent"]
    assert ex["application_left"] is None and ex["recommendation_left"] is None  # passed


def test_a_year_the_calendar_does_not_cover_is_not_counted():
    from datetime import date

    assert dashboard_calendar._count(date(2031, 1, 1), date(2031, 2, 1))["days"] is None
    assert dashboard_calendar._count(date(2031, 1, 1), date(2031, 2, 1))["error"]
    assert dashboard_calendar._count(date(2025, 10, 1), date(2025, 10, 8)) == {"days": 0, "error": None}  # 国庆


def test_at_national_scale_the_figures_are_kept_a_minute(monkeypatch, clock):
    """Above CACHE_ABOVE cases of a tier in a campaign the figures and funnels are counted at most once a minute
    (one entry for every reader: the scope is applied afterwards) and say when they were counted."""
    monkeypatch.setattr(tile_map, "CACHE_ABOVE", 1)
    monkeypatch.setattr(funnel, "CACHE_ABOVE", 1)
    monkeypatch.setattr(tile_map, "_cache", {})
    monkeypatch.setattr(funnel, "_cache", {})
    clock.at = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    submitted_basic("acme")
    view = tile_map.tile_map(user("miit-1"), "basic", 2026, None)
    assert view["as_of"] is None  # one case: exact
    submitted_basic("ningbo-parts")
    first = tile_map.tile_map(user("miit-1"), "basic", 2026, None)
    assert first["as_of"] == clock.at and _tiles(first)["province:330000"]["figures"]["applications"] == 2
    submitted_basic("hz-precision")
    clock.at += timedelta(seconds=30)
    kept = tile_map.tile_map(user("zj-reviewer"), "basic", 2026, None)  # another reader, the same entry
    assert kept["as_of"] == first["as_of"] and _tiles(kept)["province:330000"]["figures"]["applications"] == 2
    assert _tiles(kept)["province:370000"]["figures"] is None  # the reader's scope still applies
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    (f,) = funnel.funnel(user("miit-1"), campaign, tiers=("basic",))
    assert f["as_of"] == clock.at and f["stages"][0]["count"] == 3
    clock.at += timedelta(seconds=31)
    fresh = tile_map.tile_map(user("miit-1"), "basic", 2026, None)
    assert fresh["as_of"] == clock.at and _tiles(fresh)["province:330000"]["figures"]["applications"] == 3


def test_a_provinces_calendar_includes_its_extension(clock):
    from app.services import deadlines

    clock.at = datetime(2025, 7, 10, 2, 0, tzinfo=timezone.utc)
    with unit_of_work():
        deadlines.extend(user("admin"), 2025, "excellent", reason="山东省汛期，推荐审核顺延一周。",
                         recommendation_deadline="2025-08-08", province="370000")
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2025))

    def excellent(province):
        cal = dashboard_calendar.calendar(user("miit-1"), campaign, province)
        return {r["tier"]: r for r in cal["tiers"]}["excellent"]

    sd, zj, national = excellent("370000"), excellent("330000"), excellent(None)
    assert sd["recommendation_deadline"].isoformat() == "2025-08-08"
    assert sd["review_working_days"]["days"] == 15  # five more working days, 4–8 August
    assert zj["recommendation_deadline"].isoformat() == national["recommendation_deadline"].isoformat() == "2025-08-01"


def test_short_names_as_a_chart_writes_them():
    from app.services.tile_map import short_zh

    assert [short_zh(n) for n in ("山东省", "北京市", "新疆维吾尔自治区", "广西壮族自治区", "宁夏回族自治区",
                                  "内蒙古自治区", "西藏自治区", "新疆生产建设兵团", "黑龙江省")] == \
        ["山东", "北京", "新疆", "广西", "宁夏", "内蒙古", "西藏", "兵团", "黑龙江"]


def test_a_provincial_readers_counting_run_counts_once_for_every_reader(monkeypatch, clock):
    """Above CACHE_ABOVE the entry kept is every recommender's: a provincial reviewer's counting run reads the cases
    and the overdue tasks once (two grouped statements, not twice), and a national reader then gets every square."""
    from sqlalchemy import event

    monkeypatch.setattr(tile_map, "CACHE_ABOVE", 1)
    monkeypatch.setattr(tile_map, "_cache", {})
    submitted_basic("acme")
    submitted_basic("qingdao-home")
    seen = []

    def note(conn, cursor, statement, *args):
        if "GROUP BY cases.province_code, cases.soe_group_key" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        mine = tile_map.tile_map(user("zj-reviewer"), "basic", 2026, None)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert len(seen) == 2 and mine["as_of"] == clock.at
    assert _tiles(mine)["province:330000"]["figures"]["applications"] == 1
    assert _tiles(mine)["province:370000"]["figures"] is None
    national = tile_map.tile_map(user("miit-1"), "basic", 2026, None)
    assert national["as_of"] == mine["as_of"]
    assert _tiles(national)["province:370000"]["figures"]["applications"] == 1
