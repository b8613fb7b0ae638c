"""The history is append-only in the database (triggers, SQLite and PostgreSQL), and any edit, deletion or
reordering done around the triggers is found by `flask audit verify`, naming the first broken event."""
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import CaseEvent
from app.services import events
from tests.audit.helpers import basic_case
from tests.conftest import allow_event_writes


def tamper(sql: str, **params) -> None:
    """Run SQL on case_events with the triggers lifted for this transaction only, and commit."""
    db.session.rollback()
    allow_event_writes()
    db.session.execute(text(sql), params)
    db.session.execute(text("DELETE FROM audit_maintenance"))
    db.session.commit()
    db.session.expire_all()


def verify(app, *args):
    return app.test_cli_runner().invoke(args=["audit", "verify", *[str(a) for a in args]])


@pytest.mark.parametrize("sql", [
    "UPDATE case_events SET action = 'case.forged' WHERE case_id = :c",
    "DELETE FROM case_events WHERE case_id = :c",
])
def test_the_database_refuses_updates_and_deletes(sql):
    case_id = basic_case(rounds=0)
    before = db.session.scalar(select(CaseEvent.hash).where(CaseEvent.case_id == case_id, CaseEvent.seq == 1))
    with pytest.raises(DBAPIError) as exc:
        db.session.execute(text(sql), {"c": case_id})
    assert "append-only" in str(exc.value)
    db.session.rollback()
    assert db.session.scalar(select(CaseEvent.hash).where(CaseEvent.case_id == case_id,
                                                          CaseEvent.seq == 1)) == before


def test_the_bypass_is_local_to_one_transaction():
    case_id = basic_case(rounds=0)
    allow_event_writes()
    db.session.execute(text("DELETE FROM audit_maintenance"))
    db.session.commit()  # a bypass row never outlives its transaction
    with pytest.raises(DBAPIError):
        db.session.execute(text("DELETE FROM case_events WHERE case_id = :c"), {"c": case_id})
    db.session.rollback()


def test_an_intact_history_verifies(app):
    case_id = basic_case(rounds=2)
    r = verify(app, case_id)
    assert r.exit_code == 0, r.output
    assert "1 chain(s) checked, 0 broken" in r.output
    r = verify(app, "--replay")
    assert r.exit_code == 0, r.output


def test_an_edited_event_is_named(app):
    case_id = basic_case(rounds=1)
    tamper("UPDATE case_events SET data = :d WHERE case_id = :c AND seq = 4", d='{"decision": "approve"}',
           c=case_id)
    r = verify(app, case_id)
    assert r.exit_code == 1
    assert f"case {case_id}: broken at event 4: hash does not match the event's content" in r.output


def test_a_deleted_event_is_named(app):
    case_id = basic_case(rounds=1)
    tamper("DELETE FROM case_events WHERE case_id = :c AND seq = 3", c=case_id)
    r = verify(app)
    assert r.exit_code == 1
    assert f"case {case_id}: broken at event 3: sequence gap" in r.output


def test_a_deleted_last_event_is_named(app):
    case_id = basic_case(rounds=1)
    last = db.session.scalar(select(CaseEvent.seq).where(CaseEvent.case_id == case_id).order_by(
        CaseEvent.seq.desc()).limit(1))
    tamper("DELETE FROM case_events WHERE case_id = :c AND seq = :s", c=case_id, s=last)
    r = verify(app, case_id)
    assert r.exit_code == 1
    assert f"case {case_id}: broken at event {last}: events are missing" in r.output


def test_reordered_events_are_named(app):
    case_id = basic_case(rounds=1)
    tamper("UPDATE case_events SET seq = -seq WHERE case_id = :c AND seq IN (2, 3)", c=case_id)
    tamper("UPDATE case_events SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE case_id = :c AND seq < 0",
           c=case_id)
    assert [e.action for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                                 .order_by(CaseEvent.seq))][1:3] == ["task.claimed",
                                                                                     "task.completed"]
    r = verify(app, case_id)
    assert r.exit_code == 1
    assert f"case {case_id}: broken at event 2" in r.output
    assert events.verify_case(case_id)[:2] == (False, 2)
