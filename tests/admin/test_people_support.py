"""Shared by the people tests (service, HTTP, browser): helpers only, no tests. Accounts and sessions a test creates or
changes are put back by the shared per-test fixture (tests/conftest.py `db_context`, every table from the schema)."""
from contextlib import contextmanager

from sqlalchemy import select

from app.extensions import db
from app.models import User


@contextmanager
def people_cleanup():
    """Kept for the tests that wrap themselves in it: the shared fixture now restores users and sessions."""
    db.session.rollback()
    yield


def by_name(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))
