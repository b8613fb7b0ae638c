"""In-app notifications (站内信, issue 18): the bell's unread count in the header (a context processor, one count
query), the list page with mark as read and the e-mail choice per kind, and /api/v1/notifications."""
from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.api import body, error, token_required
from app.errors import ServiceError
from app.extensions import csrf
from app.services import incidents, notifications
from app.uow import unit_of_work

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
api_bp = Blueprint("notifications_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # bearer tokens, never cookies


def register(app) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)


@bp.app_context_processor
def _header_counts():
    """The bell's unread count (and the administrator's open incidents), read only when a template asks."""
    def unread():
        return notifications.unread_count(current_user) if current_user.is_authenticated else 0

    def open_incidents():
        ok = current_user.is_authenticated and current_user.role == "admin"
        return incidents.open_count() if ok else 0
    return {"unread_notifications": unread, "open_incidents": open_incidents}


@api_bp.errorhandler(ServiceError)
def _api_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


@api_bp.get("/notifications")
@token_required
def api_list():
    rows = notifications.for_user(g.api_user, unread_only=request.args.get("unread") in ("1", "true"))
    return jsonify({"items": [notifications.to_json(n) for n in rows],
                    "unread": notifications.unread_count(g.api_user)})


@api_bp.post("/notifications/read")
@token_required
def api_read():
    ids = body().get("ids")
    with unit_of_work():
        n = notifications.mark_read(g.api_user, ids)
    return jsonify({"marked": n})


@api_bp.get("/notifications/prefs")
@token_required
def api_prefs():
    return jsonify({"email": notifications.prefs(g.api_user)})


@api_bp.put("/notifications/prefs")
@token_required
def api_set_prefs():
    email = body().get("email")
    with unit_of_work():
        out = notifications.set_prefs(g.api_user, email)
    return jsonify({"email": out})


@bp.get("")
@login_required
def index():
    user = current_user._get_current_object()
    return render_template("notifications/index.html", rows=notifications.for_user(user),
                           prefs=notifications.prefs(user), kinds=notifications.KINDS)


@bp.post("/read")
@login_required
def read():
    user = current_user._get_current_object()
    ids = request.form.getlist("id") or None
    with unit_of_work():
        notifications.mark_read(user, ids)
    return redirect(url_for("notifications.index"))


@bp.post("/prefs")
@login_required
def prefs():
    user = current_user._get_current_object()
    chosen = set(request.form.getlist("email"))
    with unit_of_work():
        notifications.set_prefs(user, {k: k in chosen for k in notifications.KINDS})
    flash(_("E-mail choices saved."), "info")
    return redirect(url_for("notifications.index"))
