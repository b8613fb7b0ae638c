"""The basic tier end to end through the services, on a real database reached through the migrations."""
import pytest
from sqlalchemy import func, select, text

from app.errors import Conflict, Forbidden, Ineligible, Invalid, NotFound
from app.extensions import db
from app.models import Case, CaseEvent, HumanTask, TierRecord, TimerRow
from app.services import cases, events, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT


def start(username="acme", tier="basic", campaign=2026):
    with unit_of_work():
        case = cases.create_case(user(username), tier, campaign)
    return case


def open_task(case) -> HumanTask:
    (t,) = cases.open_tasks(db.session.get(Case, case.id))
    return t


def complete(username, task_id, data):
    with unit_of_work():
        return tasks.complete(user(username), task_id, data)


def test_enterprise_starts_and_task_lands_in_its_inbox():
    case = start()
    t = open_task(case)
    assert case.status == "draft" and case.province_code == "330000"
    assert (t.element, t.role, t.scope) == ("self_assessment", "enterprise", f"enterprise:{case.enterprise_id}")
    rows, total = tasks.inbox(user("acme"))
    assert total == 1 and rows[0].id == t.id


def test_full_path_certifies_and_records_tier_history():
    case = start()
    complete("acme", open_task(case).id, GOOD_ASSESSMENT)
    review = open_task(case)
    assert (review.role, review.scope) == ("provincial_reviewer", "province:330000")
    assert review.due_at is not None
    assert db.session.get(Case, case.id).status == "in_review"
    assert review.id in [t.id for t in tasks.inbox(user("zj-reviewer"))[0]]
    complete("zj-reviewer", review.id, {"decision": "approve", "review_comment": "符合"})
    case = db.session.get(Case, case.id)
    assert case.status == "certified" and case.closed_at is not None
    rec = db.session.scalar(select(TierRecord).where(TierRecord.case_id == case.id))
    assert (rec.tier, rec.year, rec.source) == ("basic", 2026, "self_assessment")
    actions = [e.action for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                                    .order_by(CaseEvent.seq))]
    assert actions == ["case.created", "task.completed", "task.completed", "case.closed"]
    assert events.verify_case(case.id) == (True, None, None)


def test_certified_basic_makes_advanced_eligible():
    with pytest.raises(Ineligible) as exc:
        start(tier="advanced")
    assert exc.value.errors["rules"][0]["rule"] == "requires_basic"
    case = start()
    complete("acme", open_task(case).id, GOOD_ASSESSMENT)
    complete("zj-reviewer", open_task(case).id, {"decision": "approve"})
    advanced = start(tier="advanced")  # eligible now
    assert advanced.tier == "advanced" and advanced.status == "draft"


def test_return_loop_shows_comment_and_counts_revisions():
    case = start()
    complete("acme", open_task(case).id, GOOD_ASSESSMENT)
    complete("zj-reviewer", open_task(case).id, {"decision": "return", "review_comment": "请补充佐证材料"})
    again = open_task(case)
    assert again.element == "self_assessment"
    c = db.session.get(Case, case.id)
    assert c.status == "returned" and c.revisions == 1
    view = tasks.get_task(user("acme"), again.id)
    review = view["timeline"]["steps"][-1]  # the review's own step, shown beside the form
    assert (review["element"], review["decision"]) == ("organizer_review", "return")
    assert review["comment"] == "请补充佐证材料"
    assert "review_comment" not in view["data"]  # not a field of the enterprise's form
    assert view["data"]["construction"]["rd_design"] == GOOD_ASSESSMENT["construction"]["rd_design"]
    complete("acme", again.id, GOOD_ASSESSMENT)
    second_review = tasks.get_task(user("zj-reviewer"), open_task(case).id)
    assert "decision" not in second_review["data"]  # x-fresh: the last round's decision is not prefilled
    latest = {e["element"]: e for e in second_review["timeline"]["steps"]}
    assert latest["self_assessment"]["round"] == 2 and latest["self_assessment"]["data"]["maturity_level"] == 2
    # the first round (application and review) stays as history, not as current values
    assert [e["superseded"] for e in second_review["timeline"]["steps"]] == [True, True, False]


def test_revisions_are_bounded(app):
    app.config["MAX_REVISIONS"] = 1
    try:
        case = start()
        complete("acme", open_task(case).id, GOOD_ASSESSMENT)
        complete("zj-reviewer", open_task(case).id, {"decision": "return", "review_comment": "第一次退回"})
        complete("acme", open_task(case).id, GOOD_ASSESSMENT)
        with pytest.raises(Invalid) as exc:
            complete("zj-reviewer", open_task(case).id, {"decision": "return", "review_comment": "第二次退回"})
        assert "decision" in exc.value.errors
    finally:
        app.config["MAX_REVISIONS"] = 20


def test_soe_member_is_organized_by_its_group():
    case = start("sinopec-plant")
    complete("sinopec-plant", open_task(case).id, GOOD_ASSESSMENT)
    review = open_task(case)
    assert (review.role, review.scope) == ("soe_reviewer", "soe:sinopec")
    assert tasks.inbox(user("zj-reviewer"))[1] == 0
    with pytest.raises(NotFound):
        cases.get_case(user("zj-reviewer"), case.id)
    complete("sinopec-reviewer", review.id, {"decision": "approve"})
    assert db.session.get(Case, case.id).status == "certified"


