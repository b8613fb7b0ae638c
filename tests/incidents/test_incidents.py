"""Issue 18 part 1: a step the engine refuses at run time opens an incident, loses no input, and is retried to
success after a fix (services and the unit of work, on the real database)."""
import pytest
from sqlalchemy import select

from app.errors import Forbidden, Invalid
from app.extensions import db
from app.models import Case, CaseEvent, HumanTask, Incident
from app.services import events, incident_actions, incidents
from app.services import tasks as task_service
from app.uow import unit_of_work
from tests.conftest import user
from tests.incidents.helpers import BROKEN, REVIEW, case_waiting_for_review, deploy, fix_and_migrate


def _events(case_id):
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                   .order_by(CaseEvent.seq)))


def _fail_review():
    deploy(BROKEN, "a broken approval condition")
    case_id, task_id = case_waiting_for_review()
    before = db.session.get(Case, case_id)
    status, seq = before.status, before.event_seq
    with pytest.raises(incidents.Held) as held:
        with unit_of_work():
            task_service.complete(user("zj-reviewer"), task_id, REVIEW)
    db.session.expire_all()
    return case_id, task_id, status, seq, held.value


def test_failed_completion_keeps_the_case_and_the_input_and_opens_one_incident():
    case_id, task_id, status, seq, held = _fail_review()
    assert held.status == 409 and held.code == "held"
    inc = db.session.get(Incident, held.errors["incident"])
    assert (inc.case_id, inc.kind, inc.element, inc.state) == (case_id, "task", "organizer_review", "open")
    assert inc.element_name == "组织单位审核" and inc.actor_id == user("zj-reviewer").id
    assert "Traceback" not in inc.message and inc.message.startswith("review_decision: ")
    assert inc.data == REVIEW
    case = db.session.get(Case, case_id)
    assert case.status == status  # the last good state
    task = db.session.get(HumanTask, task_id)
    assert task.state == "open" and task.draft == REVIEW  # the reviewer's input is the task's draft
    evs = _events(case_id)
    assert [e.action for e in evs[seq:]] == ["incident.opened"]
    assert evs[-1].data["incident"] == inc.id and evs[-1].actor_id == user("zj-reviewer").id
    assert events.verify_case(case_id)[0]
    assert incidents.open_count() == 1


def test_a_second_failure_counts_an_attempt_not_a_second_incident():
    case_id, task_id, _s, seq, held = _fail_review()
    with pytest.raises(incidents.Held):
        with unit_of_work():
            task_service.complete(user("zj-reviewer"), task_id, dict(REVIEW, review_comment="再试一次"))
    db.session.expire_all()
    rows = list(db.session.scalars(select(Incident).where(Incident.case_id == case_id)))
    assert len(rows) == 1 and rows[0].attempts == 2 and rows[0].data["review_comment"] == "再试一次"
    assert [e.action for e in _events(case_id)[seq:]] == ["incident.opened"]


def test_retry_after_a_fix_and_migration_completes_the_step_with_the_recorded_input():
    case_id, task_id, _s, seq, held = _fail_review()
    inc_id = held.errors["incident"]
    with pytest.raises(incidents.Held):  # before the fix the retry fails again and counts an attempt
        with unit_of_work():
            incident_actions.retry(user("admin"), inc_id)
    db.session.expire_all()
    assert db.session.get(Incident, inc_id).attempts == 2
    fix_and_migrate(case_id)
    with unit_of_work():
        out = incident_actions.retry(user("admin"), inc_id)
    db.session.expire_all()
    assert out["state"] == "resolved" and out["resolution"] == "retried"
    case = db.session.get(Case, case_id)
    assert case.status == "certified"
    evs = _events(case_id)
    done = next(e for e in evs if e.action == "task.completed" and e.element == "organizer_review")
    assert done.actor_id == user("zj-reviewer").id and done.data["review_comment"] == REVIEW["review_comment"]
    assert evs[-1].action == "incident.resolved" and evs[-1].actor_id == user("admin").id
    assert events.verify_case(case_id)[0]
    assert incidents.open_count() == 0


def test_only_administrators_see_and_resolve_incidents():
    _case_id, _t, _s, _seq, held = _fail_review()
    for name in ("zj-reviewer", "auditor", "acme"):
        with pytest.raises(Forbidden):
            incidents.list_incidents(user(name))
        with pytest.raises(Forbidden):
            incident_actions.retry(user(name), held.errors["incident"])
    assert [i.id for i in incidents.list_incidents(user("admin"))] == [held.errors["incident"]]


def test_skip_is_refused_for_an_engine_step_and_cancel_needs_a_reason():
    case_id, task_id, _s, seq, held = _fail_review()
    inc_id = held.errors["incident"]
    with pytest.raises(Invalid):
        incident_actions.skip(user("admin"), inc_id, "不需要")
    with pytest.raises(Invalid):
        incident_actions.cancel_case(user("admin"), inc_id, "  ")
    with unit_of_work():
        incident_actions.cancel_case(user("admin"), inc_id, "企业申请撤回")
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case.status == "withdrawn" and case.closed_at is not None
    assert db.session.get(HumanTask, task_id).state == "cancelled"
    assert [e.action for e in _events(case_id)[seq:]] == ["incident.opened", "case.cancelled", "incident.resolved"]
    assert events.verify_case(case_id)[0]
