"""/api/v1: JSON in and out; translates HTTP to service calls and service errors to status codes."""
import io
from functools import wraps

from flask import Blueprint, g, jsonify, request, send_file
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.blueprints.params import query_int
from app.errors import Invalid, ServiceError, Unauthorized
from app.extensions import csrf
from app.security import password_change_pending
from app.services import attachments, audit, auth, case_history, cases, lists, objections, tasks, versions
from app.uow import unit_of_work

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, never cookies: nothing for a cross-site form to ride on


def error(status: int, code: str, message: str, errors=None):
    return jsonify({"error": code, "message": message, "errors": errors or {}}), status


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    return error(413, "too_large", "the upload is larger than the limit")


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return error(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)


def token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise Unauthorized("send Authorization: Bearer <token>")
        user = auth.user_for_token(header[7:].strip())
        if user is None:
            raise Unauthorized("the token is unknown, expired or revoked")
        if password_change_pending(user):  # a one-time password: only /me and /me/password answer
            raise auth.PasswordChangeRequired()
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper


def body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object", errors={"body": "a JSON object is required"})
    return data


def _int_arg(name: str, default: int) -> int:
    return query_int(request.args, name, default)


@bp.post("/auth/token")
def token():
    data = body()
    with unit_of_work():
        user = auth.authenticate(str(data.get("username", "")), str(data.get("password", "")))
        tok = auth.issue_token(user)
    return jsonify({"token": tok})


@bp.post("/auth/revoke")
@token_required
def revoke():
    with unit_of_work():
        auth.revoke_token(request.headers["Authorization"][7:].strip())
    return jsonify({"revoked": True})


@bp.get("/me")
@token_required
def me():
    u = g.api_user
    return jsonify({"id": u.id, "username": u.username, "role": u.role, "roles": [u.role], "scope": u.scope,
                    "province": u.province_code, "soe_group": u.soe_group_key, "enterprise_id": u.enterprise_id,
                    "department": u.department})


@bp.post("/cases")
@token_required
def create_case():
    data = body()
    with unit_of_work():
        case = cases.create_case(g.api_user, data.get("tier"), data.get("campaign"), data.get("enterprise_id"))
        out = cases.case_json(case)
    return jsonify(out), 201


@bp.get("/cases")
@token_required
def list_cases():
    page = _int_arg("page", 1)
    rows, total = cases.list_cases(g.api_user, request.args.get("tier"), request.args.get("status"), page,
                                   text=request.args.get("q"))
    return jsonify({"items": [{"id": c.id, "tier": c.tier, "status": c.status, "enterprise_id": c.enterprise_id,
                               "campaign_id": c.campaign_id, "province": c.province_code} for c in rows],
                    "total": total, "page": page})


@bp.get("/cases/<int:case_id>")
@token_required
def get_case(case_id):
    return jsonify(case_history.case_view(g.api_user, case_id))


@bp.get("/cases/<int:case_id>/events")
@token_required
def case_events(case_id):
    return jsonify({"case_id": case_id, "events": case_history.events(g.api_user, case_id)})


@bp.post("/cases/<int:case_id>/attachments")
@token_required
def upload(case_id):
    f = request.files.get("file")
    if f is None:
        raise Invalid("send the file as multipart field 'file'", errors={"file": "required"})
    with unit_of_work():
        att = attachments.upload(g.api_user, case_id, f.filename or "", f.stream)
        out = {"id": att.id, "sha256": att.sha256, "size": att.size, "filename": att.filename}
    return jsonify(out), 201


@bp.get("/attachments/<int:attachment_id>")
@token_required
def download(attachment_id):
    att, path = attachments.get(g.api_user, attachment_id)
    return send_file(path, mimetype=att.content_type, as_attachment=True, download_name=att.filename)


@bp.get("/tasks")
@token_required
def inbox():
    page = _int_arg("page", 1)
    rows, total = tasks.inbox(g.api_user, page=page, tier=request.args.get("tier"))
    return jsonify({"items": [cases.task_json(t) for t in rows], "total": total, "page": page})


@bp.get("/tasks/<int:task_id>")
@token_required
def get_task(task_id):
    view = tasks.get_task(g.api_user, task_id, with_timeline=False)
    out = cases.task_json(view["task"])
    out.update({"form": view["form"], "data": view["data"], "case": {"id": view["case"].id,
                                                                     "status": view["case"].status}})
    return jsonify(out)


@bp.post("/tasks/<int:task_id>/claim")
@token_required
def claim(task_id):
    with unit_of_work():
        out = cases.task_json(tasks.claim(g.api_user, task_id))
    return jsonify(out)


