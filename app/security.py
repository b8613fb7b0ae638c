"""Cross-cutting HTTP security: response headers, login throttling around the two login endpoints, the absolute
session lifetime, and a database that refuses writes answering 503.

Registered by the application factory (`init_security`); the rules themselves live in `services.accounts`.
"""
from flask import Flask, flash, g, jsonify, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from app.errors import ServiceError
from app.extensions import db
from app.services import accounts, clock
from app.uow import unit_of_work

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
LOGIN_ENDPOINTS = ("api.token", "auth.login")
LOGIN_AT = "_login_at"
SID = "_sid"  # the browser session's secret id (its row: services/sessions.py)
# what a user with a one-time password may still reach: the page and call that change it, logout, the language
FORCED_PAGES = ("auth.account", "auth.change_password", "auth.logout", "auth.set_language", "auth.login", "static")
FORCED_API = ("api.me", "api.revoke", "people_api.change_my_password")


def _login_username() -> str:
    if request.endpoint == "api.token":
        data = request.get_json(silent=True)
        return str(data.get("username", "")) if isinstance(data, dict) else ""
    return request.form.get("username", "")


def _address() -> str:
    return request.remote_addr or "unknown"


def _throttled_response(exc: accounts.Throttled):
    if request.endpoint == "api.token":
        resp = jsonify({"error": exc.code, "message": exc.message, "errors": exc.errors})
    else:
        minutes = max(1, (exc.retry_after + 59) // 60)
        flash(_("Too many failed logins. Try again in %(minutes)s minutes.", minutes=minutes), "error")
        resp = render_template("auth/login.html")
    resp = _make(resp, 429)
    resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


def _make(body, status):
    resp = make_response(body)
    resp.status_code = status
    return resp


def _before():
    if request.method == "POST" and request.endpoint in LOGIN_ENDPOINTS:
        db.session.rollback()  # a fresh transaction: the reservation's INSERT is its first statement
        try:
            with unit_of_work():
                g._login_attempt = accounts.reserve(_login_username(), _address())
        except accounts.Throttled as exc:
            return _throttled_response(exc)
        return None
    if current_user.is_authenticated and LOGIN_AT in session:
        limit = g._session_limit
        if clock.now().timestamp() - float(session[LOGIN_AT]) > limit:
            logout_user()
            session.clear()
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in FORCED_PAGES and not request.path.startswith("/api/")):
        flash(_("Choose your own password before you continue."), "error")
        return redirect(url_for("auth.account"))
    return None


def password_change_pending(user) -> bool:
    """An API call by a user who must still replace its one-time password (only /me, /me/password and
    /auth/revoke answer; everything else 403 `password_change_required`)."""
    return bool(user.must_change_password) and request.endpoint not in FORCED_API


def _after(resp):
    for name, value in HEADERS.items():
        resp.headers.setdefault(name, value)
    if g.get("_secure_cookies"):
        resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        resp.headers.setdefault("Cache-Control", "no-store")
    if request.method == "POST" and request.endpoint in LOGIN_ENDPOINTS and resp.status_code != 429:
        username = _login_username()
        try:
            with unit_of_work():
                if resp.status_code < 400:
                    accounts.record_success(username)
                else:  # 401 keeps the reserved failure; a malformed request (400, 422, ...) is not one
                    accounts.settle(g.get("_login_attempt"), failed=resp.status_code == 401)
        except ServiceError:
            pass  # a database refusing writes must not turn a login answer into an error
    return resp


def checking_current_password(user, change) -> None:
    """Run `change()`, a unit of work's service call that checks the user's current password (a password change),
    under the login throttle: a wrong current password counts as a failed login of `pw:<username>` and of this
    address; Throttled (429) once there are too many."""
    key = f"pw:{user.username}"
    db.session.rollback()
    with unit_of_work():
        attempt = accounts.reserve(key, _address())
    failed = False
    try:
        with unit_of_work():
            change()
            accounts.record_success(key)
        attempt = None
    except ServiceError as exc:
        failed = "current" in (exc.errors or {})
        raise
    finally:
        if attempt is not None:
            with unit_of_work():
                accounts.settle(attempt, failed=failed)


def throttled_api_response(exc: accounts.Throttled):
    resp = jsonify({"error": exc.code, "message": exc.message, "errors": exc.errors})
    resp.status_code = 429
    resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


def mark_login() -> None:
    """Called by the login view after login_user: the session's absolute lifetime starts now."""
    session.permanent = True
    session[LOGIN_AT] = clock.now().timestamp()


def _database_unavailable(exc: OperationalError):
    db.session.rollback()
    message = "the database is not available: " + str(exc.orig)[:200]
    if request.path.startswith("/api/"):
        return jsonify({"error": "unavailable", "message": message, "errors": {}}), 503
    return render_template("web/error.html", error=ServiceError(message)), 503


def _out_of_range(exc: Exception):
    """The safety net under every entry (issue 17 item 10): a number no column can hold that reached the database
    driver (SQLite: OverflowError; PostgreSQL: DataError, numeric value out of range) answers 400, not 500. Ids in
    URLs never get this far (`blueprints.params.BoundedInt`); this catches the ones inside JSON bodies and forms."""
    db.session.rollback()
    message = "a number is out of range"
    if request.path.startswith("/api/"):
        return jsonify({"error": "out_of_range", "message": message, "errors": {}}), 400
    return render_template("web/error.html", error=ServiceError(_("A number is out of range."))), 400


def _api_http_error(exc: HTTPException):
    """Under /api/ every error is JSON, also for URLs that match no route (e.g. a negative id) or no method."""
    if not request.path.startswith("/api/"):
        return exc
    resp = jsonify({"error": exc.name.lower().replace(" ", "_"), "message": exc.description or exc.name,
                    "errors": {}})
    resp.status_code = exc.code or 500
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    return resp


def init_security(app: Flask) -> None:
    if app.config.get("PROXY_FIX_X_FOR"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)
    limit = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    secure = app.config["SESSION_COOKIE_SECURE"]

    @app.before_request
    def _security_before():
        g._session_limit = limit
        g._secure_cookies = secure
        return _before()

    app.after_request(_after)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(OverflowError, _out_of_range)
    app.register_error_handler(DataError, _out_of_range)
    app.register_error_handler(HTTPException, _api_http_error)
