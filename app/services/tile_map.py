"""The provinces at a glance (issue 19, part 2): a tile map of the recommenders — the 31 provinces, the XPCC and the
central SOE groups — each coloured by one figure of a tier in a campaign.

The grid below is an APPROXIMATE layout: one square per province placed roughly where it lies, no boundaries drawn.
A drawn map of China must follow an approved standard map (标准地图, reviewed by the mapping authority); a tile map
of squares is a chart, not a map, and needs none. It shows the recommenders of the programme (the 31 provinces of
the notice and the XPCC), nothing more. The SOE groups have no place on it: they are a block of their own.

Figures per recommender (a case counts for its recommender: its central SOE group, else its province; lighthouse
cases always for the province, as only provinces recommend lighthouse):
- applications: every case of the tier in the campaign (a case is one factory's application);
- certified: cases at the tier's outcome (certified; for lighthouse: cultivation target or accepted);
- in_review: cases past their draft and not closed (the application was submitted, no outcome yet; not in
  cultivation);
- overdue: open reviewer tasks (any role but the enterprise) past their due time, now (services/clock.py);
- quota: the recommender's current recommendation list (recommended) against `quotas.quota_for`; a quota that cannot
  be computed is unknown (never guessed), a tier without a quota (basic, advanced) or a recommender that does not
  recommend it is not applicable.

Who sees figures (the one rule, `sees`): national reviewers, administrators and auditors every recommender; a
provincial or co-department reviewer its own province, an SOE reviewer its own group, the SASAC reviewer the SOE
groups. Other tiles keep their name and place, without figures and without a link.
"""
import re
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import TIERS, Campaign, Case, CaseList, CaseListEntry, HumanTask, Region, SoeGroup, User
from app.models.cases import FINAL_STATUSES
from app.services import clock, quotas
from app.services.campaigns import campaign_by_year, newest_first
from app.services.inbox import require_dashboard
from app.services.scope import NATIONAL_READERS
from app.settings import settings

# GB/T 2260 code -> (column, row) on an 8 × 8 grid, north at the top, west at the left. Approximate, see above.
GRID: dict[str, tuple[int, int]] = {
    "230000": (7, 0),  # 黑龙江
    "650000": (0, 1), "660000": (1, 1), "150000": (3, 1),  # 新疆 兵团 内蒙古
    "110000": (5, 1), "220000": (7, 1),  # 北京 吉林
    "620000": (1, 2), "640000": (2, 2), "140000": (3, 2),  # 甘肃 宁夏 山西
    "130000": (4, 2), "120000": (5, 2), "210000": (6, 2),  # 河北 天津 辽宁
    "630000": (1, 3), "610000": (2, 3), "410000": (3, 3), "370000": (4, 3),  # 青海 陕西 河南 山东
    "540000": (0, 4), "510000": (1, 4), "500000": (2, 4),  # 西藏 四川 重庆
    "420000": (3, 4), "340000": (4, 4), "320000": (5, 4),  # 湖北 安徽 江苏
    "530000": (1, 5), "520000": (2, 5), "430000": (3, 5),  # 云南 贵州 湖南
    "360000": (4, 5), "330000": (5, 5), "310000": (6, 5),  # 江西 浙江 上海
    "450000": (2, 6), "440000": (3, 6), "350000": (4, 6),  # 广西 广东 福建
    "460000": (2, 7),  # 海南
}
COLUMNS, ROWS = 8, 8
SHORT_SUFFIX = re.compile(r"(维吾尔自治区|壮族自治区|回族自治区|自治区|省|市)$")


def short_zh(name_zh: str) -> str:
    """The province's short Chinese name as a chart writes it (山东省 -> 山东, 新疆维吾尔自治区 -> 新疆; XPCC 兵团)."""
    if name_zh.endswith("兵团"):
        return "兵团"
    return SHORT_SUFFIX.sub("", name_zh) or name_zh
FIGURES = ("applications", "certified", "in_review", "overdue", "quota")
DEFAULT_TIER, DEFAULT_FIGURE = "excellent", "applications"
QUOTA_TIERS = ("excellent", "lighthouse")
OUTCOME = {"basic": ("certified",), "advanced": ("certified",), "excellent": ("certified",),
           "lighthouse": ("cultivating", "accepted")}
