"""Replay: every step of a long case rebuilt from the recorded events matches the digest recorded live; bad
steps answer 404 with the last valid one; a history that no longer replays stops at the step that differs."""
import pytest
from sqlalchemy import select

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Case, CaseEvent, HumanTask
from app.services import audit, events, replay
from app.uow import unit_of_work
from tests.audit.helpers import basic_case, claim, complete, open_task, rechain
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT


def test_every_step_of_a_long_case_matches_the_recorded_state(app, clock):
    app.config["MAX_REVISIONS"] = 40
    try:
        case_id = basic_case(rounds=32, clock=clock)  # 100 events
    finally:
        app.config["MAX_REVISIONS"] = 20
    rows = replay.history(case_id)
    assert len(rows) == 100
    assert all(e.digest for e in rows if e.state_hash)
    # the live state hash (random UUIDs, wall-clock times) cannot be reproduced; the digest can
    live = db.session.get(Case, case_id)
    assert rows[-1].digest == events.state_digest(live.state)
    rep = replay.run(rows, 100, check_all=True)
    assert rep.verified == sum(1 for e in rows if e.digest)
    auditor = user("auditor")
    seen = []
    for n in range(1, 101):
        out = replay.replay(auditor, case_id, n)
        assert out["at"] == n and out["event"]["seq"] == n and out["digest"] == rows[n - 1].digest
        seen.append(tuple(t["element"] for t in out["open_tasks"]))
    assert seen[0] == ("self_assessment",) and seen[1] == ("organizer_review",)
    assert seen[-1] == () and replay.replay(auditor, case_id, 100)["end_event"] == "end_certified"


def test_step_view_shows_who_what_diff_tasks_and_claims(clock):
    case_id = basic_case(rounds=1, clock=clock)
    out = replay.replay(user("auditor"), case_id, 3)  # the reviewer claimed the review
    assert out["event"]["action"] == "task.claimed" and out["event"]["actor"] == "zj-reviewer"
    assert out["open_tasks"][0]["claimed_by_name"] == "zj-reviewer"
    assert out["active_elements"] == ["organizer_review"]
    out = replay.replay(user("auditor"), case_id, 4)  # returned with a comment
    assert out["diff"]["added"]["organizer_decision"] == "return"  # the review's declared output
    assert out["open_tasks"] == [{"element": "self_assessment", "title": out["open_tasks"][0]["title"],
                                  "title_en": out["open_tasks"][0]["title_en"], "role": "enterprise",
                                  "claimed_by": None, "claimed_by_name": None}]
    out = replay.replay(user("auditor"), case_id, 5)  # resubmitted with another outcome
    # the self-assessment declares no outputs: its fields are the step's (the event's data), not process data
    assert out["event"]["data"]["outcomes"] == "生产效率提升30%。" and "outcomes" not in out["data"]
    assert out["event"]["data"]["maturity_level"] == GOOD_ASSESSMENT["maturity_level"]


@pytest.mark.parametrize("at", [0, -1, 8, 1000])
def test_a_step_beyond_the_history_is_404_with_the_last_one(at):
    case_id = basic_case(rounds=1)  # 7 events
    with pytest.raises(NotFound) as exc:
        replay.replay(user("auditor"), case_id, at)
    assert exc.value.errors == {"last": 7}


def test_outside_the_scope_the_case_does_not_exist():
    case_id = basic_case(rounds=0)
    with pytest.raises(NotFound):
        replay.replay(user("qingdao-home"), case_id, 1)
    with pytest.raises(NotFound):
        replay.replay(user("sd-reviewer"), case_id, 1)
    assert replay.replay(user("acme"), case_id, 1)["at"] == 1
    assert replay.replay(user("zj-reviewer"), case_id, 1)["at"] == 1


def test_an_altered_row_stops_the_replay_at_that_step():
    case_id = basic_case(rounds=1)
    rechain(case_id, lambda rows: rows[3].update(data={"decision": "return", "review_comment": "改过的意见"}))
    assert events.verify_case(case_id) == (True, None, None)  # the rewritten chain verifies by itself
    assert replay.replay(user("auditor"), case_id, 3)["at"] == 3  # before the edit: fine
    with pytest.raises(replay.ReplayMismatch) as exc:
        replay.replay(user("auditor"), case_id, 6)
    assert exc.value.errors["step"] == 4 and "differs" in exc.value.message
    assert audit.replay_all(case_id)[:2] == (False, 4)


