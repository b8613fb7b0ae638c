"""The dashboard's case counts (services/dashboard_counts.py) from one grouped statement equal the counts taken
column by column, for every role that reads them; above CACHE_ABOVE cases they are kept a minute per reader and then
equal fresh counts again (the injectable clock moves the minute, no sleeping)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import Forbidden
from app.extensions import db
from app.models import TIERS, Campaign, Case, HumanTask
from app.services import dashboard_counts, tasks
from app.services.scope import NATIONAL_READERS, case_filter
from app.uow import unit_of_work
from tests.conftest import user
from tests.inbox.conftest import submitted_basic

READERS = ("miit-1", "admin", "auditor", "zj-reviewer", "sd-reviewer", "zj-ndrc", "sinopec-reviewer", "sasac-1")
APPROVE = {"decision": "approve", "comment": "ok"}


def fresh(actor) -> dict:
    """The same figures counted the plain way: one grouped statement per panel, the overdue tasks with IN."""
    scope = case_filter(actor)

    def grouped(col, *join):
        q = select(col, func.count()).select_from(Case)
        if join:
            q = q.join(*join)
        return [tuple(r) for r in db.session.execute(q.where(scope).group_by(col).order_by(col))]

    order = {t: i for i, t in enumerate(TIERS)}
    overdue = (select(HumanTask.scope, func.count())
               .where(HumanTask.state == "open", HumanTask.due_at <= dashboard_counts.clock.now(),
                      HumanTask.role.in_(dashboard_counts.RECOMMENDER_ROLES))
               .group_by(HumanTask.scope).order_by(func.count().desc(), HumanTask.scope))
    if actor.role not in NATIONAL_READERS:
        overdue = overdue.where(HumanTask.case_id.in_(select(Case.id).where(scope)))
    done = select(HumanTask.case_id).where(HumanTask.role == "enterprise", HumanTask.state == "completed")
    funnel = {t: (a, s, d, c) for t, a, s, d, c in db.session.execute(
        select(Case.tier, func.count(), func.count().filter(Case.id.in_(done)),
               func.count().filter(Case.status.in_(dashboard_counts.FINAL + ("cultivating",))),
               func.count().filter(Case.status.in_(dashboard_counts.CERTIFIED))).where(scope).group_by(Case.tier))}
    return {"tier": sorted(grouped(Case.tier), key=lambda kv: order[kv[0]]), "status": grouped(Case.status),
            "province": grouped(Case.province_code),
            "campaign": grouped(Campaign.year, Campaign, Campaign.id == Case.campaign_id),
            "overdue": [tuple(r) for r in db.session.execute(overdue)],
            "funnel": [(t, *funnel[t]) for t in sorted(funnel, key=order.get)]}


def shown(view: dict) -> dict:
    return {"tier": view["tier"], "status": view["status"], "province": [(c, n) for c, _r, n in view["province"]],
            "campaign": view["campaign"], "overdue": [(o["scope"], o["count"]) for o in view["overdue"]],
            "funnel": [(f["tier"], f["applied"], f["submitted"], f["decided"], f["certified"]) for f in view["funnel"]]}


@pytest.fixture
def world(review_tasks):
    """The demo world, three Zhejiang reviews, one in Shandong, one of a Sinopec member; one Zhejiang case decided."""
    submitted_basic("qingdao-home")
    submitted_basic("sinopec-plant")
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), review_tasks[0].id, APPROVE)
    return review_tasks


@pytest.mark.parametrize("reader", READERS)
def test_the_counts_equal_the_counts_taken_panel_by_panel(world, clock, reader):
    actor = user(reader)
    view = dashboard_counts.dashboard(actor)
    assert view["as_of"] is None  # a small world: counted for each request
    assert shown(view) == fresh(actor)
    assert view["total"] == sum(n for _t, n in view["tier"]) > 0
    clock.at = world[1].due_at + timedelta(days=1)  # the open reviews are overdue now
    view = dashboard_counts.dashboard(actor)
    assert shown(view) == fresh(actor)
    if reader in ("zj-reviewer", "miit-1"):
        assert ("province:330000", 2) in shown(view)["overdue"]
    assert dashboard_counts.dashboard(actor, funnel=False)["funnel"] == []


def test_only_dashboard_readers(world):
    for name in ("acme", "expert-7", "zj-admin"):
        with pytest.raises(Forbidden):
            dashboard_counts.dashboard(user(name))


def test_kept_a_minute_above_the_threshold_then_fresh(world, clock, monkeypatch):
    monkeypatch.setattr(dashboard_counts, "CACHE_ABOVE", 1)
    monkeypatch.setattr(dashboard_counts, "_cache", {})
    national, zj = user("miit-1"), user("zj-reviewer")
    first = dashboard_counts.dashboard(national)
    assert first["as_of"] == clock.at and shown(first) == fresh(national)
    before = fresh(national)
    submitted_basic("sinopec-ningbo")  # a new case after the count
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), world[1].id, APPROVE)
    changed = fresh(national)
    assert changed != before
    clock.at = clock.at + timedelta(seconds=59)
    kept = dashboard_counts.dashboard(national)
    assert shown(kept) == before and kept["as_of"] == first["as_of"]  # the page says "figures as of"
    # readers of the same scope share the kept counts (every national reader); another scope counts its own now
    assert dashboard_counts.dashboard(user("admin"))["as_of"] == first["as_of"]
    zj_view = dashboard_counts.dashboard(zj)
    assert zj_view["as_of"] == clock.at and shown(zj_view) == fresh(zj)
    clock.at = clock.at + timedelta(seconds=1)
    assert dashboard_counts.dashboard(user("zj-ndrc"))["as_of"] == zj_view["as_of"]  # the same case filter
    clock.at = clock.at + timedelta(seconds=1)  # past the minute: counted again, equal to fresh counts
    again = dashboard_counts.dashboard(national)
    assert again["as_of"] == clock.at and shown(again) == changed
    # below the threshold nothing is kept (once the kept minute is over): a change shows at once
    monkeypatch.setattr(dashboard_counts, "CACHE_ABOVE", 10**9)
    clock.at = clock.at + timedelta(seconds=61)
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), world[2].id, APPROVE)
    assert dashboard_counts.dashboard(national)["as_of"] is None
    assert shown(dashboard_counts.dashboard(national)) == fresh(national)


def test_the_page_says_when_kept_counts_were_taken(app, world, clock, monkeypatch):
    from tests.security.helpers import browser_login, fresh_client

    monkeypatch.setattr(dashboard_counts, "_cache", {})
    client = fresh_client(app)
    assert browser_login(client, "miit-1").status_code == 302
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'id="counts-as-of"' not in page  # counted for this request
    monkeypatch.setattr(dashboard_counts, "CACHE_ABOVE", 1)
    page = client.get("/dashboard").get_data(as_text=True)
    shanghai = (clock.at + timedelta(hours=8)).strftime("%H:%M")
    assert 'id="counts-as-of"' in page and shanghai in page.split('id="counts-as-of"')[1][:200]
    assert "数据统计于" in page
