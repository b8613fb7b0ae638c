"""The dashboard of reviewers and national staff: the provinces at a glance (a tile map coloured by a chosen figure,
services/tile_map.py), the funnel per tier and the campaign's calendar (services/funnel.py,
services/dashboard_calendar.py), and the case counts within the user's scope. Every chart is drawn by Chart.js
(served from our static files) with its numbers in a table, downloadable as PNG (static/dashboard.js) and its data as
XLSX (`export`)."""
import io
import json

from flask import Blueprint, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints import dashboard_tables as tables
from app.errors import Invalid, ServiceError
from app.models import TIERS
from app.services import dashboard_calendar, funnel, inbox, spreadsheet, tile_map, workdays
from app.services.campaigns import years

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
HEATMAP_URL = "/dashboard/heatmap?tier={tier}&campaign={year}&{kind}={code}"  # the heatmap page (heatmap.page)


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


def _recommender(o: dict) -> str:
    if o["kind"] == "province":
        region = o["region"]
        if region is None:
            return o["key"] or "—"
        return region.name_en if tables.lang() == "en" else region.name_zh
    return o["name"] or o["key"]


def _selection():
    """The GET selectors; an invalid one is named and replaced by its default (status 422)."""
    args = {k: request.args.get(k) or None for k in ("tier", "campaign", "figure")}
    try:
        tier, campaign, figure = tile_map.choose(args["tier"], args["campaign"], args["figure"])
        return tier, campaign, figure, {}
    except Invalid as exc:
        errors = exc.errors or {}
        fixed = {k: (None if k in errors else v) for k, v in args.items()}
        tier, campaign, figure = tile_map.choose(fixed["tier"], fixed["campaign"], fixed["figure"])
        return tier, campaign, figure, errors


def _counts():
    view = inbox.dashboard(current_user._get_current_object(), funnel=False)  # the page draws funnel.funnel
    return view, {
        "tier": (_("Cases per tier"), _("Tier"), [(_(t), n) for t, n in view["tier"]]),
        "status": (_("Cases per status"), _("Status"), [(_(s), n) for s, n in view["status"]]),
        "province": (_("Cases per province"), _("Province"),
                     [(_recommender({"kind": "province", "region": r, "key": code}), n)
                      for code, r, n in view["province"]]),
        "campaign": (_("Cases per campaign"), _("Campaign"), [(str(y), n) for y, n in view["campaign"]]),
        "overdue": (_("Overdue tasks per recommender"), _("Recommender"),
                    [(_recommender(o), o["count"]) for o in view["overdue"]]),
    }


def _chart(rows) -> str:
    return json.dumps({"labels": [k for k, _n in rows], "values": [n for _k, n in rows]}, ensure_ascii=False)


@bp.get("")
@login_required
def index():
    actor = current_user._get_current_object()
    tier, campaign, figure, errors = _selection()
    view, counts = _counts()
    tiles = tile_map.tile_map(actor, tier, campaign.year, figure)
    funnels = funnel.funnel(actor, campaign)
    cal = dashboard_calendar.calendar(actor, campaign)
    return render_template(
        "dashboard/index.html", view=view, counts=counts, charts={k: _chart(v[2]) for k, v in counts.items()},
        tiles=tiles, funnels=funnels, funnel_charts={f["tier"]: json.dumps(tables.funnel_chart(f), ensure_ascii=False)
                                                     for f in funnels},
        cal=cal, cal_table=tables.calendar_table(cal), tiles_table=tables.tiles_table(tiles),
        selection={"tier": tier, "campaign": campaign.year, "figure": figure}, errors=errors,
        tiers=TIERS, years=years(), figures=tile_map.FIGURES, tables=tables,
        calendar=workdays.calendar_info()), 422 if errors else 200


def _recommender_page(scope: str):
    actor = current_user._get_current_object()
    tier, campaign, _figure, errors = _selection()
    info = tile_map.recommender(actor, scope, campaign.year)
    (row,) = funnel.funnel(actor, campaign, recommender=scope, tiers=(tier,))
    heatmap = HEATMAP_URL.format(tier=tier, year=campaign.year, code=info["code"],
                                 kind="province" if info["kind"] == "province" else "soe")
    cal = dashboard_calendar.calendar(actor, campaign, info["code"]) if info["kind"] == "province" else None
    return render_template("dashboard/recommender.html", info=info, funnel=row,
                           cal=cal, cal_table=tables.calendar_table(cal) if cal else None,
                           funnel_chart=json.dumps(tables.funnel_chart(row), ensure_ascii=False),
                           selection={"tier": tier, "campaign": campaign.year}, errors=errors, heatmap=heatmap,
                           tiers=TIERS, years=years(), tables=tables), 422 if errors else 200


@bp.get("/provinces/<code>")
@login_required
def province(code):
    """One province's (or the XPCC's) figures, its funnel and the link to its heatmap."""
    return _recommender_page(f"province:{code}")


@bp.get("/groups/<key>")
@login_required
def group(key):
    """One central SOE group's figures and funnel."""
    return _recommender_page(f"soe:{key}")


EXPORTS = ("tiles", "funnel", "calendar", "tier", "status", "province", "campaign", "overdue")


@bp.get("/export.xlsx")
@login_required
def export():
    """A chart's data as XLSX: `chart` one of EXPORTS, with the page's selectors (and `recommender` for a province's
    or a group's funnel)."""
    actor = current_user._get_current_object()
    inbox.require_dashboard(actor)
    chart = request.args.get("chart", "tiles")
    if chart not in EXPORTS:
        raise Invalid("unknown chart", errors={"chart": "unknown chart"})
    tier, campaign, figure, errors = _selection()
    if errors:
        raise Invalid("the selection is not valid", errors=errors)
    if chart == "tiles":
        header, rows = tables.tiles_table(tile_map.tile_map(actor, tier, campaign.year, figure))
        title = _("Provinces at a glance")
    elif chart == "funnel":
        scope = request.args.get("recommender") or None
        if scope:
            tile_map.recommender(actor, scope, campaign.year)  # 403/404 outside the reader's
        (row,) = funnel.funnel(actor, campaign, recommender=scope, tiers=(tier,))
        header, rows = tables.funnel_table(row)
        title = _("Funnel")
    elif chart == "calendar":
        scope = request.args.get("recommender") or ""
        province = None
        if scope.startswith("province:"):
            province = tile_map.recommender(actor, scope, campaign.year)["code"]  # 403/404 outside the reader's
        header, rows = tables.calendar_table(dashboard_calendar.calendar(actor, campaign, province))
        title = _("Campaign calendar")
    else:
        _view, counts = _counts()
        title, key_label, pairs = counts[chart]
        header, rows = tables.pairs_table(key_label, pairs)
    data = spreadsheet.xlsx(title[:31], header, rows, widths=[24] + [16] * (len(header) - 1))
    name = f"dashboard-{chart}-{tier}-{campaign.year}.xlsx"
    return send_file(io.BytesIO(data), mimetype=spreadsheet.XLSX_MIME, as_attachment=True, download_name=name)
