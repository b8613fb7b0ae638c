"""Fixtures: one migrated database per run (SQLite by default, TEST_DATABASE_URL for PostgreSQL) with the demo world
loaded once, and one autouse fixture, `db_context`, that runs every test (except those of NO_DATABASE) in an app
context at the fixed clock START and afterwards puts the database back to the demo world (see `Baseline`)."""
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import MetaData, String, delete, insert, literal, not_, select, text, true, tuple_, union_all, update

from app import create_app
from app.extensions import db
from app.services.clock import FixedClock, SystemClock, set_clock

START = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
TESTS = Path(__file__).resolve().parent
NO_DATABASE = ("engine",)  # directories under tests/ whose tests never touch the database: no app, no cleanup
AUDIT_BYPASS = "audit_maintenance"  # the table whose row lifts the append-only triggers (allow_event_writes)
# kept by triggers (migrations 0021, 0023, 0025): restored with them
DERIVED = ("enterprise_name_grams", "heatmap_cells", "heatmap_range_cells")


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


def allow_event_writes() -> None:
    """Lift the append-only triggers on case_events and system_events for the current transaction only (migrations
    0004, 0009): tests clean up and tamper with history this way; the row is deleted again before the transaction
    commits."""
    db.session.execute(text(f"INSERT INTO {AUDIT_BYPASS} (id, reason) VALUES (1, 'tests') ON CONFLICT DO NOTHING"))


def _literal(clause):
    return text(str(clause.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})))


class Baseline:
    """Every table of the migrated database with its rows as they were right after the demo world was loaded.

    The tables and their columns are reflected from the database, not taken from the models, so what only the
    migrations made is included too (audit_maintenance, alembic_version, users.email, the claim columns of timers);
    the order is the foreign keys' (parents first). `restore()` brings the database back to this state in one
    transaction, whatever a test committed through whichever connection (HTTP requests, the live server's threads,
    concurrency tests):

    1. baseline rows a test changed are written back (today: a campaign deadline moved by a tier-wide extension in
       tests/timers/test_deadlines.py, a user's e-mail address in tests/timers/test_reminders.py);
    2. rows a test added are deleted, children before parents (so a changed row that pointed at an added row has
       been written back by then);
    3. baseline rows a test deleted are inserted again, parents before children.

    Not provided for: a changed row whose baseline values point at a baseline row the test deleted, or whose unique
    values an added row holds meanwhile. The restore then fails loudly, as an error in that test's teardown.

    Sequences are left alone, as before: on PostgreSQL ids keep growing over the run, while SQLite gives the next row
    max(id) + 1, so a deleted row's id comes again (hence `forget_rows_gone`).
    """

    def __init__(self) -> None:
        conn = db.session.connection()
        meta = MetaData()
        meta.reflect(bind=conn)
        missed = {t.name for t in db.metadata.sorted_tables} - set(meta.tables)
        assert not missed, f"tables of the models that the migrations did not make: {missed}"
        # the bypass table first (it has no foreign keys), so that its row is the last one deleted
        self.tables = [meta.tables[AUDIT_BYPASS], *(t for t in meta.sorted_tables
                                                    if t.name != AUDIT_BYPASS and t.name not in DERIVED)]
        for t in self.tables:
            assert t.primary_key.columns, f"table {t.name} has no primary key: the cleanup cannot tell its rows apart"
        self.rows = {t.name: self._read(conn, t, select(t)) for t in self.tables}
        # the statements, built once: the baseline rows as they are now, per table; one query naming the tables
        # that hold rows the baseline lacks; the deletion of those rows
        self.now = {t.name: select(t).where(self._kept(t)) for t in self.tables if self.rows[t.name]}
        self.added = union_all(*(select(literal(t.name, String)).where(select(1).select_from(t)
                                                                        .where(self._extra(t)).exists())
                                 for t in self.tables))
        self.delete_added = {t.name: delete(t).where(self._extra(t)) for t in self.tables}

    @staticmethod
    def _read(conn, table, stmt) -> dict[tuple, tuple]:
        """The rows `stmt` selects from `table`, as tuples of all columns, by their primary-key values."""
        pos = [i for i, c in enumerate(table.columns) if c.primary_key]
        return {tuple(row[i] for i in pos): tuple(row) for row in conn.execute(stmt)}

    @staticmethod
    def _where(table, keys):
        """A clause matching the rows of `keys` (tuples of primary-key values)."""
        cols = list(table.primary_key.columns)
        return cols[0].in_([k[0] for k in keys]) if len(cols) == 1 else tuple_(*cols).in_(list(keys))

    def _kept(self, table):
        """The baseline rows of `table`, the key values written into the SQL (a hundred bound parameters cost more
        to expand at every execution than the query itself)."""
        return _literal(self._where(table, self.rows[table.name]))

    def _extra(self, table):
        """The rows of `table` that the baseline lacks (as `_kept`)."""
        rows = self.rows[table.name]
        return _literal(not_(self._where(table, rows))) if rows else true()

    def _values(self, table, key) -> dict:
        return dict(zip(table.columns.keys(), self.rows[table.name][key], strict=True))

    def ids(self, table: str) -> set:
        """The single-column primary keys of the baseline rows of `table`."""
        return {k[0] for k in self.rows[table]}

    def restore(self) -> set[str]:
        """Put the database back (see the class); returns the names of the tables in which anything changed."""
        db.session.rollback()
        conn = db.session.connection()
        added = set(conn.scalars(self.added))
        changed, missing = {}, {}
        for table in self.tables:
            if table.name in self.now:
                rows, now = self.rows[table.name], self._read(conn, table, self.now[table.name])
                changed[table.name] = [k for k, row in now.items() if row != rows[k]]
                missing[table.name] = [k for k in rows if k not in now]
        touched = added | {t for t, keys in (*changed.items(), *missing.items()) if keys}
        if not touched:
            db.session.rollback()
            return touched
        allow_event_writes()
        for table in self.tables:  # 1. changed baseline rows back
            cols = list(table.primary_key.columns)
            for k in changed.get(table.name, ()):
                conn.execute(update(table).where(*(c == v for c, v in zip(cols, k, strict=True)))
                             .values(self._values(table, k)))
        for table in reversed(self.tables):  # 2. added rows deleted, children first (the bypass row last)
            if table.name in added or table.name == AUDIT_BYPASS:
                conn.execute(self.delete_added[table.name])
        for table in self.tables:  # 3. deleted baseline rows inserted again, parents first
            if missing.get(table.name):
                conn.execute(insert(table), [self._values(table, k) for k in missing[table.name]])
        db.session.commit()
        return touched - {AUDIT_BYPASS}


