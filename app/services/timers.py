"""Firing due timers: one case at a time, each in its own transaction (the caller's unit of work)."""
from datetime import datetime

from sqlalchemy import delete, select

from app.extensions import db
from app.models import Campaign, TimerRow
from app.services import events, instances, processes
from workflows.instance import Instance


def due_cases(now: datetime, limit: int = 500) -> list[int]:
    return list(db.session.scalars(select(TimerRow.case_id).where(TimerRow.due_at <= now).distinct()
                                   .order_by(TimerRow.case_id).limit(limit)))


def fire_case(case_id: int, now: datetime) -> list[str]:
    """Advance one case's due timers at `now`; returns the elements that fired. Idempotent: a timer that has
    already fired is no longer a row, so running twice fires nothing the second time."""
    case = instances.load(case_id)
    fired = [r.element for r in db.session.scalars(select(TimerRow).where(TimerRow.case_id == case_id,
                                                                          TimerRow.due_at <= now))]
    if case is None or not fired:
        db.session.execute(delete(TimerRow).where(TimerRow.case_id == case_id, TimerRow.due_at <= now))
        return []
    info = processes.version_info(case.process_version_id)
    inst = Instance.load(case.state, info.bundle)
    inst.fire_timers(now)
    instances.save(case, inst, now)
    events.append(case, "timer.fired", None, now, element=",".join(fired), data={"now": now.isoformat()},
                  state=case.state)
    if inst.completed:
        year = db.session.scalar(select(Campaign.year).where(Campaign.id == case.campaign_id))
        instances.record_outcome(case, None, now, year)
    instances.commit_case(case)
    return fired
