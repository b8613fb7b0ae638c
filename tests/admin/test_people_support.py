"""Shared by the people tests (service, HTTP, browser, matrix, fuzz): accounts and sessions that tests create are
removed again, and the demo accounts they change are put back. Holds no tests itself."""
from contextlib import contextmanager

from sqlalchemy import text

from app.extensions import db
from app.models import User
from tests.conftest import DYNAMIC, allow_event_writes

COLUMNS = ("password_hash", "role", "province_code", "soe_group_key", "enterprise_id", "department", "active",
           "must_change_password")


def snapshot_users() -> tuple[int, dict]:
    rows = db.session.execute(text(f"SELECT id, {', '.join(COLUMNS)} FROM users")).all()  # noqa: S608
    db.session.rollback()
    return max((r[0] for r in rows), default=0), {r[0]: dict(zip(COLUMNS, r[1:], strict=True)) for r in rows}


def restore_users(keep: int, saved: dict) -> None:
    """Delete what the test wrote (the per-test cleanup first: events may name a new user as their actor), every
    account created after `keep`, every session row; put the demo accounts' columns back."""
    db.session.rollback()
    allow_event_writes()
    for table in DYNAMIC:
        db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
    db.session.execute(text("DELETE FROM tier_records WHERE case_id IS NOT NULL"))
    db.session.execute(text("DELETE FROM cases"))
    db.session.execute(text("DELETE FROM audit_maintenance"))
    db.session.execute(text("DELETE FROM user_sessions"))
    db.session.execute(text("DELETE FROM users WHERE id > :k"), {"k": keep})
    for uid, cols in saved.items():
        db.session.execute(text(f"UPDATE users SET {', '.join(f'{c} = :{c}' for c in COLUMNS)} "  # noqa: S608
                                "WHERE id = :id"), {**cols, "id": uid})
    db.session.commit()
    db.session.expire_all()


@contextmanager
def people_cleanup():
    keep, saved = snapshot_users()
    try:
        yield
    finally:
        restore_users(keep, saved)


def by_name(username: str) -> User:
    from sqlalchemy import select

    return db.session.scalar(select(User).where(User.username == username))
