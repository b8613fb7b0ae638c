"""The scheduler: every tick, the holder of the lease sweeps due timers (each case in its own transaction), then
reminders and escalations.

This module runs jobs, so unlike the other services it opens its own units of work: one for the claim, one per
case fired, one for the reminders (`app/uow.py` stays the only place that commits).

- `sweep(now)` — one pass at the instant `now` (`flask timers run --now` calls it; tests call it at any instant).
- `tick(holder, now)` — renew or take the lease, and sweep only when this scheduler holds it.
- `Runner` — an APScheduler 3 interval job calling `tick` at the real clock: `flask scheduler run` blocks on it, the
  run command starts it beside the server (`start_beside_server`, SCHEDULER_ENABLED=1).

The lease is one row of `scheduler_leases` (holder, expires_at), renewed every tick for SCHEDULER_LEASE_SECONDS; a
second scheduler's tick finds it held and does nothing until the holder stops renewing and the lease expires.
"""
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, ServiceError
from app.extensions import db
from app.models.scheduling import SchedulerLease
from app.services import timers
from app.settings import settings

log = logging.getLogger("tierflow.scheduler")
LEASE = "scheduler"


@dataclass
class SweepResult:
    now: datetime
    token: str
    fired: list[tuple[int, list[str]]] = field(default_factory=list)  # (case id, elements) in firing order
    skipped: list[int] = field(default_factory=list)  # claimed elsewhere meanwhile (taken over, being fired)
    errors: list[tuple[int, str]] = field(default_factory=list)
    reminders: int = 0

    @property
    def count(self) -> int:
        return sum(len(els) for _c, els in self.fired)


def _setting(name: str, default: int) -> int:
    try:
        return int(settings().get(name, default))
    except RuntimeError:  # no app context
        return default


def sweep(now: datetime, *, token: str | None = None, limit: int | None = None, with_reminders: bool = True,
          on_fired=None) -> SweepResult:
    """Claim the timers due at `now` and fire each claimed case in its own transaction; then reminders."""
    from app.uow import unit_of_work

    token = token or uuid.uuid4().hex
    limit = limit or _setting("TIMER_SWEEP_BATCH", 500)
    timeout = timedelta(seconds=_setting("TIMER_CLAIM_TIMEOUT_SECONDS", 300))
    result = SweepResult(now=now, token=token)
    db.session.rollback()  # start from a fresh transaction: the claim's UPDATE is its first statement
    for _round in range(100):  # more than `limit` rows due: claim again until none is left
        with unit_of_work():
            case_ids = timers.claim_due(now, token, timeout, limit)
        done = {c for c, _e in result.fired} | set(result.skipped) | {c for c, _e in result.errors}
        todo = [c for c in case_ids if c not in done]
        if not todo:
            break
        for case_id in todo:
            try:
                with unit_of_work():
                    elements = timers.fire_claimed(case_id, now, token)
            except Conflict as exc:  # a person changed the case meanwhile: give the claim back, next sweep retries
                result.errors.append((case_id, exc.message))
                with unit_of_work():
                    timers.release(case_id, token)
                continue
            except Exception as exc:  # the claim stays: retried once it times out, not in a tight loop
                msg = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
                log.warning("case %s: timer not fired: %s", case_id, msg)
                result.errors.append((case_id, msg))
                continue
            if elements is None:
                result.skipped.append(case_id)
                continue
            result.fired.append((case_id, elements))
            if on_fired:
                on_fired(case_id, elements)
    if with_reminders:
        from app.services import reminders

        result.reminders = reminders.sweep(now)
    return result


# -- the lease ---------------------------------------------------------------------------------------------------
def acquire_lease(holder: str, now: datetime, ttl: timedelta) -> bool:
    """Renew our lease or take an expired one (in the caller's transaction); False while another holds it. A lease
    that expires further ahead than one ttl was written by a clock set later than ours: it counts as expired."""
    L = SchedulerLease.__table__
    res = db.session.execute(
        update(L).where(L.c.name == LEASE, or_(L.c.holder == holder, L.c.expires_at <= now,
                                               L.c.expires_at > now + ttl))
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


def tick(holder: str, now: datetime, on_fired=None) -> SweepResult | None:
    """One scheduler tick: sweep if we hold (or could take) the lease, else nothing."""
    from app.uow import unit_of_work

    db.session.rollback()
    ttl = timedelta(seconds=_setting("SCHEDULER_LEASE_SECONDS", 90))
    try:
        with unit_of_work():
            held = acquire_lease(holder, now, ttl)
    except Conflict:  # SQLite busy with another scheduler's write: this tick is skipped
        return None
    if not held:
        return None
    return sweep(now, on_fired=on_fired)


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# -- the APScheduler job -----------------------------------------------------------------------------------------
class Runner:
    """An APScheduler interval job running `tick` at the real clock (services.clock) inside an app context."""

    def __init__(self, app, blocking: bool = False, echo=None):
        self.app = app
        self.holder = new_holder_id()
        self.echo = echo
        self.interval = int(app.config.get("SCHEDULER_INTERVAL_SECONDS", 30))
        if blocking:
            from apscheduler.schedulers.blocking import BlockingScheduler as Sched
        else:
            from apscheduler.schedulers.background import BackgroundScheduler as Sched
        self.scheduler = Sched(timezone=timezone.utc)
        self.scheduler.add_job(self.job, "interval", seconds=self.interval, id="tierflow-sweep", max_instances=1,
                               coalesce=True, next_run_time=datetime.now(timezone.utc))

    def job(self) -> None:
        from app.services import clock

        with self.app.app_context():
            try:
                now = clock.now()
                res = tick(self.holder, now, on_fired=self._fired)
                if res is not None and (res.count or res.errors or res.reminders):
                    log.info("sweep at %s: %d timer(s) fired, %d reminder(s), %d error(s)", now.isoformat(),
                             res.count, res.reminders, len(res.errors))
            except Exception:  # one failed tick must not stop the scheduler
                log.exception("scheduler tick failed")
            finally:
                db.session.remove()

    def _fired(self, case_id, elements):
        for el in elements:
            line = f"case {case_id}: {el} fired"
            log.info(line)
            if self.echo:
                self.echo(line)

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        from app.services import clock
        from app.uow import unit_of_work

        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        with self.app.app_context():
            try:
                with unit_of_work():
                    release_lease(self.holder, clock.now())
            finally:
                db.session.remove()


_beside_server: Runner | None = None
_lock = threading.Lock()


def start_beside_server(app) -> Runner | None:
    """Start the background scheduler in this process (the run command, SCHEDULER_ENABLED=1), at most once. Not
    under tests, and not in the Werkzeug reloader's watching parent (only in the child that serves)."""
    global _beside_server
    if not app.config.get("SCHEDULER_ENABLED") or app.config.get("TESTING"):
        return None
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None  # the reloader's parent process: its child starts the scheduler
    with _lock:
        if _beside_server is not None:
            return _beside_server
        import atexit

        _beside_server = Runner(app)
        _beside_server.start()
        atexit.register(_beside_server.shutdown)
        return _beside_server


def stop_beside_server() -> None:
    """`flask scheduler run` in a process that also started one beside a server: one scheduler per process."""
    global _beside_server
    with _lock:
        if _beside_server is not None:
            _beside_server.shutdown()
            _beside_server = None
