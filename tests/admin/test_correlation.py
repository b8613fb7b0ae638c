"""Message correlation keys (issue 5): what the editor writes (bpmn:correlationProperty with one retrieval
expression per message, bpmn:correlationKey in the collaboration) is checked at validation (sandbox policy, known
properties, marked on the message events) and, once deployed, routes a message only to the case whose key matches."""
from datetime import datetime, timezone

import pytest

from app.services import processes
from app.uow import unit_of_work
from workflows.errors import EngineError
from workflows.instance import Instance
from workflows.parsing import message_correlations, parse_bpmn

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)

# the shape bpmn-js (bpmn-moddle) saves after the properties panel added the correlation
DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="https://t.example">
  <bpmn:collaboration id="collab">
    <bpmn:participant id="p" processRef="corr" />
    <bpmn:correlationKey id="CorrelationKey_batch" name="batch">
      <bpmn:correlationPropertyRef>{ref}</bpmn:correlationPropertyRef>
    </bpmn:correlationKey>
  </bpmn:collaboration>
  <bpmn:message id="list_published" name="list_published" />
  <bpmn:message id="objection" name="objection" />
  <bpmn:process id="corr" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait_list">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="list_published" />
    </bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="wait_objection">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="objection">
        <bpmn:extensionElements><spiffworkflow:messageVariable>objection</spiffworkflow:messageVariable></bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end_certified"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_list" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait_list" targetRef="wait_objection" />
    <bpmn:sequenceFlow id="f3" sourceRef="wait_objection" targetRef="end_certified" />
  </bpmn:process>
  <bpmn:correlationProperty id="batch_no" name="batch_no">
    <bpmn:correlationPropertyRetrievalExpression messageRef="list_published">
      <bpmn:formalExpression>{expr}</bpmn:formalExpression>
    </bpmn:correlationPropertyRetrievalExpression>
    <bpmn:correlationPropertyRetrievalExpression messageRef="objection">
      <bpmn:formalExpression>list_batch</bpmn:formalExpression>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
</bpmn:definitions>
"""


def diagram(expr: str = "batch", ref: str = "batch_no") -> bytes:
    return DIAGRAM.format(expr=expr, ref=ref).encode()


def test_a_well_formed_correlation_validates():
    _bundle, _forms, problems = processes.diagram_problems(diagram(), case_rules=False)
    assert problems == []


@pytest.mark.parametrize("expr,why", [
    ("__import__('os').system('id')", "refused"),
    ("open('/etc/passwd').read()", "open() is not available"),
    ("batch._DiagramError__x", "refused"),
    ("", "is empty"),
])
def test_a_retrieval_expression_outside_the_sandbox_is_refused_on_its_events(expr, why):
    _bundle, _forms, problems = processes.diagram_problems(diagram(expr=expr), case_rules=False)
    assert [p["element"] for p in problems] == ["wait_list"], problems
    assert why in problems[0]["message"] and "batch_no" in problems[0]["message"]


def test_a_key_naming_an_unknown_property_is_refused_on_the_events_it_covers():
    _bundle, _forms, problems = processes.diagram_problems(diagram(ref="batch_number"), case_rules=False)
    assert {p["element"] for p in problems} == {"wait_list", "wait_objection"}
    assert all("'batch_number'" in p["message"] and "correlationProperty" in p["message"] for p in problems)


def test_the_deploy_api_refuses_it_too(app):
    from app.errors import Invalid

    with pytest.raises(Invalid) as info, unit_of_work():
        processes.deploy("corr_bad", diagram(expr="__import__('os')"), None, message="bad")
    assert [e["element"] for e in info.value.errors] == ["wait_list"]


def test_the_deployed_diagram_routes_the_message_to_the_matching_case_only():
    with unit_of_work():
        version = processes.deploy("corr_ok", diagram(), None, message="correlated")
    bundle = processes.bundle(version)  # restored from the stored spec JSON, as cases run it
    a, b = Instance.start(bundle, {}, NOW), Instance.start(bundle, {}, NOW)
    a.send_message("list_published", {"batch": "2026-1"},
                   message_correlations(bundle, "list_published", {"batch": "2026-1"}), NOW)
    b.send_message("list_published", {"batch": "2026-2"},
                   message_correlations(bundle, "list_published", {"batch": "2026-2"}), NOW)
    assert a.correlations == {"batch": {"batch_no": "2026-1"}}
    a, b = Instance.load(a.dump(), bundle), Instance.load(b.dump(), bundle)

    payload = {"list_batch": "2026-1", "reason": "duplicate filing"}
    correlations = message_correlations(bundle, "objection", payload)
    assert correlations == {"batch": {"batch_no": "2026-1"}}
    reached = []
    for name, inst in (("a", a), ("b", b)):  # the message offered to both waiting cases
        try:
            inst.send_message("objection", payload, correlations, NOW)
            reached.append(name)
        except EngineError:
            pass
    assert reached == ["a"]
    assert a.completed and a.final_data()["objection"]["reason"] == "duplicate filing"
    assert not b.completed and b.waiting_messages() == [("wait_objection", "objection")]


def test_an_uncorrelated_message_has_no_keys():
    bundle = parse_bpmn(diagram())
    assert message_correlations(bundle, "no_such_message", {"batch": 1}) == {}


def test_a_payload_without_the_correlated_value_is_an_engine_error():
    bundle = parse_bpmn(diagram())
    with pytest.raises(EngineError) as info:
        message_correlations(bundle, "objection", {"reason": "no batch given"})
    assert "batch_no = list_batch" in str(info.value) and "list_batch" in str(info.value)
