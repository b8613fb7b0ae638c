"""Incidents (issue 18): the administrators' pages (/admin/incidents: the open ones, each with its case, the
diagram with the failing element marked, retry / skip / cancel the case) and the API (/api/v1/incidents). Every
rule is in services/incidents.py."""
import re

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.api import body, error, token_required
from app.errors import Invalid, ServiceError
from app.extensions import csrf
from app.services import incident_actions, incidents, users
from app.uow import unit_of_work

bp = Blueprint("incidents", __name__, url_prefix="/admin/incidents")
api_bp = Blueprint("incidents_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # bearer tokens, never cookies
ELEMENT_ID = re.compile(r"^([A-Za-z_][\w.-]*): ")


def register(app) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)


# -- JSON API --------------------------------------------------------------------------------------------------------
@api_bp.errorhandler(ServiceError)
def _api_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


@api_bp.get("/incidents")
@token_required
def api_list():
    state = request.args.get("state", "open")
    return jsonify([incidents.to_json(i) for i in incidents.list_incidents(g.api_user, state)])


@api_bp.get("/incidents/<int:incident_id>")
@token_required
def api_get(incident_id):
    return jsonify(incidents.to_json(incidents.get(g.api_user, incident_id)))


@api_bp.post("/incidents/<int:incident_id>/retry")
@token_required
def api_retry(incident_id):
    with unit_of_work():
        out = incident_actions.retry(g.api_user, incident_id)
    return jsonify(out)


@api_bp.post("/incidents/<int:incident_id>/skip")
@token_required
def api_skip(incident_id):
    reason = body().get("reason")
    with unit_of_work():
        out = incident_actions.skip(g.api_user, incident_id, reason)
    return jsonify(out)


@api_bp.post("/incidents/<int:incident_id>/cancel")
@token_required
def api_cancel(incident_id):
    reason = body().get("reason")
    with unit_of_work():
        out = incident_actions.cancel_case(g.api_user, incident_id, reason)
    return jsonify(out)


# -- pages -----------------------------------------------------------------------------------------------------------
@bp.errorhandler(ServiceError)
def _page_error(exc: ServiceError):
    if exc.status in (403, 404):
        return render_template("admin/incident_error.html", message=exc.message), exc.status
    raise exc


@bp.get("")
@login_required
def list_page():
    user = current_user._get_current_object()
    state = request.args.get("state", "open")
    rows = incidents.list_incidents(user, state if state in ("open", "resolved", "all") else "open")
    names = users.usernames({i.actor_id for i in rows} | {i.resolved_by for i in rows})
    return render_template("admin/incidents.html", rows=rows, names=names, state=state, causes=_causes(),
                           cause=incidents.cause)


def _causes() -> dict:
    return {"condition": _("A condition of the diagram could not be evaluated."),
            "no_path": _("No outgoing path of a gateway matched."),
            "loop": _("The process ran in a loop without stopping."),
            "script": _("A script of the diagram failed."),
            "decision": _("A decision table could not decide."),
            "mail": _("The mail server could not be reached."),
            "other": _("The process could not carry out this step.")}


def _marked(inc) -> list[str]:
    found = ELEMENT_ID.match(inc.message or "")
    ids = [e for e in (inc.element or "").split(",") if e]
    return ids + ([found.group(1)] if found and found.group(1) not in ids else [])


@bp.get("/<int:incident_id>")
@login_required
def detail(incident_id, errors=None, status=200):
    user = current_user._get_current_object()
    inc = incidents.get(user, incident_id)
    names = users.usernames({inc.actor_id, inc.resolved_by})
    return render_template("admin/incident.html", inc=inc, names=names, marked=_marked(inc),
                           plain=_causes()[incidents.cause(inc.message)],
                           errors=errors or {}, reason=request.form.get("reason", "")), status


@bp.post("/<int:incident_id>/<action>")
@login_required
def act(incident_id, action):
    user = current_user._get_current_object()
    try:
        with unit_of_work():
            if action == "retry":
                incident_actions.retry(user, incident_id)
            elif action == "skip":
                incident_actions.skip(user, incident_id, request.form.get("reason"))
            elif action == "cancel":
                if request.form.get("confirm") != "1":
                    raise Invalid("confirm first", errors={"confirm": "required"})
                incident_actions.cancel_case(user, incident_id, request.form.get("reason"))
            else:
                raise Invalid("unknown action", errors={"action": action})
    except incidents.Held:
        flash(_("The step failed again; the incident stays open. Check the fix and the case's version."), "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    except Invalid as exc:
        return detail(incident_id, errors=exc.errors, status=422)
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        flash(_("The action could not be carried out: %(why)s", why=_(exc.message)), "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    flash({"retry": _("Retried: the step succeeded and the incident is resolved."),
           "skip": _("Skipped; the incident is resolved."),
           "cancel": _("The case was cancelled; the incident is resolved.")}[action], "info")
    return redirect(url_for("incidents.detail", incident_id=incident_id))