def test_plan_listed_city_goes_through_its_province():
    case = start("ningbo-parts")
    assert case.province_code == "330000"


def test_invalid_form_data_names_each_field_and_changes_nothing():
    case = start()
    t = open_task(case)
    bad = dict(GOOD_ASSESSMENT, maturity_level=1, above_scale=False)
    bad.pop("accept_responsibility")
    with pytest.raises(Invalid) as exc:
        complete("acme", t.id, bad)
    assert set(exc.value.errors) >= {"maturity_level", "above_scale", "accept_responsibility"}
    db.session.expire_all()
    assert db.session.get(HumanTask, t.id).state == "open"
    assert db.session.get(Case, case.id).event_seq == 1


def test_review_needs_a_comment_to_return():
    case = start()
    complete("acme", open_task(case).id, GOOD_ASSESSMENT)
    with pytest.raises(Invalid) as exc:
        complete("zj-reviewer", open_task(case).id, {"decision": "return"})
    assert "review_comment" in exc.value.errors


def test_wrong_role_other_scope_and_anonymous_cannot_act():
    case = start()
    t = open_task(case)
    with pytest.raises(Forbidden):
        complete("zj-reviewer", t.id, GOOD_ASSESSMENT)  # sees the case, but the task is the enterprise's
    with pytest.raises(NotFound):
        complete("sd-reviewer", t.id, GOOD_ASSESSMENT)  # another province: the task does not exist for them
    with pytest.raises(NotFound):
        complete("qingdao-home", t.id, GOOD_ASSESSMENT)
    assert tasks.inbox(user("sd-reviewer"))[1] == 0


def test_second_completion_is_a_conflict_and_changes_nothing():
    case = start()
    t = open_task(case)
    complete("acme", t.id, GOOD_ASSESSMENT)
    seq = db.session.get(Case, case.id).event_seq
    with pytest.raises(Conflict):
        complete("acme", t.id, GOOD_ASSESSMENT)
    db.session.expire_all()
    assert db.session.get(Case, case.id).event_seq == seq


def test_stale_write_is_refused(monkeypatch):
    """Someone else advances the case between our read and our write: the version check refuses ours."""
    from app.services import instances

    case = start()
    t = open_task(case)
    real_load = instances.load_task  # the completion's one read: the task, its case and the open tasks

    def load_then_concurrent_writer(task_id):
        found = real_load(task_id)
        with db.engine.connect() as other:
            other.execute(text("UPDATE cases SET lock_version = lock_version + 1 WHERE id = :id"),
                          {"id": found[1].id})
            other.commit()
        return found

    monkeypatch.setattr(instances, "load_task", load_then_concurrent_writer)
    with pytest.raises(Conflict):
        complete("acme", t.id, GOOD_ASSESSMENT)
    monkeypatch.undo()
    db.session.expire_all()
    assert db.session.get(HumanTask, t.id).state == "open"
    assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)) == 1


def test_claim_blocks_other_reviewers_until_released():
    case = start()
    complete("acme", open_task(case).id, GOOD_ASSESSMENT)
    review = open_task(case)
    with unit_of_work():
        tasks.claim(user("zj-reviewer"), review.id)
    with unit_of_work():
        tasks.release(user("zj-reviewer"), review.id)
    with pytest.raises(NotFound):  # the reviewer's task does not exist for the enterprise (issue 15)
        with unit_of_work():
            tasks.claim(user("acme"), review.id)


def test_ineligible_and_unknown_inputs():
    with pytest.raises(Invalid) as exc:
        start(tier="platinum", campaign=1999)
    assert set(exc.value.errors) == {"tier", "campaign"}
    case = start()
    with pytest.raises(Ineligible) as exc:
        start()
    assert exc.value.errors["rules"][0]["rule"] == "one_case_per_campaign"
    assert db.session.scalar(select(Case.id).where(Case.id != case.id)) is None
    with pytest.raises(Forbidden):
        start("zj-reviewer")


def test_basic_has_no_application_deadline(clock):
    from datetime import datetime, timezone

    clock.at = datetime(2027, 8, 1, tzinfo=timezone.utc)  # past the campaign's excellent/lighthouse dates
    assert start("qingdao-home", tier="basic").status == "draft"


def test_excellent_deadline_and_branch_rule(clock):
    from datetime import datetime, timezone

    clock.at = datetime(2027, 7, 16, 16, 0, tzinfo=timezone.utc)
    with pytest.raises(Ineligible) as exc:
        start("sinopec-plant", tier="excellent")
    rules = [r["rule"] for r in exc.value.errors["rules"]]
    assert rules == ["application_deadline"]  # a petrochemicals branch may apply; the date has passed
    with pytest.raises(Ineligible) as exc:
        start("acme", tier="excellent")
    assert [r["rule"] for r in exc.value.errors["rules"]] == ["requires_advanced", "application_deadline"]


def test_no_timer_rows_for_a_diagram_without_timers():
    case = start()
    assert db.session.scalar(select(TimerRow.id).where(TimerRow.case_id == case.id)) is None


def test_a_held_tier_is_not_applied_for_again():
    with pytest.raises(Ineligible) as exc:
        start("sinopec-plant", tier="advanced")  # holds advanced (2024)
    assert [r["rule"] for r in exc.value.errors["rules"]] == ["already_holds"]
    assert start("ningbo-parts", tier="basic").status == "draft"  # basic is a yearly self-assessment
