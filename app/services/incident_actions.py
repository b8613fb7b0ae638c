"""Resolving an incident (services/incidents.py): retry the failed step, skip it where the diagram allows, or cancel
the case; each an `incident.resolved` event in the case's chain. A retry re-runs the step as it was asked: a task
completion with the recorded data, as the user who submitted it (after an administrator deployed a fix and migrated
the case, services/case_migrations.py); a timer firing at the time of the retry; an outbox effect released to the
next drain. A retry that fails again raises StepFailed: the entry floor counts another attempt on the incident."""
from datetime import datetime

from sqlalchemy import select, update

from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import Case, HumanTask, Incident, MessageWait, TimerRow, User
from app.services import clock, events, instances, messages, outbox, tasks, timers
from app.services.incidents import get, to_json


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
    elif inc.kind == "message":  # the same message again (services/messages.py); a new failure counts an attempt
        at = (inc.data or {}).get("at")  # a timely message (an objection) is taken at the instant it came
        messages.deliver(instances.load(inc.case_id), inc.data["message"], inc.data["payload"], inc.actor_id, now,
                         at=datetime.fromisoformat(at) if at else None)
    elif inc.kind == "outbox":
            outbox.release_for_incident(inc.id)  # the next drain carries it out (after this commit)
    else:
        raise Invalid("this incident cannot be retried here", errors={"kind": inc.kind})
    _resolve(inc, user, "retried", None, now)
    return to_json(inc)


def skip(user: User, incident_id: int, reason, now: datetime | None = None) -> dict:
    """Give up the failed step where the diagram allows it: an effect outside the process (an outbox item) is
    dropped; an engine step is never skipped behind the diagram's back (retry or cancel the case instead)."""
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
    db.session.execute(MessageWait.__table__.delete().where(MessageWait.case_id == case.id))
    db.session.flush()
    rec = instances.load(case.id)
    rec.status, rec.closed_at, rec.next_timer_at, rec.updated_at = "withdrawn", now, None, now
    rec.message_wait = None
    events.append(rec, "case.cancelled", user.id, now, element=inc.element,
                  data={"incident": inc.id, "reason": reason, "status": "withdrawn"})
    instances.commit_case(rec)
    db.session.expire(case)
    _resolve(inc, user, "cancelled", reason, now)
    return to_json(inc)
