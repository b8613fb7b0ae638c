"""The one settings object services read (`settings().upload_dir`), made at the edge by `create_app` from the
Flask config (app/config.py reads the environment).

Services never import Flask's `current_app`: they call `settings()`, which answers the settings of the application
in whose context the request, command or job runs. The object is a typed view over that application's config, so a
value an operator or a test sets on `app.config` is the value services see."""
from collections.abc import Mapping

from flask import current_app, has_app_context


class _Key:
    def __init__(self, name: str, default=None):
        self.name, self.default = name, default

    def __get__(self, obj, _owner=None):
        if obj is None:
            return self
        return obj._config.get(self.name, self.default)


class Settings:
    database_url = _Key("SQLALCHEMY_DATABASE_URI")
    upload_dir = _Key("UPLOAD_DIR")
    allowed_upload_types = _Key("ALLOWED_UPLOAD_TYPES", ())
    max_upload_mb = _Key("MAX_UPLOAD_MB", 20)
    max_diagram_bytes = _Key("MAX_DIAGRAM_BYTES", 5 * 1024 * 1024)
    max_diagram_elements = _Key("MAX_DIAGRAM_ELEMENTS", 5000)
    api_token_hours = _Key("API_TOKEN_HOURS", 12)
    password_hash_method = _Key("PASSWORD_HASH_METHOD", "scrypt")
    otp_hash_method = _Key("OTP_HASH_METHOD", "pbkdf2:sha256:1000")
    max_revisions = _Key("MAX_REVISIONS", 20)
    bpmn_dir = _Key("BPMN_DIR")
    public_base_url = _Key("PUBLIC_BASE_URL", "")  # official documents name the public notice page by it
    login_window_minutes = _Key("LOGIN_WINDOW_MINUTES", 15)
    login_max_failures = _Key("LOGIN_MAX_FAILURES", 5)
    login_max_failures_per_address = _Key("LOGIN_MAX_FAILURES_PER_ADDRESS", 30)
    scheduler_interval_seconds = _Key("SCHEDULER_INTERVAL_SECONDS", 30)
    scheduler_lease_seconds = _Key("SCHEDULER_LEASE_SECONDS", 90)
    timer_claim_timeout_seconds = _Key("TIMER_CLAIM_TIMEOUT_SECONDS", 300)
    timer_sweep_batch = _Key("TIMER_SWEEP_BATCH", 500)
    smtp_host = _Key("SMTP_HOST", "")
    smtp_port = _Key("SMTP_PORT", 25)
    mail_from = _Key("MAIL_FROM", "tierflow@localhost")
    audit_anchor_file = _Key("AUDIT_ANCHOR_FILE")
    testing = _Key("TESTING", False)

    def __init__(self, config: Mapping):
        self._config = config

    def get(self, name: str, default=None):
        """A setting by its config name (for the few read by name, e.g. the scheduler's integers)."""
        return self._config.get(name, default)


def install(app) -> Settings:
    app.extensions["tierflow.settings"] = obj = Settings(app.config)
    return obj


def settings() -> Settings:
    return current_app.extensions["tierflow.settings"]


def available() -> bool:
    """Whether an application's settings are at hand (code that also runs outside any application, e.g. the engine's
    working-day builtin in a bare engine test, asks first)."""
    return has_app_context()
