from contextlib import contextmanager

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.conftest import DYNAMIC, allow_event_writes


@contextmanager
def forget_deployed():
    """The process versions and models deployed inside are removed again on the way out, after the cases that use
    them (the usual per-test cleanup, done here first), with the caches keyed by version id (SQLite reuses a
    deleted row's id)."""
    keep = db.session.execute(text("SELECT max(id) FROM process_versions")).scalar() or 0
    models = set(db.session.execute(text("SELECT key FROM process_models")).scalars())
    db.session.rollback()
    try:
        yield
    finally:
        from app.services import processes
        from workflows.parsing import SPEC_CACHE

        db.session.rollback()
        allow_event_writes()
        for table in DYNAMIC:
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
        db.session.execute(text("DELETE FROM tier_records WHERE case_id IS NOT NULL"))
        db.session.execute(text("DELETE FROM cases"))
        db.session.execute(text("DELETE FROM process_drafts"))
        db.session.execute(text("DELETE FROM audit_maintenance"))
        db.session.execute(text("DELETE FROM process_versions WHERE id > :k"), {"k": keep})
        for key in set(db.session.execute(text("SELECT key FROM process_models")).scalars()) - models:
            db.session.execute(text("DELETE FROM process_models WHERE key = :k"), {"k": key})
        db.session.commit()
        SPEC_CACHE.clear()
        processes._infos.clear()
        processes._validators.clear()


@pytest.fixture(autouse=True)
def _db(db_context):
    """As tests/services, and what a test deployed is removed again."""
    with forget_deployed():
        yield
