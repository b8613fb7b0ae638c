"""Chinese working days: public holidays and make-up working days (调休) from the `chinesecalendar` library
(`chinese_calendar.is_workday`), which ships the State Council's yearly holiday arrangement as data and is
updated each year when the arrangement is published. Outside the years it covers, arithmetic is refused (a guess
would silently mis-date a notice period); `calendar_info()` tells which years are covered."""
from datetime import date, timedelta
from importlib.metadata import PackageNotFoundError, version

import chinese_calendar
from chinese_calendar import constants

from app.services.errors import Invalid

LIBRARY = "chinesecalendar"


def covered_years() -> tuple[int, int]:
    years = [d.year for d in constants.holidays] + [d.year for d in constants.workdays]
    return min(years), max(years)


def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        first, last = covered_years()
        raise Invalid(f"the working-day calendar ({LIBRARY}) covers {first}–{last}, not {day.year}",
                      errors={"date": "outside the calendar's years"}) from None


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (n ≥ 1), or `start` itself for n = 0. Counting starts the day after, as
    a notice "for 5 working days" from a publication day does."""
    if n < 0:
        raise Invalid("n must not be negative", errors={"n": "≥ 0"})
    day = start
    while n:
        day += timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    return sum(1 for i in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=i)))


def holiday_name(day: date) -> str | None:
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return name if on_holiday else None


def calendar_info() -> dict:
    try:
        ver = version(LIBRARY)
    except PackageNotFoundError:  # pragma: no cover - installed with the project
        ver = "unknown"
    first, last = covered_years()
    return {"library": LIBRARY, "version": ver, "years": {"first": first, "last": last},
            "timezone": "Asia/Shanghai",
            "source": "国务院办公厅 yearly holiday arrangements (节假日安排), including make-up working days (调休)"}
