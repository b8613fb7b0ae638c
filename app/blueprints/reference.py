"""Reference data pages for administrators (系统管理): the expert pool, campaigns and the quota inputs. HTTP only:
each view reads the form, calls services/expert_pool.py, campaign_admin.py or quota_inputs.py inside a unit of work
and renders the answer. Bad input re-renders the form with what was typed and each field's error (422)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import Invalid, ServiceError
from app.models import TIERS
from app.services import campaign_admin, expert_pool, quota_inputs
from app.uow import unit_of_work

bp = Blueprint("reference", __name__, url_prefix="/reference")


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


@bp.before_request
@login_required
def _admins_only():
    if current_user.role != "admin":
        abort(403)


def _actor():
    return current_user._get_current_object()


def _lang() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"


# Field errors: the services answer in English; each is a catalog entry shown in the page's language.
def field_errors(errors: dict) -> dict:
    out = {}
    for field, message in (errors or {}).items():
        text = str(message)
        if text.startswith("unknown industry: "):
            out[field] = _("Unknown industry: %(names)s", names=text.removeprefix("unknown industry: "))
        else:
            out[field] = _(text)  # noqa: INT001 - the messages are catalog entries (see the end of messages.po)
    return out


def _industries() -> list[tuple[str, str]]:
    return campaign_admin.industry_choices(_lang())


# -- the expert pool -------------------------------------------------------------------------------------------------
@bp.get("/experts")
def experts():
    args = {k: request.args.get(k, "") for k in ("q", "industry", "region", "active")}
    rows = expert_pool.list_experts(_actor(), **args)
    return render_template("reference/experts.html", rows=rows, args=args, industries=_industries(),
                           names=dict(_industries()), regions=expert_pool.home_regions())


def _expert_form(expert=None, form=None, errors=None, status=200, conflict_form=None, conflict_errors=None):
    return render_template("reference/expert.html", expert=expert, form=form or {}, errors=errors or {},
                           industries=_industries(), names=dict(_industries()), regions=expert_pool.home_regions(),
                           groups=expert_pool.soe_groups(), conflict_form=conflict_form or {},
                           conflict_errors=conflict_errors or {}), status


def _expert_data() -> dict:
    return {"username": request.form.get("username", ""), "home_region": request.form.get("home_region", ""),
            "expertise": request.form.getlist("expertise"), "employer": request.form.get("employer", "")}


@bp.get("/experts/new")
def new_expert():
    return _expert_form()


@bp.post("/experts/new")
def create_expert():
    data = _expert_data()
    try:
        with unit_of_work():
            user, password = expert_pool.create_expert(_actor(), data)
            username = user.username
    except Invalid as exc:
        return _expert_form(form=data, errors=field_errors(exc.errors), status=422)
    flash(_("Expert %(name)s was added. One-time password (shown only now; give it to the expert, who sets their "
            "own at first login): %(password)s", name=username, password=password), "info")
    return redirect(url_for("reference.expert", username=username))


def _expert_by_name(username: str) -> dict:
    row = next((e for e in expert_pool.list_experts(_actor(), q=username) if e["username"] == username), None)
    if row is None:
        abort(404)
    return expert_pool.expert_detail(_actor(), row["id"])


@bp.get("/experts/<username>")
def expert(username):
    detail = _expert_by_name(username)
    form = {"home_region": detail["home_region"], "expertise": detail["expertise"],
            "employer": detail["employer_credit_code"] or ""}
    return _expert_form(detail, form)


@bp.post("/experts/<username>")
def update_expert(username):
    detail = _expert_by_name(username)
    data = _expert_data()
    try:
        with unit_of_work():
            expert_pool.update_expert(_actor(), detail["id"], data)
    except Invalid as exc:
        return _expert_form(detail, data, field_errors(exc.errors), 422)
    flash(_("The expert was saved."), "info")
    return redirect(url_for("reference.expert", username=username))


@bp.post("/experts/<username>/active")
def set_active(username):
    detail = _expert_by_name(username)
    active = request.form.get("active") == "1"
    with unit_of_work():
        expert_pool.set_active(_actor(), detail["id"], active)
    flash(_("The expert was reactivated.") if active else
          _("The expert was deactivated: no longer drawn and cannot log in."), "info")
    return redirect(url_for("reference.expert", username=username))


@bp.post("/experts/<username>/conflicts")
def add_conflict(username):
    detail = _expert_by_name(username)
    data = {k: request.form.get(k, "") for k in ("enterprise", "soe_group", "note")}
    try:
        with unit_of_work():
            expert_pool.add_conflict(_actor(), detail["id"], data)
    except Invalid as exc:
        form = {"home_region": detail["home_region"], "expertise": detail["expertise"],
                "employer": detail["employer_credit_code"] or ""}
        return _expert_form(detail, form, conflict_form=data, conflict_errors=field_errors(exc.errors), status=422)
    flash(_("The conflict was recorded: this expert is never drawn for it."), "info")
    return redirect(url_for("reference.expert", username=username))


@bp.post("/experts/<username>/conflicts/<int:conflict_id>/delete")
def remove_conflict(username, conflict_id):
    detail = _expert_by_name(username)
    with unit_of_work():
        expert_pool.remove_conflict(_actor(), detail["id"], conflict_id)
    flash(_("The conflict was removed."), "info")
    return redirect(url_for("reference.expert", username=username))


# -- campaigns -------------------------------------------------------------------------------------------------------
@bp.get("/campaigns")
def campaigns():
    return render_template("reference/campaigns.html", rows=campaign_admin.list_campaigns(_actor()),
                           names=dict(_industries()), tiers=TIERS)


def _campaign_data() -> dict:
    f = request.form
    return {"year": f.get("year", ""), "name": f.get("name", ""), "reason": f.get("reason", ""),
            "branch_industries": f.getlist("branch_industries"),
            "notice_periods": {t: f.get(f"notice_{t}", "") for t in
                               ("excellent", "lighthouse", "advanced_working_days")},
            "deadlines": {t: {k: f.get(f"{t}_{k}", "") for k in campaign_admin.FIELDS} for t in TIERS},
            # panel rules and the XPCC flag (issue 16.7, 16.10): the page always posts them
            "panel_min_mean": f.get("panel_min_mean", ""),
            "panel_min_approval_pct": f.get("panel_min_approval_pct", ""),
            "xpcc_recommends_lighthouse": f.get("xpcc_recommends_lighthouse") == "on"}


def _campaign_form(year, form, errors=None, status=200):
    passed = {}
    if year is not None:
        camp = campaign_admin.get_campaign(_actor(), year)
        for t in TIERS:
            row = camp.deadline_for(t)
            passed[t] = {k: campaign_admin.passed(getattr(row, k) if row else None) for k in campaign_admin.FIELDS}
    return render_template("reference/campaign.html", year=year, form=form, errors=errors or {}, tiers=TIERS,
                           fields=campaign_admin.FIELDS, industries=_industries(), passed=passed), status


def _as_form(described: dict) -> dict:
    periods = described["notice_periods"]
    notice = {t: str(periods.get(t, "P7D")).removeprefix("P").removesuffix("D") for t in ("excellent", "lighthouse")}
    notice["advanced_working_days"] = str(periods.get("advanced_working_days", 5))
    return {"year": described["year"], "name": described["name"] or "",
            "branch_industries": described["branch_industries"], "notice_periods": notice, "reason": "",
            "deadlines": {t: {k: (described["deadlines"].get(t) or {}).get(k) or "" for k in campaign_admin.FIELDS}
                          for t in TIERS},
            "panel_min_mean": f"{described['panel_min_mean']:g}",
            "panel_min_approval_pct": str(described["panel_min_approval_pct"]),
            "xpcc_recommends_lighthouse": described["xpcc_recommends_lighthouse"]}


@bp.get("/campaigns/new")
def new_campaign():
    form = {"year": "", "name": "", "branch_industries": list(campaign_admin.DEFAULT_BRANCH_INDUSTRIES),
            "notice_periods": {"excellent": "7", "lighthouse": "7", "advanced_working_days": "5"}, "reason": "",
            "deadlines": {t: {k: "" for k in campaign_admin.FIELDS} for t in TIERS},
            "panel_min_mean": "60", "panel_min_approval_pct": "60", "xpcc_recommends_lighthouse": False}
    return _campaign_form(None, form)


@bp.post("/campaigns/new")
def create_campaign():
    data = _campaign_data()
    try:
        with unit_of_work():
            year = campaign_admin.create_campaign(_actor(), data).year
    except Invalid as exc:
        return _campaign_form(None, data, field_errors(exc.errors), 422)
    flash(_("Campaign %(year)s was created.", year=year), "info")
    return redirect(url_for("reference.campaigns"))


@bp.get("/campaigns/<int:year>")
def campaign(year):
    return _campaign_form(year, _as_form(campaign_admin.describe(campaign_admin.get_campaign(_actor(), year))))


@bp.post("/campaigns/<int:year>")
def update_campaign(year):
    data = _campaign_data()
    data["year"] = year
    try:
        with unit_of_work():
            campaign_admin.update_campaign(_actor(), year, data)
    except Invalid as exc:
        return _campaign_form(year, data, field_errors(exc.errors), 422)
    flash(_("Campaign %(year)s was saved.", year=year), "info")
    return redirect(url_for("reference.campaigns"))


# -- quota inputs ----------------------------------------------------------------------------------------------------
def _quota_page(edit=None, form=None, errors=None, status=200):
    rows = quota_inputs.table(_actor())
    editing = next((r for r in rows if r["code"] == edit and r["needs_figures"]), None)
    if editing is not None and form is None:
        form = {k: ("" if editing[k] is None else editing[k]) for k in
                ("iva_rank_2024", "iva_rank_2024_source", "excellent_2024", "excellent_2024_source")}
    return render_template("reference/quotas.html", rows=rows, editing=editing, form=form or {},
                           errors=errors or {}, missing=sum(1 for r in rows if r["missing"])), status


@bp.get("/quotas")
def quotas():
    return _quota_page(request.args.get("edit"))


@bp.post("/quotas/<code>")
def save_quota_inputs(code):
    data = {k: request.form.get(k, "") for k in
            ("iva_rank_2024", "iva_rank_2024_source", "excellent_2024", "excellent_2024_source")}
    try:
        with unit_of_work():
            quota_inputs.set_inputs(_actor(), code, data)
    except Invalid as exc:
        return _quota_page(code, data, field_errors(exc.errors), 422)
    flash(_("The quota inputs were saved."), "info")
    return redirect(url_for("reference.quotas") + f"#row-{code}")