LEVELS = 4  # colour steps above zero


def sees(actor: User, scope: str) -> bool:
    """Whether the actor sees the figures of a recommender (`province:<code>` or `soe:<key>`)."""
    if actor.role in NATIONAL_READERS:
        return True
    if actor.role in ("provincial_reviewer", "co_department_reviewer"):
        return scope == f"province:{actor.province_code}"
    if actor.role == "soe_reviewer":
        return scope == f"soe:{actor.soe_group_key}"
    if actor.role == "sasac_reviewer":
        return scope.startswith("soe:")
    return False


def own_scope(actor: User) -> str | None:
    if actor.role in ("provincial_reviewer", "co_department_reviewer") and actor.province_code:
        return f"province:{actor.province_code}"
    if actor.role == "soe_reviewer" and actor.soe_group_key:
        return f"soe:{actor.soe_group_key}"
    return None


def choose(tier: str | None, year, figure: str | None = None) -> tuple[str, Campaign, str]:
    """The selectors, checked: a tier of TIERS, a campaign year (default: the newest), a figure of FIGURES."""
    errors = {}
    tier = tier or DEFAULT_TIER
    if tier not in TIERS:
        errors["tier"] = "unknown tier"
    figure = figure or DEFAULT_FIGURE
    if figure not in FIGURES:
        errors["figure"] = "unknown figure"
    campaign = campaign_by_year(year, required=False) if year not in (None, "") else next(iter(newest_first()), None)
    if campaign is None:
        errors["campaign"] = "unknown campaign"
    if errors:
        raise Invalid("the selection is not valid", errors=errors)
    return tier, campaign, figure


def _recommender(tier: str, province_code: str, soe_group_key: str | None) -> str:
    return f"soe:{soe_group_key}" if soe_group_key and tier != "lighthouse" else f"province:{province_code}"


def _blank() -> dict:
    return {"applications": 0, "certified": 0, "in_review": 0, "overdue": 0, "recommended": None, "quota": None,
            "quota_state": "not_applicable", "quota_missing": []}


CACHE_ABOVE = 50_000  # cases of a tier in a campaign above which the figures may be up to CACHE_SECONDS old
CACHE_SECONDS = 60
_cache: dict = {}
# statuses that are not "in review": the draft, every final status, and the lighthouse cultivation (status only, so
# the statement is served by the covering index ix_cases_province_list without reading the case rows)
NOT_IN_REVIEW = ("draft", *FINAL_STATUSES, "cultivating")


def figures(tier: str, campaign: Campaign, scopes: list[str]) -> tuple[dict[str, dict], datetime | None]:
    """({scope: figures} for the given recommenders, when they were counted if they are kept).

    Counting reads every case of the tier in the campaign (a covering-index scan, ~1 µs a case on SQLite) and its
    open overdue tasks: exact at a province's scale. When the tier has more than CACHE_ABOVE cases in the campaign
    (the basic tier nationally) the figures of every recommender are kept a minute per tier and campaign, one entry
    for all readers (the reader's scope is applied afterwards); the page says "figures as of". Whether to keep them
    is learnt from the count itself: no extra statement on the way."""
    now = clock.now()
    key = (settings().database_url, tier, campaign.id)
    hit = _cache.get(key)
    if hit is not None and hit[0] + timedelta(seconds=CACHE_SECONDS) > now:
        return {s: hit[1].get(s, _blank()) for s in scopes}, hit[0]
    tallied, total = _tally(tier, campaign, now)
    if total <= CACHE_ABOVE:
        return _fill(tier, campaign, scopes, tallied), None
    # kept for every reader: the rows were counted once for all recommenders; only the quotas are per recommender
    every = all_scopes()
    found = _fill(tier, campaign, every + [s for s in scopes if s not in every], tallied)
    if len(_cache) > 100:
        _cache.clear()
    _cache[key] = (now, found)
    return {s: found.get(s, _blank()) for s in scopes}, now


def all_scopes() -> list[str]:
    regions = db.session.scalars(select(Region.code).where(Region.kind.in_(("province", "xpcc"))).order_by(Region.code))
    groups = db.session.scalars(select(SoeGroup.key).order_by(SoeGroup.key))
    return [f"province:{c}" for c in regions] + [f"soe:{k}" for k in groups]


