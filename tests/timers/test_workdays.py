"""Chinese working days across the 2025 National Day and Mid-Autumn holiday (10-01..10-08, with the make-up working
days Sunday 09-28 and Saturday 10-11), from the chinesecalendar library."""
from datetime import date

import pytest

from app.errors import Invalid
from app.services import workdays


def test_the_national_day_week_and_its_make_up_days():
    assert workdays.is_workday(date(2025, 9, 28))  # a Sunday worked (调休)
    assert not any(workdays.is_workday(date(2025, 10, d)) for d in range(1, 9))
    assert workdays.holiday_name(date(2025, 10, 6)) == "Mid-autumn Festival"
    assert workdays.is_workday(date(2025, 10, 11))  # a Saturday worked
    assert not workdays.is_workday(date(2025, 10, 12))


def test_adding_working_days_over_the_holiday():
    assert workdays.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # a 5-working-day provincial notice published on Friday 09-26: Sun 28, Mon 29, Tue 30, Thu 10-09, Fri 10-10
    assert workdays.add_working_days(date(2025, 9, 26), 5) == date(2025, 10, 10)
    assert workdays.add_working_days(date(2025, 9, 26), 6) == date(2025, 10, 11)  # the working Saturday
    assert workdays.add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 1)
    assert workdays.working_days_between(date(2025, 9, 30), date(2025, 10, 12)) == 3


def test_outside_the_calendar_is_refused():
    first, last = workdays.covered_years()
    assert first <= 2025 <= last
    with pytest.raises(Invalid, match="covers"):
        workdays.add_working_days(date(last, 12, 31), 5)


def test_the_calendar_in_use_is_shown(api_client, api_headers):
    assert api_client.get("/api/v1/calendar").status_code == 401
    r = api_client.get("/api/v1/calendar", headers=api_headers("zj-reviewer"))
    assert r.status_code == 200
    info = r.get_json()
    assert info["library"] == "chinesecalendar" and info["version"] == "1.11.0"
    assert info["years"]["first"] <= 2025 <= info["years"]["last"]
