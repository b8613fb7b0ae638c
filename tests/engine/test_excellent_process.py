"""The excellent-tier diagram through every gateway path, on the injectable clock."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.services.scope import KNOWN_LANES
from workflows.instance import Instance
from workflows.parsing import check_bundle, parse_bpmn

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 6, 1, 2, 0, tzinfo=timezone.utc)
APP_DEADLINE = datetime(2027, 7, 16, 16, 0, tzinfo=timezone.utc)
REC_DEADLINE = datetime(2027, 7, 30, 16, 0, tzinfo=timezone.utc)
DATA = {"case_id": 7, "application_deadline_at": APP_DEADLINE.isoformat(), "notice_period": "P7D",
        "recommendation_deadline_at": REC_DEADLINE.isoformat(), "panel_min_mean": 60, "panel_min_approval_pct": 60}
NATIONAL = ["paper_check", "formal_review", "expert_review", "onsite_verification", "national_decision"]


@pytest.fixture(scope="module")
def bundle():
    return parse_bpmn((ROOT / "bpmn" / "excellent_national_review.bpmn").read_bytes())


def do(inst, element, data, at=NOW):
    if element in ("expert_review", "onsite_verification"):  # a panel of three scores first; the lead decides
        for i, score in ((1, 80), (2, 85), (3, 50)):
            inst = do(inst, f"{element}_{i}", {"decision": "approve" if score > 60 else "reject", "score": score,
                                                   "review_comment": "ok"}, at)
    (t,) = [t for t in inst.human_tasks() if t.element == element]
    inst.complete(t.uuid, data, at)
    return Instance.load(inst.dump(), inst.bundle)


def recommended(bundle):
    inst = do(Instance.start(bundle, DATA, NOW), "application", {})
    inst = do(inst, "recommender_review", {"decision": "approve"})
    assert inst.waiting_messages() == [("wait_recommendation", "recommendation_result")]
    return inst


def test_checks_pass(bundle):
    assert check_bundle(bundle, known_roles=KNOWN_LANES) == []


def test_application_deadline_expires_the_case(bundle):
    inst = Instance.start(bundle, DATA, NOW)
    assert dict(inst.waiting_timers())["application_deadline"] == APP_DEADLINE
    inst.fire_timers(APP_DEADLINE - timedelta(seconds=1))
    assert not inst.completed
    inst.fire_timers(APP_DEADLINE + timedelta(seconds=1))
    assert inst.end_event() == "end_expired_application"


# the recommender's deadlines (overdue, not expired; not listed: not recommended): tests/engine/test_deadline_parties.py


def test_return_and_reject_by_the_recommender(bundle):
    inst = do(Instance.start(bundle, DATA, NOW), "application", {})
    inst = do(inst, "recommender_review", {"decision": "return"})
    assert [t.element for t in inst.human_tasks()] == ["application"]
    inst = do(inst, "application", {})
    inst = do(inst, "recommender_review", {"decision": "reject"})
    assert inst.end_event() == "end_rejected"


def test_not_on_the_list(bundle):
    inst = recommended(bundle)
    inst.send_message("recommendation_result", {"recommended": False}, {}, NOW)
    assert inst.end_event() == "end_rejected_quota"


@pytest.mark.parametrize("failing", NATIONAL)
def test_each_national_step_can_reject(bundle, failing):
    inst = recommended(bundle)
    inst.send_message("recommendation_result", {"recommended": True, "priority": 1}, {}, NOW)
    for step in NATIONAL:
        inst = do(inst, step, {"decision": "reject" if step == failing else "approve"})
        if step == failing:
            assert inst.end_event() == "end_rejected"
            return


def test_certified_after_seven_days_of_public_notice(bundle):
    inst = recommended(bundle)
    inst.send_message("recommendation_result", {"recommended": True, "priority": 1}, {}, NOW)
    for step in NATIONAL:
        inst = do(inst, step, {"decision": "approve"})
    (notice,) = inst.waiting_timers()
    assert notice == ("wait_public_notice", NOW + timedelta(days=7))
    inst.fire_timers(NOW + timedelta(days=7, seconds=1))
    assert inst.end_event() == "end_certified"


def _in_notice(bundle):
    inst = recommended(bundle)
    inst.send_message("recommendation_result", {"recommended": True, "priority": 1}, {}, NOW)
    for step in NATIONAL:
        inst = do(inst, step, {"decision": "approve"})
    return inst


def test_objection_upheld_during_the_notice(bundle):
    inst = _in_notice(bundle)
    assert ("objection_received", "objection_lodged") in inst.waiting_messages()
    inst.send_message("objection_lodged", {"objection_id": 1, "reason": "数据不实"}, {}, NOW + timedelta(days=2))
    inst = do(inst, "objection_review", {"decision": "reject", "resolution": "核实属实"}, at=NOW + timedelta(days=3))
    assert inst.end_event() == "end_rejected_objection"


def test_objection_dismissed_the_notice_goes_on_to_its_end(bundle):
    inst = _in_notice(bundle)
    inst.send_message("objection_lodged", {"objection_id": 1, "reason": "疑似夸大"}, {}, NOW + timedelta(days=2))
    inst.fire_timers(NOW + timedelta(days=8))  # the case is held: the notice timer is not waiting
    assert not inst.completed
    inst = do(inst, "objection_review", {"decision": "approve", "resolution": "不成立"}, at=NOW + timedelta(days=9))
    inst.fire_timers(NOW + timedelta(days=9, seconds=1))  # the notice period had ended: certified at once
    assert inst.end_event() == "end_certified"


def test_the_panel_flags_outliers_and_split_votes_for_its_lead(bundle):
    inst = recommended(bundle)
    inst.send_message("recommendation_result", {"recommended": True, "priority": 1}, {}, NOW)
    inst = do(inst, "paper_check", {"decision": "approve"})
    inst = do(inst, "formal_review", {"decision": "approve"})
    assert sorted(t.element for t in inst.human_tasks()) == [f"expert_review_{i}" for i in (1, 2, 3)]
    for i, score in ((1, 80), (2, 85), (3, 50)):
        inst = do(inst, f"expert_review_{i}", {"decision": "approve" if score > 60 else "reject", "score": score})
    (lead,) = inst.human_tasks()
    data = inst.task_data(lead.uuid)
    assert lead.element == "expert_review" and lead.form == "panel_lead.json"
    assert (data["expert_review_mean"], data["expert_review_outliers"], data["expert_review_split"],
            data["expert_review_approvals"]) == (71.7, [3], True, 2)
    assert "scores" not in data and data["expert_review_3"]["score"] == 50
