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
        "recommendation_deadline_at": "2027-07-31T00:00:00+08:00", "panel_min_mean": 60, "panel_min_approval_pct": 60}
T0 = datetime(2027, 9, 1, tzinfo=timezone.utc)  # cultivation starts here
DEADLINE = datetime(2029, 9, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def bundle():
    return parse_bpmn((ROOT / "bpmn" / "lighthouse_cultivation.bpmn").read_bytes())


def elements(inst):
    return sorted(t.element for t in inst.human_tasks())


def do(inst, element, data, at=NOW):
    panels = {"material_review": "material_review", "onsite_inspection": "onsite_inspection",
              "national_acceptance": "acceptance_review"}
    if element in panels:  # a panel of three scores first; the lead (for acceptance: the national body) decides
        for i in (1, 2, 3):
            inst = do(inst, f"{panels[element]}_{i}", {"decision": "approve", "score": 80 + i}, at)
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
    # reports on the calendar six-month marks from the start (a timer cycle repeated its first interval's length)
    marks = [datetime(2028, 3, 1, tzinfo=timezone.utc), datetime(2028, 9, 1, tzinfo=timezone.utc),
             datetime(2029, 3, 1, tzinfo=timezone.utc)]
    for mark in marks:
        assert dict(inst.waiting_timers())["progress_due"] == mark
        inst.fire_timers(mark - timedelta(seconds=1))
        assert elements(inst) == ["acceptance_application"]
        inst.fire_timers(mark + timedelta(seconds=1))
        assert elements(inst) == ["acceptance_application", "progress_report"]
        inst = do(inst, "progress_report", {"progress": "x" * 20, "percent_done": 30}, at=mark)
        inst = do(inst, "guidance_note", {"guidance": "继续推进数字孪生"}, at=mark)
        assert elements(inst) == ["acceptance_application"]
    # the 24th month is the deadline itself: no fourth report
    assert [e for e, _d in inst.waiting_timers()] == ["cultivation_deadline"]
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
    # the six-month report fell due meanwhile (reports run beside the acceptance steps, on their own dates)
    assert elements(inst) == ["acceptance_application", "progress_report"]
    assert dict(inst.waiting_timers())["progress_due"] == datetime(2028, 9, 1, tzinfo=timezone.utc)
    # the deadline is a date in the data: trying again does not restart the two years
    assert dict(inst.waiting_timers())["cultivation_deadline"] == DEADLINE
    later = T0 + timedelta(days=600)
    inst = do(inst, "acceptance_application", {}, at=later)
    inst = do(inst, "preliminary_review", {"decision": "approve"}, at=later)
    inst = do(inst, "national_acceptance", {"decision": "approve"}, at=later)
    inst.fire_timers(later + timedelta(days=7, seconds=1))
    assert inst.end_event() == "end_accepted"


# a reviewer late past the end of the period does not expire the case: tests/engine/test_deadline_parties.py


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


def test_reports_keep_their_dates_while_acceptance_is_retried(bundle):
    """Returning or failing the acceptance does not restart the reports: they stay on the marks from the start."""
    inst = cultivating(bundle)
    at = datetime(2028, 2, 1, tzinfo=timezone.utc)
    inst = do(inst, "acceptance_application", {}, at=at)
    inst = do(inst, "preliminary_review", {"decision": "return"}, at=at)
    inst = do(inst, "acceptance_application", {}, at=at)
    inst = do(inst, "preliminary_review", {"decision": "approve"}, at=at)
    assert dict(inst.waiting_timers())["progress_due"] == datetime(2028, 3, 1, tzinfo=timezone.utc)
    inst.fire_timers(datetime(2028, 3, 1, 0, 0, 1, tzinfo=timezone.utc))
    # due during the national acceptance too
    assert elements(inst) == ["acceptance_review_1", "acceptance_review_2", "acceptance_review_3", "progress_report"]
    inst = do(inst, "national_acceptance", {"decision": "reject"}, at=datetime(2028, 3, 2, tzinfo=timezone.utc))
    assert elements(inst) == ["acceptance_application", "progress_report"]
    assert dict(inst.waiting_timers()) == {"cultivation_deadline": DEADLINE,
                                           "progress_due": datetime(2028, 9, 1, tzinfo=timezone.utc)}


def test_an_upheld_objection_ends_the_case_while_a_report_timer_waits(bundle):
    inst = cultivating(bundle)
    at = T0 + timedelta(days=30)
    for step in ["acceptance_application", "preliminary_review", "national_acceptance"]:
        inst = do(inst, step, {} if step == "acceptance_application" else {"decision": "approve"}, at=at)
    inst.send_message("objection_lodged", {"objection_id": 1, "reason": "x"}, {}, at)
    inst = do(inst, "objection_review", {"decision": "reject", "resolution": "成立"}, at=at)
    assert inst.completed and inst.end_event() == "end_rejected_objection" and inst.waiting_timers() == []
