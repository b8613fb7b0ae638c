"""The scheduler's jobs: every tick, the holder of the lease sweeps due timers (each case in its own transaction),
then reminders and escalations (`app/jobs/reminders.py`).

- `sweep(now)` — one pass at the instant `now` (`flask timers run --now` calls it; tests call it at any instant):
  one unit of work per claim, one per case fired (`services/timers.py` says what each does).
- `tick(holder, now)` — renew or take the lease (`services/scheduler.py`), and sweep only when this scheduler holds
  it.
- `Runner` — an APScheduler 3 interval job calling `tick` at the real clock: `flask scheduler run` blocks on it, the
  app factory starts one beside the server (`start_beside_server`, SCHEDULER_ENABLED=1).
"""
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from app.errors import Conflict, ServiceError
from app.extensions import db
from app.jobs import outbox as outbox_job
from app.jobs import reminders as reminder_job
from app.services import clock, notification_digest, recommendation_lists, scheduler, timers
from app.uow import unit_of_work

log = logging.getLogger("tierflow.scheduler")


@dataclass
class SweepResult:
    now: datetime
    token: str
    fired: list[tuple[int, list[str]]] = field(default_factory=list)  # (case id, elements) in firing order
    skipped: list[int] = field(default_factory=list)  # claimed elsewhere meanwhile (taken over, being fired)
    errors: list[tuple[int, str]] = field(default_factory=list)
    reminders: int = 0
    frozen_lists: list[int] = field(default_factory=list)  # recommendation lists frozen by this sweep

    @property
    def count(self) -> int:
        return sum(len(els) for _c, els in self.fired)


def _keep(holder: str | None, now: datetime) -> bool:
    """Renew our lease between the parts of a long sweep (a sweep may outlast one lease under load); False once
    another scheduler has taken it: this sweep stops where it is and that scheduler goes on. (The sweep's `now` is
    the clock at its start, or a later instant an operator chose: whichever is later counts.)"""
    if holder is None:
        return True
    try:
        with unit_of_work():
            return scheduler.acquire_lease(holder, max(now, clock.now()), scheduler.lease_ttl())
    except Conflict:  # SQLite busy with another writer: we still hold it until it expires
        return True


def sweep(now: datetime, *, token: str | None = None, limit: int | None = None, with_reminders: bool = True,
          on_fired=None, holder: str | None = None) -> SweepResult:
    """Claim the timers due at `now` and fire each claimed case in its own transaction; then reminders. `holder`:
    the lease this sweep runs under, renewed between its parts (`_keep`)."""
    token = token or uuid.uuid4().hex
    limit = limit or scheduler.sweep_batch()
    timeout = scheduler.claim_timeout()
    result = SweepResult(now=now, token=token)
    db.session.rollback()  # start from a fresh transaction: the claim's UPDATE is its first statement
    try:  # recommendation lists whose deadline passed freeze first: their cases learn the outcome before timing out
        with unit_of_work():
            result.frozen_lists = recommendation_lists.freeze_due(now)
    except Exception as exc:  # noqa: BLE001  a list that cannot freeze now is retried by the next sweep
        log.warning("recommendation lists not frozen: %s", exc.message if isinstance(exc, ServiceError) else exc)
    for _round in range(100):  # more than `limit` rows due: claim again until none is left
        with unit_of_work():
            case_ids = timers.claim_due(now, token, timeout, limit)
        done = {c for c, _e in result.fired} | set(result.skipped) | {c for c, _e in result.errors}
        todo = [c for c in case_ids if c not in done]
        if not todo:
            break
        for n, case_id in enumerate(todo):
            if not _keep(holder, now):
                log.warning("the scheduler lease was lost during a sweep: it stops; the holder goes on")
                for rest in todo[n:]:  # our claims go back at once, for the new holder's next sweep
                    with unit_of_work():
                        timers.release(rest, token)
                return result
            try:
                with unit_of_work():
                    elements = timers.fire_claimed(case_id, now, token)
            except timers.TimerFailed as failed:  # rolled back: count the attempt, retry later, incident after N
                with unit_of_work():
                    incident = timers.note_failure(failed, now)
                log.warning("case %s: timer not fired (%s)%s", case_id, failed.message,
                            f": incident {incident}" if incident else "; retried later")
                result.errors.append((case_id, failed.message))
                continue
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
        if not _keep(holder, now):
            return result
        result.reminders = reminder_job.sweep(now)
        if not _keep(holder, now):
            return result
        try:  # in-app notices of what happened since the last sweep (their e-mail goes through the outbox)
            with unit_of_work():
                notification_digest.digest(now)
        except Conflict:  # a concurrent write: the next sweep reads the same marks again
            pass
        if not _keep(holder, now):
            return result
        outbox_job.drain(now)  # e-mail and other effects queued by the steps (after their commits)
    return result


def tick(holder: str, now: datetime, on_fired=None) -> SweepResult | None:
    """One scheduler tick: sweep if we hold (or could take) the lease, else nothing."""
    db.session.rollback()
    try:
        with unit_of_work():
            held = scheduler.acquire_lease(holder, now, scheduler.lease_ttl())
    except Conflict:  # SQLite busy with another scheduler's write: this tick is skipped
        return None
    if not held:
        return None
    return sweep(now, on_fired=on_fired, holder=holder)


# -- the APScheduler job -----------------------------------------------------------------------------------------
class Runner:
    """An APScheduler interval job running `tick` at the real clock (services.clock) inside an app context."""

    def __init__(self, app, blocking: bool = False, echo=None):
        self.app = app
        self.holder = scheduler.new_holder_id()
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
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        with self.app.app_context():
            try:
                with unit_of_work():
                    scheduler.release_lease(self.holder, clock.now())
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
