"""Claims, races, crashes and the lease: two schedulers sweeping at once fire each due timer exactly once; a sweep
killed between its claim and its commit loses nothing (the claim times out and the next sweep fires the timer); a
second scheduler takes the lease only when the first stops renewing it."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.jobs import scheduler
from app.models.scheduling import TIMER_CLAIMS
from app.services import timers
from app.services.scheduler import lease_holder, release_lease
from app.uow import unit_of_work
from tests.timers.helpers import DATE_TIMER_DUE, count_events, timer_case

DUE = DATE_TIMER_DUE + timedelta(seconds=1)
ROOT = Path(__file__).resolve().parents[2]


def test_two_schedulers_racing_fire_each_timer_once(app):
    ids = [timer_case(u) for u in ("acme", "ningbo-parts", "hz-precision") for _ in range(3)]
    app.config["TIMER_SWEEP_BATCH"] = 2  # many small claims, so the two sweeps interleave
    start = threading.Barrier(2)
    results, failures = [], []

    def run():
        with app.app_context():
            try:
                start.wait()
                results.append(scheduler.sweep(DUE, with_reminders=False))
            except Exception as exc:  # pragma: no cover - reported below
                failures.append(exc)
            finally:
                db.session.remove()

    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        app.config["TIMER_SWEEP_BATCH"] = 500
    assert not failures
    fired = sorted(c for r in results for c, _e in r.fired)
    assert fired == ids  # every case once, by one sweep or the other
    assert all(not r.errors for r in results)
    assert all(count_events(c, "timer.fired") == 1 for c in ids)


def test_a_claim_is_respected_until_it_times_out(app):
    cid = timer_case()
    with unit_of_work():
        assert timers.claim_due(DUE, "other-sweep", timedelta(seconds=300)) == [cid]
    assert scheduler.sweep(DUE + timedelta(seconds=299)).count == 0  # the other sweep may still be working
    res = scheduler.sweep(DUE + timedelta(seconds=301))
    assert res.fired == [(cid, ["wait_until_date"])]
    assert count_events(cid, "timer.fired") == 1


CRASHING_SWEEP = textwrap.dedent("""
    import sys, time
    from datetime import datetime, timedelta
    from app import create_app
    from app.extensions import db
    from app.services import timers
    from app.uow import unit_of_work

    url, marker, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "x"})
    with app.app_context():
        with unit_of_work():
            (case_id,) = timers.claim_due(now, "doomed", timedelta(seconds=300))
        with unit_of_work():
            fired = timers.fire_claimed(case_id, now, "doomed")
            db.session.flush()
            open(marker, "w").write(",".join(fired))  # fired, written, not committed: killed here
            time.sleep(60)
