"""A deadline extension is part of the replayable history: the replay re-times the timers as the extension did."""
from app.extensions import db
from app.models import Case
from app.services import cases, deadlines, replay
from app.uow import unit_of_work
from tests.conftest import user


def test_replay_after_a_case_deadline_extension():
    with unit_of_work():
        case = cases.create_case(user("hz-precision"), "excellent", 2026)
        case_id = case.id
    with unit_of_work():
        deadlines.extend(user("admin"), 2026, "excellent", reason="系统故障，延长申报期", case_id=case_id,
                         application_deadline="2027-07-30")
    c = db.session.get(Case, case_id)
    assert c.event_seq >= 2
    state, _events = replay.replay_case(c, None, check_all=True)  # every recorded state matches
    assert state is not None
