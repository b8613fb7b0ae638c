"""Chinese working days: public holidays and make-up working days (调休) from the `chinesecalendar` library
(`chinese_calendar.is_workday`), which ships the State Council's yearly holiday arrangement as data and is
updated each year when the arrangement is published, and from calendar years loaded as data (`flask load`, key
`calendar`; `calendar_years`/`calendar_days`) for the years the library does not ship yet. Outside the years
covered, arithmetic is refused (a guess would silently mis-date a notice period); `calendar_info()` tells which
years are covered and where each comes from.

The engine reads the same days (`workflows.clock.is_chinese_workday`): `install()` gives it `loaded_year` at app
start. A loaded year is immutable (running cases' deadlines and their replay were computed with it), so each process
keeps it once read; a year not loaded is asked of the database again (committed rows only, on a connection of its
own), so a year loaded by `flask load` in another process is seen by every worker and the scheduler at once."""
import threading
from datetime import date, timedelta
from importlib.metadata import PackageNotFoundError, version
from types import MappingProxyType

from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.models.calendar import CalendarDay
from app.models.calendar import CalendarYear as YearRow
from app.settings import available, settings
from workflows import clock as engine_clock
from workflows.clock import CalendarMissing, CalendarYear

LIBRARY = "chinesecalendar"

_cache: dict[tuple[str, int], CalendarYear | None] = {}  # (database URI, year); None only for library years
_cache_lock = threading.Lock()


def library_years() -> tuple[int, int]:
    return engine_clock.library_years()


def covered_years() -> tuple[int, int]:
    """The first and last year of the unbroken span covered: the library's years and loaded years adjoining them."""
    first, last = library_years()
    while loaded_year(last + 1) is not None:
        last += 1
    return first, last


def _read_year(year: int) -> CalendarYear | None:
    with db.engine.connect() as conn:  # committed rows only: what this process keeps must never be rolled back
        row = conn.execute(select(YearRow.source).where(YearRow.year == year)).first()
        if row is None:
            return None
        days = conn.execute(select(CalendarDay.day, CalendarDay.kind, CalendarDay.name)
                            .where(CalendarDay.year == year)).all()
    return CalendarYear(year=year, source=row.source,
                        holidays=MappingProxyType({d.day: d.name or "" for d in days if d.kind == "holiday"}),
                        workdays=frozenset(d.day for d in days if d.kind == "workday"))


def loaded_year(year: int) -> CalendarYear | None:
    """The loaded calendar of `year` in the app's database, or None (also outside an app context)."""
    if not available():
        return None
    key = (settings().database_url, year)
    if key in _cache:
        return _cache[key]
    found = _read_year(year)
    first, last = library_years()
    if found is not None or first <= year <= last:  # a library year cannot be loaded later: its absence is final
        with _cache_lock:
            _cache[key] = found
    return found


def forget_loaded_years() -> None:
    """Drop what this process keeps (tests that delete the years they loaded)."""
    with _cache_lock:
        _cache.clear()


def install() -> None:
    """Give the engine (workflows/clock.py) the loaded years; called by the app factory."""
    engine_clock.set_calendar_lookup(loaded_year)


def is_workday(day: date) -> bool:
    try:
        return engine_clock.is_chinese_workday(day)
    except CalendarMissing:
        first, last = covered_years()
        raise Invalid(f"the working-day calendar ({LIBRARY} and loaded years) covers {first}–{last}, not "
                      f"{day.year}: load the State Council's arrangement for {day.year} (flask load, key calendar)",
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
    loaded = loaded_year(day.year)
    if loaded is not None:
        return loaded.holidays.get(day)
    import chinese_calendar

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
    first, last = library_years()
    rows = db.session.execute(select(YearRow).order_by(YearRow.year)).scalars().all()
    counts: dict[tuple[int, str], int] = {}
    for y, kind in db.session.execute(select(CalendarDay.year, CalendarDay.kind)):
        counts[(y, kind)] = counts.get((y, kind), 0) + 1
    loaded = [{"year": r.year, "source": r.source, "holidays": counts.get((r.year, "holiday"), 0),
               "workdays": counts.get((r.year, "workday"), 0), "loaded_at": r.loaded_at.isoformat()} for r in rows]
    covered_first, covered_last = covered_years()
    return {"library": LIBRARY, "version": ver, "years": {"first": first, "last": last},
            "covered": {"first": covered_first, "last": covered_last},
            "loaded_years": loaded,
            "timezone": "Asia/Shanghai",
            "source": "国务院办公厅 yearly holiday arrangements (节假日安排), including make-up working days (调休)"}
