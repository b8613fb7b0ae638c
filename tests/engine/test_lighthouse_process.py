"""The lighthouse diagram: selection, two-year cultivation with six-monthly reports, acceptance, expiry."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.services.scope import KNOWN_LANES
from workflows.instance import Instance
from workflows.parsing import check_bundle, parse_bpmn

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 6, 1, 2, 0, tzinfo=timezone.utc)
DATA = {"case_id": 9, "application_deadline_at": "2027-07-17T00:00:00+08:00", "notice_period": "P7D",
        "recommendation_deadline_at": "2027-07-31T00:00:00+08:00"}
T0 = datetime(2027, 9, 1, tzinfo=timezone.utc)  # cultivation starts here
DEADLINE = datetime(2029, 9, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def bundle():
    return parse_bpmn((ROOT / "bpmn" / "lighthouse_cultivation.bpmn").read_bytes())


def elements(inst):
    return sorted(t.element for t in inst.human_tasks())


def do(inst, element, data, at=NOW):
    if element in ("material_review", "onsite_inspection"):  # a panel of three scores first; the lead decides
        for i in (1, 2, 3):
            inst = do(inst, f"{element}_{i}", {"decision": "approve", "score": 80 + i}, at)
    (t,) = [t for t in inst.human_tasks() if t.element == element]
    inst.complete(t.uuid, data, at)
    return Instance.load(inst.dump(), inst.bundle)


def cultivating(bundle):
    inst = do(Instance.start(bundle, DATA, NOW), "application", {})
    inst = do(inst, "recommender_review", {"decision": "approve"})
    inst.send_message("recommendation_result", {"recommended": True, "priority": 1}, {}, NOW)
    inst = do(inst, "material_review", {"decision": "approve"})
    inst = do(inst, "onsite_inspection", {"decision": "approve"})
    inst = do(inst, "target_decision", {"decision": "approve"}, at=T0)
    assert elements(inst) == ["acceptance_application"]
    assert inst.task_data(inst.human_tasks()[0].uuid)["cultivation_deadline_at"] == DEADLINE.isoformat()
    return inst


def test_checks_pass(bundle):
    assert check_bundle(bundle, known_roles=KNOWN_LANES) == []


def test_two_years_run_out_with_reports_every_six_months(bundle):
    inst = cultivating(bundle)
    timers = dict(inst.waiting_timers())
    assert timers["cultivation_deadline"] == DEADLINE
    assert timedelta(days=180) <= timers["progress_due"] - T0 <= timedelta(days=185)  # six months
    first = timers["progress_due"]
    inst.fire_timers(first + timedelta(seconds=1))
    assert elements(inst) == ["acceptance_application", "progress_report"]
    inst = do(inst, "progress_report", {"progress": "x" * 20, "percent_done": 30}, at=first)
    inst = do(inst, "guidance_note", {"guidance": "继续推进数字孪生"}, at=first)
    assert elements(inst) == ["acceptance_application"]
    inst.fire_timers(DEADLINE - timedelta(seconds=1))
    assert not inst.completed
    inst.fire_timers(DEADLINE + timedelta(seconds=1))
    assert inst.end_event() == "end_expired_cultivation" and inst.human_tasks() == []


def test_acceptance_fails_then_passes_within_the_period(bundle):
    inst = cultivating(bundle)
    at = T0 + timedelta(days=300)
    inst = do(inst, "acceptance_application", {}, at=at)
    inst = do(inst, "preliminary_review", {"decision": "return"}, at=at)
    inst = do(inst, "acceptance_application", {}, at=at)
    inst = do(inst, "preliminary_review", {"decision": "approve"}, at=at)
    inst = do(inst, "national_acceptance", {"decision": "reject"}, at=at)
    assert elements(inst) == ["acceptance_application"]
    # the deadline is a date in the data: trying again does not restart the two years
    assert dict(inst.waiting_timers())["cultivation_deadline"] == DEADLINE
    later = T0 + timedelta(days=600)
    inst = do(inst, "acceptance_application", {}, at=later)
    inst = do(inst, "preliminary_review", {"decision": "approve"}, at=later)
    inst = do(inst, "national_acceptance", {"decision": "approve"}, at=later)
    inst.fire_timers(later + timedelta(days=7, seconds=1))
    assert inst.end_event() == "end_accepted"


def test_the_period_also_ends_during_the_national_acceptance(bundle):
    inst = cultivating(bundle)
    at = DEADLINE - timedelta(days=10)
    inst = do(inst, "acceptance_application", {}, at=at)
    inst = do(inst, "preliminary_review", {"decision": "approve"}, at=at)
    inst.fire_timers(DEADLINE + timedelta(seconds=1))
    assert inst.end_event() == "end_expired_cultivation"


@pytest.mark.parametrize("step", ["material_review", "onsite_inspection", "target_decision"])
def test_selection_can_reject(bundle, step):
    inst = do(Instance.start(bundle, DATA, NOW), "application", {})
    inst = do(inst, "recommender_review", {"decision": "approve"})
    inst.send_message("recommendation_result", {"recommended": True, "priority": 1}, {}, NOW)
    for s in ["material_review", "onsite_inspection", "target_decision"]:
        inst = do(inst, s, {"decision": "reject" if s == step else "approve"})
        if s == step:
            break
    assert inst.end_event() == "end_rejected"
