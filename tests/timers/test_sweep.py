"""Each kind of timer through the sweep, fired once; a clock moved back fires nothing twice; `timers run --now`."""
from datetime import timedelta

from app.jobs import scheduler
from tests.timers.helpers import DATE_TIMER_DUE, case_status, count_events, timer_case, timer_rows


def test_date_and_duration_timers_fire_once_each(app):
    cid = timer_case()
    assert timer_rows(cid) == [("wait_until_date", DATE_TIMER_DUE)]
    assert scheduler.sweep(DATE_TIMER_DUE).count == 0  # due means strictly after the instant, like the engine
    res = scheduler.sweep(DATE_TIMER_DUE + timedelta(seconds=1))
    assert res.fired == [(cid, ["wait_until_date"])]
    assert scheduler.sweep(DATE_TIMER_DUE + timedelta(seconds=2)).count == 0
    ((element, due),) = timer_rows(cid)  # the P30D boundary of the task that opened when the date timer fired
    assert element == "report_deadline" and due == DATE_TIMER_DUE + timedelta(seconds=1, days=30)
    res = scheduler.sweep(due + timedelta(seconds=1))
    assert res.fired == [(cid, ["report_deadline"])]
    assert case_status(cid) == "expired" and timer_rows(cid) == []
    assert count_events(cid, "timer.fired") == 2


def test_clock_moved_back_fires_nothing_twice(app):
    cid = timer_case()
    assert scheduler.sweep(DATE_TIMER_DUE + timedelta(hours=1)).count == 1
    for back in (timedelta(hours=1, seconds=30), timedelta(seconds=30)):  # the clock jumps back, then forward
        assert scheduler.sweep(DATE_TIMER_DUE + back).count == 0
    assert count_events(cid, "timer.fired") == 1


def test_cli_prints_each_firing_and_the_total(app):
    cid = timer_case()
    runner = app.test_cli_runner()
    r = runner.invoke(args=["timers", "run", "--now", "2026-12-01T00:00:01+08:00"])
    assert r.exit_code == 0, r.output
    assert f"2026-12-01T00:00:01+08:00 case {cid}: wait_until_date fired" in r.output
    assert "1 timer(s) fired" in r.output
    assert "0 timer(s) fired" in runner.invoke(args=["timers", "run", "--now", "2026-12-01T00:00:02+08:00"]).output
    bad = runner.invoke(args=["timers", "run", "--now", "tomorrow"])
    assert bad.exit_code == 2 and "not an ISO-8601 instant" in bad.output


def test_many_due_cases_in_batches(app):
    app.config["TIMER_SWEEP_BATCH"] = 2
    try:
        ids = [timer_case() for _ in range(5)]
        res = scheduler.sweep(DATE_TIMER_DUE + timedelta(seconds=1))
        assert sorted(c for c, _e in res.fired) == ids  # claimed two at a time, all in one sweep
    finally:
        app.config["TIMER_SWEEP_BATCH"] = 500