def forget_rows_gone(baseline: Baseline, touched: set[str]) -> None:
    """Drop what this process keeps of rows that are gone: the caches keyed by process version id (parsed specs,
    version infos, form validators) or decision table id hold baseline rows only afterwards (SQLite gives a deleted
    row's id to the next row), and loaded calendar years are read again once calendar rows changed."""
    from app.services import processes, quotas, workdays
    from workflows.parsing import SPEC_CACHE

    versions = baseline.ids("process_versions")
    cached = {*SPEC_CACHE._items, *processes._infos, *(k[0] for k in processes._validators)}
    if cached - versions:
        SPEC_CACHE.clear()
        processes._infos.clear()
        processes._validators.clear()
    if set(quotas._engines) - baseline.ids("decision_tables"):
        quotas._engines.clear()
    if touched & {"calendar_years", "calendar_days"}:
        workdays.forget_loaded_years()


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
        application.extensions["tests.baseline"] = Baseline()  # before any test or fixture can write
        db.session.commit()
    yield application


@pytest.fixture(autouse=True)
def db_context(request):
    """Every test outside NO_DATABASE: an app context on the test database, the clock fixed at START; afterwards the
    database is the demo world again (Baseline.restore) and the caches of rows that are gone are dropped."""
    if any(request.path.is_relative_to(TESTS / d) for d in NO_DATABASE):
        yield
        return
    app = request.getfixturevalue("app")
    baseline = app.extensions["tests.baseline"]
    set_clock(FixedClock(START))
    with app.app_context():
        yield
        try:
            forget_rows_gone(baseline, baseline.restore())
        finally:
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


@pytest.fixture
def browser_as(app):
    """A Flask client signed in through the login form (a session cookie, like a browser); `.token` is a CSRF token
    for its posts."""
    from tests.security.helpers import PASSWORDS, csrf, fresh_client

    def login(username):
        web = fresh_client(app)
        r = web.post("/login", data={"username": username, "password": PASSWORDS[username], "csrf_token": csrf(web)})
        assert r.status_code == 302
        web.token = csrf(web, "/")
        return web
    return login
