"""Reassignment and corrections (issue 18 part 4) as API calls: POST /api/v1/tasks/{id}/reassign {"to", "reason"}
and POST /api/v1/cases/{id}/corrections {"element", "field", "value", "reason"}; the rules are in
services/reassign.py and services/corrections.py. Also GET /api/v1/service-operators: the registered service-task
operators and their parameters (services/operators.py), what a diagram editor offers.

The browser forms (web/_reassign.html on the task page, web/_correct.html on the case page) post here; their
choices come from the services (`reassign.choices`, `corrections.correctable`) through two template globals. On a
refusal the page is drawn again (422) with what was typed and the message, in the UI language."""
from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.api import body, error, token_required
from app.blueprints.params import parse_int
from app.errors import ServiceError
from app.extensions import csrf
from app.services import clock, corrections, operators, process_access, reassign
from app.uow import unit_of_work

api_bp = Blueprint("handover_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # bearer tokens, never cookies
web_bp = Blueprint("handover", __name__)


def register(app) -> None:
    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    app.add_template_global(_reassign_choices, "reassign_choices")
    app.add_template_global(_correction_fields, "correction_fields")
    app.add_template_global(operators.catalogue, "service_operators")  # the diagram editor's operator panel


def _reassign_choices(task_id: int):
    """The colleagues the signed-in user may hand the task to, or None (no form)."""
    if not current_user.is_authenticated:
        return None
    return reassign.choices(current_user._get_current_object(), task_id)


def _correction_fields(case_id: int) -> list[dict]:
    if not current_user.is_authenticated:
        return []
    en = str(get_locale() or "zh") == "en"
    return [{**f, "shown": f["label_en"] if en else f["label"]}
            for f in corrections.correctable(current_user._get_current_object(), case_id)]


def _refused(exc: ServiceError) -> dict:
    """A refusal as the form shows it: the message per field (the whole message where it names none)."""
    from app.i18n import user_message

    message = user_message(exc, exc.status)
    fields = [k for k in (exc.errors or {}) if k in ("to", "reason", "value", "field", "target")]
    return {k: message for k in fields} or {"form": message}


@web_bp.errorhandler(ServiceError)
def _page_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


@web_bp.post("/tasks/<int:task_id>/reassign")
@login_required
def reassign_form(task_id):
    from app.blueprints.web import _render_task  # the task page as it is drawn, with this form's state

    user = current_user._get_current_object()
    typed = {"to": request.form.get("to", ""), "reason": request.form.get("reason", "")}
    holder = parse_int(request.form.get("from_person"), 1)  # sent from the people page of the task's holder
    try:
        with unit_of_work():
            reassign.reassign(user, task_id, typed["to"], typed["reason"])
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        if holder is not None:
            for message in dict.fromkeys(_refused(exc).values()):
                flash(message, "error")
            return redirect(url_for("people.edit", user_id=holder, _anchor="held-tasks"))
        g.reassign_form = {**typed, "errors": _refused(exc)}
        return _render_task(user, task_id, status=exc.status)
    flash(_("The task was handed on. The colleague has been told."), "info")
    if holder is not None:
        return redirect(url_for("people.edit", user_id=holder, _anchor="held-tasks"))
    return redirect(url_for("web.task", task_id=task_id))


@web_bp.post("/cases/<int:case_id>/corrections")
@login_required
def correct_form(case_id):
    from app.blueprints.web import case as case_page

    user = current_user._get_current_object()
    typed = {"target": request.form.get("target", ""), "value": request.form.get("value", ""),
             "reason": request.form.get("reason", "")}
    element, _sep, field = typed["target"].partition("/")
    try:
        with unit_of_work():
            value = corrections.typed(user, case_id, element, field, typed["value"])
            corrections.correct(user, case_id, element, field, value, typed["reason"], clock.now())
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        g.correct_form = {**typed, "errors": _refused(exc)}
        return case_page(case_id), exc.status
    flash(_("The value was corrected. The original stays in the history."), "info")
    return redirect(url_for("web.case", case_id=case_id))


@api_bp.errorhandler(ServiceError)
def _api_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


@api_bp.post("/tasks/<int:task_id>/reassign")
@token_required
def api_reassign(task_id):
    data = body()
    with unit_of_work():
        task = reassign.reassign(g.api_user, task_id, data.get("to"), data.get("reason"))
        out = {"id": task.id, "claimed_by": task.claimed_by, "claimed_at": task.claimed_at.isoformat()}
    return jsonify(out)


@api_bp.post("/cases/<int:case_id>/corrections")
@token_required
def api_correct(case_id):
    data = body()
    with unit_of_work():
        out = corrections.correct(g.api_user, case_id, data.get("element"), data.get("field"), data.get("value"),
                                  data.get("reason"), clock.now())
    return jsonify(out)


@api_bp.get("/service-operators")
@token_required
def api_operators():
    process_access.require_reader(g.api_user)
    return jsonify({"items": operators.catalogue()})
