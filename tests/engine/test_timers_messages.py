"""Timer events (intermediate date, boundary duration) on the injectable clock; messages with correlation."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from workflows.clock import add_months
from workflows.errors import EngineError
from workflows.instance import Instance
from workflows.parsing import check_bundle, check_timer_expression, parse_bpmn
from workflows.sandbox import restricted_engine

DATA = Path(__file__).parent / "data"
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
DATE_DUE = datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)  # 2026-12-01T00:00+08:00


@pytest.fixture(scope="module")
def timers():
    return parse_bpmn((DATA / "timers.bpmn").read_bytes())


@pytest.fixture(scope="module")
def messages():
    return parse_bpmn((DATA / "messages.bpmn").read_bytes())


def test_intermediate_date_timer_waits_and_fires_on_the_injected_clock(timers):
    inst = Instance.start(timers, {}, T0)
    assert inst.human_tasks() == []
    assert inst.waiting_timers() == [("wait_until_date", DATE_DUE)]
    inst = Instance.load(inst.dump(), timers)
    inst.fire_timers(DATE_DUE - timedelta(seconds=1))
    assert inst.human_tasks() == []
    inst.fire_timers(DATE_DUE + timedelta(seconds=1))
    assert [t.element for t in inst.human_tasks()] == ["report"]


def test_boundary_duration_counts_from_when_the_task_was_reached(timers):
    inst = Instance.start(timers, {}, T0)
    reached = DATE_DUE + timedelta(hours=1)
    inst.fire_timers(reached)
    due = dict(inst.waiting_timers())["report_deadline"]
    assert due == reached + timedelta(days=30)
    inst = Instance.load(inst.dump(), timers)
    inst.fire_timers(due - timedelta(minutes=1))
    assert not inst.completed
    inst.fire_timers(due + timedelta(minutes=1))
    assert inst.completed and inst.end_event() == "end_expired"


def test_task_completed_before_the_boundary_timer(timers):
    inst = Instance.start(timers, {}, T0)
    inst.fire_timers(DATE_DUE + timedelta(seconds=1))
    inst.complete(inst.human_tasks()[0].uuid, {}, DATE_DUE + timedelta(days=1))
    assert inst.end_event() == "end_certified"
    assert inst.waiting_timers() == []


@pytest.mark.parametrize("expr,ok", [
    ('"P2Y"', True), ('"P6M"', True), ('"2025-07-18T23:59:59+08:00"', True), ('"R6/P1D"', True),
    ("P2Y", False), ('"two years"', False), ("42", False), ("deadline_at", True),
    ("__import__('os').system('id')", False),
])
def test_timer_expressions_are_checked_before_running(expr, ok):
    assert (check_timer_expression(expr) is None) == ok


def test_unquoted_timer_is_refused_at_upload(timers):
    xml = (DATA / "timers.bpmn").read_text().replace('"P30D"', "P30D")
    problems = check_bundle(parse_bpmn(xml.encode()))
    assert [p["element"] for p in problems] == ["report_deadline"]


def test_message_with_matching_correlation_is_delivered(messages):
    inst = Instance.start(messages, {}, T0)
    inst.send_message("paper_received", {"application_id": 42, "sha256": "ab"}, {"application": {"application_id": 42}},
                      T0)
    inst = Instance.load(inst.dump(), messages)
    assert inst.correlations == {"application": {"application_id": 42}}
    inst.send_message("verdict", {"application_id": 42, "ok": True}, {"application": {"application_id": 42}}, T0)
    assert inst.completed
    assert inst.final_data()["verdict"]["ok"] is True


def test_message_for_another_correlation_is_refused(messages):
    inst = Instance.start(messages, {}, T0)
    inst.send_message("paper_received", {"application_id": 42}, {"application": {"application_id": 42}}, T0)
    with pytest.raises(EngineError):
        inst.send_message("verdict", {"application_id": 7}, {"application": {"application_id": 7}}, T0)
    assert not inst.completed


@pytest.mark.parametrize(("start", "months", "expected"), [
    ("2027-09-01T08:30:00+08:00", 6, "2028-03-01T08:30:00+08:00"),
    ("2027-09-01T00:00:00+00:00", 18, "2029-03-01T00:00:00+00:00"),
    ("2027-08-31T10:00:00+00:00", 6, "2028-02-29T10:00:00+00:00"),  # no 31 February: its last day (leap year)
    ("2028-08-31T10:00:00+00:00", 6, "2029-02-28T10:00:00+00:00"),
    ("2027-12-15T00:00:00+00:00", 0, "2027-12-15T00:00:00+00:00"),
])
def test_add_months_counts_calendar_months(start, months, expected):
    assert add_months(start, months) == expected


def test_add_months_is_a_script_builtin_and_refuses_a_local_time():
    env = restricted_engine().environment
    assert env.evaluate('add_months(start, 6 * n)', {"start": "2027-09-01T00:00:00+00:00", "n": 3}) \
        == "2029-03-01T00:00:00+00:00"
    with pytest.raises(ValueError, match="UTC offset"):
        add_months("2027-09-01T00:00:00", 6)
