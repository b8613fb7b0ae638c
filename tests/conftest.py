"""Fixtures: one migrated database per run (SQLite by default, TEST_DATABASE_URL for PostgreSQL), the demo world
loaded once, and per-test cleanup of everything a test can create."""
import os
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.services.clock import FixedClock, SystemClock, set_clock

DYNAMIC = ("system_events", "reminders", "deadline_extensions", "scheduler_leases", "login_failures", "objections",
           "case_list_entries", "case_lists", "timers", "case_events", "attachments", "human_tasks", "api_tokens")
START = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


def _url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _url(tmp_path_factory)
    if url.startswith("postgresql"):
        _reset_postgres(url)
    application = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")), "SECRET_KEY": "test",
    })
    from flask_migrate import upgrade

    from app.services import demo

    with application.app_context():
        upgrade(revision="heads")  # the product's migrations, never create_all
        demo.load_demo()
        db.session.commit()
    yield application


def allow_event_writes() -> None:
    """Lift the append-only triggers on case_events for the current transaction only (migration 0004): tests
    clean up and tamper with history this way; the row is deleted again before the transaction commits."""
    db.session.execute(text("INSERT INTO audit_maintenance (id, reason) VALUES (1, 'tests') ON CONFLICT DO NOTHING"))


@pytest.fixture
def db_context(app):
    """An app context on the test database; afterwards everything a test created is deleted."""
    clock = FixedClock(START)
    set_clock(clock)
    with app.app_context():
        yield
        db.session.rollback()
        allow_event_writes()
        for table in DYNAMIC:
            db.session.execute(text(f"DELETE FROM {table}"))
        db.session.execute(text("DELETE FROM audit_maintenance"))
        db.session.execute(text("DELETE FROM tier_records WHERE case_id IS NOT NULL"))
        db.session.execute(text("DELETE FROM cases"))
        db.session.commit()
        db.session.remove()
    set_clock(SystemClock())


@pytest.fixture
def clock():
    from app.services.clock import get_clock

    return get_clock()


@pytest.fixture
def client(app):
    return app.test_client()


def user(username: str):
    from sqlalchemy import select

    from app.models import User

    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def users():
    return user


def token(client, username: str, password: str | None = None) -> dict:
    import yaml

    from app.services.demo import DEMO_FILE

    if password is None:
        password = {u["username"]: u["password"] for u in yaml.safe_load(DEMO_FILE.read_text())["users"]}[username]
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


@pytest.fixture
def auth_headers(client):
    return lambda username: token(client, username)
