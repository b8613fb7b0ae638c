"""The scheduler's lease and sweep settings, in the caller's transaction (the jobs in `app/jobs/scheduler.py` run
the sweep and open the units of work).

The lease is one row of `scheduler_leases` (holder, expires_at), renewed every tick for SCHEDULER_LEASE_SECONDS; a
second scheduler's tick finds it held and does nothing until the holder stops renewing and the lease expires.
"""
import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.scheduling import SchedulerLease
from app.settings import settings

LEASE = "scheduler"


def _setting(name: str, default: int) -> int:
    try:
        return int(settings().get(name, default))
    except RuntimeError:  # no app context
        return default


def sweep_batch() -> int:
    """How many due timer rows one claim takes (TIMER_SWEEP_BATCH)."""
    return _setting("TIMER_SWEEP_BATCH", 500)


def claim_timeout() -> timedelta:
    """How long a sweep's claim keeps other sweeps off its rows (TIMER_CLAIM_TIMEOUT_SECONDS)."""
    return timedelta(seconds=_setting("TIMER_CLAIM_TIMEOUT_SECONDS", 300))


def lease_ttl() -> timedelta:
    return timedelta(seconds=_setting("SCHEDULER_LEASE_SECONDS", 90))


def acquire_lease(holder: str, now: datetime, ttl: timedelta) -> bool:
    """Renew our lease or take an expired one (in the caller's transaction); False while another holds it. A lease
    that expires more than one ttl further ahead than ours would was written by a clock set later than ours (a
    simulated future): it counts as expired. A tick whose reading of the clock is stale (a starved process read it
    before the holder renewed) sees the renewed lease less than one ttl ahead of that: held."""
    L = SchedulerLease.__table__
    res = db.session.execute(
        update(L).where(L.c.name == LEASE, or_(L.c.holder == holder, L.c.expires_at <= now,
                                               L.c.expires_at > now + 2 * ttl))
        .values(acquired_at=case((L.c.holder == holder, L.c.acquired_at), else_=now), holder=holder,
                expires_at=now + ttl))
    if res.rowcount:
        return True
    if db.session.scalar(select(L.c.name).where(L.c.name == LEASE)) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.execute(L.insert().values(name=LEASE, holder=holder, acquired_at=now, expires_at=now + ttl))
    except IntegrityError:
        return False  # another scheduler inserted it first
    return True


def release_lease(holder: str, now: datetime) -> None:
    L = SchedulerLease.__table__
    db.session.execute(update(L).where(L.c.name == LEASE, L.c.holder == holder).values(expires_at=now))


def lease_holder() -> tuple[str, datetime] | None:
    row = db.session.execute(select(SchedulerLease.holder, SchedulerLease.expires_at)
                             .where(SchedulerLease.name == LEASE)).first()
    return (row[0], row[1]) if row else None


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
