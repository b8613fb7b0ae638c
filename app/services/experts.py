"""Drawing an expert for an expert task: recusal, declared conflicts, balanced workload, a seeded recorded draw.

Only active members of the pool (users with role `expert`) are drawn, by field: first experts whose expertise is the
case's industry (app/data/industries.yaml), then — recorded as a fallback — experts of a neighbouring field (another
industry of the same GB/T 4754-2017 section), then any other field. Recused: experts whose home region is the
applicant's province (a plan-listed city such as 330200 Ningbo counts for its province, through `regions`), experts
employed by the applicant (`users.enterprise_id`), and experts who declared a conflict with the applicant's
enterprise or its central SOE group (`expert_conflicts`, managed in services/expert_pool.py). Among the rest, the
least loaded (open expert tasks) are preferred and ties are broken by a seeded shuffle; the seed and the candidate
list go into the case history so an auditor can redraw it.
"""
import hashlib
import random

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import ExpertConflict, HumanTask, Region, User


def sections(industry: str | None) -> set[str]:
    """The GB/T 4754-2017 sections (B mining, C manufacturing, D utilities) an industry key's divisions lie in."""
    from app.services import industries

    ind = industries.industry_list().get(industry or "")
    return {d[0] for d in ind.divisions} if ind else set()


def field_tiers(industry: str | None, experts: dict[int, list]) -> dict[str, list[int]]:
    """Split experts ({id: expertise keys}) by how their expertise covers the case's industry: `exact` (the
    industry itself), `neighbour` (another industry of the same GB/T 4754 section), `other`."""
    mine = sections(industry)
    out: dict[str, list[int]] = {"exact": [], "neighbour": [], "other": []}
    for uid in sorted(experts):
        keys = experts[uid] or []
        if industry in keys:
            out["exact"].append(uid)
        elif any(sections(k) & mine for k in keys):
            out["neighbour"].append(uid)
        else:
            out["other"].append(uid)
    return out


def order(tiers: dict[str, list[int]], load: dict[str, int], seed: str) -> list[int]:
    """The draw order: the exact field first, then its neighbours, then any other field; within each, the least
    loaded first and ties broken by the seeded shuffle. Pure: `redraw` repeats it from the recorded inputs."""
    out: list[int] = []
    for tier in TIERS:
        shuffled = sorted(tiers.get(tier, []))
        random.Random(f"{seed}:{tier}").shuffle(shuffled)
        out += sorted(shuffled, key=lambda uid: load.get(str(uid), 0))  # stable: keeps the shuffle on ties
    return out


TIERS = ("exact", "neighbour", "other")


def draw(case, element: str, exclude=()) -> dict:
    """{"expert": user id or None, "seed", "candidates": [ids in draw order], "recused": [ids], "rule": {...}}

    `exclude`: experts already on this case's panel (drawn in the same step or holding an open task of the case),
    so the members of one panel are distinct. `rule` records what an auditor needs to redraw it (`redraw`): the
    case's industry, the free experts of each field tier, their open-task load and the tier the expert came from."""
    from app.models import Enterprise

    home = aliased(Region)
    rows = db.session.execute(
        select(User.id, func.coalesce(home.province_code, User.province_code), User.enterprise_id, User.expertise)
        .outerjoin(home, home.code == User.province_code)
        .where(User.role == "expert", User.active.is_(True))).all()
    industry = getattr(case, "industry", None) or db.session.scalar(
        select(Enterprise.industry).where(Enterprise.id == case.enterprise_id))
    group = getattr(case, "soe_group_key", None)
    target = [ExpertConflict.enterprise_id == case.enterprise_id]
    if group:
        target.append(ExpertConflict.soe_group_key == group)
    conflicted = set(db.session.scalars(select(ExpertConflict.expert_id).where(or_(*target))))
    recused = sorted(uid for uid, prov, ent, _x in rows
                     if prov == case.province_code or ent == case.enterprise_id or uid in conflicted)
    busy = {int(scope.split(":")[1]) for scope in db.session.scalars(select(HumanTask.scope).where(
        HumanTask.case_id == case.id, HumanTask.state == "open", HumanTask.scope.like("expert:%")))
        if scope.split(":")[1].isdigit()}
    free = {uid: list(expertise or []) for uid, _prov, _ent, expertise in rows if uid not in recused
            and uid not in busy and uid not in set(exclude)}
    tiers = field_tiers(industry, free)
    counts = dict(db.session.execute(select(HumanTask.scope, func.count()).where(
        HumanTask.state == "open", HumanTask.scope.like("expert:%")).group_by(HumanTask.scope)).all())
    load = {str(uid): counts.get(f"expert:{uid}", 0) for uid in free}
    seed = hashlib.sha256(f"{case.id}:{element}:{case.event_seq}".encode()).hexdigest()[:16]
    ordered = order(tiers, load, seed)
    chosen = ordered[0] if ordered else None
    used = next((t for t in TIERS if chosen in tiers[t]), None)
    rule = {"name": "field-then-neighbour-then-other, least loaded, seeded ties", "industry": industry,
            "sections": sorted(sections(industry)), "tiers": tiers, "load": load, "tier_used": used,
            "fallback": used not in (None, "exact")}
    return {"expert": chosen, "seed": seed, "candidates": ordered, "recused": recused, "rule": rule}


def redraw(event) -> dict:
    """Repeat a recorded draw from its `expert.drawn` event (an event row or its data) alone: the same seed, the
    same free experts per field tier and their load give the same order and the same expert."""
    data = getattr(event, "data", event) or {}
    rule = data.get("rule") or {}
    ordered = order(rule.get("tiers") or {}, rule.get("load") or {}, data["seed"])
    return {"expert": ordered[0] if ordered else None, "candidates": ordered,
            "matches": ordered == data.get("candidates") and (ordered[0] if ordered else None) == data.get("expert")}
