"""The process heatmap (issue 19): the page `/dashboard/heatmap?tier=&campaign=&province=` (the tier's newest
diagram coloured by waiting cases or median time, with badges, a legend and the table beside it) and the API
`GET /api/v1/process-models/{key}/heatmap`. Every rule is in services/heatmap.py."""
import math
from datetime import date

from flask import Blueprint, Response, g, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.api import error, token_required
from app.blueprints.params import query_int
from app.errors import Invalid, ServiceError
from app.extensions import csrf
from app.services import heatmap

bp = Blueprint("heatmap", __name__, url_prefix="/dashboard/heatmap")
api_bp = Blueprint("heatmap_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # bearer tokens, never cookies
LEVELS = 5  # colour classes heat-0 .. heat-4
METRICS = ("waiting", "median")


def register(app) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)


def _filters(args) -> heatmap.Filters:
    """The query string's filters; every malformed one is named in one 422."""
    errors, values = {}, {}
    for name, lo, hi in (("campaign", 2000, 2100),):
        try:
            values[name] = query_int(args, name, None, lo, hi)
        except Invalid as exc:
            errors.update(exc.errors)
    for name in ("since", "until"):
        raw = (args.get(name) or "").strip()
        try:
            values[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[name] = "a date YYYY-MM-DD"
    province = (args.get("province") or "").strip().removeprefix("province:") or None
    if province is not None and not (len(province) == 6 and province.isascii() and province.isdigit()):
        errors["province"] = "a six-digit province code"
    soe = (args.get("soe") or "").strip().removeprefix("soe:") or None
    if province and soe:
        errors["soe"] = "a province or an SOE group, not both"
    if errors:
        raise Invalid("invalid heatmap filters: " + ", ".join(sorted(errors)), errors=errors)
    return heatmap.Filters(values["campaign"], province, soe, values["since"], values["until"])


# -- JSON API --------------------------------------------------------------------------------------------------------
@api_bp.errorhandler(ServiceError)
def _api_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


@api_bp.get("/process-models/<key>/heatmap")
@token_required
def api_heatmap(key):
    return jsonify(heatmap.heatmap(g.api_user, key, _filters(request.args)))


# -- the page --------------------------------------------------------------------------------------------------------
@bp.errorhandler(ServiceError)
def _page_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


def duration(seconds) -> str:
    """3天4小时 / 3 d 4 h; below a day hours and minutes; — for none."""
    if seconds is None:
        return "—"
    s = int(seconds)
    d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
    zh = str(get_locale() or "zh") == "zh"
    units = (("天", " d"), ("小时", " h"), ("分钟", " min"))
    parts = [(n, u) for n, u in zip((d, h, m), units, strict=True) if n]
    if d:
        parts = [p for p in parts if p[1] != units[2]]
    if not parts:
        return "0分钟" if zh else "0 min"
    return "".join(f"{n}{u[0]}" for n, u in parts) if zh else " ".join(f"{n}{u[1]}" for n, u in parts)


def _level(value, top) -> int:
    """0 for nothing, then 1..4 by quarters of the largest value."""
    if not value or not top:
        return 0
    return max(1, min(LEVELS - 1, math.ceil((LEVELS - 1) * value / top)))


def _legend(top, fmt, whole: bool) -> list[tuple[int, str]]:
    """(level, label) of the colour classes in use: level k holds the values in (top·(k-1)/4, top·k/4]; counts
    (`whole`) as ranges of whole numbers, durations as upper bounds."""
    out = [(0, _("None"))]
    if not top:
        return out
    for lv in range(1, LEVELS):
        hi = top * lv / (LEVELS - 1)
        if whole:
            lo, hi = math.floor(top * (lv - 1) / (LEVELS - 1)) + 1, math.floor(hi)
            if lo <= hi:
                out.append((lv, str(hi) if lo == hi else f"{lo}–{hi}"))
        else:
            label = _("up to %(v)s", v=fmt(hi))
            if label not in [shown for _lv, shown in out]:
                out.append((lv, label))
    return out


@bp.get("")
@login_required
def page():
    actor = current_user._get_current_object()
    heatmap.require_reader(actor)
    args = request.args
    tier = args.get("tier") or "excellent"
    metric = args.get("color") if args.get("color") in METRICS else "waiting"
    form = {k: (args.get(k) or "").strip() for k in ("campaign", "province", "soe", "since", "until")}
    choices = heatmap.choices(actor)
    errors, view = {}, None
    if tier not in choices["tiers"]:
        errors["tier"] = _("Choose a tier from the list.")
    try:
        filters = _filters(args)
    except Invalid as exc:
        errors.update({k: _field_message(k) for k in exc.errors})
    if not errors:
        try:
            view = heatmap.page(actor, heatmap.model_for_tier(tier), filters)
        except Invalid as exc:
            errors.update({k: _field_message(k) for k in exc.errors})
    rows, legend = [], {}
    if view:
        top_w = max((r["waiting"] for r in view["rows"]), default=0)
        top_m = max((r["median_s"] or 0 for r in view["rows"]), default=0)
        lang = str(get_locale() or "zh")
        for r in view["rows"]:
            name = (r.get("name_en") if lang == "en" and r.get("name_en") else r["name"]) or \
                (_("Timer") if r["kind"] == "timer" else _("Unnamed step"))
            rows.append({**r, "label": name, "median": duration(r["median_s"]), "p90": duration(r["p90_s"]),
                         "late": "—" if r["late_share"] is None else f"{round(r['late_share'] * 100)}%",
                         "heat_waiting": _level(r["waiting"], top_w), "heat_median": _level(r["median_s"], top_m)})
        legend = {"waiting": _legend(top_w, str, True), "median": _legend(top_m, duration, False)}
    status = 422 if errors else 200
    return render_template("heatmap/page.html", tier=tier, metric=metric, form=form, choices=choices,
                           errors=errors, view=view, rows=rows, legend=legend), status


def _field_message(name: str) -> str:
    return {"campaign": _("Choose a campaign year from the list."),
            "province": _("Choose a province from the list."),
            "soe": _("Choose a province or an SOE group, not both."),
            "since": _("Enter a date as YYYY-MM-DD, not after the end date."),
            "until": _("Enter a date as YYYY-MM-DD.")}.get(name, _("This value is not valid."))


@bp.get("/<key>.bpmn")
@login_required
def diagram(key):
    return Response(heatmap.diagram_xml(current_user._get_current_object(), key), mimetype="application/xml")
