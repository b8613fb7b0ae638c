"""Lists across cases. A certifier publishes its certified list in one batch: every case on it learns the outcome
through a BPMN message, in the same transaction that records the list (all or nothing)."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Case, CaseList, CaseListEntry, Objection, User
from app.services import clock, instances, messages, quotas, recommendation_lists
from app.services.cases import campaign_by_year
from app.services.recommendation_lists import RECOMMENDERS  # noqa: F401  (callers read it here)
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
    lst.frozen_at = now  # published: never amended
    lst.content_hash = recommendation_lists.content_hash(lst, [rec.id for rec in records])
    db.session.add(lst)
    db.session.flush()
    # one case whose step fails is held with an incident (services/messages.py); the list and the others stand
    held = [rec.id for rec in records
            if not messages.deliver_or_hold(rec, "certified_list_published", {"list_id": lst.id}, actor.id, now)]
    if held:
        lst.details = {**lst.details, "held": held}
        db.session.flush()
    return lst


def recommend(actor: User, tier: str, campaign_year, case_ids, not_recommended=None, final: bool = False):
    """The recommender's ranked list: services/recommendation_lists.py (submission, amendment window, freeze)."""
    return recommendation_lists.recommend(actor, tier, campaign_year, case_ids, not_recommended, final)


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


def entry_states(lst: CaseList) -> dict[int, dict]:
    """{case id: {"status", "revoked_at", "revocation_reason"}}: each entry's current status and, for a case whose
    objection was upheld, when and why it was revoked. Two statements whatever the list's length."""
    return _states([e.case_id for e in lst.entries])


def _states(ids: list[int]) -> dict[int, dict]:
    if not ids:
        return {}
    out = {cid: {"status": st, "revoked_at": None, "revocation_reason": None}
           for cid, st in db.session.execute(select(Case.id, Case.status).where(Case.id.in_(ids)))}
    for o in db.session.scalars(select(Objection).where(Objection.case_id.in_(ids), Objection.state == "upheld")
                                .order_by(Objection.resolved_at, Objection.id)):
        row = out[o.case_id]
        if row["revoked_at"] is None:  # the first upheld objection revoked it; later ones were decided with it
            row.update(revoked_at=o.resolved_at, revocation_reason=o.resolution or o.reason)
    return out


def lists_json(lsts: list[CaseList]) -> list[dict]:
    """Many lists with their entries' states read in two statements for all of them."""
    states = _states(sorted({e.case_id for lst in lsts for e in lst.entries}))
    return [list_json(lst, states) for lst in lsts]


def verify(lst: CaseList) -> bool:
    """The list as recorded is intact: its entries still hash to the hash taken when it was recorded."""
    return lst.content_hash is not None and \
        lst.content_hash == recommendation_lists.content_hash(lst, [e.case_id for e in lst.entries])


def list_json(lst: CaseList, states: dict | None = None) -> dict:
    states = entry_states(lst) if states is None else states

    def entry(e):
        st = states.get(e.case_id, {})
        return {"position": e.position, "case_id": e.case_id, "status": st.get("status"),
                "revoked_at": st["revoked_at"].isoformat() if st.get("revoked_at") else None,
                "revocation_reason": st.get("revocation_reason")}

    return {"id": lst.id, "kind": lst.kind, "tier": lst.tier, "campaign": lst.campaign.year, "scope": lst.scope,
            "created_by": lst.created_by, "created_at": lst.created_at.isoformat(), "details": lst.details,
            "frozen_at": lst.frozen_at.isoformat() if lst.frozen_at else None, "content_hash": lst.content_hash,
            "verified": verify(lst), "cases": [entry(e) for e in lst.entries]}


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
        out["quota_floor"], out["quota_missing"] = (None, [])
        if out["quota_error"]:
            try:
                out["quota_floor"], out["quota_missing"] = quotas.quota_floor(tier, actor.scope, camp)
            except Invalid:
                pass
        out["deadline"] = recommendation_lists.deadline_of(actor.scope, tier, camp)
        out["submitted"] = lst = recommendation_lists.current(actor, tier, camp)
        out["ranks"] = {e.case_id: e.position for e in lst.entries} if lst else {}
        out["not_recommended"] = set((lst.details or {}).get("not_recommended", [])) if lst else set()
        out["open"] = lst is None or lst.frozen_at is None
    return out
