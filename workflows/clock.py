"""An injectable clock for the engine.

SpiffWorkflow computes timer fire times with `datetime.now(timezone.utc)` inside its timer module. We replace that
module's `datetime` name with a subclass whose `now()` answers the instant set by `engine_clock(...)`, so tests,
`timers run --now` and replay all see the time they ask for.

Working days for scripts (`deadline_after_working_days`) come from the `chinesecalendar` library and from calendar
years loaded as data, which the app hands in with `set_calendar_lookup` (this package knows no database).
"""
from calendar import monthrange
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module

_now: ContextVar[datetime | None] = ContextVar("engine_now", default=None)


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        fixed = _now.get()
        if fixed is None:
            return datetime.now(tz)
        return fixed.astimezone(tz) if tz else fixed.astimezone(timezone.utc).replace(tzinfo=None)


_timer_module.datetime = _ClockDatetime


@contextmanager
def engine_clock(now: datetime | None):
    """Run engine code as if the time were `now` (aware datetime); None means the real clock. The instant is held in
    UTC: history stores instants in UTC and replay runs at those, so a step run at "…+08:00" must compute the same
    deadlines and state as its replay (`deadline_after` keeps the zone of the engine's now)."""
    if now is not None and now.tzinfo is None:
        raise ValueError("engine_clock needs a timezone-aware datetime")
    token = _now.set(now.astimezone(timezone.utc) if now is not None else None)
    try:
        yield
    finally:
        _now.reset(token)


def engine_now() -> datetime:
    """The instant the engine runs at: the one set by `engine_clock`, else the real time (aware UTC)."""
    return _now.get() or datetime.now(timezone.utc)


def deadline_after(duration: str) -> str:
    """For scripts: the ISO-8601 instant `duration` (e.g. "P2Y") after the engine's now, computed like
    SpiffWorkflow's duration timers (calendar years and months). Stored in data, a deadline survives migrations."""
    parsed = _timer_module.TimerEventDefinition.parse_iso_duration(duration)
    start = engine_now()
    return (start + _timer_module.TimerEventDefinition.get_timedelta_from_start(parsed, start)).isoformat()


class CalendarYear(NamedTuple):
    """A year's working-day calendar entered as data (the State Council's arrangement before the library ships it):
    the days that differ from the Monday–Friday rule."""

    year: int
    source: str
    holidays: Mapping[date, str]  # public holidays (any weekday) with their name
    workdays: frozenset[date]  # make-up working days (调休) on a Saturday or Sunday


class CalendarMissing(NotImplementedError):
    """No working-day calendar for the year: neither the library nor a loaded year covers it."""


# The app sets this (app/services/workdays.py, at startup): year -> the loaded CalendarYear or None. Nothing else
# here knows where loaded years live; without it only the library's years exist.
_year_lookup: Callable[[int], CalendarYear | None] | None = None


def set_calendar_lookup(lookup: Callable[[int], CalendarYear | None] | None) -> None:
    global _year_lookup
    _year_lookup = lookup


def library_years() -> tuple[int, int]:
    """The first and last year the `chinesecalendar` library ships."""
    from chinese_calendar import constants

    years = [d.year for d in constants.holidays] + [d.year for d in constants.workdays]
    return min(years), max(years)


def loaded_year(year: int) -> CalendarYear | None:
    return _year_lookup(year) if _year_lookup is not None else None


def is_chinese_workday(day: date) -> bool:
    """A loaded year's days where one is loaded (it is what running cases were dated with), else the library's;
    `CalendarMissing` when neither covers the year: a guessed calendar would silently mis-date a public notice."""
    loaded = loaded_year(day.year)
    if loaded is not None:
        if day in loaded.holidays:
            return False
        return day in loaded.workdays or day.weekday() < 5
    import chinese_calendar

    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        first, last = library_years()
        raise CalendarMissing(f"no working-day calendar for year {day.year}: chinesecalendar covers "
                              f"{first}–{last} and no calendar year {day.year} was loaded") from None


def deadline_after_working_days(n: int) -> str:
    """For scripts: the end (24:00 Asia/Shanghai) of the n-th Chinese working day after the engine's today, with
    public holidays and make-up working days (调休) from the `chinesecalendar` library or a loaded calendar year
    (`is_chinese_workday`). Outside the years covered this raises `CalendarMissing`."""
    shanghai = ZoneInfo("Asia/Shanghai")
    day = engine_now().astimezone(shanghai).date()
    left = int(n)
    while left > 0:
        day += timedelta(days=1)
        if is_chinese_workday(day):
            left -= 1
    return datetime.combine(day + timedelta(days=1), dtime(0, 0), tzinfo=shanghai).isoformat()


def add_months(instant: str, months: int) -> str:
    """For scripts (pure): the ISO-8601 instant `months` calendar months after `instant`, same time of day and UTC
    offset; a day the target month lacks becomes its last day (08-31 + 6 → the end of February). Count every mark
    from one start (`add_months(start, 6 * n)`): repeating one interval's length, as a timer cycle does, drifts."""
    start = datetime.fromisoformat(instant)
    if start.tzinfo is None:
        raise ValueError("add_months needs an instant with a UTC offset")
    index = start.month - 1 + int(months)
    year, month = start.year + index // 12, index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, monthrange(year, month)[1])).isoformat()
