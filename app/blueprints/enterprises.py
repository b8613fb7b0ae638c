"""Enterprises for administrators and provincial administrators (issue 14): the list with search and filters, the
create/edit form, the import (template download, dry run with each bad cell named, commit after confirmation, the
one-time password list downloaded once) as pages under /admin/enterprises (系统管理), and the API calls
`GET /api/v1/enterprises` and `POST /api/v1/enterprises/import?commit=0|1`. HTTP only: the rules are in
services/enterprise_admin.py and services/enterprise_import.py."""
import io

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.blueprints.api import error, token_required
from app.blueprints.params import query_int
from app.errors import Invalid, ServiceError
from app.extensions import csrf
from app.models import TIERS
from app.services import downloads, enterprise_admin, enterprise_import, industries, spreadsheet
from app.uow import unit_of_work

bp = Blueprint("enterprises", __name__, url_prefix="/admin/enterprises")
api_bp = Blueprint("enterprises_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # bearer tokens, never cookies
SHOWN_ERRORS = 1000

# each reason of services/enterprise_import.REASONS in the UI language (Chinese first)
REASONS = {
    "required": _l("required"),
    "length": _l("has %(n)s characters; a unified social credit code has 18"),
    "alphabet": _l("has characters outside the GB 32100 alphabet (no I, O, S, V, Z) or a malformed region part"),
    "check_digit": _l("check digit is %(got)s, expected %(expected)s"),
    "duplicate": _l("the same credit code is in row %(other)s"),
    "exists": _l("an enterprise with this credit code exists already; edit it instead"),
    "other_province": _l("belongs to another province"),
    "registered_elsewhere": _l("already registered in another province (%(province)s); change it on the "
                               "enterprise's page"),
    "unknown_region": _l("unknown province %(value)s (a province's name or its GB/T 2260 code)"),
    "unknown_city": _l("unknown city %(value)s (a six-digit GB/T 2260 code)"),
    "city_not_in_province": _l("city %(value)s is not in %(province)s"),
    "unknown_industry": _l("unknown industry %(value)s (a key or name of the industry list, or a GB/T 4754-2017 "
                           "division code such as C34)"),
    "boolean": _l("%(value)s is neither 是 nor 否"),
    "unknown_soe_group": _l("unknown central SOE group %(value)s"),
    "formula": _l("a formula; paste the values instead"),
    "too_long": _l("longer than %(n)s characters"),
    "unknown_header": _l("unknown column %(value)s"),
    "missing_header": _l("the column is missing"),
    "empty": _l("the file has no rows below the header"),
}


def reason(err: dict) -> str:
    text = REASONS.get(err["code"])
    return str(text) % err["params"] if text is not None else err["message"]


def _lang() -> str:
    return "zh" if str(get_locale() or "zh") == "zh" else "en"


def _report_json(report) -> dict:
    out = report.as_json()
    for e, src in zip(out["errors"], report.errors, strict=True):
        e["message"] = reason(src)
    return out


# -- JSON API --------------------------------------------------------------------------------------------------------
def register(app) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)


@api_bp.errorhandler(ServiceError)
def _api_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


def _page_arg() -> int:
    return query_int(request.args, "page", 1)


@api_bp.get("/enterprises")
@token_required
def api_list():
    page = _page_arg()
    rows, total = enterprise_admin.search(g.api_user, request.args.get("q"), request.args.get("region"),
                                          request.args.get("industry"), request.args.get("tier"), page)
    return jsonify({"items": [enterprise_admin.to_json(e) for e in rows], "total": total, "page": page})


def _upload() -> tuple[bytes, str]:
    f = request.files.get("file")
    if f is None or not f.filename:
        raise Invalid("send the spreadsheet as the multipart field `file`", errors={"file": "required"})
    return f.read(), f.filename


@api_bp.post("/enterprises/import")
@token_required
def api_import():
    """?commit=0 (default): the dry run; ?commit=1: write all rows, or nothing and 422 when a row is bad; with
    &accounts=1 also one enterprise account per new row, its one-time password answered once."""
    enterprise_import.require_importer(g.api_user)
    commit, accounts = request.args.get("commit", "0"), request.args.get("accounts", "0")
    if commit not in ("0", "1"):
        raise Invalid("commit is 0 or 1", errors={"commit": "0 or 1"})
    if accounts not in ("0", "1"):
        raise Invalid("accounts is 0 or 1", errors={"accounts": "0 or 1"})
    data, filename = _upload()
    if commit == "0":
        return jsonify(_report_json(enterprise_import.check(g.api_user, data, filename)))
    with unit_of_work():
        report = enterprise_import.commit(g.api_user, data, filename, accounts=accounts == "1", inline=True)
    out = _report_json(report)
    if report.one_time_passwords is not None:
        out["accounts"] = report.accounts
        out["one_time_passwords"] = [{"username": u, "one_time_password": p} for u, p in report.one_time_passwords]
    if report.errors:
        return jsonify({"error": "invalid", "message": f"{len(report.errors)} error(s); nothing was written"}
                       | out), 422
    return jsonify(out)


# -- pages -----------------------------------------------------------------------------------------------------------
@bp.errorhandler(ServiceError)
def _page_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


def _user():
    return current_user._get_current_object()


