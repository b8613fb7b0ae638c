"""Campaigns by year (and every year, newest first, for the pages), deadline days and dates as the other services
read them: the one campaign lookup and the one date parser, below `cases`, `deadlines` and `loading` so that each
imports them without a circle."""
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.models import Campaign
from app.services.clock import SHANGHAI


def campaign_by_year(year, *, required: bool = True) -> Campaign | None:
    """The campaign of that year; when there is none (or `year` is no number): Invalid (422) naming the field, or
    None with `required=False` (the caller says what a missing campaign means to it)."""
    try:
        number = int(year)
        if not 0 < number < 10000:  # no campaign's year; 10**22 would overflow the driver
            raise ValueError(year)
        camp = db.session.scalar(select(Campaign).where(Campaign.year == number))
    except (TypeError, ValueError):
        camp = None
    if camp is None and required:
        raise Invalid("unknown campaign", errors={"campaign": "unknown campaign"})
    return camp


def end_of_day(d) -> datetime:
    """A deadline date ends at 24:00 Asia/Shanghai."""
    return datetime.combine(d + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)


def parse_date(value) -> date | None:
    """None for None, a date as it is, else the ISO date (YYYY-MM-DD) its text says; ValueError when it says none.
    (Callers turn the ValueError into their own error: a field of a request, a row of a load file.)"""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def newest_first() -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).order_by(Campaign.year.desc())))


def years() -> list[int]:
    """Every campaign year, newest first."""
    return list(db.session.scalars(select(Campaign.year).order_by(Campaign.year.desc())))
