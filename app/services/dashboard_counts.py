"""The case counts of the dashboard (and the national landing page): cases within the reader's scope per tier,
status, province and campaign, a funnel per tier, and the overdue open tasks per recommender scope.

Cheap at national scale (500,000 cases; docs/PERFORMANCE.md):
- the four count panels and the funnel's decided and certified columns come from ONE grouped statement whose GROUP BY
  follows the covering index `ix_cases_province_list` (province, tier, status, group, city, campaign) column for
  column, so SQLite streams it from the index with no sort and no table read; the panels are folded from its rows;
- the overdue tasks are driven by the inbox index `(role, scope, state, due_at)` (open, due before now), the reader's
  case scope checked per task by a correlated EXISTS on the case's primary key (an `IN (cases of the province)` made
  SQLite walk every case of the province and probe its tasks: 0.5 s);
- the funnel's "submitted" column (a completed enterprise task) is counted only when the caller shows it (the
  landing page; the dashboard has its own funnel, services/funnel.py);
- above CACHE_ABOVE cases in the reader's scope the result is kept CACHE_SECONDS per case filter (every national
  reader shares one; the page says "figures as of"), like the tile map's figures (services/tile_map.py): the clock is
  services/clock.py, so tests move it.
"""
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import exists, func, select

from app.errors import Forbidden
from app.extensions import db
from app.models import TIERS, Campaign, Case, HumanTask, Region, SoeGroup, User
from app.services import clock
from app.services.scope import NATIONAL_READERS, case_filter
from app.settings import settings

FINAL = ("certified", "rejected", "withdrawn", "expired", "accepted")
CERTIFIED = ("certified", "cultivating", "accepted")
DASHBOARD_ROLES = ("provincial_reviewer", "co_department_reviewer", "soe_reviewer", "national_reviewer",
                   "sasac_reviewer", "admin", "auditor")
RECOMMENDER_ROLES = ("provincial_reviewer", "soe_reviewer")
CACHE_ABOVE = 50_000  # cases in the reader's scope above which the counts may be up to CACHE_SECONDS old
CACHE_SECONDS = 60
_cache: dict = {}


def require_dashboard(actor: User) -> None:
    if actor.role not in DASHBOARD_ROLES:
        raise Forbidden("the dashboard is for reviewers and national staff")


def _sorted(counts: dict) -> list[tuple]:
    """(key, n) in key order, NULL first (as SQL's ORDER BY on SQLite)."""
    return sorted(counts.items(), key=lambda kv: (kv[0] is not None, kv[0] if kv[0] is not None else ""))


def _region(r: Region | None):
    """The names the pages read, detached from the session (a kept result outlives it)."""
    return None if r is None else SimpleNamespace(code=r.code, name_zh=r.name_zh, name_en=r.name_en)


def dashboard(actor: User, funnel: bool = True) -> dict:
    """Counts of the cases within the caller's scope per tier, status, province and campaign; with `funnel` a funnel
    per tier (applied → submitted → decided → certified); overdue open tasks per recommender scope; `as_of` when
    the counts were kept (None: counted now)."""
    require_dashboard(actor)
    now = clock.now()
    national = actor.role in NATIONAL_READERS
    # readers whose case filter is the same see the same numbers: one entry for them all (every national reader; a
    # province's reviewers and co-departments), keyed by the filter itself
    key = (settings().database_url, national, funnel,
           str(case_filter(actor).compile(compile_kwargs={"literal_binds": True})))
    hit = _cache.get(key)
    if hit is not None and hit[0] + timedelta(seconds=CACHE_SECONDS) > now:
        return dict(hit[1], as_of=hit[0])
    view = _count(actor, funnel, now)
    if view["total"] <= CACHE_ABOVE:
        return dict(view, as_of=None)
    if len(_cache) > 1000:
        _cache.clear()
    _cache[key] = (now, view)
    return dict(view, as_of=now)


def _count(actor: User, with_funnel: bool, now) -> dict:
    scope = case_filter(actor)
    per_tier: dict = {}
    per_status: dict = {}
    per_province: dict = {}
    per_campaign: dict = {}
    decided: dict = {}
    certified: dict = {}
    cols = (Case.province_code, Case.tier, Case.status, Case.soe_group_key, Case.city_code, Case.campaign_id)
    for province, tier, status, _group, _city, campaign_id, n in db.session.execute(
            select(*cols, func.count()).where(scope).group_by(*cols)):
        per_tier[tier] = per_tier.get(tier, 0) + n
        per_status[status] = per_status.get(status, 0) + n
        per_province[province] = per_province.get(province, 0) + n
        per_campaign[campaign_id] = per_campaign.get(campaign_id, 0) + n
        if status in FINAL + ("cultivating",):
            decided[tier] = decided.get(tier, 0) + n
        if status in CERTIFIED:
            certified[tier] = certified.get(tier, 0) + n
    years = dict(db.session.execute(select(Campaign.id, Campaign.year).where(Campaign.id.in_(list(per_campaign)))
                                    ).all()) if per_campaign else {}
    per_year: dict = {}
    for campaign_id, n in per_campaign.items():
        per_year[years.get(campaign_id)] = per_year.get(years.get(campaign_id), 0) + n
    submitted: dict = {}
    if with_funnel and per_tier:
        done = select(HumanTask.case_id).where(HumanTask.role == "enterprise", HumanTask.state == "completed")
        submitted = dict(db.session.execute(select(Case.tier, func.count()).where(scope, Case.id.in_(done))
                                            .group_by(Case.tier)).all())
    order = {t: i for i, t in enumerate(TIERS)}
    tiers = sorted(per_tier.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    names = {r.code: _region(r) for r in db.session.scalars(
        select(Region).where(Region.code.in_([p for p in per_province if p is not None])))} if per_province else {}
    return {
        "tier": tiers,
        "status": _sorted(per_status),
        "province": [(code, names.get(code), n) for code, n in _sorted(per_province)],
        "campaign": _sorted(per_year),
        "funnel": [{"tier": t, "applied": a, "submitted": submitted.get(t, 0), "decided": decided.get(t, 0),
                    "certified": certified.get(t, 0)} for t, a in tiers] if with_funnel else [],
        "overdue": _overdue(actor, scope, now),
        "total": sum(per_tier.values()),
    }


def _overdue(actor: User, scope, now) -> list[dict]:
    q = (select(HumanTask.scope, func.count())
         .where(HumanTask.state == "open", HumanTask.due_at <= now, HumanTask.role.in_(RECOMMENDER_ROLES))
         .group_by(HumanTask.scope).order_by(func.count().desc(), HumanTask.scope))
    if actor.role not in NATIONAL_READERS:
        q = q.where(exists().where(Case.id == HumanTask.case_id, scope))
    late = [(s, n, *s.split(":", 2)[:2]) for s, n in db.session.execute(q)]
    regions = {r.code: _region(r) for r in db.session.scalars(select(Region).where(
        Region.code.in_({key for _s, _n, kind, key in late if kind == "province"})))} if late else {}
    groups = dict(db.session.execute(select(SoeGroup.key, SoeGroup.name).where(
        SoeGroup.key.in_({key for _s, _n, kind, key in late if kind == "soe"}))).all()) if late else {}
    return [{"scope": s, "kind": kind, "key": key, "region": regions.get(key) if kind == "province" else None,
             "name": groups.get(key) if kind == "soe" else None, "count": n} for s, n, kind, key in late]
