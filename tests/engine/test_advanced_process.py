"""The advanced-tier diagram through every gateway path, driven directly."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.services.scope import KNOWN_LANES
from workflows.instance import Instance
from workflows.parsing import check_bundle, parse_bpmn

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
DEPTS = ["ndrc", "finance", "sasac", "samr", "data"]


@pytest.fixture(scope="module")
def bundle():
    return parse_bpmn((ROOT / "bpmn" / "advanced_certification.bpmn").read_bytes())


def elements(inst):
    return sorted(t.element for t in inst.human_tasks())


def do(inst, element, data):
    (t,) = [t for t in inst.human_tasks() if t.element == element]
    inst.complete(t.uuid, data, NOW)
    return Instance.load(inst.dump(), inst.bundle)


def start(bundle, is_soe=False):
    return Instance.start(bundle, {"case_id": 1, "is_soe": is_soe, "provincial_notice_working_days": 5}, NOW)


def test_checks_pass(bundle):
    assert check_bundle(bundle, known_roles=KNOWN_LANES) == []


def test_provincial_path_runs_the_joint_review_in_parallel(bundle):
    inst = do(start(bundle), "application", {})
    inst = do(inst, "certifier_review", {"decision": "approve"})
    assert elements(inst) == sorted(f"joint_{d}" for d in DEPTS)
    props = {t.element: t.properties for t in inst.human_tasks()}
    assert {p["department"] for p in props.values()} == set(DEPTS)
    for i, d in enumerate(DEPTS):
        inst = do(inst, f"joint_{d}", {"decision": "approve" if i else "reject", "comment": d})
    assert elements(inst) == ["certifier_decision"]
    data = inst.task_data(inst.human_tasks()[0].uuid)
    # each department's decision kept apart (result_key), none overwrote another; only the declared output
    # (`decision`) enters the process data, the comment stays with the step
    assert {d: data[f"joint_{d}"] for d in DEPTS} == {
        d: {"decision": "approve" if i else "reject"} for i, d in enumerate(DEPTS)}
    assert "comment" not in data and "decision" not in data
    inst = do(inst, "certifier_decision", {"decision": "approve"})
    assert inst.human_tasks() == [] and inst.waiting_messages() == [("wait_approved", "certified_list_published")]
    inst.send_message("certified_list_published", {"list_id": 9}, {"case": {"case_id": 1}}, NOW)
    # the provincial list's public notice: 5 working days (2026-11-25 is a Wednesday: to the end of 2026-12-02)
    due = dict(inst.waiting_timers())["wait_public_notice"]
    assert due == datetime(2026, 12, 2, 16, 0, tzinfo=timezone.utc)
    inst.fire_timers(due + timedelta(seconds=1))
    assert inst.end_event() == "end_certified"


def test_an_upheld_objection_during_the_provincial_notice(bundle):
    inst = do(start(bundle, is_soe=True), "application", {})
    inst = do(inst, "certifier_review", {"decision": "approve"})
    inst.send_message("certified_list_published", {"list_id": 9}, {"case": {"case_id": 1}}, NOW)
    inst.send_message("objection_lodged", {"objection_id": 1, "reason": "x"}, {}, NOW)
    inst = do(inst, "objection_review", {"decision": "reject", "resolution": "成立"})
    assert inst.end_event() == "end_rejected_objection"


def test_soe_path_skips_the_joint_review(bundle):
    inst = do(start(bundle, is_soe=True), "application", {})
    inst = do(inst, "certifier_review", {"decision": "approve"})
    assert inst.human_tasks() == [] and inst.waiting_messages()[0][0] == "wait_approved"


@pytest.mark.parametrize("at", ["certifier_review", "certifier_decision"])
def test_return_and_reject_from_either_review(bundle, at):
    def reach():
        inst = do(start(bundle), "application", {})
        if at == "certifier_decision":
            inst = do(inst, "certifier_review", {"decision": "approve"})
            for d in DEPTS:
                inst = do(inst, f"joint_{d}", {"decision": "approve", "comment": "ok"})
        return inst

    inst = do(reach(), at, {"decision": "return"})
    assert elements(inst) == ["application"]
    inst = do(reach(), at, {"decision": "reject"})
    assert inst.end_event() == "end_rejected"
