"""Objections during a public notice (公示): anyone logged in may lodge one; an open objection holds the case
until a national reviewer decides (the diagram's objection task); the decision resolves every open objection."""
from datetime import datetime, timezone

from sqlalchemy import select, update

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Case, Enterprise, Incident, Objection, User
from app.services import cases, clock, events, instances, messages, visibility

NOTICE_STATUSES = ("public_notice", "objection_review")


def in_notice() -> list[dict]:
    """The public list: every case in its notice period, with what the public may see."""
    rows = db.session.execute(select(Case.id, Case.tier, Case.status, Enterprise.name, Enterprise.credit_code,
                                     Case.province_code, Case.next_timer_at)
                              .join(Enterprise, Enterprise.id == Case.enterprise_id)
                              .where(Case.status.in_(NOTICE_STATUSES)).order_by(Case.id))
    return [{"case_id": r.id, "tier": r.tier, "status": r.status, "enterprise": r.name, "credit_code": r.credit_code,
             "province": r.province_code, "notice_until": r.next_timer_at.isoformat() if r.next_timer_at else None}
            for r in rows]


def lodge(actor: User, case_id: int, reason, files=()) -> Objection:
    """`files`: (filename, stream) pairs of evidence, kept on the case (its reviewers see them)."""
    if actor.role == "auditor":
        raise Forbidden("auditors read; they do not lodge objections")
    if not isinstance(reason, str) or not 5 <= len(reason.strip()) <= 4000:
        raise Invalid("give the reasons (5 to 4000 characters)", errors={"reason": "5 to 4000 characters"})
    rec = instances.load(case_id)
    if rec is None or (rec.status not in NOTICE_STATUSES and not _may_view(actor, case_id)):
        raise NotFound("no such case")  # a case in its notice is public; any other exists only for its readers
    if rec.status not in NOTICE_STATUSES:
        raise Invalid("objections are taken only during the public notice", errors={"case_id": rec.status})
    now = clock.now()
    until = notice_until(rec)
    if until is not None and now >= until:  # the period is a time: closed even before the sweep ends it
        raise Invalid(f"the public notice ended at {until.isoformat()}; objections are no longer taken",
                      errors={"case_id": "notice period over"})
    evidence = []
    if files:
        from app.models import Case as CaseRow
        from app.services import attachments

        case_row = db.session.get(CaseRow, rec.id)
        evidence = [attachments.store(actor, case_row, name, stream).id for name, stream in files]
        rec = instances.load(case_id)  # the uploads appended events: continue from the case as it is now
    obj = Objection(case_id=rec.id, lodged_by=actor.id, reason=reason.strip(), state="open", created_at=now,
                    attachments=evidence or None)
    db.session.add(obj)
    db.session.flush()
    payload = {"objection_id": obj.id, "reason": obj.reason, "attachments": evidence}
    if rec.status == "public_notice" and not _delivery_held(rec.id):
        # the objection stands either way; lodged in the notice period, it counts from now (a held one too)
        messages.deliver_or_hold(rec, "objection_lodged", payload, actor.id, now, timely=True)
    else:  # already under review, or an earlier objection is held with an incident (its retry delivers that one):
        # the pending decision covers this one too
        events.append(rec, "objection.lodged", actor.id, now, data=payload)
        instances.commit_case(rec)
    return obj


def _delivery_held(case_id: int) -> bool:
    """Whether an earlier objection's message waits in an open incident of the case (services/messages.py)."""
    held = db.session.scalars(select(Incident.data).where(Incident.case_id == case_id, Incident.kind == "message",
                                                          Incident.state == "open"))
    return any((data or {}).get("message") == "objection_lodged" for data in held)


def _may_view(actor: User, case_id: int) -> bool:
    from app.services.scope import can_view_case

    row = db.session.get(Case, case_id)
    return row is not None and can_view_case(actor, row)
def notice_until(rec) -> datetime | None:
    """The end of the case's notice period, as its diagram computed it (`notice_until` in the case data)."""
    from app.services import processes
    from workflows.instance import Instance

    value = Instance.load(rec.state, processes.version_info(rec.process_version_id).bundle).case_data() \
        .get("notice_until")
    try:
        until = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=timezone.utc)
    return until


def resolve_open(case_id: int, actor_id: int, decision: str, resolution: str | None, now) -> int:
    """Called when the objection task completes: `reject` (of the case) upholds, `approve` dismisses."""
    res = db.session.execute(update(Objection).where(Objection.case_id == case_id, Objection.state == "open").values(
        state="upheld" if decision == "reject" else "dismissed", resolution=resolution, resolved_by=actor_id,
        resolved_at=now))
    return res.rowcount


def for_case(case_id: int) -> list[Objection]:
    return list(db.session.scalars(select(Objection).where(Objection.case_id == case_id).order_by(Objection.id)))


def for_reader(actor: User, case_id: int) -> list[dict]:
    """The case's objections as `actor` may read them (404 outside the case's scope): the objected enterprise gets
    no evidence ids (services/visibility.py); nobody gets the objector's id here."""
    case = cases.get_case(actor, case_id)
    seen = visibility.for_case(actor, case)
    return [dict(to_json(o), attachments=[i for i in (o.attachments or []) if seen.attachment(i)])
            for o in for_case(case.id)]


def to_json(o: Objection) -> dict:
    return {"id": o.id, "case_id": o.case_id, "reason": o.reason, "attachments": o.attachments or [],
            "state": o.state, "resolution": o.resolution,
            "created_at": o.created_at.isoformat(), "resolved_at": o.resolved_at.isoformat() if o.resolved_at else None}
