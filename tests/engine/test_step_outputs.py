"""A user task's `outputs` property: only the declared fields enter the process data, renamed; the deploy check
holds a diagram to it."""
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app.services.scope import KNOWN_LANES
from workflows.instance import Instance, parse_outputs, step_outputs
from workflows.parsing import check_bundle, is_human, parse_bpmn, task_properties

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)
FORM = {"type": "object", "properties": {"decision": {"type": "string"}, "comment": {"type": "string"}}}


def diagram(outputs: str | None, condition: str = 'review_result == "approve"') -> bytes:
    prop = f'<spiffworkflow:property name="outputs" value="{outputs}" />' if outputs is not None else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="l" name="企业"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="审核">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="form" value="review.json" />{prop}
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" default="f_no"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_certified"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_rejected"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="end_certified">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end_rejected" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def test_parse_outputs_renames_and_keeps_names():
    assert parse_outputs("decision:joint_decision, score") == [("decision", "joint_decision"), ("score", "score")]
    assert parse_outputs("") == [] and parse_outputs(None) is None


def test_only_declared_outputs_enter_the_data():
    assert step_outputs({"outputs": "decision:review_result"}, {"decision": "approve", "comment": "ok"}) == {
        "review_result": "approve"}
    # an absent output is None: never a value an earlier round left behind
    assert step_outputs({"outputs": "decision:review_result"}, {"comment": "ok"}) == {"review_result": None}
    # a task that declares nothing (a diagram deployed before the property) keeps every field, as it ran then
    assert step_outputs({}, {"decision": "approve"}) == {"decision": "approve"}


def test_the_engine_routes_on_the_renamed_output_and_keeps_the_rest_out():
    bundle = parse_bpmn(diagram("decision:review_result"))
    inst = Instance.start(bundle, {}, NOW)
    task = inst.human_tasks()[0]
    inst.complete(task.uuid, {"decision": "approve", "comment": "好"}, NOW)
    assert inst.end_event() == "end_certified"
    assert inst.final_data() == {"review_result": "approve"}


def test_deploy_check_refuses_an_output_that_is_not_a_form_field():
    bundle = parse_bpmn(diagram("verdict:review_result"))
    problems = check_bundle(bundle, known_roles={"企业"}, forms={"review.json": FORM})
    assert {"element": "review", "message": "output 'verdict' is not a field of the task's form"} in problems


def test_deploy_check_refuses_a_condition_on_an_undeclared_field():
    """With outputs declared, a condition may read only them: `decision` is a form field but no process variable."""
    bundle = parse_bpmn(diagram("decision:review_result", condition='decision == "approve"'))
    problems = check_bundle(bundle, known_roles={"企业"}, forms={"review.json": FORM})
    assert any(p["element"] == "gw" and "reads decision" in p["message"] for p in problems), problems
    ok = parse_bpmn(diagram("decision:review_result"))
    assert check_bundle(ok, known_roles={"企业"}, forms={"review.json": FORM}) == []


SHIPPED = sorted((Path(__file__).resolve().parents[2] / "bpmn").glob("*.bpmn"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_user_task_declares_its_outputs_and_conditions_read_only_them(path):
    """The shipped diagrams follow the convention: every user task says what of its form is process data, every
    condition reads a declared output (or a script, message or start variable), every lane is Chinese."""
    forms_dir = path.parent / "forms"
    bundle = parse_bpmn(path.read_bytes())
    humans = [ts for ts in bundle.all_task_specs() if is_human(ts)]
    assert humans and all("outputs" in task_properties(ts) for ts in humans), \
        [ts.bpmn_id for ts in humans if "outputs" not in task_properties(ts)]
    forms = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in forms_dir.glob("*.json")}
    start = {"case_id", "tier", "campaign", "is_soe", "enterprise_id", "province", "application_deadline_at",
             "recommendation_deadline_at", "provincial_notice_working_days", "notice_period"}
    problems = check_bundle(bundle, known_roles=KNOWN_LANES, forms=forms, start_data=start)
    assert problems == []
    assert all(re.search(r"[\u4e00-\u9fff]", ts.lane or "") for ts in humans), {ts.lane for ts in humans}
