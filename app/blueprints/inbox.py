"""The reviewer's inbox in the browser (filters, counts, pages, claim/release, bulk decisions) and the bulk
decision of the JSON API (`api_bp`, under /api/v1, bearer tokens, the API's error shape)."""
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints import formdata
from app.blueprints.api import body, error, token_required
from app.errors import Conflict, Invalid, ServiceError
from app.extensions import csrf
from app.services import inbox, tasks
from app.uow import unit_of_work

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
api_bp = Blueprint("inbox_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # bearer tokens, never cookies


def register(app) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


@api_bp.errorhandler(ServiceError)
def _api_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


def _lang() -> str:
    return str(get_locale() or "zh")


def bulk_form(actor, page: inbox.InboxPage) -> dict | None:
    """The decision form of a bulk decision, offered when the inbox is filtered to one kind of open task whose form
    has no file fields (a decision with one comment)."""
    f = page.filters
    if f.state != "open" or not f.element or not page.rows:
        return None
    first = page.rows[0]
    schema = tasks.schema_of(first)
    props = (schema or {}).get("properties") or {}
    if not schema or "decision" not in props or any(p.get("format") == "attachment" for p in props.values()):
        return None
    return {"element": first.element, "form": first.form,
            "fields": formdata.fields(schema, {}, _lang(), prefix="")}


def inbox_context(actor, args) -> dict:
    """What the inbox partial needs; the home page of reviewers shows the same."""
    page = inbox.inbox_page(actor, inbox.Filters.parse(args))
    return {"inbox": page, "bulk": bulk_form(actor, page), "lang": _lang(), "query": urlencode(page.filters.args())}


@bp.get("")
@login_required
def index():
    from app.services import reminders

    actor = current_user._get_current_object()
    from datetime import datetime

    open_reminders = [dict(r, due=datetime.fromisoformat(r["due_at"])) for r in reminders.for_user(actor, limit=20)
                      if r["task_state"] == "open"]
    return render_template("inbox/index.html", reminders=open_reminders, **inbox_context(actor, request.args))


def _back():
    """Back to the inbox with the filters it had (rebuilt from the parsed filters: never an outside URL)."""
    raw = request.form.get("back", "")
    f = inbox.Filters.parse(dict(parse_qsl(raw)))
    target = request.form.get("to") == "home"
    base = url_for("web.home") if target else url_for("inbox.index")
    query = urlencode(f.args())
    return redirect(f"{base}?{query}" if query else base)


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim(task_id):
    try:
        with unit_of_work():
            tasks.claim(current_user._get_current_object(), task_id)
        flash(_("Task claimed: it is now in your own queue."), "info")
    except Conflict:
        flash(_("Someone else holds this task or it was completed meanwhile; the inbox is refreshed."), "error")
    return _back()


@bp.post("/tasks/<int:task_id>/release")
@login_required
def release(task_id):
    try:
        with unit_of_work():
            tasks.release(current_user._get_current_object(), task_id)
        flash(_("Task released to the shared queue."), "info")
    except Conflict:
        flash(_("You do not hold this task (any more); the inbox is refreshed."), "error")
    return _back()


def _reason(result: dict) -> str:
    """Why a task of a bulk decision was not completed, in the UI language, with the service's detail."""
    labels = {
        404: _("not found or outside your scope"),
        403: _("not a task of your role and scope"),
        409: _("completed or claimed by someone else meanwhile"),
        422: _("the decision is not valid for this task"),
    }
    reason = labels.get(result["status"], _("refused"))
    detail = "; ".join(f"{k}: {v}" for k, v in (result.get("errors") or {}).items() if isinstance(v, str))
    return f"{reason} ({detail or result['error']})"


@bp.post("/bulk")
@login_required
def bulk():
    user = current_user._get_current_object()
    ids = request.form.getlist("task_ids")
    try:
        rows = inbox.bulk_kind(user, ids)
        schema = tasks.schema_of(rows[0]) if rows else None
        data = formdata.parse(schema or {}, request.form)
        results = inbox.bulk_complete(user, ids, data, unit_of_work)
    except Invalid as exc:
        flash(_("Nothing was decided: %(why)s", why=_bulk_invalid(exc)), "error")
        return _back()
    titles = {r.id: r for r in rows}
    for r in results:
        r["reason"] = None if r["ok"] else _reason(r)
        r["task"] = titles.get(r["id"])
    done = sum(1 for r in results if r["ok"])
    return render_template("inbox/bulk.html", results=results, done=done, failed=len(results) - done,
                           back=request.form.get("back", ""))


def _bulk_invalid(exc: Invalid) -> str:
    if "task_ids" in (exc.errors or {}):
        if exc.errors["task_ids"] == "tasks of different kinds":
            return _("the chosen tasks are not all of one kind")
        return _("choose at least one task")
    return exc.message


@api_bp.post("/tasks/bulk-complete")
@token_required
def bulk_complete():
    """`{"task_ids": [...], "data": {...}}` → `{"results": [{"id", "ok", "error"}]}`: each task completed in its own
    transaction; a refused task is reported and changes nothing."""
    payload = body()
    if not isinstance(payload.get("data"), dict):
        raise Invalid("send {\"task_ids\": [...], \"data\": {...}}", errors={"data": "required"})
    results = inbox.bulk_complete(g.api_user, payload.get("task_ids"), payload["data"], unit_of_work)
    return jsonify({"results": [{"id": r["id"], "ok": r["ok"], "status": r["status"], "error": r["error"],
                                 "errors": r["errors"], "case": r["case"]} for r in results]})