@bp.post("/tasks/<int:task_id>/release")
@token_required
def release(task_id):
    with unit_of_work():
        out = cases.task_json(tasks.release(g.api_user, task_id))
    return jsonify(out)


@bp.put("/tasks/<int:task_id>/draft")
@token_required
def draft(task_id):
    data = body().get("data", {})
    with unit_of_work():
        out = cases.task_json(tasks.save_draft(g.api_user, task_id, data))
    return jsonify(out)


@bp.post("/tasks/<int:task_id>/complete")
@token_required
def complete(task_id):
    data = body()
    if "data" not in data:
        raise Invalid("send {\"data\": {...}}", errors={"data": "required"})
    with unit_of_work():
        done = tasks.complete(g.api_user, task_id, data["data"])
    out = cases.task_json(done["task"])
    out["case"] = done["case"]
    return jsonify(out)


@bp.post("/lists")
@token_required
def publish_list():
    data = body()
    kind = data.get("kind", "certified")
    if kind not in ("certified", "recommendation"):
        raise Invalid("kind is certified or recommendation", errors={"kind": "invalid"})
    with unit_of_work():
        if kind == "certified":
            lst = lists.publish_certified(g.api_user, data.get("tier"), data.get("campaign"), data.get("case_ids"))
        else:  # held for amendment until the deadline unless "final": true closes it now
            lst = lists.recommend(g.api_user, data.get("tier"), data.get("campaign"), data.get("case_ids"),
                                  data.get("not_recommended"), final=data.get("final") is True)
        out = lists.list_json(lst)
    return jsonify(out), 201


@bp.get("/lists")
@token_required
def get_lists():
    return jsonify({"items": lists.lists_json(lists.visible_lists(g.api_user, request.args.get("tier")))})


@bp.get("/lists/<int:list_id>")
@token_required
def get_list(list_id):
    return jsonify(lists.list_json(lists.get_list(g.api_user, list_id)))


@bp.put("/lists/<int:list_id>")
@token_required
def amend_list(list_id):
    """A recommender amends its list (add, remove, reorder) until the recommendation deadline."""
    from app.services import recommendation_lists

    data = body()
    with unit_of_work():
        lst = recommendation_lists.amend(g.api_user, list_id, data.get("case_ids"), data.get("not_recommended"),
                                         final=data.get("final") is True)
        out = lists.list_json(lst)
    return jsonify(out)


@bp.get("/lists/<int:list_id>/export")
@token_required
def export_list(list_id):
    from app.services import exports

    data, mime, name = exports.render(lists.get_list(g.api_user, list_id), request.args.get("format", "xlsx"))
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name)


@bp.get("/enterprises/<int:enterprise_id>")
@token_required
def enterprise_lineage(enterprise_id):
    from app.services import lineage

    return jsonify(lineage.lineage(g.api_user, enterprise_id))


@bp.get("/system-events")
@token_required
def system_event_list():
    """The system chain (deployments, user and role changes): auditors, national reviewers, administrators."""
    return jsonify(audit.system_history(g.api_user, _int_arg("page", 1)))


@bp.get("/notices")
@token_required
def notices():
    """The public notice list: open to every logged-in user."""
    return jsonify({"items": objections.in_notice()})


@bp.post("/cases/<int:case_id>/objections")
@token_required
def lodge_objection(case_id):
    """JSON {"reason"}, or multipart with a `reason` field and `file` parts (evidence)."""
    if request.mimetype == "multipart/form-data":
        reason = request.form.get("reason")
        files = [(f.filename or "", f.stream) for f in request.files.getlist("file")]
    else:
        reason, files = body().get("reason"), []
    with unit_of_work():
        out = objections.to_json(objections.lodge(g.api_user, case_id, reason, files))
    return jsonify(out), 201


@bp.get("/cases/<int:case_id>/objections")
@token_required
def case_objections(case_id):
    return jsonify({"items": objections.for_reader(g.api_user, case_id)})  # within the case's scope


@bp.post("/process-models/<key>/versions")
@token_required
def deploy(key):
    with unit_of_work():
        v = versions.deploy(g.api_user, key, request.get_data(), request.args.get("message"))
        out = {"key": v.model_key, "version": v.version, "content_hash": v.content_hash,
               "created_at": v.created_at.isoformat()}
    return jsonify(out), 201


@bp.get("/openapi.json")
def openapi():
    from app.blueprints.openapi import document

    return jsonify(document())
