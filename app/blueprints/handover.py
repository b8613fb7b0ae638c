"""Reassignment and corrections (issue 18 part 4) as API calls: POST /api/v1/tasks/{id}/reassign {"to", "reason"}
and POST /api/v1/cases/{id}/corrections {"element", "field", "value", "reason"}; the rules are in
services/reassign.py and services/corrections.py. Also GET /api/v1/service-operators: the registered service-task
operators and their parameters (services/operators.py), what a diagram editor offers."""
from flask import Blueprint, g, jsonify

from app.blueprints.api import body, error, token_required
from app.errors import ServiceError
from app.extensions import csrf
from app.services import clock, corrections, operators, process_access, reassign
from app.uow import unit_of_work

api_bp = Blueprint("handover_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # bearer tokens, never cookies


def register(app) -> None:
    app.register_blueprint(api_bp)


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
