"""The dashboard of reviewers and national staff: case counts within the user's scope as charts (Chart.js, served
from our static files) with the numbers in tables beside them."""
import json

from flask import Blueprint, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import ServiceError
from app.services import inbox

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


def _region_name(region, code) -> str:
    if region is None:
        return code or "—"
    return region.name_en if str(get_locale() or "zh") == "en" else region.name_zh


def _recommender(o: dict) -> str:
    if o["kind"] == "province":
        return _region_name(o["region"], o["key"])
    return o["name"] or o["key"]


def _series(row: dict, stages) -> dict:
    tier = row["tier"]
    return {"label": _(tier), "values": [row[k] for k, _l in stages]}


@bp.get("")
@login_required
def index():
    view = inbox.dashboard(current_user._get_current_object())
    tiers = [(_(t), n) for t, n in view["tier"]]
    statuses = [(_(s), n) for s, n in view["status"]]
    provinces = [(_region_name(r, code), n) for code, r, n in view["province"]]
    campaigns = [(str(y), n) for y, n in view["campaign"]]
    overdue = [(_recommender(o), o["count"]) for o in view["overdue"]]
    stages = [("applied", _("Applied")), ("submitted", _("Submitted")), ("decided", _("Decided")),
              ("certified", _("Certified"))]
    funnel = {"labels": [label for _k, label in stages],
              "series": [_series(row, stages) for row in view["funnel"]]}

    def chart(rows):
        return json.dumps({"labels": [k for k, _n in rows], "values": [n for _k, n in rows]}, ensure_ascii=False)

    from app.services import workdays

    return render_template("dashboard/index.html", view=view, tiers=tiers, statuses=statuses, provinces=provinces,
                           campaigns=campaigns, overdue=overdue, stages=stages, funnel=view["funnel"],
                           calendar=workdays.calendar_info(),
                           charts={"tier": chart(tiers), "status": chart(statuses), "province": chart(provinces),
                                   "campaign": chart(campaigns), "overdue": chart(overdue),
                                   "funnel": json.dumps(funnel, ensure_ascii=False)})
