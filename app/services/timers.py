"""Firing due timers: claim the due rows, then advance each case in its own transaction (the caller's unit of work).

A sweep (services/scheduler.sweep) works in two kinds of transaction:
1. `claim_due` marks up to `limit` due, unclaimed rows with the sweep's token and time, in one conditional UPDATE
   (on PostgreSQL its subquery takes the rows `FOR UPDATE SKIP LOCKED`, so two sweeps claim disjoint rows without
   waiting; SQLite serialises writers, and the second UPDATE no longer sees the rows as free). The claim commits.
2. `fire_claimed` per case: first take the case (PostgreSQL: its row `FOR UPDATE SKIP LOCKED`; SQLite: an UPDATE of
   our claim rows, which takes the database's write lock) and check that our claim still stands, then fire the
   case (`fire_case`); `instances.save` rewrites the case's timer rows, which removes the claim with the fired rows.
A sweep that dies between 1 and the commit of 2 leaves claimed rows behind; a claim older than the timeout (or
dated in the future: a clock moved back) is free again, so the next sweep fires them. A timer never fires twice:
a fired timer's row is gone in the same transaction, and the case row's version check refuses a concurrent write.
"""
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from app.extensions import db
from app.models import Campaign, Case, TimerRow
from app.models.scheduling import TIMER_CLAIMS as T
from app.services import events, heatmap, incidents, instances, operators, processes
from workflows.errors import EngineError
from workflows.instance import Instance

# a timer whose firing fails is retried after 1, 2, 4, 8 minutes; the fifth failure opens an incident and holds
# the case's due timers (no sweep picks them up again until an administrator resolves it)
MAX_ATTEMPTS = 5
BACKOFF = timedelta(minutes=1)


class TimerFailed(Exception):
    """The engine refused to fire a case's due timers (the sweep rolls back and calls `note_failure`)."""

    def __init__(self, case_id: int, elements: list[str], message: str):
        super().__init__(message)
        self.case_id, self.elements, self.message = case_id, elements, message


def _not_held(now: datetime):
    return (T.c.incident_id.is_(None), or_(T.c.next_attempt_at.is_(None), T.c.next_attempt_at <= now))


def note_failure(failed: TimerFailed, now: datetime) -> int | None:
    """Count a failed firing on the case's due timer rows: the next try after a growing pause, an incident after
    MAX_ATTEMPTS (returns its id). The caller's transaction follows the rolled-back one of the firing."""
    rows = list(db.session.scalars(select(TimerRow).where(TimerRow.case_id == failed.case_id,
                                                          TimerRow.due_at < now)))
    attempts = max((r.attempts or 0 for r in rows), default=0) + 1
    values: dict = {"attempts": attempts, "next_attempt_at": now + BACKOFF * (2 ** (attempts - 1)),
                    "claim_token": None, "claimed_at": None}
    incident_id = None
    if attempts >= MAX_ATTEMPTS:
        inc = incidents.record(incidents.Failure(
            case_id=failed.case_id, kind="timer", element=",".join(failed.elements) or None,
            element_name=",".join(failed.elements) or None, message=failed.message, at=now))
        incident_id = values["incident_id"] = inc.id
    db.session.execute(update(T).where(T.c.case_id == failed.case_id, T.c.due_at < now)
                       .values(**values).execution_options(synchronize_session=False))
    return incident_id


def fire_now(case_id: int, now: datetime) -> list[str]:
    """An administrator's retry of a held timer: fire the case now; a failure is counted on its open incident."""
    try:
        return fire_case(case_id, now)
    except TimerFailed as exc:
        raise incidents.StepFailed(incidents.Failure(case_id=case_id, kind="timer",
                                                     element=",".join(exc.elements) or None,
                                                     message=exc.message, at=now)) from None


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def due_cases(now: datetime, limit: int = 500) -> list[int]:
    return list(db.session.scalars(select(TimerRow.case_id).where(TimerRow.due_at < now).distinct()
                                   .order_by(TimerRow.case_id).limit(limit)))