def test_a_process_version_changed_under_the_history_stops_the_replay(app):
    from pathlib import Path

    from app.services import processes

    case_id = basic_case(rounds=0, finish=None)
    xml = (Path(app.root_path).parent / "bpmn" / "basic_self_assessment.bpmn").read_text(encoding="utf-8")
    changed = xml.replace("organizer_review", "organizer_check")
    with unit_of_work():
        other = processes.deploy("audit_other", changed.encode(), None, tier=None)
    rechain(case_id, lambda rows: [r.update(process_version_id=other.id) for r in rows])
    with pytest.raises(replay.ReplayMismatch) as exc:
        replay.replay(user("auditor"), case_id, 2)
    assert exc.value.errors["step"] in (1, 2)


def test_an_edited_event_is_refused_before_replaying():
    case_id = basic_case(rounds=1)
    from tests.audit.test_append_only import tamper

    tamper("UPDATE case_events SET element = 'forged' WHERE case_id = :c AND seq = 2", c=case_id)
    with pytest.raises(replay.ReplayMismatch) as exc:
        replay.replay(user("auditor"), case_id, 5)
    assert exc.value.errors["step"] == 2 and "altered" in exc.value.message
    assert replay.replay(user("auditor"), case_id, 1)["at"] == 1  # what precedes the edit still replays


def test_rewind_keeps_the_abandoned_path_and_still_replays(clock):
    case_id = basic_case(rounds=1, clock=clock, finish=None)  # ..., 5: resubmitted; review waiting
    claim("zj-reviewer", case_id)  # 6
    rows = replay.history(case_id)
    assert [e.action for e in rows][3] == "task.completed" and rows[3].element == "organizer_review"
    with pytest.raises(Forbidden):
        audit.rewind(user("auditor"), case_id, 4, "reason", clock.now())
    with pytest.raises(Invalid):
        audit.rewind(user("admin"), case_id, 4, "  ", clock.now())
    with pytest.raises(Invalid):
        audit.rewind(user("admin"), case_id, 3, "a claim is not a task", clock.now())
    clock.advance(hours=1)
    with unit_of_work():
        out = audit.rewind(user("admin"), case_id, 4, "审核意见填错，退回重审", clock.now())
    assert out == {"id": case_id, "status": "in_review", "event": 7, "task": "organizer_review"}
    rows = replay.history(case_id)
    assert len(rows) == 7 and rows[-1].action == "case.rewound"
    assert rows[-1].data == {"to": 4, "reason": "审核意见填错，退回重审", "element": "organizer_review"}
    assert rows[-1].digest == rows[1].digest  # the state after step 3 (a claim after step 2), again
    assert replay.abandoned_steps(rows) == {4: 7, 5: 7, 6: 7}
    assert events.verify_case(case_id) == (True, None, None)
    assert audit.replay_all(case_id) == (True, None, None)
    # the inbox follows: the old self-assessment task is cancelled, a new review waits
    task = open_task(case_id)
    assert task.element == "organizer_review" and task.role == "provincial_reviewer"
    states = [t.state for t in db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id)
                                                   .order_by(HumanTask.id))]
    assert states.count("open") == 1 and "cancelled" in states
    out = replay.replay(user("auditor"), case_id, 7)
    assert out["event"]["action"] == "case.rewound" and out["open_tasks"][0]["element"] == "organizer_review"
    assert replay.replay(user("auditor"), case_id, 5)["event"]["abandoned_by"] == 7
    # the case goes on from there, and its whole history still replays
    complete("zj-reviewer", case_id, {"decision": "approve", "review_comment": "符合"})
    assert db.session.get(Case, case_id).status == "certified"
    assert audit.replay_all(case_id) == (True, None, None)
    with pytest.raises(Conflict):
        audit.rewind(user("admin"), case_id, 2, "closed cases are not rewound", clock.now())


def test_every_event_of_a_closed_case_has_its_replay_recipe():
    case_id = basic_case(rounds=1)
    ops = [(e.action, (e.replay or {}).get("op")) for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))]
    assert ops[0] == ("case.created", "start") and ("timer.fired", None) not in ops
    assert all(op == "complete" for action, op in ops if action == "task.completed")
    assert ("task.claimed", None) in ops and ops[-1] == ("case.closed", None)
