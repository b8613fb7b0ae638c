"""The campaign's calendar on the dashboard (issue 19, part 2): per tier its deadlines (the campaign's, as moved by
tier-wide extensions: `campaign_deadlines`), the working days between them and from today, and the public-notice
period, counted with the working-day calendar (`services/workdays.py`: chinesecalendar and loaded years). A count the
calendar cannot make (a year neither shipped nor loaded) is None with the reason, never a guess. A province's
calendar (its page) takes its own extensions into account (`deadlines.effective_dates`)."""
from datetime import date

from app.errors import Invalid
from app.models import TIERS, Campaign, User
from app.services import clock, deadlines, workdays
from app.services.inbox import require_dashboard

NOTICE_DAYS_DEFAULT = "P7D"  # national lists: 7 days (DOMAIN.md)
ADVANCED_WORKING_DAYS_DEFAULT = 5  # provincial lists: 5 working days


def _count(start: date | None, end: date | None) -> dict:
    """{"days": working days after start up to end, or None, "error": why not}."""
    if start is None or end is None:
        return {"days": None, "error": None}
    if end < start:
        return {"days": 0, "error": None}
    try:
        return {"days": workdays.working_days_between(start, end), "error": None}
    except Invalid as exc:
        return {"days": None, "error": exc.message}


def notice(campaign: Campaign, tier: str) -> dict | None:
    """The public notice a tier's list gets: {"working_days": n} (advanced, provincial lists) or {"period": ISO
    duration} (excellent, lighthouse: national lists); None for basic (no list, no notice)."""
    periods = campaign.notice_periods or {}
    if tier == "basic":
        return None
    if tier == "advanced":
        return {"working_days": int(periods.get("advanced_working_days") or ADVANCED_WORKING_DAYS_DEFAULT)}
    return {"period": periods.get(tier) or NOTICE_DAYS_DEFAULT}


def calendar(actor: User, campaign: Campaign, province_code: str | None = None) -> dict:
    """{"campaign", "today", "tiers": [{tier, application_deadline, recommendation_deadline, review_working_days,
    application_left, recommendation_left, notice}]} (dates as dates; *_left: working days from today, None once
    passed). With `province_code`: that province's deadlines, its extensions included (`deadlines.effective_dates`)."""
    require_dashboard(actor)
    today = clock.now().astimezone(clock.SHANGHAI).date()
    rows = []
    for tier in TIERS:
        if province_code:
            eff = deadlines.effective_dates(campaign, tier, province_code)
            app_day, rec_day = eff["application_deadline"], eff["recommendation_deadline"]
        else:
            d = campaign.deadline_for(tier)
            app_day = d.application_deadline if d else None
            rec_day = d.recommendation_deadline if d else None
        rows.append({
            "tier": tier, "application_deadline": app_day, "recommendation_deadline": rec_day,
            "review_working_days": _count(app_day, rec_day),
            "application_left": _count(today, app_day) if app_day and app_day >= today else None,
            "recommendation_left": _count(today, rec_day) if rec_day and rec_day >= today else None,
            "notice": notice(campaign, tier),
        })
    return {"campaign": campaign.year, "name": campaign.name, "today": today, "tiers": rows}
