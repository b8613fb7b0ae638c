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


NOTICE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:message id="objection" name="objection" />
  <bpmn:process id="notice" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="set_until" name="Set"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>notice_until = "2021-01-01T00:00:00+00:00"</bpmn:script></bpmn:scriptTask>
    <bpmn:eventBasedGateway id="gateway"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:eventBasedGateway>
    <bpmn:intermediateCatchEvent id="period" name="Notice"><bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate>notice_until</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="objected" name="Objection"><bpmn:incoming>f4</bpmn:incoming>
      <bpmn:outgoing>f6</bpmn:outgoing><bpmn:messageEventDefinition messageRef="objection" />
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end_noticed"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_objected"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="set_until" />
    <bpmn:sequenceFlow id="f2" sourceRef="set_until" targetRef="gateway" />
    <bpmn:sequenceFlow id="f3" sourceRef="gateway" targetRef="period" />
    <bpmn:sequenceFlow id="f4" sourceRef="gateway" targetRef="objected" />
    <bpmn:sequenceFlow id="f5" sourceRef="period" targetRef="end_noticed" />
    <bpmn:sequenceFlow id="f6" sourceRef="objected" targetRef="end_objected" />
  </bpmn:process>
</bpmn:definitions>"""


def test_an_event_gateway_migrates_at_the_callers_instant_not_the_machines():
    """A notice period (a timeDate under an event-based gateway) that ends after the instant the migration runs at
    keeps waiting, although the machine's clock is past it: the reset re-evaluates the timer at `now` (a held
    objection's case was certified by its migration, tests/incidents/test_objection_incidents.py)."""
    early = datetime(2020, 6, 1, tzinfo=timezone.utc)  # before the period's end; the machine's clock is after it
    v1, v2 = parse_bpmn(NOTICE), parse_bpmn(NOTICE.replace(b'name="Objection"', b'name="Objection 2"'))
    inst = Instance.start(v1, {}, early)
    due = {"period": datetime(2021, 1, 1, tzinfo=timezone.utc)}
    assert dict(inst.waiting_timers()) == due
    moved, p = migrate(inst, v2, early)
    assert p.ok and not moved.completed
    assert dict(moved.waiting_timers()) == due
    later, _ = migrate(Instance.load(moved.dump(), v2), v1, datetime(2021, 1, 2, tzinfo=timezone.utc))
    assert later.completed and later.end_event() == "end_noticed"  # past its end: the period ends as it says
