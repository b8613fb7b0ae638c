"""A join that a loop reaches again waits for every branch of the current round, with that round's data.

SpiffWorkflow 3.2.0 counted the branches that reached a parallel join in an earlier round (it keeps every
round's join tasks in the tree) and merged their data into the later round; workflows/joins.py limits both to
the round since the join last fired. Every shipped loop that can reach a join again has a test here, and
`test_every_join_a_loop_reaches_is_tested_here` fails when a diagram grows a new one.
"""
from datetime import datetime, timedelta, timezone

import pytest

from tests.engine.test_advanced_process import DEPTS, NOW, ROOT, do, elements  # the advanced diagram's drivers
from workflows.instance import Instance
from workflows.parsing import joins_on_cycles, parse_bpmn
from workflows.xml import load_xml

B = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


@pytest.fixture(scope="module")
def advanced():
    return parse_bpmn((ROOT / "bpmn" / "advanced_certification.bpmn").read_bytes())


def joint_round(inst, order, rnd):
    """Complete the five joint reviews in `order`; certifier_decision must wait for the last one."""
    answers = {}
    for i, d in enumerate(order):
        assert "certifier_decision" not in elements(inst), f"round {rnd}: decision open before joint_{d}"
        assert elements(inst) == sorted(f"joint_{x}" for x in order[i:])
        answers[d] = {"decision": "reject" if (i + rnd) % 3 == 0 else "approve", "comment": f"round {rnd}: {d}"}
        inst = do(inst, f"joint_{d}", answers[d])
    assert elements(inst) == ["certifier_decision"]
    return inst, answers


def check_round(inst, answers):
    data = inst.task_data(inst.human_tasks()[0].uuid)
    # this round's five decisions (the declared output; comments stay with the step), nothing of an earlier one
    assert {d: data[f"joint_{d}"] for d in DEPTS} == {d: {"decision": a["decision"]} for d, a in answers.items()}


ORDERS = [
    (DEPTS[1:] + DEPTS[:1], DEPTS),  # the colleague's repro: the branch that finished last in round 1 first in 2
    (DEPTS, DEPTS[::-1]),
    (DEPTS, DEPTS),  # the same order again
    (["samr", "ndrc", "data", "finance", "sasac"], ["finance", "samr", "sasac", "data", "ndrc"]),
]


@pytest.mark.parametrize(("first", "second"), ORDERS)
def test_advanced_joint_review_waits_for_all_five_in_every_round(advanced, first, second):
    inst = Instance.start(advanced, {"case_id": 1, "is_soe": False, "provincial_notice_working_days": 5}, NOW)
    inst = do(inst, "application", {})
    inst = do(inst, "certifier_review", {"decision": "approve"})
    inst, answers = joint_round(inst, first, 1)
    check_round(inst, answers)
    inst = do(inst, "certifier_decision", {"decision": "return", "decision_comment": "请补充材料"})
    # round 2: the preliminary review returns once more before it lets the case through
    inst = do(inst, "application", {})
    inst = do(inst, "certifier_review", {"decision": "return"})
    inst = do(inst, "application", {})
    inst = do(inst, "certifier_review", {"decision": "approve"})
    inst, answers = joint_round(inst, second, 2)
    check_round(inst, answers)
    inst = do(inst, "certifier_decision", {"decision": "return", "decision_comment": "再补充"})
    # round 3, the first round's order again
    inst = do(inst, "application", {})
    inst = do(inst, "certifier_review", {"decision": "approve"})
    inst, answers = joint_round(inst, first, 3)
    check_round(inst, answers)
    inst = do(inst, "certifier_decision", {"decision": "approve"})
    assert inst.human_tasks() == [] and inst.waiting_messages() == [("wait_approved", "certified_list_published")]


# -- every shipped join a loop can reach again --------------------------------------------------------------------
def _joins_in_loops(path):
    return {(path.stem, gw_id) for _kind, gw_id in joins_on_cycles(load_xml(path.read_bytes()))}


TESTED_JOINS_IN_LOOPS = {("advanced_certification", "joint_join"),  # test_advanced_joint_review_waits_...
                         ("lighthouse_cultivation", "acceptance_review_join")}  # test_a_retried_acceptance_waits_...


def test_every_join_a_loop_reaches_is_tested_here():
    found = set().union(*(_joins_in_loops(p) for p in sorted((ROOT / "bpmn").glob("*.bpmn"))))
    assert found == TESTED_JOINS_IN_LOOPS


LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:exclusiveGateway id="merge" />
    <bpmn:{kind} id="split" />
    <bpmn:userTask id="a" /><bpmn:userTask id="b" />
    <bpmn:{kind} id="join" />
    <bpmn:exclusiveGateway id="again" default="f_end" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="merge" />
    <bpmn:sequenceFlow id="f00" sourceRef="merge" targetRef="split" />
    <bpmn:sequenceFlow id="f1" sourceRef="split" targetRef="a" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="b" />
    <bpmn:sequenceFlow id="f3" sourceRef="a" targetRef="join" />
    <bpmn:sequenceFlow id="f4" sourceRef="b" targetRef="join" />
    <bpmn:sequenceFlow id="f5" sourceRef="join" targetRef="again" />
    <bpmn:sequenceFlow id="f_loop" sourceRef="again" targetRef="merge">
      <bpmn:conditionExpression>round &lt; 2</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_end" sourceRef="again" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def test_an_inclusive_join_a_loop_reaches_is_refused_at_validation_a_parallel_one_is_not():
    from workflows.errors import DiagramError

    with pytest.raises(DiagramError) as info:
        parse_bpmn(LOOP.replace("{kind}", "inclusiveGateway"))
    assert [e["element"] for e in info.value.errors] == ["join"]
    assert "loop" in info.value.errors[0]["message"]
    parse_bpmn(LOOP.replace("{kind}", "parallelGateway"))  # waits per round (workflows/joins.py): accepted


