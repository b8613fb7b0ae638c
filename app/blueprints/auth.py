"""Browser login (Flask-Login session), logout and the language switch."""
from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from app.errors import Unauthorized
from app.extensions import login_manager
from app.security import mark_login
from app.services import auth, users

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    return users.get(user_id)


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
        login_user(user)
        mark_login()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html")


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/lang/<code>")
def set_language(code: str):
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))
