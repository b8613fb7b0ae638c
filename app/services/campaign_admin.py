"""Campaigns in the browser: year, name, per-tier application and recommendation deadlines, notice periods and the
industries whose branches (non-legal-person 分公司) may apply for excellent and lighthouse (the notice says
"石油石化、有色金属等": an open list each campaign sets; services/eligibility.py reads it).

Moving a deadline: before it passes and with no open case of the tier, the date is simply set. A deadline that
open cases hold moves only later, through `deadlines.extend` (their data and timers move, each case gets a
`deadline.extended` event), and needs a reason; so does any deadline that has passed (24:00 Asia/Shanghai of its
day) — and a passed deadline only moves later. Every change is a system event with before and after.
"""
import re
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import TIERS, Campaign, CampaignDeadline, Case, User
from app.services import clock, deadlines, industries, system_events
from app.services.cases import end_of_day

FIELDS = ("application_deadline", "recommendation_deadline")
NOTICE_TIERS = ("excellent", "lighthouse")  # national notices: calendar days (ISO-8601 PnD)
MAX_NOTICE_DAYS = 60
DEFAULT_BRANCH_INDUSTRIES = ["petrochemicals", "non_ferrous_metals"]  # the notice's 石油石化、有色金属


def _industry_key(value) -> str | None:
    """The industry key `value` names (a key, its Chinese name or a GB/T 4754 division code), or None."""
    found = industries.resolve(value)
    return found[0] if found else None


def industry_choices(lang: str = "zh") -> list[tuple[str, str]]:
    return industries.choices(lang)


def industry_keys(values, errors: dict, field: str) -> list[str]:
    """Validated industry keys (each once, in the order given); an unknown one is an error naming it."""
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        errors[field] = "a list of industry keys"
        return []
    keys, unknown = [], []
    for v in values:
        key = _industry_key(v)
        if key is None:
            unknown.append(str(v))
        elif key not in keys:
            keys.append(key)
    if unknown:
        errors[field] = "unknown industry: " + ", ".join(unknown)
    return keys


def _admin(actor: User) -> None:
    if actor is None or actor.role != "admin":
        raise Forbidden("only an administrator manages campaigns")


def passed(day: date | None) -> bool:
    return day is not None and clock.now() >= end_of_day(day)


def open_cases(campaign: Campaign, tier: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Case).where(
        Case.campaign_id == campaign.id, Case.tier == tier, Case.closed_at.is_(None))) or 0


def describe(campaign: Campaign) -> dict:
    periods = campaign.notice_periods or {}
    return {
        "year": campaign.year, "name": campaign.name,
        "deadlines": {t: {f: (getattr(d, f).isoformat() if getattr(d, f) else None) for f in FIELDS}
                      for t in TIERS if (d := campaign.deadline_for(t)) is not None
                      and any(getattr(d, f) for f in FIELDS)},
        "notice_periods": dict(periods),
        "branch_industries": list(campaign.branch_industries or []),
        # expert panels (docs/ARCHITECTURE.md, the consolidation rule) and the XPCC's lighthouse recommendation
        "panel_min_mean": campaign.panel_min_mean if campaign.panel_min_mean is not None else 60,
        "panel_min_approval_pct": campaign.panel_min_approval_pct
        if campaign.panel_min_approval_pct is not None else 60,
        "xpcc_recommends_lighthouse": bool(campaign.xpcc_recommends_lighthouse),
    }


def list_campaigns(actor: User) -> list[dict]:
    _admin(actor)
    query = select(Campaign).options(selectinload(Campaign.deadlines)).order_by(Campaign.year.desc())
    return [describe(c) for c in db.session.scalars(query)]


def get_campaign(actor: User, year) -> Campaign:
    _admin(actor)
    try:
        campaign = db.session.scalar(select(Campaign).where(Campaign.year == int(year)))
    except (TypeError, ValueError):
        campaign = None
    if campaign is None:
        raise NotFound(f"no campaign {year}")
    return campaign