@bp.get("")
@login_required
def index():
    user, page = _user(), _page_arg()
    args = {k: request.args.get(k, "") for k in ("q", "region", "industry", "tier")}
    rows, total = enterprise_admin.search(user, args["q"], args["region"] or None, args["industry"] or None,
                                          args["tier"] or None, page)
    return render_template("enterprises/index.html", rows=rows, total=total, page=page, args=args,
                           pages=(total + enterprise_admin.PER_PAGE - 1) // enterprise_admin.PER_PAGE,
                           choices=enterprise_admin.filter_choices(user), industries=industries.choices(_lang()),
                           industry_name=lambda k: industries.name(k, _lang()), tiers=TIERS, lang=_lang())


def _form_page(values: dict, ent=None, errors=None, status=200):
    user = _user()
    return render_template("enterprises/form.html", values=values, ent=ent, errors=errors or {},
                           choices=enterprise_admin.filter_choices(user), industries=industries.choices(_lang()),
                           lang=_lang()), status


def _save(enterprise_id=None):
    values = {f: request.form.get(f, "") for f, _h, _r in enterprise_import.COLUMNS}
    ent = enterprise_admin.get(_user(), enterprise_id) if enterprise_id else None
    try:
        with unit_of_work():
            enterprise_admin.save(_user(), values, enterprise_id)
    except enterprise_admin.FormInvalid as exc:
        errors = {e["field"]: reason(e) for e in exc.report.errors}
        return _form_page(values, ent, errors, 422)
    flash(_("The enterprise was saved."), "info")
    return redirect(url_for("enterprises.index", q=values["name"] or None))


@bp.get("/new")
@login_required
def new():
    enterprise_import.require_importer(_user())
    return _form_page(enterprise_admin.form_values(None))


@bp.post("/new")
@login_required
def create():
    return _save()


@bp.get("/<int:enterprise_id>/edit")
@login_required
def edit(enterprise_id):
    ent = enterprise_admin.get(_user(), enterprise_id)
    return _form_page(enterprise_admin.form_values(ent), ent)


@bp.post("/<int:enterprise_id>/edit")
@login_required
def update(enterprise_id):
    return _save(enterprise_id)


@bp.get("/import")
@login_required
def import_page():
    enterprise_import.require_importer(_user())
    return render_template("enterprises/import.html", report=None, token=None, filename="", columns=_columns())


def _columns():
    return [(h, required) for _f, h, required in enterprise_import.COLUMNS]


@bp.get("/import/template.xlsx")
@login_required
def template():
    enterprise_import.require_importer(_user())
    return send_file(io.BytesIO(enterprise_import.template_xlsx()), mimetype=spreadsheet.XLSX_MIME,
                     as_attachment=True, download_name="企业导入模板.xlsx")


def _report_page(report, token=None, filename="", status=200, done=False):
    errors = [dict(e, reason=reason(e)) for e in report.errors[:SHOWN_ERRORS]]
    return render_template("enterprises/import.html", report=report, errors=errors, token=token, filename=filename,
                           columns=_columns(), done=done, hidden=max(0, len(report.errors) - SHOWN_ERRORS)), status


@bp.post("/import")
@login_required
def dry_run():
    user = _user()
    enterprise_import.require_importer(user)
    f = request.files.get("file")
    if f is None or not f.filename:
        return render_template("enterprises/import.html", report=None, token=None, filename="", columns=_columns(),
                               upload_error=_("Choose an .xlsx or .csv file.")), 422
    data = f.read()
    try:
        report = enterprise_import.check(user, data, f.filename)
    except ServiceError as exc:
        if exc.status == 403:
            raise
        message = {413: _("The file is too large (at most 25 MB and 100,000 rows)."),
                   415: _("This is not a spreadsheet: upload an .xlsx or .csv file.")}.get(
            exc.status, _("The file could not be read: %(reason)s", reason=exc.message))
        return render_template("enterprises/import.html", report=None, token=None, filename=f.filename,
                               columns=_columns(), upload_error=message), exc.status
    token = None
    if not report.errors:
        with unit_of_work():
            token = downloads.store(user, "staged_import", f.filename, data)
    return _report_page(report, token, f.filename, 200 if not report.errors else 422)


@bp.post("/import/commit")
@login_required
def commit():
    user = _user()
    enterprise_import.require_importer(user)
    token = request.form.get("token", "")
    with unit_of_work():
        staged = downloads.take(user, "staged_import", token)
        filename, data = staged
        report = enterprise_import.commit(user, data, filename, accounts=request.form.get("accounts") == "1")
        if report.errors:  # the database changed since the dry run: nothing written, the staged file kept
            raise _Refused(report, filename)
    return _report_page(report, None, filename, done=True)


class _Refused(Exception):
    def __init__(self, report, filename):
        super().__init__("refused")
        self.report, self.filename = report, filename


@bp.errorhandler(_Refused)
def _refused(exc: _Refused):
    return _report_page(exc.report, None, exc.filename, 422)


@bp.get("/import/passwords/<token>")
@login_required
def passwords(token):
    enterprise_import.require_importer(_user())
    with unit_of_work():
        filename, content = downloads.take(_user(), "passwords", token)
    resp = send_file(io.BytesIO(content), mimetype=spreadsheet.XLSX_MIME, as_attachment=True,
                     download_name="企业账号一次性密码.xlsx", max_age=0)
    resp.headers["Cache-Control"] = "no-store"
    return resp
