"""Browser login (Flask-Login session backed by a `user_sessions` row), logout, the language switch, and the user's
own account page: change the password, see and end its sessions and API tokens."""
from urllib.parse import urlparse

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.errors import Invalid, ServiceError, Unauthorized
from app.extensions import login_manager
from app.security import SID, checking_current_password, mark_login
from app.services import accounts, auth, people, sessions
from app.uow import unit_of_work

bp = Blueprint("auth", __name__)
# the password policy's messages (services/accounts.password_problems), translated in the page
POLICY = ("at least 10 characters", "too common or too simple", "must not be the username",
          "the password must be text", "must differ from the current password")


@login_manager.user_loader
def load_user(user_id: str):
    """One statement: the user and its session row; a revoked or expired session or an inactive user is nobody."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    return sessions.user_for_session(uid, session.get(SID))


def _safe_next(target: str | None) -> str:
    if target and urlparse(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        try:
            user = auth.authenticate(request.form.get("username", ""), request.form.get("password", ""))
        except Unauthorized:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html"), 401
        lang = session.get("lang")  # chosen on the login page: kept, while the rest of the session is renewed
        session.clear()
        if lang:
            session["lang"] = lang
        with unit_of_work():
            sid = sessions.open_session(user, current_app.permanent_session_lifetime.total_seconds(),
                                        request.remote_addr or "", request.user_agent.string or "")
        login_user(user)
        session[SID] = sid
        mark_login()
        if user.must_change_password:
            return redirect(url_for("auth.account"))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html")


@bp.post("/logout")
def logout():
    with unit_of_work():
        sessions.end_session(session.get(SID))
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/lang/<code>")
def set_language(code: str):
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))


# -- my account ------------------------------------------------------------------------------------------------------
def _me():
    return current_user._get_current_object()


def _account_page(errors=None, status=200):
    me = _me()
    return render_template("auth/account.html", sessions=sessions.active_sessions(me),
                           tokens=sessions.active_tokens(me), current=sessions.session_id(session.get(SID)),
                           errors=errors or {}, policy=POLICY), status


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/password")
@login_required
def change_password():
    me = _me()
    def change():
        people.change_password(me, request.form.get("current", ""), request.form.get("new", ""),
                               keep_session=sessions.session_id(session.get(SID)))
        if request.form.get("new") != request.form.get("confirm"):
            raise Invalid("the two new passwords differ", errors={"confirm": "differs"})

    try:
        checking_current_password(me, change)
    except accounts.Throttled as exc:
        flash(_("Too many failed logins. Try again in %(minutes)s minutes.",
                minutes=max(1, (exc.retry_after + 59) // 60)), "error")
        resp = make_response(_account_page({}, 429))
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    except Invalid as exc:
        return _account_page(exc.errors, 422)
    flash(_("Your password has been changed. Your other sessions have been ended."), "success")
    return redirect(url_for("web.home"))


@bp.post("/account/sessions/<int:session_id>/revoke")
@login_required
def revoke_session(session_id):
    try:
        with unit_of_work():
            sessions.revoke_session(_me(), session_id)
    except ServiceError as exc:
        return render_template("people/error.html", error=exc), exc.status
    flash(_("The session has been ended."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    try:
        with unit_of_work():
            sessions.revoke_token(_me(), token_id)
    except ServiceError as exc:
        return render_template("people/error.html", error=exc), exc.status
    flash(_("The API token has been revoked."), "success")
    return redirect(url_for("auth.account"))
