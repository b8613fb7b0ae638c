"""Each step's data is its own (issue 15): every completed user task's form fields are kept under the step that
produced them (element, round = the nth completion of that element in the case), with who, in which role and
department, and when. Only the outputs a task declares enter the process data (workflows.instance.step_outputs);
pages read a step's fields from here, so no page can show one step's field as another step's value.

`record` runs inside `tasks.complete` (the same transaction as the `task.completed` event it mirrors, `seq`);
`abandon_from` marks the steps an administrator's rewind leaves on a side branch; `backfill` builds the rows of
cases completed before this table existed from their event history (migration 0018, `flask cases
migrate-step-data`)."""
from sqlalchemy import bindparam, func, insert, select, update

from app.extensions import db
from app.models import CaseStep
from app.services import instances

_T = CaseStep.__table__
_ROUND = (select(func.count()).select_from(_T)
          .where(_T.c.case_id == bindparam("_case"), _T.c.element == bindparam("_element"),
                 _T.c.abandoned.is_(False)))
_INSERT = insert(_T)


def department_of(role: str | None, scope: str | None) -> str | None:
    """A co-department task's scope names its department (`province:330000:ndrc`)."""
    parts = (scope or "").split(":")
    return parts[2] if role == "co_department_reviewer" and len(parts) > 2 else None


def record(case_id: int, task, actor_id: int | None, data: dict, seq: int, at) -> int:
    """Keep a completed task's form fields under its step; returns the step's round."""
    rnd = instances.execute(_ROUND, {"_case": case_id, "_element": task.element}).scalar_one() + 1
    instances.execute(_INSERT, {
        "case_id": case_id, "seq": seq, "element": task.element, "round": rnd, "task_uuid": task.task_uuid,
        "title": task.title, "form": task.form, "role": task.role,
        "department": department_of(task.role, task.scope), "actor_id": actor_id, "at": at, "data": data,
        "abandoned": False})
    return rnd


def for_case(case_id: int) -> list[CaseStep]:
    """Every step of the case in the order they were taken (abandoned ones included, marked)."""
    return list(db.session.scalars(select(CaseStep).where(CaseStep.case_id == case_id).order_by(CaseStep.seq)))


def latest(case_id: int, element: str) -> CaseStep | None:
    """The element's latest completion on the case's branch (what its form is prefilled from when it comes back)."""
    return db.session.scalar(select(CaseStep).where(
        CaseStep.case_id == case_id, CaseStep.element == element, CaseStep.abandoned.is_(False))
        .order_by(CaseStep.seq.desc()).limit(1))


def abandon_from(case_id: int, seq: int) -> int:
    """A rewind to before event `seq`: the steps from it on are history of an abandoned branch."""
    res = instances.execute(update(_T).where(_T.c.case_id == case_id, _T.c.seq >= seq, _T.c.abandoned.is_(False))
                            .values(abandoned=True))
    return res.rowcount


def backfill() -> int:
    """The step rows of every case that has none yet, from its history (each `task.completed` event carries the
    data its task was completed with, its inbox row the role, scope and form); returns how many were written.
    Migration 0018 runs a frozen copy of this once; `flask cases migrate-step-data` runs it again at any time."""
    from app.models import CaseEvent, HumanTask

    done = set(db.session.scalars(select(CaseStep.case_id).distinct()))
    rows = db.session.execute(
        select(CaseEvent, HumanTask.title, HumanTask.form, HumanTask.role, HumanTask.scope)
        .outerjoin(HumanTask, HumanTask.task_uuid == CaseEvent.task_uuid)
        .where(CaseEvent.action.in_(("task.completed", "case.rewound")))
        .order_by(CaseEvent.case_id, CaseEvent.seq)).all()
    out: list[dict] = []
    rounds: dict = {}
    for ev, title, form, role, scope in rows:
        if ev.case_id in done:
            continue
        if ev.action == "case.rewound":
            to = (ev.data or {}).get("to")
            for s in out:
                if s["case_id"] == ev.case_id and to is not None and to <= s["seq"] < ev.seq and not s["abandoned"]:
                    s["abandoned"] = True
                    rounds[(ev.case_id, s["element"])] -= 1
            continue
        key = (ev.case_id, ev.element)
        rounds[key] = rounds.get(key, 0) + 1
        out.append({"case_id": ev.case_id, "seq": ev.seq, "element": ev.element or "", "round": rounds[key],
                    "task_uuid": ev.task_uuid, "title": title, "form": form, "role": role,
                    "department": department_of(role, scope), "actor_id": ev.actor_id, "at": ev.at,
                    "data": ev.data or {}, "abandoned": False})
    if out:
        instances.execute(_INSERT, out)
    return len(out)
