"""Issue 16.2, 16.7, 16.8 at the diagram level: only a deadline the enterprise itself missed ends its case (a late
reviewer step is overdue, never expired); every panel computes its result against the campaign's thresholds; the
lighthouse acceptance is a committee panel, and its preliminary review can return or refuse to forward."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from workflows.instance import Instance
from workflows.parsing import parse_bpmn

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 6, 1, 2, 0, tzinfo=timezone.utc)
REC_DEADLINE = datetime(2027, 7, 30, 16, 0, tzinfo=timezone.utc)
DATA = {"case_id": 9, "application_deadline_at": "2027-07-16T16:00:00+00:00", "notice_period": "P7D",
        "recommendation_deadline_at": REC_DEADLINE.isoformat(), "panel_min_mean": 60, "panel_min_approval_pct": 60}
T0 = datetime(2027, 9, 1, tzinfo=timezone.utc)
CULTIVATION_END = datetime(2029, 9, 1, tzinfo=timezone.utc)
GOOD = [{"decision": "approve", "score": 85}] * 3
BAD = [{"decision": "reject", "score": 10}] * 3


def load(name):
    return parse_bpmn((ROOT / "bpmn" / f"{name}.bpmn").read_bytes())


@pytest.fixture(scope="module")
def lighthouse():
    return load("lighthouse_cultivation")


@pytest.fixture(scope="module")
def excellent():
    return load("excellent_national_review")


def open_elements(inst):
    return sorted(t.element for t in inst.human_tasks())


def ran(inst, element):
    """Whether the element has run (a branch's script data stays on its branch: look at the tasks)."""
    from SpiffWorkflow.task import TaskState

    return any(t.task_spec.bpmn_id == element for t in inst.wf.get_tasks(state=TaskState.COMPLETED))


def do(inst, element, data, at=NOW):
    (t,) = [t for t in inst.human_tasks() if t.element == element]
    inst.complete(t.uuid, data, at)
    return Instance.load(inst.dump(), inst.bundle)


def panel(inst, prefix, votes, at=NOW):
    for i, vote in enumerate(votes, 1):
        inst = do(inst, f"{prefix}_{i}", dict(vote, review_comment="意见"), at)
    return inst


def submitted(bundle):
    return do(Instance.start(bundle, DATA, NOW), "application", {})


@pytest.mark.parametrize("name", ["excellent_national_review", "lighthouse_cultivation"])
def test_a_recommender_missing_its_deadline_does_not_expire_the_case(name):
    inst = submitted(load(name))
    inst.fire_timers(REC_DEADLINE + timedelta(seconds=1))
    assert not inst.completed
    assert open_elements(inst) == ["recommender_review"]  # still the recommender's, overdue
    assert ran(inst, "recommender_review_overdue_mark")


@pytest.mark.parametrize("name", ["excellent_national_review", "lighthouse_cultivation"])
def test_a_case_left_off_the_frozen_list_is_not_recommended_rather_than_expired(name):
    inst = do(submitted(load(name)), "recommender_review", {"decision": "approve"})
    inst.fire_timers(REC_DEADLINE + timedelta(seconds=1))
    assert inst.end_event() == "end_rejected_unlisted"


def cultivating(bundle):
    inst = do(submitted(bundle), "recommender_review", {"decision": "approve"})
    inst.send_message("recommendation_result", {"recommended": True, "priority": 1}, {}, NOW)
    inst = panel(inst, "material_review", GOOD)
    inst = do(inst, "material_review", {"decision": "approve"})
    inst = panel(inst, "onsite_inspection", GOOD)
    inst = do(inst, "onsite_inspection", {"decision": "approve"})
    return do(inst, "target_decision", {"decision": "approve"}, at=T0)


def test_the_province_never_doing_its_preliminary_review_does_not_expire_the_factory(lighthouse):
    inst = cultivating(lighthouse)
    at = CULTIVATION_END - timedelta(days=30)  # the factory applies within its two years
    inst = do(inst, "acceptance_application", {}, at=at)
    inst.fire_timers(CULTIVATION_END + timedelta(seconds=1))
    assert not inst.completed
    assert "preliminary_review" in open_elements(inst)
    assert ran(inst, "preliminary_review_overdue_mark")
    # the late review still leads on to the committee
    inst = do(inst, "preliminary_review", {"decision": "approve"}, at=CULTIVATION_END + timedelta(days=5))
    assert [e for e in open_elements(inst) if e.startswith("acceptance_review_")] == [
        "acceptance_review_1", "acceptance_review_2", "acceptance_review_3"]


def test_a_late_national_acceptance_does_not_expire_the_factory(lighthouse):
    inst = cultivating(lighthouse)
    at = CULTIVATION_END - timedelta(days=30)
    inst = do(inst, "acceptance_application", {}, at=at)
    inst = do(inst, "preliminary_review", {"decision": "approve"}, at=at)
    inst = panel(inst, "acceptance_review", GOOD, at)
    inst.fire_timers(CULTIVATION_END + timedelta(seconds=1))
    assert not inst.completed
    assert "national_acceptance" in open_elements(inst)
    assert ran(inst, "national_acceptance_overdue_mark")
    inst = do(inst, "national_acceptance", {"decision": "approve"}, at=CULTIVATION_END + timedelta(days=3))
    inst.fire_timers(CULTIVATION_END + timedelta(days=11))
    assert inst.end_event() == "end_accepted"


def test_the_factory_missing_its_own_period_still_expires(lighthouse):
    inst = cultivating(lighthouse)
    inst.fire_timers(CULTIVATION_END + timedelta(seconds=1))
    assert inst.end_event() == "end_expired_cultivation"


def test_the_preliminary_review_can_refuse_to_forward(lighthouse):
    inst = do(cultivating(lighthouse), "acceptance_application", {}, at=T0 + timedelta(days=300))
    inst = do(inst, "preliminary_review", {"decision": "reject", "review_comment": "指标未达到"},
              at=T0 + timedelta(days=301))
    assert inst.completed and inst.end_event() == "end_rejected_preliminary"
    assert inst.waiting_timers() == []


def test_acceptance_is_a_committee_panel_with_a_computed_result(lighthouse):
    inst = do(cultivating(lighthouse), "acceptance_application", {}, at=T0 + timedelta(days=300))
    inst = do(inst, "preliminary_review", {"decision": "approve"}, at=T0 + timedelta(days=300))
    assert "national_acceptance" not in open_elements(inst)  # no single expert decides
    inst = panel(inst, "acceptance_review", BAD, T0 + timedelta(days=310))
    data = inst.case_data()
    assert data["acceptance_review_mean"] == 10 and data["acceptance_review_result"] == "reject"
    (lead,) = [t for t in inst.human_tasks() if t.element == "national_acceptance"]
    assert lead.lane == "国家主管部门" and lead.properties["panel"] == "acceptance_review"


@pytest.mark.parametrize("votes,thresholds,result", [
    (BAD, {}, "reject"),
    (GOOD, {}, "approve"),
    # two of three approve with a mean of 70: passes at 60 %, fails when the campaign asks for all three
    ([{"decision": "approve", "score": 80}, {"decision": "approve", "score": 80}, {"decision": "reject", "score": 50}],
     {}, "approve"),
    ([{"decision": "approve", "score": 80}, {"decision": "approve", "score": 80}, {"decision": "reject", "score": 50}],
     {"panel_min_approval_pct": 100}, "reject"),
    (GOOD, {"panel_min_mean": 90}, "reject"),
])
def test_the_excellent_expert_panel_result_follows_the_campaign_thresholds(excellent, votes, thresholds, result):
    inst = do(Instance.start(excellent, dict(DATA, **thresholds), NOW), "application", {})
    inst = do(inst, "recommender_review", {"decision": "approve"})
    inst.send_message("recommendation_result", {"recommended": True, "priority": 1}, {}, NOW)
    inst = do(inst, "paper_check", {"decision": "approve"})
    inst = do(inst, "formal_review", {"decision": "approve"})
    inst = panel(inst, "expert_review", votes)
    assert inst.case_data()["expert_review_result"] == result
    (lead,) = inst.human_tasks()
    assert lead.properties["panel"] == "expert_review"


def test_a_case_started_before_panel_thresholds_existed_gets_the_defaults(excellent):
    """A case migrated from the version before panels had results has no thresholds in its data: 60 and 60."""
    old = {k: v for k, v in DATA.items() if not k.startswith("panel_")}
    inst = do(Instance.start(excellent, old, NOW), "application", {})
    inst = do(inst, "recommender_review", {"decision": "approve"})
    inst.send_message("recommendation_result", {"recommended": True, "priority": 1}, {}, NOW)
    inst = do(inst, "paper_check", {"decision": "approve"})
    inst = do(inst, "formal_review", {"decision": "approve"})
    votes = [{"decision": "approve", "score": 61}] * 2 + [{"decision": "reject", "score": 59}]
    inst = panel(inst, "expert_review", votes)
    data = inst.case_data()
    assert data["expert_review_result"] == "approve" and "panel_rule" not in data
