"""/api/v1 calls of the scheduler area (issue 7): deadline extensions (admin), the caller's reminders, the working-day
calendar in use. Bearer tokens and the API's error shape, like `api.py`."""
from flask import Blueprint, g, jsonify

from app.blueprints.api import body, error, token_required
from app.errors import ServiceError
from app.extensions import csrf
from app.services import deadlines, reminders, workdays
from app.uow import unit_of_work

api_bp = Blueprint("scheduling_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # bearer tokens, never cookies


def register(app) -> None:
    app.register_blueprint(api_bp)


@api_bp.errorhandler(ServiceError)
def _api_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


@api_bp.post("/campaigns/<int:year>/deadlines/extend")
@token_required
def extend_deadline(year):
    """{"tier", "application_deadline"?, "recommendation_deadline"?, "province"? | "case_id"?, "reason"} (admin)."""
    data = body()
    case_id = data.get("case_id")
    if case_id is not None and not isinstance(case_id, int):
        return error(422, "invalid", "case_id must be an integer", {"case_id": "integer"})
    with unit_of_work():
        out = deadlines.extend(g.api_user, year, str(data.get("tier", "")), reason=str(data.get("reason") or ""),
                               application_deadline=data.get("application_deadline"),
                               recommendation_deadline=data.get("recommendation_deadline"),
                               province=data.get("province") or None, case_id=case_id)
    return jsonify(out), 201


@api_bp.get("/reminders")
@token_required
def my_reminders():
    return jsonify({"reminders": reminders.for_user(g.api_user)})


@api_bp.get("/calendar")
@token_required
def calendar():
    return jsonify(workdays.calendar_info())
