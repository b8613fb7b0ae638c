"""Handing a task to a colleague (issue 18 part 4): by its holder (or, when nobody holds it, by whoever may act on
it), by an administrator, or by the provincial administrator for a task of their province; to an active user of
the task's role and scope, with a reason. The new holder holds it from now (`claimed_at`), is told, and the case's
chain records `task.reassigned`."""
from datetime import datetime

from sqlalchemy import select

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Case, HumanTask, User
from app.services import clock, events, instances, notifications
from app.services.scope import can_view_case, may_act


def _find_user(to) -> User | None:
    if isinstance(to, int) or (isinstance(to, str) and to.isdigit()):
        return db.session.get(User, int(to))
    if isinstance(to, str) and to.strip():
        return db.session.scalar(select(User).where(User.username == to.strip()))
    return None


def _load(actor: User, task_id: int) -> tuple[HumanTask, Case]:
    task = db.session.get(HumanTask, task_id)
    case = db.session.get(Case, task.case_id) if task else None
    if task is None:
        raise NotFound("no such task")
    if actor.role == "admin":
        return task, case
    if actor.role == "provincial_admin":
        if not (task.scope or "").startswith(f"province:{actor.province_code}"):  # its province's own queues
            raise NotFound("no such task")
        return task, case
    if not can_view_case(actor, case):
        raise NotFound("no such task")
    return task, case


def _require_may(actor: User, task: HumanTask) -> None:
    if actor.role not in ("admin", "provincial_admin"):
        if not may_act(actor, task):
            raise Forbidden("only the task's holder, an administrator or the province's administrator hands it on")
        if task.claimed_by not in (None, actor.id):
            raise Forbidden("someone else holds this task")


def reassign(actor: User, task_id: int, to, reason, now: datetime | None = None) -> HumanTask:
    task, case = _load(actor, task_id)
    _require_may(actor, task)
    if task.state != "open":
        raise Conflict("the task is no longer open")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise Invalid("give a reason", errors={"reason": "required"})
    target = _find_user(to)
    if target is None or not target.active or target.role != task.role or target.scope != task.scope:
        raise Invalid("the colleague must be an active user of the task's role and scope",
                      errors={"to": "not of the task's role and scope"})
    now = now or clock.now()
    before = task.claimed_by
    task.claimed_by, task.claimed_at = target.id, now
    events.append(case, "task.reassigned", actor.id, now, task_uuid=task.task_uuid, element=task.element,
                  data={"from": before, "to": target.id, "reason": reason[:500]})
    instances.flush_orm()
    notifications.send([target.id], "reassigned", f"转办给您的任务：{task.title}（案件 {case.id}）", reason,
                       link=f"/tasks/{task.id}", case_id=case.id, at=now)
    return task


def colleagues(actor: User, task_id: int) -> list[User]:
    """Who the task may be handed to: active users of its role and scope, the holder aside."""
    task, _case = _load(actor, task_id)
    rows = db.session.scalars(select(User).where(User.role == task.role, User.active.is_(True))
                              .order_by(User.username))
    return [u for u in rows if u.scope == task.scope and u.id != task.claimed_by]


def choices(actor: User, task_id: int) -> list[User] | None:
    """What the task page's 转办 form offers `actor`: the colleagues it may hand the open task to (possibly none),
    or None when `actor` may not hand it on (the form is not shown). The same rules as `reassign`."""
    try:
        task, _case = _load(actor, task_id)
        _require_may(actor, task)
    except (NotFound, Forbidden):
        return None
    if task.state != "open":
        return None
    return [u for u in colleagues(actor, task_id) if u.id != actor.id]  # never to oneself


def held_by(actor: User, user_id: int) -> list[dict]:
    """The open tasks `user_id` holds that `actor` may hand on (an administrator: all; a provincial administrator:
    its province's own queues), each with the colleagues it may go to: what the people page offers when someone is
    away or leaves. [] for anyone else."""
    if actor.role not in ("admin", "provincial_admin"):
        return []
    rows = db.session.execute(select(HumanTask, Case.id).join(Case, Case.id == HumanTask.case_id).where(
        HumanTask.claimed_by == user_id, HumanTask.state == "open").order_by(HumanTask.id)).all()
    out = []
    for task, case_id in rows:
        offered = choices(actor, task.id)
        if offered is not None:
            out.append({"task": task, "case_id": case_id, "colleagues": [u for u in offered if u.id != user_id]})
    return out

