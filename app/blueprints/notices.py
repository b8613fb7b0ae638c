"""Public notices (公示) in the browser: anyone, logged in or not, sees the cases in their notice period, the period
and how to object; a logged-in user may lodge an objection with evidence files (services/objections.py decides who
may and what holds)."""
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import Invalid, ServiceError
from app.services import objections
from app.uow import unit_of_work

bp = Blueprint("notices", __name__, url_prefix="/notices")


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


def _items() -> list[dict]:
    return [dict(n, until=datetime.fromisoformat(n["notice_until"]) if n["notice_until"] else None)
            for n in objections.in_notice()]


def _notice(case_id: int) -> dict | None:
    return next((n for n in _items() if n["case_id"] == case_id), None)


@bp.get("")
def index():  # a public notice is public: no login to read it; lodging an objection needs one
    return render_template("notices/index.html", items=_items())


@bp.get("/<int:case_id>")
@login_required
def objection_form(case_id):
    notice = _notice(case_id)
    if notice is None:
        flash(_("This case is not in its public notice."), "error")
        return redirect(url_for("notices.index"))
    return render_template("notices/objection.html", notice=notice, reason="", error=None)


@bp.post("/<int:case_id>")
@login_required
def lodge(case_id):
    user = current_user._get_current_object()
    reason = request.form.get("reason", "")
    files = [(f.filename or "", f.stream) for f in request.files.getlist("evidence") if f and f.filename]
    try:
        with unit_of_work():
            objections.lodge(user, case_id, reason, files)
    except Invalid as exc:
        notice = _notice(case_id)
        if notice is None:
            flash(exc.message, "error")
            return redirect(url_for("notices.index"))
        error = _("Give the reasons (5 to 4000 characters).") if "reason" in (exc.errors or {}) else exc.message
        return render_template("notices/objection.html", notice=notice, reason=reason, error=error), 422
    except ServiceError as exc:  # a refused file (type, size), a role that may not object: nothing was stored
        notice = _notice(case_id)
        if notice is None:
            raise
        flash(exc.message, "error")
        return render_template("notices/objection.html", notice=notice, reason=reason, error=None), exc.status
    flash(_("Your objection was lodged; the case is held until it is decided."), "info")
    return redirect(url_for("notices.index"))
