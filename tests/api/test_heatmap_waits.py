"""The heatmap counts the cases waiting at a message catch event (an excellent case waiting for its province's
recommendation list) and times the wait from its start to the message; a boundary timer is timed from its
activity's start, not from the case's last step (issue 19)."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import MessageWait
from app.services import heatmap, tasks, timers
from app.services.heatmap import Filters, bucket
from app.uow import unit_of_work
from tests.api.test_advanced import complete, my_task
from tests.api.test_excellent import application, start
from tests.conftest import START, user
from tests.timers.helpers import T0, timer_case

EXCELLENT = "excellent_national_review"
DAY = 86400


def els(username="admin", key=EXCELLENT, **f):
    return heatmap.heatmap(user(username), key, Filters(**f))["elements"]


def test_a_case_waiting_for_its_recommendation_list_is_counted_and_timed(client, auth_headers, clock):
    ent, prov = auth_headers("hz-precision"), auth_headers("zj-reviewer")
    cid = start(client, ent)
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    assert els()["wait_recommendation"]["waiting"] == 0
    clock.at = START + timedelta(hours=3)
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    assert els()["wait_recommendation"]["waiting"] == 1
    assert els("zj-reviewer")["wait_recommendation"]["waiting"] == 1
    assert els("sd-reviewer")["wait_recommendation"]["waiting"] == 0
    assert [w.element for w in db.session.scalars(select(MessageWait).where(MessageWait.case_id == cid))] == [
        "wait_recommendation"]
    # the page lists the message catch event among the steps
    page = heatmap.page(user("admin"), EXCELLENT, Filters())
    assert any(r["id"] == "wait_recommendation" and r["waiting"] == 1 for r in page["rows"])
    clock.at = START + timedelta(days=2, hours=3)
    prov = auth_headers("zj-reviewer")  # a token of that day
    r = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                           "case_ids": [cid], "final": True}, headers=prov)
    assert r.status_code == 201, r.get_json()
    got = els()["wait_recommendation"]
    assert got["waiting"] == 0 and got["passed"] == 1 and got["median_s"] == bucket(2 * DAY)
    assert not db.session.scalars(select(MessageWait).where(MessageWait.case_id == cid)).all()
    day = (START + timedelta(days=2, hours=3)).astimezone(heatmap.SHANGHAI).date()
    assert els(since=day, until=day)["wait_recommendation"]["passed"] == 1
    assert els(since=day + timedelta(days=1))["wait_recommendation"]["passed"] == 0


BOUNDARY = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="https://t.example">
  <bpmn:process id="boundary_timing" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l_ent" name="enterprise">
      <bpmn:flowNodeRef>report</bpmn:flowNodeRef><bpmn:flowNodeRef>note</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:parallelGateway id="fork"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:outgoing>f3</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:userTask id="report" name="Report"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="note" name="Note"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="report_deadline" attachedToRef="report" cancelActivity="true">
      <bpmn:outgoing>f6</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P3D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="end_certified"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_noted"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_expired"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork" />
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="report" />
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="note" />
    <bpmn:sequenceFlow id="f4" sourceRef="report" targetRef="end_certified" />
    <bpmn:sequenceFlow id="f5" sourceRef="note" targetRef="end_noted" />
    <bpmn:sequenceFlow id="f6" sourceRef="report_deadline" targetRef="end_expired" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_boundary_timer_is_timed_from_its_activity_not_the_cases_last_step(clock):
    cid = timer_case("acme", T0, key="boundary_timing", xml=BOUNDARY)
    note = next(t for t in tasks_of(cid) if t.element == "note")
    clock.at = T0 + timedelta(days=1)
    with unit_of_work():  # another branch steps a day later: the case's last step is now T0 + 1 day
        tasks.complete(user("acme"), note.id, {})
    fire_at = T0 + timedelta(days=3, seconds=1)
    with unit_of_work():
        assert timers.fire_case(cid, fire_at) == ["report_deadline"]
    got = els(key="boundary_timing")["report_deadline"]
    assert got["passed"] == 1 and got["median_s"] == bucket(3 * DAY + 1)  # not 2 days: from the report's start


def tasks_of(case_id):
    from app.models import HumanTask

    return list(db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "open")))


def test_cases_saved_before_the_waits_were_recorded_are_mirrored_by_the_cli(app, client, auth_headers):
    from app.models import Case

    ent, prov = auth_headers("hz-precision"), auth_headers("zj-reviewer")
    cid = start(client, ent)
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    with unit_of_work():  # as a database upgraded to migration 0025 has it: no rows for the waits
        db.session.execute(MessageWait.__table__.delete().where(MessageWait.case_id == cid))
        db.session.get(Case, cid).message_wait = None
    assert els()["wait_recommendation"]["waiting"] == 0
    out = app.test_cli_runner().invoke(args=["cases", "mirror-waits", "--batch", "2"])
    assert out.exit_code == 0, out.output
    assert "1 case(s) waiting for a message recorded" in out.output
    assert els()["wait_recommendation"]["waiting"] == 1
    again = app.test_cli_runner().invoke(args=["cases", "mirror-waits"])
    assert "0 case(s) waiting for a message recorded" in again.output
    assert els()["wait_recommendation"]["waiting"] == 1
