"""A recommender's ranked recommendation list (excellent, lighthouse) and its amendment window.

The list amendment window (docs/ARCHITECTURE.md): a recommender submits its list (first = highest priority) and
may amend it — add, remove, reorder — until its recommendation deadline. Until then the cases stay waiting at the
list step of their diagram (status `recommendation`): nothing has been released to the national stage, so removing
a case needs no engine surgery. The list freezes when the deadline passes (`freeze_due`, the first thing each timer
sweep does, before the cases' own deadline timers fire) or when the recommender closes it early (`final`); then
every listed case learns `recommended` with its priority and every other case of the recommender still waiting
learns `not recommended`. The quota applies to the list as it stands; every submission, amendment and freeze is a
system event (who, when, the list before and after)."""
import hashlib
import json

from sqlalchemy import select

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Case, CaseList, CaseListEntry, Enterprise, User
from app.services import clock, instances, messages, quotas, system_events
from app.services.cases import campaign_by_year, end_of_day
from app.services.scope import case_filter

RECOMMENDERS = {"excellent": ("provincial_reviewer", "soe_reviewer"), "lighthouse": ("provincial_reviewer",)}


def content_hash(lst: CaseList, case_ids: list[int]) -> str:
    """sha256 of what the list says: kind, tier, campaign, scope and the cases in order (not their later status)."""
    body = {"kind": lst.kind, "tier": lst.tier, "campaign_id": lst.campaign_id, "scope": lst.scope,
            "cases": list(case_ids)}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def deadline_of(lst_or_scope, tier: str, camp):
    """The recommender's effective recommendation deadline (a date; its province's extensions count)."""
    from app.services import deadlines

    scope = lst_or_scope if isinstance(lst_or_scope, str) else lst_or_scope.scope
    province = scope.split(":")[1] if scope.startswith("province:") else None
    return deadlines.effective_dates(camp, tier, province)["recommendation_deadline"]


def _ids(case_ids, field: str = "case_ids") -> list[int]:
    if not isinstance(case_ids, list) or len(set(case_ids)) != len(case_ids) \
            or not all(isinstance(c, int) and not isinstance(c, bool) for c in case_ids):
        raise Invalid("case_ids must be a list of distinct case ids in priority order", errors={field: "invalid"})
    return case_ids


def _open_window(tier: str, scope: str, camp, now) -> None:
    due = deadline_of(scope, tier, camp)
    if due and now >= end_of_day(due):
        raise Invalid(f"the recommendation deadline {due} has passed: the list is frozen",
                      errors={"campaign": "recommendation deadline passed"})


def _waiting(actor: User, tier: str, camp) -> dict[int, str]:
    """{case id: enterprise name} of the recommender's cases waiting at the list step."""
    q = select(Case.id, Enterprise.name).join(Enterprise, Enterprise.id == Case.enterprise_id).where(
        case_filter(actor), Case.tier == tier, Case.campaign_id == camp.id, Case.status == "recommendation")
    return dict(db.session.execute(q).all())


def _check(actor: User, tier: str, camp, case_ids: list[int], not_recommended) -> tuple[dict, list[int]]:
    """The quota basis and the waiting cases left off; Invalid naming every case at fault."""
    basis = quotas.check_list(tier, actor.scope, len(case_ids), camp)
    waiting = _waiting(actor, tier, camp)
    errors = {str(c): "not a case of yours waiting for this list" for c in case_ids if c not in waiting}
    if not_recommended is not None:  # the page: every waiting case needs an explicit choice
        not_recommended = _ids(not_recommended, "not_recommended")
        for c in set(case_ids) & set(not_recommended):
            errors[str(c)] = "both recommended and not recommended"
        for c in not_recommended:
            if c not in waiting:
                errors.setdefault(str(c), "not a case of yours waiting for this list")
        for c in sorted(set(waiting) - set(case_ids) - set(not_recommended)):
            errors[str(c)] = f"no choice made for {waiting[c]} (recommend with a rank, or not recommend)"
    if errors:
        raise Invalid("the list was not recorded: " + "; ".join(f"case {k}: {v}" for k, v in errors.items()),
                      errors=errors)
    return basis, sorted(set(waiting) - set(case_ids))


def _set_entries(lst: CaseList, case_ids: list[int]) -> None:
    for entry in list(lst.entries):
        lst.entries.remove(entry)
    db.session.flush()  # the old positions are gone before the new ones take them (unique per list)
    lst.entries = [CaseListEntry(case_id=cid, position=i + 1) for i, cid in enumerate(case_ids)]
    lst.content_hash = content_hash(lst, case_ids)


def _mine(actor: User, tier: str) -> None:
    if tier not in RECOMMENDERS:
        raise Invalid("recommendation lists are for the excellent and lighthouse tiers", errors={"tier": "invalid"})
    if actor.role not in RECOMMENDERS[tier]:
        raise Forbidden(f"only {' or '.join(RECOMMENDERS[tier])} recommend for {tier}")


def current(actor: User, tier: str, camp) -> CaseList | None:
    return db.session.scalar(select(CaseList).where(
        CaseList.kind == "recommendation", CaseList.tier == tier, CaseList.campaign_id == camp.id,
        CaseList.scope == actor.scope))