def _tally(tier: str, campaign: Campaign, now: datetime) -> tuple[dict[str, dict], int]:
    """The counted figures of every recommender with a case of the tier in the campaign (two grouped statements,
    whoever reads), and the number of those cases."""
    out: dict[str, dict] = {}
    total = 0
    outcome = OUTCOME[tier]
    rows = db.session.execute(
        select(Case.province_code, Case.soe_group_key, func.count(),
               func.sum(case((Case.status.in_(outcome), 1), else_=0)),
               func.sum(case((Case.status.not_in(NOT_IN_REVIEW), 1), else_=0)))
        .where(Case.tier == tier, Case.campaign_id == campaign.id)
        .group_by(Case.province_code, Case.soe_group_key))
    for province, group, n, done, open_ in rows:
        total += n
        f = out.setdefault(_recommender(tier, province, group), _blank())
        f["applications"] += n
        f["certified"] += int(done or 0)
        f["in_review"] += int(open_ or 0)
    # driven by the overdue open tasks (the inbox index: state, due_at), each task's case read by its key: the
    # case-side terms are written so that no index of `cases` applies (`|| ''`, `+ 0`), or SQLite walks every case of
    # the tier and probes its tasks (1.1 s against 0.17 s at 500,000 cases; docs/PERFORMANCE.md)
    late = db.session.execute(
        select(Case.province_code, Case.soe_group_key, func.count()).select_from(HumanTask)
        .join(Case, Case.id == HumanTask.case_id)
        .where(HumanTask.state == "open", HumanTask.due_at <= now, HumanTask.role != "enterprise",
               HumanTask.tier == tier, Case.tier.concat("") == tier, Case.campaign_id + 0 == campaign.id)
        .group_by(Case.province_code, Case.soe_group_key))
    for province, group, n in late:
        out.setdefault(_recommender(tier, province, group), _blank())["overdue"] += n
    return out, total


def _fill(tier: str, campaign: Campaign, scopes: list[str], tallied: dict[str, dict]) -> dict[str, dict]:
    """The figures of `scopes` (in that order) from the tally, with their quotas for the quota tiers."""
    out = {s: dict(tallied.get(s) or _blank()) for s in scopes}
    if tier in QUOTA_TIERS:
        _quotas(tier, campaign, out)
    return out


def _quotas(tier: str, campaign: Campaign, out: dict[str, dict]) -> None:
    latest = (select(CaseList.scope, func.max(CaseList.id).label("list_id"))
              .where(CaseList.kind == "recommendation", CaseList.tier == tier, CaseList.campaign_id == campaign.id)
              .group_by(CaseList.scope).subquery())
    listed = dict(db.session.execute(
        select(latest.c.scope, func.count(CaseListEntry.id)).select_from(latest)
        .join(CaseListEntry, CaseListEntry.list_id == latest.c.list_id, isouter=True).group_by(latest.c.scope)).all())
    # one read of the recommenders' regions: quota_for finds them in the session (no statement per recommender)
    regions = db.session.scalars(select(Region).where(Region.kind.in_(("province", "xpcc")))).all()
    kinds = {r.code: r.kind for r in regions}
    for scope, f in out.items():
        kind, _, key = scope.partition(":")
        if tier == "lighthouse" and (kind == "soe" or (kinds.get(key) == "xpcc"
                                                        and not campaign.xpcc_recommends_lighthouse)):
            continue  # only provinces recommend lighthouse (the XPCC where the campaign allows it)
        f["recommended"] = int(listed.get(scope, 0))
        try:
            f["quota"], _basis = quotas.quota_for(tier, scope, campaign)
            f["quota_state"] = "known"
        except Invalid as exc:
            f["quota_state"] = "unknown"
            missing = (exc.errors or {}).get("quota")
            f["quota_missing"] = list(missing.get("missing", [])) if isinstance(missing, dict) else []


def value(f: dict | None, figure: str):
    """The number a tile shows for a figure: a count, or for the quota the share used (0–1+); None when unknown or
    not applicable."""
    if f is None:
        return None
    if figure == "quota":
        if f["quota_state"] != "known":
            return None
        return (f["recommended"] or 0) / f["quota"] if f["quota"] else None
    return f[figure]


