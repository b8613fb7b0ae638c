"""workflows.migration on its own: the plan's reasons, timer due times surviving, and migrating back."""
from datetime import datetime, timedelta, timezone

from app.config import ROOT
from workflows.instance import Instance
from workflows.migration import migrate, plan
from workflows.parsing import parse_bpmn

TIMERS = (ROOT / "tests" / "engine" / "data" / "timers.bpmn").read_bytes()
BASIC = (ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes()
NOW = datetime(2026, 12, 2, tzinfo=timezone.utc)


def test_waiting_timer_keeps_its_due_time_and_the_task_its_id():
    v1, v2 = parse_bpmn(TIMERS), parse_bpmn(TIMERS.replace(b'name="Report"', b'name="Report 2"'))
    inst = Instance.start(v1, {}, NOW)
    (task,) = inst.human_tasks()
    due = dict(inst.waiting_timers())["report_deadline"]
    assert due == NOW + timedelta(days=30)
    later = NOW + timedelta(days=10)  # the engine would restart the 30 days from here
    moved, p = migrate(inst, v2, later)
    assert p.ok and p.changed == ["report"]
    assert dict(moved.waiting_timers())["report_deadline"] == due
    (after,) = moved.human_tasks()
    assert (after.uuid, after.title) == (task.uuid, "Report 2")
    back, _ = migrate(Instance.load(moved.dump(), v2), v1, later)
    assert dict(back.waiting_timers())["report_deadline"] == due
    assert back.human_tasks()[0].title == "Report"


def test_a_past_due_time_fires_after_migration():
    v1, v2 = parse_bpmn(TIMERS), parse_bpmn(TIMERS.replace(b'name="Report"', b'name="Report 2"'))
    inst = Instance.start(v1, {}, NOW)
    moved, _ = migrate(inst, v2, NOW + timedelta(days=31))
    assert moved.completed and moved.end_event() == "end_expired"


def test_plan_refuses_a_missing_waiting_task_and_a_changed_completed_one():
    v1 = parse_bpmn(BASIC)
    inst = Instance.start(v1, {"tier": "basic"}, NOW)
    renamed = parse_bpmn(BASIC.replace(b'"self_assessment"', b'"self_check"').replace(b">self_assessment<",
                                                                                      b">self_check<"))
    p = plan(inst, renamed)
    assert not p.ok and any("self_assessment is waiting and does not exist" in r for r in p.reasons)
    (t,) = inst.human_tasks()
    inst.complete(t.uuid, {"x": 1}, NOW)  # now waiting for the review; the start and the self-assessment have run
    assert plan(inst, parse_bpmn(BASIC)).ok
    p = plan(inst, renamed)  # the completed self-assessment is gone from the target
    assert not p.ok and any("self_assessment has run and does not exist" in r for r in p.reasons), p.reasons
