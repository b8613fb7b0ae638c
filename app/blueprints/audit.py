"""Audit: the auditor's pages (event search, a case's history replayed step by step, export, printable report,
anchors, an administrator's rewind) and the replay/rewind calls of the JSON API (`api_bp`, under /api/v1, bearer
tokens, the API's error shape)."""
import json

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.api import body, error, token_required
from app.blueprints.params import parse_int, query_int
from app.errors import ServiceError
from app.extensions import csrf
from app.services import anchors, audit, clock, replay
from app.uow import unit_of_work

bp = Blueprint("audit", __name__, url_prefix="/audit")
api_bp = Blueprint("audit_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # bearer tokens, never cookies


def register(app) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)


# -- JSON API --------------------------------------------------------------------------------------------------------
@api_bp.errorhandler(ServiceError)
def _api_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


def _at_arg() -> int | None:
    raw = request.args.get("at")
    if raw in (None, ""):
        return None
    return query_int(request.args, "at", None, lo=0)


@api_bp.get("/cases/<int:case_id>/replay")
@token_required
def api_replay(case_id):
    """The state after event `at`: 404 with {"last": M} beyond the history; 409 naming the step that differs."""
    check_all = request.args.get("check") == "all"
    return replay.replay(g.api_user, case_id, _at_arg(), check_all)


@api_bp.post("/cases/<int:case_id>/rewind")
@token_required
def api_rewind(case_id):
    data = body()
    with unit_of_work():
        out = audit.rewind(g.api_user, case_id, data.get("to"), str(data.get("reason") or ""), clock.now())
    return out


# -- pages -----------------------------------------------------------------------------------------------------------
@bp.errorhandler(ServiceError)
def _page_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


def _auditor():
    user = current_user._get_current_object()
    audit.require_auditor(user)
    return user


def _int(name: str, default: int | None = None) -> int | None:
    return query_int(request.args, name, default, lo=0)


@bp.get("/")
@login_required
def search():
    user = _auditor()
    f = {k: (request.args.get(k) or "").strip() for k in ("username", "action", "tier", "province", "since",
                                                           "until")}
    page = max(1, _int("page", 1) or 1)
    rows, total = audit.search(user, case_id=_int("case"), page=page, per_page=50,
                               **{k: v or None for k, v in f.items()})
    pages = max(1, (total + 49) // 50)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("audit/search.html", rows=rows, total=total, page=page, pages=pages, f=f,
                           case=request.args.get("case", ""), args=args, actions=audit.actions(),
                           anchor_lines=anchors.read()[-5:][::-1])


@bp.get("/anchors")
@login_required
def anchor_list():
    _auditor()
    return render_template("audit/anchors.html", lines=anchors.read()[::-1], path=anchors.path(),
                           problems=anchors.verify())


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id):
    page = audit.case_page(current_user._get_current_object(), case_id, _int("at"))
    return render_template("audit/case.html", **{k: v for k, v in page.items() if k != "status"}), page["status"]


@bp.get("/cases/<int:case_id>/diagram.bpmn")
@login_required
def diagram(case_id):
    c = audit.get_case(current_user._get_current_object(), case_id)
    return Response(audit.diagram_xml(c.process_version_id), mimetype="application/xml")


@bp.get("/cases/<int:case_id>/export.json")
@login_required
def export(case_id):
    doc = audit.export(_auditor(), case_id)
    return Response(json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=case-{case_id}-history.json"})


@bp.get("/cases/<int:case_id>/report")
@login_required
def report(case_id):
    doc = audit.export(_auditor(), case_id)
    for e in doc["events"]:
        e["data_text"] = json.dumps(e["data"], ensure_ascii=False, indent=1) if e["data"] is not None else ""
    return render_template("audit/report.html", doc=doc, generated=clock.now())


@bp.post("/cases/<int:case_id>/rewind")
@login_required
def rewind(case_id):
    user = current_user._get_current_object()
    to = parse_int(request.form.get("to", ""))
    try:
        with unit_of_work():
            out = audit.rewind(user, case_id, to, request.form.get("reason", ""), clock.now())
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        flash(exc.message, "error")
        return redirect(url_for("audit.case", case_id=case_id))
    flash(_("Case rewound to the task %(task)s.", task=out["task"]), "info")
    return redirect(url_for("audit.case", case_id=case_id))