# -- loops through a task with boundary events -----------------------------------------------------------------------
# SpiffWorkflow puts a hidden join after a task with boundary events (BoundaryEventJoin); it finds its own round's
# split as its nearest ancestor, so it is not one of the joins above. These loops reach it again: each round must
# wait for that round's task, with the deadline still armed once, and a deadline must still end the case.
SELECTION = {"case_id": 7, "notice_period": "P7D", "application_deadline_at": "2027-07-17T00:00:00+08:00",
             "recommendation_deadline_at": "2027-07-31T00:00:00+08:00", "panel_min_mean": 60,
             "panel_min_approval_pct": 60}
SELECTION_NOW = datetime(2027, 6, 1, 2, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("diagram", ["excellent_national_review", "lighthouse_cultivation"])
def test_a_returned_application_waits_again_under_its_deadline(diagram):
    bundle = parse_bpmn((ROOT / "bpmn" / f"{diagram}.bpmn").read_bytes())
    inst = Instance.start(bundle, SELECTION, SELECTION_NOW)
    for _round in range(3):
        inst = step(inst, "application", {}, SELECTION_NOW)
        assert elements(inst) == ["recommender_review"]
        inst = step(inst, "recommender_review", {"decision": "return"}, SELECTION_NOW)
        assert elements(inst) == ["application"]
        timers = [e for e, _d in inst.waiting_timers()]
        assert timers == ["application_deadline"]  # this round's deadline only, once
    deadline = dict(inst.waiting_timers())["application_deadline"]
    inst.fire_timers(deadline - timedelta(seconds=1))
    assert elements(inst) == ["application"]
    inst.fire_timers(deadline + timedelta(seconds=1))
    assert inst.end_event() == "end_expired_application" and inst.human_tasks() == []


def step(inst, element, data, at):
    (t,) = [t for t in inst.human_tasks() if t.element == element]
    inst.complete(t.uuid, data, at)
    return Instance.load(inst.dump(), inst.bundle)


def test_a_retried_acceptance_waits_again_under_the_cultivation_deadline():
    """The lighthouse acceptance loop (returned by the province, failed by the committee) reaches
    acceptance_application and its deadline again; the two-year deadline stays the one set at the start. The
    committee's join (acceptance_review_join) waits for all three experts of each round, with that round's scores."""
    bundle = parse_bpmn((ROOT / "bpmn" / "lighthouse_cultivation.bpmn").read_bytes())
    inst = Instance.start(bundle, SELECTION, SELECTION_NOW)
    inst = step(inst, "application", {}, SELECTION_NOW)
    inst = step(inst, "recommender_review", {"decision": "approve"}, SELECTION_NOW)
    inst.send_message("recommendation_result", {"recommended": True, "priority": 1}, {}, SELECTION_NOW)
    for panel in ("material_review", "onsite_inspection"):
        for i in (1, 2, 3):
            inst = step(inst, f"{panel}_{i}", {"decision": "approve", "score": 80}, SELECTION_NOW)
        inst = step(inst, panel, {"decision": "approve"}, SELECTION_NOW)
    start = datetime(2027, 9, 1, tzinfo=timezone.utc)
    inst = step(inst, "target_decision", {"decision": "approve"}, start)
    deadline = datetime(2029, 9, 1, tzinfo=timezone.utc)
    at = start + timedelta(days=10)
    for outcome in ("return", "reject", "return"):
        inst = step(inst, "acceptance_application", {}, at)
        assert elements(inst) == ["preliminary_review"]
        inst = step(inst, "preliminary_review", {"decision": "return" if outcome == "return" else "approve"}, at)
        if outcome == "reject":
            for rnd in (1, 2):  # the committee meets again after a failed acceptance: each round waits for all three
                for i in (1, 2, 3):
                    assert "national_acceptance" not in elements(inst)
                    inst = step(inst, f"acceptance_review_{i}", {"decision": "reject", "score": 10 * rnd + i}, at)
                data = inst.task_data([t for t in inst.human_tasks() if t.element == "national_acceptance"][0].uuid)
                assert data["acceptance_review_mean"] == 10 * rnd + 2
                inst = step(inst, "national_acceptance", {"decision": "reject"}, at)
                if rnd == 1:
                    inst = step(inst, "acceptance_application", {}, at)
                    inst = step(inst, "preliminary_review", {"decision": "approve"}, at)
        assert elements(inst) == ["acceptance_application"]
        assert sorted(e for e, _d in inst.waiting_timers()) == ["cultivation_deadline", "progress_due"]
        assert dict(inst.waiting_timers())["cultivation_deadline"] == deadline
    inst.fire_timers(deadline + timedelta(seconds=1))
    assert inst.end_event() == "end_expired_cultivation"


def test_the_join_fix_is_applied_for_the_pinned_spiffworkflow():
    """workflows/joins.py replaces two SpiffWorkflow methods; another library version needs them read again."""
    from importlib.metadata import version

    from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
    from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin

    from workflows import joins

    assert version("SpiffWorkflow") == joins.PATCHED_FOR
    assert ParallelGateway._check_threshold_unstructured is joins._parallel_may_fire
    assert UnstructuredJoin._run_hook is joins._merge_this_round