def recommend(actor: User, tier: str, campaign_year, case_ids, not_recommended=None, final: bool = False) -> CaseList:
    """Submit the ranked list, or amend the one already submitted (the same as `amend`). `not_recommended`: when
    given (the page), every waiting case must be in exactly one of the two lists. `final`: close it now (the cases
    learn their outcome now instead of at the deadline). Nothing is recorded if any check fails."""
    _mine(actor, tier)
    camp = campaign_by_year(campaign_year)
    case_ids = _ids(case_ids)
    existing = current(actor, tier, camp)
    if existing is not None:
        return amend(actor, existing.id, case_ids, not_recommended=not_recommended, final=final)
    now = clock.now()
    _open_window(tier, actor.scope, camp, now)
    basis, left_out = _check(actor, tier, camp, case_ids, not_recommended)
    lst = CaseList(kind="recommendation", tier=tier, campaign_id=camp.id, scope=actor.scope, created_by=actor.id,
                   created_at=now, details={**basis, "not_recommended": left_out, "amendments": 0})
    _set_entries(lst, case_ids)
    db.session.add(lst)
    db.session.flush()
    system_events.append(actor.id, "list.submitted", f"list {lst.id}", {
        "tier": tier, "campaign": camp.year, "scope": actor.scope, "case_ids": case_ids, "quota": basis.get("quota"),
        "content_hash": lst.content_hash}, at=now)
    if final:
        freeze(lst, now, actor.id)
    return lst


def amend(actor: User, list_id: int, case_ids, not_recommended=None, final: bool = False) -> CaseList:
    """Replace the list's cases (add, remove, reorder) before the deadline; the quota applies to the new list."""
    lst = db.session.get(CaseList, list_id) if isinstance(list_id, int) else None
    if lst is None or lst.kind != "recommendation" or lst.scope != actor.scope:
        raise NotFound("no such recommendation list of yours")
    _mine(actor, lst.tier)
    case_ids = _ids(case_ids)
    now = clock.now()
    if lst.frozen_at is not None:
        raise Invalid("this list is frozen: its cases have learned their outcome", errors={"case_ids": "frozen"})
    _open_window(lst.tier, lst.scope, lst.campaign, now)
    before = [e.case_id for e in lst.entries]
    basis, left_out = _check(actor, lst.tier, lst.campaign, case_ids, not_recommended)
    _set_entries(lst, case_ids)
    lst.details = {**basis, "not_recommended": left_out, "amendments": (lst.details or {}).get("amendments", 0) + 1}
    db.session.flush()
    system_events.append(actor.id, "list.amended", f"list {lst.id}", {
        "before": before, "after": case_ids, "added": [c for c in case_ids if c not in before],
        "removed": [c for c in before if c not in case_ids], "quota": basis.get("quota"),
        "content_hash": lst.content_hash}, at=now)
    if final:
        freeze(lst, now, actor.id)
    return lst


def freeze(lst: CaseList, now, actor_id: int | None) -> None:
    """Close the list: listed cases are recommended with their priority, the recommender's other waiting cases are
    not. Cases no longer waiting (withdrawn meanwhile) are skipped and named in the freeze event."""
    owner = db.session.get(User, lst.created_by)
    waiting = set(_waiting(owner, lst.tier, lst.campaign)) if owner is not None else set()
    listed = [e for e in lst.entries if e.case_id in waiting]
    left_out = sorted(waiting - {e.case_id for e in lst.entries})
    # a case whose step fails is held with an incident (services/messages.py); the list and the others stand
    held = [entry.case_id for entry in listed if not messages.deliver_or_hold(
        instances.load(entry.case_id), "recommendation_result",
        {"recommended": True, "priority": entry.position, "list_id": lst.id}, actor_id, now)]
    held += [cid for cid in left_out if not messages.deliver_or_hold(
        instances.load(cid), "recommendation_result", {"recommended": False, "list_id": lst.id}, actor_id, now)]
    lst.frozen_at = now
    lst.details = {**(lst.details or {}), "not_recommended": left_out, **({"held": held} if held else {})}
    db.session.flush()
    system_events.append(actor_id, "list.frozen", f"list {lst.id}", {
        "recommended": [e.case_id for e in listed], "not_recommended": left_out,
        "skipped": [e.case_id for e in lst.entries if e.case_id not in waiting], "held": held,
        "content_hash": lst.content_hash},
        at=now)


def freeze_due(now) -> list[int]:
    """Freeze every open recommendation list whose recommender's deadline has passed at `now`; the ids frozen.
    The timer sweep calls it first, so the cases learn their outcome before their deadline timers fire."""
    done = []
    for lst in list(db.session.scalars(select(CaseList).where(CaseList.kind == "recommendation",
                                                              CaseList.frozen_at.is_(None)).order_by(CaseList.id))):
        due = deadline_of(lst, lst.tier, lst.campaign)
        if due and now >= end_of_day(due):
            freeze(lst, now, None)
            done.append(lst.id)
    return done
