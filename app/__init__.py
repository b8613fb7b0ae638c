"""Tierflow: the application factory."""
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import ROOT, Config
from app.extensions import babel, csrf, db, login_manager, migrate


def _sqlite_pragmas(app: Flask) -> None:
    sync = app.config["SQLITE_SYNCHRONOUS"]

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_conn, _record):
        if type(dbapi_conn).__module__.startswith("sqlite3"):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA synchronous={sync}")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(Config)
    app.json.ensure_ascii = False  # Chinese names stay readable in API responses
    if overrides:
        app.config.update(overrides)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        from pathlib import Path

        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        _sqlite_pragmas(app)

    from app.settings import install

    install(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    from app.i18n import init_i18n

    init_i18n(app, babel)

    from app import models  # noqa: F401  (registers tables)
    from app.blueprints import register

    register(app)
    from app.security import init_security

    init_security(app)
    from app.cli import register_cli

    register_cli(app)
    from app.services import workdays

    workdays.install()  # the engine's working-day builtin reads loaded calendar years too
    app.extensions["tierflow.create_app"] = create_app  # jobs that need an application of their own (simulate)
    from app.jobs.scheduler import start_beside_server

    start_beside_server(app)  # only with SCHEDULER_ENABLED=1, never under tests (see app/jobs/scheduler.py)
    return app

