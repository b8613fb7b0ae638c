"""Incidents: a step the engine refused at run time (a script error after a diagram change, a gateway with no
matching path, a condition reading a variable no form set, a timer whose firing fails).

The case stays at its last good state and nothing the user submitted is lost:
1. the service that ran the step raises `StepFailed(Failure)` instead of an error answer;
2. the entry floor's unit of work (app/uow.py) rolls the step back, then, in a second transaction, calls `record`:
   an `incidents` row, the submitted data as the task's draft, one `incident.opened` event in the case's chain and
   a notice to the administrators; it commits that and raises `Held` (409 `held`) with the message for the user.
A second failure of the same element while its incident is open counts an attempt on it (no second event).

Administrators resolve an incident (`retry`, `skip`, `cancel_case`), each an `incident.resolved` event. A retry
re-runs the step as it was asked: a task completion with the recorded data, as the user who submitted it (after an
administrator deployed a fix and migrated the case, `services/case_migrations.py`); a timer firing at the time of
the retry.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Case, HumanTask, Incident, TimerRow, User
from app.services import clock, events, instances

HELD_MESSAGE = "the case is held: the process could not carry out this step; an administrator has been informed " \
               "and your input is kept as a draft"


@dataclass
class Failure:
    """What the entry floor records after rolling back a failed step."""
    case_id: int
    kind: str  # task | timer | message | outbox
    element: str | None
    message: str
    at: datetime
    actor_id: int | None = None
    element_name: str | None = None
    task_uuid: str | None = None
    data: dict | None = field(default=None)


class StepFailed(Exception):
    """A step the engine refused at run time; the entry floor rolls it back and records `failure`."""

    def __init__(self, failure: Failure):
        super().__init__(failure.message)
        self.failure = failure


class Held(Conflict):
    """The answer to the user whose step failed: the case is held and an administrator informed."""
    code = "held"


def require_admin(user: User) -> None:
    if user.role != "admin":
        raise Forbidden("incidents are for administrators")


def plain(message: str) -> str:
    """The failure in plain words: the first line, no Python traceback or object address."""
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else "the step failed"
    return line[:500]


def record(failure: Failure) -> Incident:
    """Open an incident for the failure (or count another attempt on the open one of the same element); keep the
    submitted data as the task's draft. Runs in the entry floor's second transaction, after the rollback."""
    now = failure.at
    inc = db.session.scalar(select(Incident).where(
        Incident.case_id == failure.case_id, Incident.kind == failure.kind, Incident.state == "open",
        Incident.element == failure.element))
    if failure.task_uuid and failure.data is not None:
        db.session.execute(update(HumanTask).where(HumanTask.task_uuid == failure.task_uuid,
                                                   HumanTask.state == "open").values(draft=failure.data))
    if inc is not None:
        inc.attempts += 1
        inc.message = plain(failure.message)
        inc.updated_at = now
        if failure.data is not None:
            inc.data = failure.data
        db.session.flush()
        return inc
    inc = Incident(case_id=failure.case_id, kind=failure.kind, element=failure.element,
                   element_name=failure.element_name, task_uuid=failure.task_uuid, message=plain(failure.message),
                   data=failure.data, state="open", attempts=1, actor_id=failure.actor_id, created_at=now,
                   updated_at=now)
    db.session.add(inc)
    db.session.flush()
    rec = instances.load(failure.case_id)
    events.append(rec, "incident.opened", failure.actor_id, now, task_uuid=failure.task_uuid,
                  element=failure.element, data={"incident": inc.id, "kind": failure.kind, "message": inc.message})
    instances.commit_case(rec)
    _tell_admins(inc)
    return inc


def _tell_admins(inc: Incident) -> None:
    from app.services import notifications  # a notice per administrator; e-mail by their choice

    notifications.to_role("admin", "incident", "流程事件：案件 %d 的「%s」未能执行" % (inc.case_id,
                          inc.element_name or inc.element or ""), inc.message,
                          link=f"/admin/incidents/{inc.id}", case_id=inc.case_id, at=inc.created_at)


def open_count() -> int:
    """Open incidents (the administrator's landing page and the dashboard show it)."""
    return db.session.scalar(select(func.count()).select_from(Incident).where(Incident.state == "open")) or 0


def list_incidents(user: User, state: str | None = "open", limit: int = 200) -> list[Incident]:
    require_admin(user)
    q = select(Incident)
    if state in ("open", "resolved"):
        q = q.where(Incident.state == state)
    elif state not in (None, "", "all"):
        raise Invalid("state is open, resolved or all", errors={"state": "open, resolved or all"})
    return list(db.session.scalars(q.order_by(Incident.created_at.desc(), Incident.id.desc()).limit(limit)))


def get(user: User, incident_id: int) -> Incident:
    require_admin(user)
    inc = db.session.get(Incident, incident_id)
    if inc is None:
        raise NotFound("no such incident")
    return inc


def to_json(inc: Incident) -> dict:
    return {"id": inc.id, "case_id": inc.case_id, "kind": inc.kind, "element": inc.element,
            "element_name": inc.element_name, "message": inc.message, "state": inc.state,
            "attempts": inc.attempts, "actor_id": inc.actor_id, "created_at": inc.created_at.isoformat(),
            "resolved_at": inc.resolved_at.isoformat() if inc.resolved_at else None,
            "resolution": inc.resolution, "reason": inc.reason, "data": inc.data}


def _open(user: User, incident_id: int) -> Incident:
    inc = get(user, incident_id)
    if inc.state != "open":
        raise Conflict("the incident is already resolved")
    return inc


def _resolve(inc: Incident, user: User, resolution: str, reason: str | None, now: datetime) -> None:
    inc.state, inc.resolution, inc.reason = "resolved", resolution, reason
    inc.resolved_at, inc.resolved_by, inc.updated_at = now, user.id, now
    db.session.flush()
    rec = instances.load(inc.case_id)
    events.append(rec, "incident.resolved", user.id, now, element=inc.element,
                  data={"incident": inc.id, "resolution": resolution, "reason": reason})
    instances.commit_case(rec)


def _reason(reason) -> str:
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise Invalid("give a reason", errors={"reason": "required"})
    return reason[:500]


def retry(user: User, incident_id: int, now: datetime | None = None) -> dict:
    """Re-run the failed step; when it fails again the entry floor counts another attempt (409 `held`)."""
    from app.services import tasks, timers

    inc = _open(user, incident_id)
    now = now or clock.now()
    if inc.kind == "task":
        row = db.session.scalar(select(HumanTask).where(
            HumanTask.case_id == inc.case_id, HumanTask.state == "open",
            (HumanTask.task_uuid == inc.task_uuid) | (HumanTask.element == inc.element)).order_by(
            (HumanTask.task_uuid == inc.task_uuid).desc(), HumanTask.id))
        if row is None:
            raise Conflict("the task is no longer waiting; cancel the case or resolve it another way")
        actor = db.session.get(User, inc.actor_id) if inc.actor_id else user
        data = dict(inc.data or row.draft or {})
        tasks.complete(actor, row.id, data)
    elif inc.kind == "timer":
        db.session.execute(update(TimerRow).where(TimerRow.case_id == inc.case_id)
                           .values(attempts=0, next_attempt_at=None, incident_id=None))
        timers.fire_now(inc.case_id, now)
    elif inc.kind == "outbox":
        from app.services import outbox

        outbox.release_for_incident(inc.id)  # the next drain carries it out (after this commit)
    else:
        raise Invalid("this incident cannot be retried here", errors={"kind": inc.kind})
    _resolve(inc, user, "retried", None, now)
    return to_json(inc)


def skip(user: User, incident_id: int, reason, now: datetime | None = None) -> dict:
    """Give up the failed step where the diagram allows it: an effect outside the process (an outbox item) is
    dropped; an engine step is never skipped behind the diagram's back (retry or cancel the case instead)."""
    from app.services import outbox

    inc = _open(user, incident_id)
    reason = _reason(reason)
    now = now or clock.now()
    if inc.kind != "outbox":
        raise Invalid("the diagram does not allow skipping this step: retry it after a fix, or cancel the case",
                      errors={"kind": inc.kind})
    outbox.drop_for_incident(inc.id, now)
    _resolve(inc, user, "skipped", reason, now)
    return to_json(inc)


def cancel_case(user: User, incident_id: int, reason, now: datetime | None = None) -> dict:
    """End the case (status `withdrawn`): its open tasks are cancelled, its timers dropped; the incident resolved."""
    inc = _open(user, incident_id)
    reason = _reason(reason)
    now = now or clock.now()
    case = db.session.get(Case, inc.case_id)
    if case.closed_at is not None:
        raise Conflict("the case has already ended")
    db.session.execute(update(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")
                       .values(state="cancelled"))
    db.session.execute(TimerRow.__table__.delete().where(TimerRow.case_id == case.id))
    db.session.flush()
    rec = instances.load(case.id)
    rec.status, rec.closed_at, rec.next_timer_at, rec.updated_at = "withdrawn", now, None, now
    events.append(rec, "case.cancelled", user.id, now, element=inc.element,
                  data={"incident": inc.id, "reason": reason, "status": "withdrawn"})
    instances.commit_case(rec)
    db.session.expire(case)
    _resolve(inc, user, "cancelled", reason, now)
    return to_json(inc)


def for_case(case_id: int) -> list[Incident]:
    return list(db.session.scalars(select(Incident).where(Incident.case_id == case_id).order_by(Incident.id)))