""")


def test_a_sweep_killed_before_its_commit_loses_nothing(app, tmp_path):
    cid = timer_case()
    db.session.commit()
    marker = tmp_path / "fired"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_SWEEP, app.config["SQLALCHEMY_DATABASE_URI"],
                             str(marker), DUE.isoformat()], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() or not marker.read_text():
            assert proc.poll() is None, "the sweeping subprocess ended before it fired"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert marker.read_text() == "wait_until_date"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    db.session.rollback()
    assert count_events(cid, "timer.fired") == 0  # nothing committed
    token = db.session.scalar(select(TIMER_CLAIMS.c.claim_token).where(TIMER_CLAIMS.c.case_id == cid))
    assert token == "doomed"  # the claim survived the crash
    assert scheduler.sweep(DUE + timedelta(seconds=10)).count == 0  # not yet timed out
    res = scheduler.sweep(DUE + timedelta(seconds=301))
    assert res.fired == [(cid, ["wait_until_date"])]
    assert count_events(cid, "timer.fired") == 1


def test_lease_one_scheduler_at_a_time_and_takeover(app):
    cid = timer_case()
    ttl = timedelta(seconds=app.config["SCHEDULER_LEASE_SECONDS"])
    t = DUE
    assert scheduler.tick("a", t) is not None  # a takes the free lease and sweeps
    assert scheduler.tick("b", t + timedelta(seconds=10)) is None  # held by a
    assert scheduler.tick("a", t + timedelta(seconds=30)) is not None  # a renews
    assert scheduler.tick("b", t + timedelta(seconds=30) + ttl - timedelta(seconds=1)) is None
    assert lease_holder()[0] == "a"
    res = scheduler.tick("b", t + timedelta(seconds=31) + ttl)  # a stopped renewing: b takes over
    assert res is not None and lease_holder()[0] == "b"
    assert scheduler.tick("a", t + timedelta(seconds=40) + ttl) is None  # a is back, but b holds it now
    with unit_of_work():
        release_lease("b", t + timedelta(seconds=50) + ttl)
    assert scheduler.tick("a", t + timedelta(seconds=51) + ttl) is not None  # a released lease is free at once
    assert count_events(cid, "timer.fired") == 1


def test_runner_job_sweeps_at_the_clock_and_releases_the_lease(app, clock):
    cid = timer_case()
    clock.at = DUE
    runner = scheduler.Runner(app)
    runner.job()  # what APScheduler calls every SCHEDULER_INTERVAL_SECONDS (not started: no thread, no sleeping)
    assert count_events(cid, "timer.fired") == 1
    assert lease_holder()[0] == runner.holder
    runner.shutdown()
    assert lease_holder()[1] == DUE
    assert runner.scheduler.get_job("tierflow-sweep").trigger.interval == timedelta(seconds=30)


def test_the_scheduler_does_not_start_under_tests_or_without_the_setting(app):
    assert scheduler.start_beside_server(app) is None  # TESTING
    app.config.update(TESTING=False)
    try:
        assert scheduler.start_beside_server(app) is None  # SCHEDULER_ENABLED is 0
    finally:
        app.config.update(TESTING=True)


def test_a_sweep_that_loses_its_lease_stops_and_the_new_holder_goes_on(app, clock):
    from app.services.scheduler import acquire_lease

    ttl = timedelta(seconds=app.config["SCHEDULER_LEASE_SECONDS"])
    ids = [timer_case(u) for u in ("acme", "ningbo-parts", "hz-precision")]
    clock.at = DUE
    assert scheduler.tick("a", DUE - timedelta(seconds=5)) is not None  # a holds the lease; nothing due yet
    stolen = []

    def steal(_case_id, _elements):  # a's sweep outlasts its lease: b takes the expired lease meanwhile
        if not stolen:
            clock.advance(seconds=ttl.total_seconds() + 1)
            with unit_of_work():
                stolen.append(acquire_lease("b", clock.now(), ttl))

    res = scheduler.sweep(DUE, holder="a", on_fired=steal)
    assert stolen == [True] and len(res.fired) == 1  # a stopped after the case it was firing
    assert lease_holder()[0] == "b"
    res = scheduler.sweep(DUE, holder="b")
    assert len(res.fired) == len(ids) - 1  # b fires the rest; none twice
    assert sum(count_events(c, "timer.fired") for c in ids) == len(ids)


def test_a_tick_whose_clock_reading_is_stale_does_not_steal_a_renewed_lease(app):
    """A starved scheduler reads the time, then waits for the CPU while the holder renews: the holder's new expiry
    is later than the stale reading plus one ttl, and must still count as held (test_load_pg saw two schedulers
    sweep this way); only a lease more than one ttl further ahead than that (a clock set far later) is taken."""
    from app.services.scheduler import acquire_lease

    ttl = timedelta(seconds=app.config["SCHEDULER_LEASE_SECONDS"])
    t = DUE
    with unit_of_work():
        assert acquire_lease("a", t, ttl)
    with unit_of_work():
        assert acquire_lease("a", t + timedelta(seconds=5), ttl)  # a renews a little later
    with unit_of_work():
        assert not acquire_lease("b", t, ttl)  # b's reading from before a's renewal
    assert lease_holder()[0] == "a"
    with unit_of_work():
        assert acquire_lease("a", t + 3 * ttl, ttl)  # a clock set far ahead wrote it
    with unit_of_work():
        assert acquire_lease("b", t + timedelta(seconds=1), ttl)
    assert lease_holder()[0] == "b"
