"""The dashboard's figures as tables in the UI language: what each chart's data table shows, and what its XLSX export
holds (one table, one sheet; `services/spreadsheet.xlsx` writes every cell inert). No query here: the views hand in
what the services returned."""
from flask_babel import get_locale
from flask_babel import gettext as _

from app.i18n import shanghai

FIGURE_LABELS = {"applications": "Applications", "certified": "Certified", "in_review": "In review",
                 "overdue": "Overdue tasks", "quota": "Quota used"}


def lang() -> str:
    return "en" if str(get_locale() or "zh") == "en" else "zh"


def figure_label(figure: str) -> str:
    return _(FIGURE_LABELS[figure])


def tile_name(tile: dict) -> str:
    return tile["name_en"] if lang() == "en" else tile["name_zh"]


def tile_short(tile: dict) -> str:
    """The name the exported PNG writes on a square: the short Chinese name (山东), in English the English name (the
    XPCC's abbreviation)."""
    if lang() == "en":
        return "XPCC" if tile.get("kind") == "xpcc" else tile["name_en"]
    return tile.get("short_zh") or tile["name_zh"]


def quota_text(f: dict | None) -> str:
    """"3 / 20 (15%)", "3 / unknown", "not applicable"."""
    if f is None:
        return "—"
    if f["quota_state"] == "not_applicable":
        return _("not applicable")
    if f["quota_state"] == "unknown":
        return _("%(n)s / quota unknown", n=f["recommended"] or 0)
    share = round(100 * (f["recommended"] or 0) / f["quota"]) if f["quota"] else 0
    return f"{f['recommended'] or 0} / {f['quota']} ({share}%)"


def tile_value_text(tile: dict, figure: str) -> str:
    if not tile["visible"]:
        return _("no figures for you")
    if figure == "quota":
        return quota_text(tile["figures"])
    return str(tile["value"])


def tiles_table(view: dict) -> tuple[list[str], list[list]]:
    """Every tile the reader sees, with all its figures."""
    header = [_("Recommender"), *[figure_label(f) for f in ("applications", "certified", "in_review", "overdue")],
              _("Recommended"), _("Quota")]
    rows = []
    for t in view["tiles"] + view["groups"]:
        f = t["figures"]
        if f is None:
            continue
        quota = {"known": f["quota"], "unknown": _("unknown"), "not_applicable": _("not applicable")}[f["quota_state"]]
        rows.append([tile_name(t), f["applications"], f["certified"], f["in_review"], f["overdue"],
                     "" if f["recommended"] is None else f["recommended"], quota])
    return header, rows


def funnel_table(row: dict) -> tuple[list[str], list[list]]:
    return [_("Stage"), _("Cases")], [[_(s["label"]), s["count"]] for s in row["stages"]]


def funnel_chart(row: dict) -> dict:
    return {"labels": [_(s["label"]) for s in row["stages"]], "values": [s["count"] for s in row["stages"]]}


def _days(count: dict | None) -> str:
    if count is None:
        return "—"
    if count["error"]:
        return _("not counted: the working-day calendar does not cover this year")
    return "—" if count["days"] is None else _("%(n)s working days", n=count["days"])


def notice_text(notice: dict | None) -> str:
    from app.i18n import duration_zh

    if notice is None:
        return _("no public notice")
    if "working_days" in notice:
        return _("%(n)s working days", n=notice["working_days"])
    return duration_zh(notice["period"])


def calendar_table(cal: dict) -> tuple[list[str], list[list]]:
    header = [_("Tier"), _("Application deadline"), _("Recommendation deadline"),
              _("Working days between the deadlines"), _("Working days left to apply"),
              _("Working days left to recommend"), _("Public notice")]
    rows = []
    for r in cal["tiers"]:
        rows.append([_(r["tier"]), shanghai(r["application_deadline"]) or "—",
                     shanghai(r["recommendation_deadline"]) or "—", _days(r["review_working_days"]),
                     _days(r["application_left"]) if r["application_deadline"] else "—",
                     _days(r["recommendation_left"]) if r["recommendation_deadline"] else "—",
                     notice_text(r["notice"])])
    return header, rows


def pairs_table(key_label: str, rows) -> tuple[list[str], list[list]]:
    return [key_label, _("Count")], [[k, n] for k, n in rows]
