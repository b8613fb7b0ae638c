"""Writing an instance back: state, case status, inbox rows and timer rows, in the caller's transaction."""
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Case, HumanTask, TierRecord, TimerRow
from app.models.cases import FINAL_STATUSES
from app.services import events
from app.services.errors import Conflict
from app.services.scope import resolve_role, task_scope
from workflows.instance import Instance

TIER_SOURCE = {"basic": "self_assessment"}


def _duration(text: str | None) -> timedelta | None:
    if not text:
        return None
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as T

    try:
        parsed = T.parse_iso_duration(text)
        return T.get_timedelta_from_start(parsed, datetime.now().astimezone())
    except Exception:
        return None


def status_of(case: Case, inst: Instance, open_props: list[dict]) -> str:
    if inst.completed:
        end = inst.end_event() or ""
        status = end[4:] if end.startswith("end_") else ""
        return status if status in FINAL_STATUSES else "closed"
    for props in open_props:
        if props.get("status"):
            status = props["status"]
            return "returned" if status == "draft" and case.revisions else status
    return "in_progress"


def save(case: Case, inst: Instance, now: datetime) -> list[HumanTask]:
    """Persist the instance and mirror its waiting human tasks and timers; returns the new inbox rows."""
    case.state = inst.dump()
    case.updated_at = now
    ready = inst.human_tasks()
    existing = {t.task_uuid: t for t in db.session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open"))} if case.id else {}
    ready_ids = {t.uuid for t in ready}
    for uuid, row in existing.items():
        if uuid not in ready_ids:
            row.state = "cancelled"
            row.completed_at = now
    created = []
    for info in ready:
        if info.uuid in existing:
            continue
        role = resolve_role(info.lane or "", case)
        due = _duration(info.due)
        row = HumanTask(case_id=case.id, task_uuid=info.uuid, element=info.element, title=info.title,
                        form=info.form, role=role, scope=task_scope(role, case), state="open", tier=case.tier,
                        due_at=(now + due) if due else None, created_at=now)
        db.session.add(row)
        created.append(row)
    case.status = status_of(case, inst, [t.properties for t in ready])
    if inst.completed and case.closed_at is None:
        case.closed_at = now
    _sync_timers(case, inst)
    return created


def _sync_timers(case: Case, inst: Instance) -> None:
    waiting = sorted(inst.waiting_timers())
    if case.id is None:
        return
    rows = list(db.session.scalars(select(TimerRow).where(TimerRow.case_id == case.id)))
    if sorted((r.element, r.due_at) for r in rows) == waiting:
        return
    db.session.execute(delete(TimerRow).where(TimerRow.case_id == case.id))
    for element, due in waiting:
        db.session.add(TimerRow(case_id=case.id, element=element, due_at=due))


def flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict("the case was changed by someone else at the same time; reload and try again") from None


def record_outcome(case: Case, actor_id: int | None, now: datetime) -> None:
    """When a case closes: its final event, and the tier history for a certified tier."""
    if case.status == "certified":
        db.session.add(TierRecord(enterprise_id=case.enterprise_id, tier=case.tier, year=case.campaign.year,
                                  source=TIER_SOURCE.get(case.tier, "certified"), case_id=case.id))
    events.append(case, "case.closed", actor_id, now, data={"status": case.status}, state=case.state)