# -- validation of the submitted settings ----------------------------------------------------------------------
def _day(value, field: str, errors: dict) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = "a date (YYYY-MM-DD)"
        return None


def _days(value, field: str, errors: dict) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[field] = "required: a number of days from 1 to 60"
        return None
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(?:P)?(\d{1,3})(?:D)?\s*", value)
        value = int(m.group(1)) if m else None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_NOTICE_DAYS:
        errors[field] = "a number of days from 1 to 60"
        return None
    return value


def _percent(value, field: str, errors: dict, low: int) -> float | None:
    """A threshold from `low` to 100 (None when not given: the campaign keeps what it has, a new one the default)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) or isinstance(value, bool) \
            else float(value)
    except ValueError:
        number = None
    if number is None or isinstance(value, bool) or not low <= number <= 100:
        errors[field] = f"a number from {low} to 100"
        return None
    return number


def _panel_rules(data: dict, errors: dict) -> dict:
    """The panel thresholds and the XPCC lighthouse flag; a key not given is left as it is."""
    out = {}
    mean = _percent(data.get("panel_min_mean"), "panel_min_mean", errors, 0)
    if mean is not None:
        out["panel_min_mean"] = mean
    share = _percent(data.get("panel_min_approval_pct"), "panel_min_approval_pct", errors, 1)
    if share is not None:
        if share != int(share):
            errors["panel_min_approval_pct"] = "a whole number of percent"
        out["panel_min_approval_pct"] = int(share)
    flag = data.get("xpcc_recommends_lighthouse")
    if flag is not None:
        if not isinstance(flag, bool):
            errors["xpcc_recommends_lighthouse"] = "true or false"
        out["xpcc_recommends_lighthouse"] = flag is True
    return out


def _settings(data: dict, errors: dict) -> dict:
    """The submitted settings, checked: {name, deadlines: {tier: {field: date|None}}, notice_periods, industries}."""
    name = data.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = "required"
    elif len(name) > 128:
        errors["name"] = "at most 128 characters"
    given = data.get("deadlines") or {}
    if not isinstance(given, dict) or set(given) - set(TIERS):
        errors["deadlines"] = "deadlines per tier (basic, advanced, excellent, lighthouse)"
        given = {}
    dates = {}
    for tier in TIERS:
        per = given.get(tier) or {}
        if not isinstance(per, dict):
            errors[f"deadlines.{tier}"] = "application_deadline and recommendation_deadline"
            per = {}
        dates[tier] = {f: _day(per.get(f), f"deadlines.{tier}.{f}", errors) for f in FIELDS}
        a, r = dates[tier]["application_deadline"], dates[tier]["recommendation_deadline"]
        if a and r and a > r:
            errors[f"deadlines.{tier}.recommendation_deadline"] = "on or after the application deadline"
    periods = data.get("notice_periods") or {}
    if not isinstance(periods, dict):
        errors["notice_periods"] = "notice periods per tier"
        periods = {}
    notice = {}
    for tier in NOTICE_TIERS:
        days = _days(periods.get(tier, "P7D"), f"notice_periods.{tier}", errors)
        notice[tier] = f"P{days}D" if days else None
    notice["advanced_working_days"] = _days(periods.get("advanced_working_days", 5),
                                            "notice_periods.advanced_working_days", errors)
    industries = industry_keys(data.get("branch_industries", DEFAULT_BRANCH_INDUSTRIES), errors, "branch_industries")
    reason = data.get("reason")
    return {"name": name, "deadlines": dates, "notice_periods": notice, "branch_industries": industries,
            "reason": reason.strip() if isinstance(reason, str) else "", "rules": _panel_rules(data, errors)}


def create_campaign(actor: User, data: dict) -> Campaign:
    """A new campaign year with its settings; refused whole when anything is wrong."""
    _admin(actor)
    errors: dict[str, str] = {}
    year = data.get("year")
    try:
        year = int(str(year).strip())
    except (TypeError, ValueError):
        errors["year"] = "a year such as 2027"
        year = None
    if year is not None and not 2020 <= year <= 2100:
        errors["year"] = "a year from 2020 to 2100"
    clean = _settings(data, errors)
    if year is not None and "year" not in errors and \
            db.session.scalar(select(Campaign.id).where(Campaign.year == year)) is not None:
        errors["year"] = "this campaign year exists already"
    if errors:
        raise Invalid("the campaign was not saved", errors=errors)
    campaign = Campaign(year=year, name=clean["name"], branch_industries=clean["branch_industries"],
                        notice_periods=clean["notice_periods"], deadlines=[],
                        **{"panel_min_mean": 60, "panel_min_approval_pct": 60, "xpcc_recommends_lighthouse": False,
                           **clean["rules"]})
    for tier, values in clean["deadlines"].items():
        if any(values.values()):
            campaign.deadlines.append(CampaignDeadline(tier=tier, **values))
    db.session.add(campaign)
    db.session.flush()
    system_events.append(actor.id, "campaign.created", str(year), {"before": None, "after": describe(campaign)})
    return campaign


def update_campaign(actor: User, year, data: dict) -> Campaign:
    """Change a campaign's settings (the year stays). See the module docstring for how deadlines move."""
    campaign = get_campaign(actor, year)
    errors: dict[str, str] = {}
    clean = _settings(data, errors)
    moves, extensions = [], {}
    for tier, values in clean["deadlines"].items():
        row = campaign.deadline_for(tier)
        held = None
        for f, new in values.items():
            old = getattr(row, f) if row else None
            if new == old:
                continue
            key = f"deadlines.{tier}.{f}"
            if key in errors:
                continue
            was_passed = passed(old)
            if held is None:
                held = open_cases(campaign, tier) if old is not None else 0
            if old is not None and (new is None or new < old):
                if was_passed:
                    errors[key] = "this deadline has passed: it can only move later"
                elif held:
                    errors[key] = "open cases hold this deadline: it can only move later"
                elif new is not None and passed(new):
                    errors[key] = "the new date has passed already"
            elif old is not None and (was_passed or held) and not clean["reason"]:
                errors["reason"] = "required: say why the deadline moves (it has passed or open cases hold it)"
            moves.append({"tier": tier, "field": f, "before": old.isoformat() if old else None,
                          "after": new.isoformat() if new else None, "passed": was_passed, "open_cases": held})
            if old is not None and new is not None and new > old and (was_passed or held):
                extensions.setdefault(tier, {})[f] = new
    if len(clean["reason"]) > 2000:
        errors["reason"] = "at most 2000 characters"
    if errors:
        raise Invalid("the campaign was not saved", errors=errors)
    before = describe(campaign)
    campaign.name = clean["name"]
    campaign.branch_industries = clean["branch_industries"]
    campaign.notice_periods = clean["notice_periods"]
    for key, value in clean["rules"].items():  # a running panel keeps the thresholds its case started with
        setattr(campaign, key, value)
    for tier, values in clean["deadlines"].items():
        row = campaign.deadline_for(tier)
        direct = {f: v for f, v in values.items() if f not in extensions.get(tier, {})}
        if row is None and any(direct.values()):
            row = CampaignDeadline(tier=tier)
            campaign.deadlines.append(row)
        if row is not None:
            for f, v in direct.items():
                setattr(row, f, v)
    db.session.flush()
    extended = []
    for tier, values in extensions.items():
        result = deadlines.extend(actor, campaign.year, tier, reason=clean["reason"], **{
            f: v.isoformat() for f, v in values.items()})
        extended.append({"tier": tier, "extension": result["id"], "cases": result["affected"]})
    db.session.expire(campaign)
    after = describe(campaign)
    if before == after:
        return campaign
    system_events.append(actor.id, "campaign.changed", str(campaign.year),
                         {"before": before, "after": after, "reason": clean["reason"] or None,
                          "deadline_moves": moves, "extensions": extended})
    return campaign