def level(v, top) -> int:
    """The colour step of a value: 0 for zero, 1..LEVELS by its share of the largest (quota: of the quota, the last
    step when it is used up or over)."""
    if not v:
        return 0
    if top is None:  # quota share
        return min(LEVELS, 1 + int(v * (LEVELS - 1))) if v < 1 else LEVELS
    return max(1, min(LEVELS, -(-v * LEVELS // top)))


def tile_map(actor: User, tier: str | None, year, figure: str | None) -> dict:
    """The tile map of one tier, campaign and figure as the actor may see it."""
    require_dashboard(actor)
    tier, campaign, figure = choose(tier, year, figure)
    regions = db.session.execute(select(Region.code, Region.name_zh, Region.name_en, Region.kind)
                                 .where(Region.kind.in_(("province", "xpcc"))).order_by(Region.code)).all()
    groups = db.session.execute(select(SoeGroup.key, SoeGroup.name).order_by(SoeGroup.key)).all()
    scopes = [f"province:{r.code}" for r in regions] + [f"soe:{g.key}" for g in groups]
    visible = [s for s in scopes if sees(actor, s)]
    figs, as_of = figures(tier, campaign, visible)
    counts = [value(figs[s], figure) for s in visible]
    top = None if figure == "quota" else max([c for c in counts if c is not None] or [0])
    mine = own_scope(actor)

    def tile(scope, **extra):
        f = figs.get(scope)
        v = value(f, figure)
        return {"scope": scope, "figures": f, "value": v, "visible": f is not None, "own": scope == mine,
                "level": None if v is None else level(v, top), **extra}

    tiles = [tile(f"province:{r.code}", code=r.code, name_zh=r.name_zh, name_en=r.name_en, kind=r.kind,
                  short_zh=short_zh(r.name_zh),
                  col=GRID.get(r.code, (COLUMNS - 1, ROWS - 1))[0], row=GRID.get(r.code, (COLUMNS - 1, ROWS - 1))[1])
             for r in regions]
    soe = [tile(f"soe:{g.key}", code=g.key, name_zh=g.name, name_en=g.name, kind="soe") for g in groups]
    return {"tier": tier, "campaign": campaign.year, "figure": figure, "tiles": tiles, "groups": soe,
            "top": top, "legend": legend(figure, top), "own": mine, "hidden": len(scopes) - len(visible),
            "as_of": as_of,
            "quota_applies": tier in QUOTA_TIERS}


def legend(figure: str, top) -> list[dict]:
    """The colour steps with the values each stands for."""
    if figure == "quota":
        return [{"level": 0, "low": 0, "high": 0}, {"level": 1, "low": 0, "high": 1 / 3},
                {"level": 2, "low": 1 / 3, "high": 2 / 3}, {"level": 3, "low": 2 / 3, "high": 1},
                {"level": 4, "low": 1, "high": None}]
    steps = [{"level": 0, "low": 0, "high": 0}]
    if top:
        bounds = [0] + [top * i // LEVELS for i in range(1, LEVELS + 1)]
        for i in range(1, LEVELS + 1):
            low, high = bounds[i - 1] + 1, bounds[i]
            if low <= high:
                steps.append({"level": i, "low": low, "high": high})
    return steps


def recommender(actor: User, scope: str, year) -> dict:
    """One recommender's figures for every tier of a campaign; 404 for an unknown one, 403 outside the actor's."""
    require_dashboard(actor)
    _t, campaign, _f = choose(None, year)
    kind, _, key = scope.partition(":")
    if kind == "province":
        region = db.session.get(Region, key)
        if region is None or region.kind not in ("province", "xpcc"):
            raise NotFound("no such province")
        name_zh, name_en = region.name_zh, region.name_en
    elif kind == "soe":
        group = db.session.get(SoeGroup, key)
        if group is None:
            raise NotFound("no such SOE group")
        name_zh = name_en = group.name
    else:
        raise NotFound("no such recommender")
    if not sees(actor, scope):
        raise Forbidden("the figures of this recommender are outside your scope")
    per_tier, as_of = {}, None
    for t in TIERS:
        found, when = figures(t, campaign, [scope])
        per_tier[t], as_of = found[scope], when or as_of
    return {"scope": scope, "kind": kind, "code": key, "name_zh": name_zh, "name_en": name_en,
            "campaign": campaign.year, "tiers": per_tier, "as_of": as_of}
