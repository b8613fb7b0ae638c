"""Issue 17 item 2: every expression position is checked at deploy, or its element refused as unsupported.

Multi-instance loopCardinality and completionCondition, a standard loop's loopCondition, conditional events'
conditions and spiffworkflow:preScript/postScript were refused only when they ran (or, for pre/post scripts on a
script task, silently ignored)."""
import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow

from workflows.errors import DiagramError
from workflows.parsing import check_bundle, parse_bpmn
from workflows.sandbox import restricted_engine

HEAD = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/'
        'MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">'
        '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing>'
        '</bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="el"/>')
TAIL = ('<bpmn:sequenceFlow id="f2" sourceRef="el" targetRef="end"/><bpmn:endEvent id="end">'
        '<bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent></bpmn:process></bpmn:definitions>')
IO = "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>"
ESCAPE = "().__class__.__base__"
ABSENT = "len(open('/etc/passwd').read())"

POSITIONS = {
    "loopCardinality": lambda e: (
        f'<bpmn:scriptTask id="el">{IO}<bpmn:multiInstanceLoopCharacteristics isSequential="true">'
        f'<bpmn:loopCardinality>{e}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'
        '<bpmn:script>y = 1</bpmn:script></bpmn:scriptTask>'),
    "completionCondition": lambda e: (
        f'<bpmn:scriptTask id="el">{IO}<bpmn:multiInstanceLoopCharacteristics isSequential="true">'
        '<bpmn:loopCardinality>2</bpmn:loopCardinality>'
        f'<bpmn:completionCondition>{e}</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>'
        '<bpmn:script>y = 1</bpmn:script></bpmn:scriptTask>'),
    "loopCondition": lambda e: (
        f'<bpmn:scriptTask id="el">{IO}<bpmn:standardLoopCharacteristics loopMaximum="2">'
        f'<bpmn:loopCondition>{e}</bpmn:loopCondition></bpmn:standardLoopCharacteristics>'
        '<bpmn:script>y = 1</bpmn:script></bpmn:scriptTask>'),
    "conditional event condition": lambda e: (
        f'<bpmn:intermediateCatchEvent id="el">{IO}<bpmn:conditionalEventDefinition>'
        f'<bpmn:condition>{e}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>'),
    "preScript": lambda e: (
        f'<bpmn:manualTask id="el"><bpmn:extensionElements><spiffworkflow:preScript>x = {e}'
        f'</spiffworkflow:preScript></bpmn:extensionElements>{IO}</bpmn:manualTask>'),
    "postScript": lambda e: (
        f'<bpmn:manualTask id="el"><bpmn:extensionElements><spiffworkflow:postScript>x = {e}'
        f'</spiffworkflow:postScript></bpmn:extensionElements>{IO}</bpmn:manualTask>'),
}


def _problems(xml: str) -> list[dict]:
    try:
        bundle = parse_bpmn(xml)
    except DiagramError as exc:
        return exc.errors
    return check_bundle(bundle)


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("expression", [ESCAPE, ABSENT, "sum("])
def test_hostile_expression_refused_at_deploy(position, expression):
    problems = _problems(HEAD + POSITIONS[position](expression) + TAIL)
    assert [p["element"] for p in problems] == ["el"], problems
    assert ("preScript" in position or "postScript" in position or position in problems[0]["message"]), problems


@pytest.mark.parametrize("position", POSITIONS)
def test_ordinary_expression_in_every_position_deploys(position):
    assert _problems(HEAD + POSITIONS[position]("1 == 1" if "ondition" in position else "2") + TAIL) == []


@pytest.mark.parametrize("where", ["preScript", "postScript"])
@pytest.mark.parametrize("element", [
    f'<bpmn:scriptTask id="el">{{ext}}{IO}<bpmn:script>y = 1</bpmn:script></bpmn:scriptTask>',
    f'<bpmn:intermediateThrowEvent id="el">{{ext}}{IO}</bpmn:intermediateThrowEvent>',
    f'<bpmn:exclusiveGateway id="el">{{ext}}{IO}</bpmn:exclusiveGateway>',
])
def test_pre_and_post_scripts_the_engine_would_ignore_are_refused(where, element):
    ext = f"<bpmn:extensionElements><spiffworkflow:{where}>x = 1</spiffworkflow:{where}></bpmn:extensionElements>"
    problems = _problems(HEAD + element.format(ext=ext) + TAIL)
    assert [p["element"] for p in problems] == ["el"], problems
    assert f"spiffworkflow:{where} is not supported" in problems[0]["message"]


def test_pre_and_post_scripts_that_are_kept_run():
    ext = ("<bpmn:extensionElements><spiffworkflow:preScript>a = 1</spiffworkflow:preScript>"
           "<spiffworkflow:postScript>b = a + 1</spiffworkflow:postScript></bpmn:extensionElements>")
    bundle = parse_bpmn(HEAD + f'<bpmn:task id="el">{ext}{IO}</bpmn:task>' + TAIL)
    assert check_bundle(bundle) == []
    wf = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=restricted_engine())
    wf.do_engine_steps()
    (task,) = wf.get_tasks(manual=True, state=16)  # READY
    task.run()
    wf.do_engine_steps()
    assert wf.is_completed() and wf.last_task.data["b"] == 2