def claim_due(now: datetime, token: str, timeout: timedelta, limit: int = 500) -> list[int]:
    """Claim due timer rows for the sweep `token`; returns the ids of the cases to fire. The caller commits."""
    free = or_(T.c.claim_token.is_(None), T.c.claimed_at < now - timeout, T.c.claimed_at > now + timeout)
    pick = (select(T.c.id).where(T.c.due_at < now, free, *_not_held(now)).order_by(T.c.due_at, T.c.id).limit(limit)
            .with_for_update(skip_locked=True))  # rendered on PostgreSQL only
    db.session.execute(update(T).where(T.c.id.in_(pick.scalar_subquery()))
                       .values(claim_token=token, claimed_at=now).execution_options(synchronize_session=False))
    return list(db.session.scalars(select(T.c.case_id).where(T.c.claim_token == token).distinct()
                                   .order_by(T.c.case_id)))


def take_case(case_id: int, now: datetime, token: str) -> bool:
    """Start the case's transaction: True if our claim on it still stands and nobody else is firing it."""
    if _postgres():
        locked = db.session.scalar(select(Case.id).where(Case.id == case_id).with_for_update(skip_locked=True))
        if locked is None:
            return False
        return bool(db.session.scalar(select(func.count()).select_from(T).where(
            T.c.case_id == case_id, T.c.claim_token == token)))
    # SQLite: a write first, so this transaction holds the write lock from here to its commit
    res = db.session.execute(update(T).where(T.c.case_id == case_id, T.c.claim_token == token)
                             .values(claimed_at=now).execution_options(synchronize_session=False))
    return res.rowcount > 0


def release(case_id: int, token: str) -> None:
    """Give a claim back (the case could not be fired now): the next sweep tries again without waiting."""
    db.session.execute(update(T).where(T.c.case_id == case_id, T.c.claim_token == token)
                       .values(claim_token=None, claimed_at=None).execution_options(synchronize_session=False))


def fire_claimed(case_id: int, now: datetime, token: str) -> list[str] | None:
    """Fire a case this sweep claimed; None when the claim was taken over or the case is being fired elsewhere."""
    if not take_case(case_id, now, token):
        return None
    return fire_case(case_id, now)


def fire_case(case_id: int, now: datetime) -> list[str]:
    """Advance one case's due timers at `now`; returns the elements that fired. Idempotent: a timer that has
    already fired is no longer a row, so running twice fires nothing the second time."""
    case = instances.load(case_id)
    rows = db.session.execute(select(TimerRow.element, TimerRow.started_at).where(TimerRow.case_id == case_id,
                                                                                  TimerRow.due_at < now)).all()
    fired = [el for el, _started in rows]
    if case is None or not fired:
        db.session.execute(delete(TimerRow).where(TimerRow.case_id == case_id, TimerRow.due_at < now))
        return []
    info = processes.version_info(case.process_version_id)
    inst = Instance.load(case.state, info.bundle)
    try:
        inst.fire_timers(now)
    except EngineError as exc:
        raise TimerFailed(case_id, fired, str(exc)) from None
    instances.save(case, inst, now)
    if case.next_timer_at is None:  # no timer waits any more: rows of this case left over are stale
        db.session.execute(delete(TimerRow).where(TimerRow.case_id == case_id))
    heatmap.note_fired(case, [tuple(r) for r in rows], now)  # the process heatmap's fired timers (issue 19)
    events.append(case, "timer.fired", None, now, element=",".join(fired), data={"now": now.isoformat()},
                  state=case.state)
    operators.enqueue_pending(case, inst.wf, None, now)  # service tasks after the timer: after the commit
    if inst.completed:
        year = db.session.scalar(select(Campaign.year).where(Campaign.id == case.campaign_id))
        instances.record_outcome(case, None, now, year)
    instances.commit_case(case)
    return fired
