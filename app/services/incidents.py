"""Incidents: a step the engine refused at run time (a script error after a diagram change, a gateway with no
matching path, a condition reading a variable no form set, a timer whose firing fails).

The case stays at its last good state and nothing the user submitted is lost:
1. the service that ran the step raises `StepFailed(Failure)` instead of an error answer;
2. the entry floor's unit of work (app/uow.py) rolls the step back, then, in a second transaction, calls `record`:
   an `incidents` row, the submitted data as the task's draft, one `incident.opened` event in the case's chain and
   a notice to the administrators; it commits that and raises `Held` (409 `held`) with the message for the user.
A second failure of the same element while its incident is open counts an attempt on it (no second event).

Administrators resolve an incident in services/incident_actions.py (retry, skip, cancel the case), each an
`incident.resolved` event. (Two modules so that tasks and timers, which raise StepFailed, and the actions, which run
tasks and timers again, import no circle.)
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import HumanTask, Incident, OutboxItem, User
from app.services import events, instances

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


CAUSES = (("Error evaluating expression", "condition"), ("No conditions", "no_path"),
          ("no outgoing", "no_path"), ("engine steps without waiting", "loop"), ("script", "script"),
          ("Script", "script"), ("decision table", "decision"), ("SMTP", "mail"), ("mail server", "mail"))


def cause(message: str) -> str:
    """The kind of failure, for the plain-words line the pages show above the technical detail."""
    for needle, kind in CAUSES:
        if needle in (message or ""):
            return kind
    return "other"


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


def for_case(case_id: int) -> list[Incident]:
    return list(db.session.scalars(select(Incident).where(Incident.case_id == case_id).order_by(Incident.id)))


def hold_outbox(item_id: int, message: str, now: datetime) -> int | None:
    """An outbox item that kept failing: an incident on its case (when it has one) holds it for an administrator."""
    item = db.session.get(OutboxItem, item_id)
    if item is None or item.case_id is None:
        return None
    inc = record(Failure(case_id=item.case_id, kind="outbox", element=item.kind, element_name=item.key,
                         message=message, at=now))
    item.incident_id = inc.id
    db.session.flush()
    return inc.id
