"""Every setting, read from the environment in one place, with its default.

This file is also the documentation of the settings: see README.md for how to set them.
"""
import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("TIERFLOW_INSTANCE", ROOT / "instance"))


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a random key kept in instance/ (never a key written in the code)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    import secrets

    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'tierflow.sqlite3'}")
    SECRET_KEY = _secret_key()
    # sqlite: NORMAL is durable in WAL mode across process crashes; FULL also survives power loss.
    SQLITE_SYNCHRONOUS = os.environ.get("SQLITE_SYNCHRONOUS", "NORMAL")
    MAX_UPLOAD_MB = _int("MAX_UPLOAD_MB", 20)
    MAX_CONTENT_LENGTH = (MAX_UPLOAD_MB + 1) * 1024 * 1024
    # uploaded diagrams: more BPMN elements (with an id) than this are refused before parsing (issue 17 item 9)
    MAX_DIAGRAM_ELEMENTS = _int("MAX_DIAGRAM_ELEMENTS", 5000)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE / "attachments"))
    ALLOWED_UPLOAD_TYPES = os.environ.get(
        "ALLOWED_UPLOAD_TYPES", "pdf,png,jpg,jpeg,xlsx,docx"
    ).split(",")
    API_TOKEN_HOURS = _int("API_TOKEN_HOURS", 12)
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    # one-time passwords (services/people.py) are 16 random characters, ~79 bits: a cheap salted hash suffices and
    # lets an import create thousands of accounts in seconds; the user's own password gets PASSWORD_HASH_METHOD
    OTP_HASH_METHOD = os.environ.get("OTP_HASH_METHOD", "pbkdf2:sha256:1000")
    MAX_REVISIONS = _int("MAX_REVISIONS", 20)  # return-for-revision rounds per case; bounds the task tree depth
    BPMN_DIR = os.environ.get("BPMN_DIR", str(ROOT / "bpmn"))
    # the address the public reaches this system at, printed in official documents (the public notice page);
    # empty: the address of the request that generated the document
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "zh")
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"  # set to 1 behind TLS
    # a browser session ends this many hours after login, however active (app/security.py)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_int("SESSION_HOURS", 8))
    # login throttling (services/accounts.py): failures in a sliding window, per account and per client address
    LOGIN_WINDOW_MINUTES = _int("LOGIN_WINDOW_MINUTES", 15)
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_MAX_FAILURES_PER_ADDRESS = _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 30)
    # number of reverse proxies in front that set X-Forwarded-For/-Proto (0: trust none; the client address is
    # the socket's, which behind a proxy would throttle everybody as one address)
    PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # the scheduler (app/jobs/scheduler.py): started beside the server when 1 (scripts/run.sh sets it), else run
    # `flask scheduler run` as its own process; one sweep every SCHEDULER_INTERVAL_SECONDS, only by the holder of
    # the lease (renewed every tick, taken over by another scheduler when it expires)
    SCHEDULER_ENABLED = os.environ.get("SCHEDULER_ENABLED", "0") == "1"
    SCHEDULER_INTERVAL_SECONDS = _int("SCHEDULER_INTERVAL_SECONDS", 30)
    SCHEDULER_LEASE_SECONDS = _int("SCHEDULER_LEASE_SECONDS", 90)
    # a sweep's claim on due timers older than this is taken over (the sweep died between claim and commit)
    TIMER_CLAIM_TIMEOUT_SECONDS = _int("TIMER_CLAIM_TIMEOUT_SECONDS", 300)
    TIMER_SWEEP_BATCH = _int("TIMER_SWEEP_BATCH", 500)  # due timer rows claimed per sweep
    # reminder e-mails (app/jobs/reminders.py): sent only when SMTP_HOST is set
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = _int("SMTP_PORT", 25)
    MAIL_FROM = os.environ.get("MAIL_FROM", "tierflow@localhost")
    # append-only log of chain heads written by `flask audit anchor` (keep a copy the database owner cannot rewrite)
    AUDIT_ANCHOR_FILE = os.environ.get("AUDIT_ANCHOR_FILE", str(INSTANCE / "audit-anchors.log"))
