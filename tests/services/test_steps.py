"""Each step's data is its own (issue 15): every completed user task's fields kept under its step and round, only
declared outputs in the process data; the per-step rows rebuilt from history; running cases moved to the new
diagrams with `flask cases migrate-step-data`, history still replaying."""
import subprocess

from sqlalchemy import delete, select

from app.config import ROOT
from app.extensions import db
from app.models import Case, CaseStep, SystemEvent
from app.services import audit, clock, processes, steps
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT
from tests.services.test_basic_tier import complete, open_task, start
from workflows.instance import Instance


def _rows(case_id):
    return [(s.element, s.round, s.role, s.department, s.actor_id, s.data, s.abandoned)
            for s in steps.for_case(case_id)]


def _process_data(case_id):
    case = db.session.get(Case, case_id)
    return Instance.load(case.state, processes.version_info(case.process_version_id).bundle).case_data()


def test_each_completion_is_kept_under_its_step_and_round():
    case = start()
    complete("acme", open_task(case).id, GOOD_ASSESSMENT)
    complete("zj-reviewer", open_task(case).id, {"decision": "return", "review_comment": "请补充佐证材料"})
    complete("acme", open_task(case).id, dict(GOOD_ASSESSMENT, outcomes="第二轮成效"))
    acme, reviewer = user("acme").id, user("zj-reviewer").id
    rows = _rows(case.id)
    assert [(e, r, role, who) for e, r, role, _d, who, _data, _a in rows] == [
        ("self_assessment", 1, "enterprise", acme), ("organizer_review", 1, "provincial_reviewer", reviewer),
        ("self_assessment", 2, "enterprise", acme)]
    assert rows[1][5] == {"decision": "return", "review_comment": "请补充佐证材料"}
    assert rows[2][5]["outcomes"] == "第二轮成效" and rows[0][5]["outcomes"] == GOOD_ASSESSMENT["outcomes"]
    data = _process_data(case.id)
    # only the review's declared output is process data: no form field of either step
    assert data["organizer_decision"] == "return"
    assert not {"decision", "review_comment", "outcomes", "maturity_level"} & set(data)


def test_the_rows_are_rebuilt_from_history_and_a_rewind_marks_its_branch():
    case = start()
    complete("acme", open_task(case).id, GOOD_ASSESSMENT)
    complete("zj-reviewer", open_task(case).id, {"decision": "return", "review_comment": "第一轮意见"})
    complete("acme", open_task(case).id, GOOD_ASSESSMENT)
    review = steps.for_case(case.id)[1]
    with unit_of_work():  # the review waits again: the review and the resubmission after it are a side branch
        audit.rewind(user("admin"), case.id, review.seq, "审核意见填错，退回重审", clock.now())
    written = _rows(case.id)
    assert [a for *_x, a in written] == [False, True, True]  # the review and the resubmission: rewound
    assert steps.latest(case.id, "organizer_review") is None
    with unit_of_work():
        db.session.execute(delete(CaseStep).where(CaseStep.case_id == case.id))
    with unit_of_work():
        assert steps.backfill() == 3
    assert _rows(case.id) == written
    with unit_of_work():
        assert steps.backfill() == 0  # a case that has its rows is left alone


def _old_basic_xml() -> bytes:
    """The basic diagram as shipped before per-step data (every field process data, conditions on `decision`)."""
    return subprocess.run(["git", "-C", str(ROOT), "show", "64d7efb:bpmn/basic_self_assessment.bpmn"],
                          check=True, capture_output=True).stdout


def test_migrate_step_data_moves_a_running_case_and_history_still_replays(app):
    key = "basic_self_assessment"
    shipped = processes.latest_version(key)
    with unit_of_work():
        processes.deploy(key, _old_basic_xml(), user("admin").id, message="the diagram before step data")
    case = start()  # on the old version
    old_version = db.session.get(Case, case.id).process_version_id
    assert old_version != shipped.id
    complete("acme", open_task(case).id, GOOD_ASSESSMENT)
    assert _process_data(case.id)["outcomes"] == GOOD_ASSESSMENT["outcomes"]  # the old way: every field
    with unit_of_work():
        new = processes.deploy(key, shipped.bpmn_xml, None, message="the shipped diagram again")
    with unit_of_work():  # the step rows of this case gone, as for a case older than migration 0018
        db.session.execute(delete(CaseStep).where(CaseStep.case_id == case.id))
    runner = app.test_cli_runner()
    out = runner.invoke(args=["cases", "migrate-step-data"])
    assert out.exit_code == 0, out.output
    assert "1 step record(s) written" in out.output
    assert f"case {case.id}: moved from version" in out.output, out.output
    moved = db.session.get(Case, case.id)
    assert moved.process_version_id == new.id
    assert [s.element for s in steps.for_case(case.id)] == ["self_assessment"]
    event = db.session.scalar(select(SystemEvent).where(SystemEvent.action == "cases.step_data_migrated")
                              .order_by(SystemEvent.seq.desc()))
    assert event.data["moved"][0]["case_id"] == case.id
    # the review on the new version routes on its declared output
    complete("zj-reviewer", open_task(case).id, {"decision": "approve", "review_comment": "同意"})
    assert db.session.get(Case, case.id).status == "certified"
    verify = runner.invoke(args=["audit", "verify", str(case.id), "--replay"])
    assert verify.exit_code == 0, verify.output
    again = runner.invoke(args=["cases", "migrate-step-data"])
    assert "0 step record(s) written" in again.output and "0 case(s) moved" in again.output


def test_the_demo_world_replays_after_the_migration(app):
    """`audit verify --replay` on every case of the demo world (its per-step rows built by migration 0018 and
    `bpmn sync`/`demo` on the new diagrams)."""
    runner = app.test_cli_runner()
    out = runner.invoke(args=["cases", "migrate-step-data"])
    assert out.exit_code == 0, out.output
    verify = runner.invoke(args=["audit", "verify", "--replay"])
    assert verify.exit_code == 0, verify.output
    for case_id in db.session.scalars(select(Case.id)):
        done = [s.element for s in steps.for_case(case_id)]
        from app.models import CaseEvent

        completed = list(db.session.scalars(select(CaseEvent.element).where(
            CaseEvent.case_id == case_id, CaseEvent.action == "task.completed").order_by(CaseEvent.seq)))
        assert done == completed, case_id
