"""JSON calls for the reference data (administrators, bearer tokens, the API's error shape): the quota inputs with
their sources and quotas, the campaigns. The pages are blueprints/reference.py; the rules are in the services."""
from flask import Blueprint, g, jsonify

from app.blueprints.api import body, error, token_required
from app.errors import ServiceError
from app.extensions import csrf
from app.services import campaign_admin, quota_inputs
from app.uow import unit_of_work

bp = Blueprint("reference_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, never cookies


@bp.errorhandler(ServiceError)
def _api_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


@bp.get("/quota-inputs")
@token_required
def quota_input_table():
    return jsonify({"items": quota_inputs.table(g.api_user)})


@bp.put("/quota-inputs/<code>")
@token_required
def set_quota_inputs(code):
    data = body()
    with unit_of_work():
        row = quota_inputs.set_inputs(g.api_user, code, data)
    return jsonify(row)


@bp.get("/campaigns")
@token_required
def campaign_list():
    return jsonify({"items": campaign_admin.list_campaigns(g.api_user)})
