"""`flask backup FILE` takes a consistent online snapshot; `flask restore FILE` brings it back; every chain verifies.

Runs on the test database of the run: SQLite (backup API) or, with TEST_DATABASE_URL, PostgreSQL (pg_dump -Fc and
pg_restore)."""
import threading

from sqlalchemy import create_engine, func, select, text

from app.extensions import db
from app.models import Case, CaseEvent
from app.services import cases, events, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT


def _counts():
    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(Case)),
            db.session.scalar(select(func.count()).select_from(CaseEvent)),
            tuple(db.session.scalars(select(Case.last_hash).order_by(Case.id))))


def _apply(username: str) -> int:
    with unit_of_work():
        case = cases.create_case(user(username), "basic", 2026)
        task = cases.open_tasks(case)[0]
        tasks.complete(user(username), task.id, GOOD_ASSESSMENT)
        return case.id


def test_backup_and_restore_round_trip(app, tmp_path):
    runner = app.test_cli_runner()
    _apply("acme")
    _apply("qingdao-home")
    before = _counts()
    snap = tmp_path / "tierflow.backup"
    r = runner.invoke(args=["backup", str(snap)])
    assert r.exit_code == 0, r.output
    assert snap.stat().st_size > 0 and not (tmp_path / "tierflow.backup.partial").exists()

    # after the backup: more work, and a case lost by mistake
    _apply("sinopec-plant")
    assert _counts() != before

    r = runner.invoke(args=["restore", str(snap)])
    assert r.exit_code == 0, r.output
    assert _counts() == before
    r = runner.invoke(args=["audit", "verify"])
    assert r.exit_code == 0 and "2 chain(s) checked, 0 broken" in r.output, r.output
    for cid in db.session.scalars(select(Case.id)):
        assert events.verify_case(cid)[0]
    # the restored database works on: the reviewer completes the review of a restored case
    task = db.session.scalars(text("SELECT id FROM human_tasks WHERE state = 'open' AND role = 'provincial_reviewer'"
                                   " ORDER BY id")).first()
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), task, {"decision": "approve"})


def test_restore_refuses_what_is_not_a_backup(app, tmp_path):
    runner = app.test_cli_runner()
    _apply("acme")
    before = _counts()
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a database" * 100)
    r = runner.invoke(args=["restore", str(junk)])
    assert r.exit_code == 1 and "error:" in r.output
    assert _counts() == before


def test_backup_is_consistent_while_cases_are_written(app, tmp_path):
    """A snapshot taken while completions commit holds whole steps only: every chain in it verifies."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        import pytest

        pytest.skip("pg_dump's consistency is PostgreSQL's snapshot isolation; the round trip covers it")
    stop = threading.Event()
    done = []

    def writer():
        with app.app_context():
            from app.models import User

            actor = db.session.get(User, user("acme").id)
            reviewer = db.session.get(User, user("zj-reviewer").id)
            while not stop.is_set():
                with unit_of_work():
                    case = cases.create_case(actor, "basic", 2026)
                    tasks.complete(actor, cases.open_tasks(case)[0].id, GOOD_ASSESSMENT)
                with unit_of_work():
                    tasks.complete(reviewer, cases.open_tasks(case)[0].id,
                                   {"decision": "reject", "review_comment": "备份测试"})
                done.append(case.id)
            db.session.remove()

    t = threading.Thread(target=writer)
    t.start()
    try:
        while len(done) < 3:
            stop.wait(0.01)
        snaps = []
        for i in range(3):
            snap = tmp_path / f"online-{i}.backup"
            r = app.test_cli_runner().invoke(args=["backup", str(snap)])
            assert r.exit_code == 0, r.output
            snaps.append(snap)
    finally:
        stop.set()
        t.join(timeout=60)
    assert len(done) >= 3
    for snap in snaps:
        eng = create_engine(f"sqlite:///{snap}")
        with eng.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            n = conn.execute(text("SELECT count(*) FROM cases")).scalar()
            # every case in the snapshot has a whole history: created, completed, then completed, closed
            per_case = conn.execute(text("SELECT case_id, count(*) FROM case_events GROUP BY case_id")).all()
            heads = dict(conn.execute(text("SELECT id, last_hash FROM cases")).all())
            last = dict(conn.execute(text(
                "SELECT case_id, hash FROM case_events e WHERE seq = (SELECT max(seq) FROM case_events "
                "WHERE case_id = e.case_id)")).all())
        eng.dispose()
        assert n == len(per_case) and heads == last
        from app import create_app

        copy = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{snap}", "SECRET_KEY": "x"})
        with copy.app_context():
            ids = list(db.session.scalars(select(Case.id)))
            assert ids and all(events.verify_case(cid)[0] for cid in ids)
            db.session.remove()
