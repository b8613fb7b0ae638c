"""The case list page (`GET /cases`) of the roles that oversee many cases: search, filters, pages
(services/case_list.py holds the rule and the queries)."""
from flask import Blueprint, render_template, request
from flask_babel import get_locale
from flask_login import current_user, login_required

from app.errors import ServiceError
from app.services import case_list

bp = Blueprint("case_list", __name__)


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


@bp.get("/cases")
@login_required
def index():
    view = case_list.page(current_user._get_current_object(), case_list.Filters.parse(request.args))
    return render_template("case_list/index.html", view=view, f=view["filters"], lang=str(get_locale() or "zh"))
