"""Lists across cases. A certifier publishes its certified list in one batch: every case on it learns the outcome
through a BPMN message, in the same transaction that records the list (all or nothing)."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Case, CaseList, CaseListEntry, User
from app.services import clock, instances, messages, quotas
from app.services.cases import campaign_by_year, end_of_day
from app.services.scope import can_view_case, case_filter

CERTIFIERS = ("provincial_reviewer", "soe_reviewer")


def publish_certified(actor: User, tier: str, campaign_year, case_ids) -> CaseList:
    if actor.role not in CERTIFIERS:
        raise Forbidden("only a certifier (provincial department or central SOE group) publishes a certified list")
    if tier != "advanced":
        raise Invalid("certified lists are published for the advanced tier", errors={"tier": "must be advanced"})
    camp = campaign_by_year(campaign_year)
    if not isinstance(case_ids, list) or not case_ids or len(set(case_ids)) != len(case_ids) \
            or not all(isinstance(c, int) for c in case_ids):
        raise Invalid("case_ids must be a non-empty list of distinct case ids", errors={"case_ids": "invalid"})
    now = clock.now()
    records, errors = [], {}
    for cid in case_ids:
        rec = instances.load(cid)
        if rec is None or not can_view_case(actor, rec):
            errors[str(cid)] = "no such case in your scope"
        elif rec.tier != tier or rec.campaign_id != camp.id:
            errors[str(cid)] = f"not an {tier} case of campaign {camp.year}"
        elif rec.status != "approved":
            errors[str(cid)] = f"not approved and waiting for publication (status {rec.status})"
        else:
            records.append(rec)
    if errors:
        raise Invalid("the list was not published: " + "; ".join(f"case {k}: {v}" for k, v in errors.items()),
                      errors=errors)
    lst = CaseList(kind="certified", tier=tier, campaign_id=camp.id, scope=actor.scope, created_by=actor.id,
                   created_at=now, details={"count": len(records)})
    lst.entries = [CaseListEntry(case_id=rec.id, position=i + 1) for i, rec in enumerate(records)]
    db.session.add(lst)
    db.session.flush()
    for rec in records:
        messages.deliver(rec, "certified_list_published", {"list_id": lst.id}, actor.id, now)
    return lst


RECOMMENDERS = {"excellent": ("provincial_reviewer", "soe_reviewer"), "lighthouse": ("provincial_reviewer",)}


def recommend(actor: User, tier: str, campaign_year, case_ids) -> CaseList:
    """The recommender's ranked list (first = highest priority), within the quota, by the recommendation deadline.

    Every case of the recommender waiting for the list learns its outcome by message: listed cases go on with
    their priority, the others are not recommended. Nothing is recorded if any check fails."""
    if tier not in RECOMMENDERS:
        raise Invalid("recommendation lists are for the excellent and lighthouse tiers", errors={"tier": "invalid"})
    if actor.role not in RECOMMENDERS[tier]:
        raise Forbidden(f"only {' or '.join(RECOMMENDERS[tier])} recommend for {tier}")
    camp = campaign_by_year(campaign_year)
    if not isinstance(case_ids, list) or len(set(case_ids)) != len(case_ids) \
            or not all(isinstance(c, int) for c in case_ids):
        raise Invalid("case_ids must be a list of distinct case ids in priority order", errors={"case_ids": "invalid"})
    now = clock.now()
    from app.services import deadlines

    province = actor.scope.split(":")[1] if actor.scope.startswith("province:") else None
    due = deadlines.effective_dates(camp, tier, province)["recommendation_deadline"]  # extensions count
    if due and now >= end_of_day(due):
        raise Invalid(f"the recommendation deadline {due} has passed",
                      errors={"campaign": "recommendation deadline passed"})
    if db.session.scalar(select(CaseList.id).where(CaseList.kind == "recommendation", CaseList.tier == tier,
                                                   CaseList.campaign_id == camp.id, CaseList.scope == actor.scope)):
        raise Invalid("this recommender already submitted its list for the campaign", errors={"case_ids": "submitted"})
    quota, basis = quotas.quota_for(tier, actor.scope, camp)
    if len(case_ids) > quota:
        raise Invalid(f"{len(case_ids)} cases exceed the quota of {quota} ({basis['table']} v{basis['version']}, "
                      f"inputs {basis['inputs']})", errors={"case_ids": {"quota": quota, **basis}})
    waiting = {c for c in db.session.scalars(select(Case.id).where(
        case_filter(actor), Case.tier == tier, Case.campaign_id == camp.id, Case.status == "recommendation"))}
    errors = {str(c): "not a case of yours waiting for this list" for c in case_ids if c not in waiting}
    if errors:
        raise Invalid("the list was not recorded: " + "; ".join(f"case {k}: {v}" for k, v in errors.items()),
                      errors=errors)
    left_out = sorted(waiting - set(case_ids))
    lst = CaseList(kind="recommendation", tier=tier, campaign_id=camp.id, scope=actor.scope, created_by=actor.id,
                   created_at=now, details={"quota": quota, **basis, "not_recommended": left_out})
    lst.entries = [CaseListEntry(case_id=cid, position=i + 1) for i, cid in enumerate(case_ids)]
    db.session.add(lst)
    db.session.flush()
    for i, cid in enumerate(case_ids):
        messages.deliver(instances.load(cid), "recommendation_result",
                         {"recommended": True, "priority": i + 1, "list_id": lst.id}, actor.id, now)
    for cid in left_out:
        messages.deliver(instances.load(cid), "recommendation_result",
                         {"recommended": False, "list_id": lst.id}, actor.id, now)
    return lst


def visible_lists(actor: User, tier: str | None = None):
    q = select(CaseList).order_by(CaseList.id.desc())
    if tier:
        q = q.where(CaseList.tier == tier)
    if actor.role in ("national_reviewer", "admin", "auditor"):
        pass  # reported to the national reviewers
    elif actor.role == "sasac_reviewer":
        q = q.where(CaseList.scope.like("soe:%"))  # a central SOE's list also goes to SASAC
    elif actor.role in CERTIFIERS:
        q = q.where(CaseList.scope == actor.scope)
    else:
        raise Forbidden("lists are for reviewers")
    # the campaign and the entries of every list in one statement each, not one per list
    q = q.options(selectinload(CaseList.campaign), selectinload(CaseList.entries))
    return list(db.session.scalars(q.limit(200)))


def get_list(actor: User, list_id: int) -> CaseList:
    lst = db.session.get(CaseList, list_id)
    visible = lst is not None and (
        actor.role in ("national_reviewer", "admin", "auditor")
        or (actor.role == "sasac_reviewer" and lst.scope.startswith("soe:"))
        or (actor.role in CERTIFIERS and lst.scope == actor.scope))
    if not visible:
        raise NotFound("no such list")
    return lst


def list_json(lst: CaseList) -> dict:
    return {"id": lst.id, "kind": lst.kind, "tier": lst.tier, "campaign": lst.campaign.year, "scope": lst.scope,
            "created_by": lst.created_by, "created_at": lst.created_at.isoformat(), "details": lst.details,
            "cases": [{"position": e.position, "case_id": e.case_id} for e in lst.entries]}


def candidates(actor: User, kind: str, tier: str, campaign_year) -> dict:
    """What a certifier or recommender may put on a list now: the cases of its scope waiting for it, the quota
    (or why it cannot be computed) and the deadline."""
    camp = campaign_by_year(campaign_year)
    waiting_status = "approved" if kind == "certified" else "recommendation"
    rows = list(db.session.scalars(select(Case).where(case_filter(actor), Case.tier == tier,
                                                      Case.campaign_id == camp.id, Case.status == waiting_status)
                                   .order_by(Case.id)))
    out = {"kind": kind, "tier": tier, "campaign": camp.year, "cases": rows, "quota": None, "quota_error": None,
           "deadline": None, "submitted": None}
    if kind == "recommendation":
        try:
            out["quota"], out["basis"] = quotas.quota_for(tier, actor.scope, camp)
        except Invalid as exc:
            out["quota_error"] = exc.message
        deadline = camp.deadline_for(tier)
        out["deadline"] = deadline.recommendation_deadline if deadline else None
        out["submitted"] = db.session.scalar(select(CaseList).where(
            CaseList.kind == "recommendation", CaseList.tier == tier, CaseList.campaign_id == camp.id,
            CaseList.scope == actor.scope))
    return out
