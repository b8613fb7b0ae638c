"""Lists in the browser: a certifier publishes its certified list; a recommender ranks and submits its list."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.params import parse_int
from app.errors import ServiceError
from app.services import campaigns, lists
from app.uow import unit_of_work

bp = Blueprint("lists_web", __name__, url_prefix="/lists")
KINDS = {"certified": ("advanced",), "recommendation": ("excellent", "lighthouse")}


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


def _campaign_year() -> int:
    years = campaigns.years()
    year = parse_int(request.values.get("campaign"), 1)
    return year if year is not None else (years[0] if years else 0)


@bp.get("/")
@login_required
def index():
    user = current_user._get_current_object()
    kind = request.args.get("kind", "certified" if user.role == "soe_reviewer" else "recommendation")
    if kind not in KINDS:
        kind = "recommendation"
    tier = request.args.get("tier", KINDS[kind][0])
    if tier not in KINDS[kind]:
        tier = KINDS[kind][0]
    view = None
    if user.role in lists.CERTIFIERS and (kind == "certified" or user.role in lists.RECOMMENDERS.get(tier, ())):
        view = lists.candidates(user, kind, tier, _campaign_year())
    published = lists.visible_lists(user) if user.role in ("national_reviewer", "admin", "auditor",
                                                            "sasac_reviewer", *lists.CERTIFIERS) else []
    return render_template("lists/index.html", view=view, kind=kind, tier=tier, kinds=KINDS, published=published)


@bp.post("/")
@login_required
def submit():
    user = current_user._get_current_object()
    kind, tier = request.form.get("kind"), request.form.get("tier")
    if kind == "certified":
        ids = [n for n in (parse_int(v, 1) for v in request.form.getlist("case")) if n is not None]
    else:  # ranked: each case's priority box, blanks left off the list
        ranked = []
        for key, value in request.form.items():
            if key.startswith("priority_") and value.strip():
                priority, case_id = parse_int(value, 1), parse_int(key[9:], 1)
                if priority is None or case_id is None:
                    flash(_("A priority is a whole number."), "error")
                    return redirect(url_for("lists_web.index", kind=kind, tier=tier))
                ranked.append((priority, case_id))
        ids = [cid for _p, cid in sorted(ranked)]
    publish = lists.publish_certified if kind == "certified" else lists.recommend
    try:
        with unit_of_work():
            lst = publish(user, tier, _campaign_year(), ids)
            flash(_("The list was recorded with %(n)s case(s).", n=len(lst.entries)), "info")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("lists_web.index", kind=kind, tier=tier))


@bp.get("/<int:list_id>/export")
@login_required
def export(list_id):
    import io

    from flask import send_file

    from app.services import exports

    lst = lists.get_list(current_user._get_current_object(), list_id)
    data, mime, name = exports.render(lst, request.args.get("format", "xlsx"))
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name)
