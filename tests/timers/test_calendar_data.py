"""Working-day calendar years as data (issue 7 item 4): a year chinesecalendar does not ship yet is loaded with
`flask load` (key `calendar`), used by the services and by the engine's `deadline_after_working_days`, shown by
GET /api/v1/calendar, and replayed the same. The demo loads an illustrative 2027 (fixed-date holidays only), so
campaign 2026's certified lists, published in 2027, are dated."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select, text

from app.errors import Invalid
from app.extensions import db
from app.models import SoeGroup, TierRecord
from app.models.calendar import CalendarDay, CalendarYear
from app.services import audit, loading, workdays
from tests.api.test_advanced import application, complete, my_task, status
from tests.timers.helpers import timer_rows
from workflows.clock import CalendarMissing, deadline_after_working_days, engine_clock, is_chinese_workday
from workflows.sandbox import restricted_engine

# 2028, as an operator would load it: New Year's Day on a Saturday, the Spring Festival week with a Sunday and a
# Saturday worked (调休). Dates of this test only, not the State Council's arrangement.
YEAR_2028 = """
calendar:
  - year: 2028
    source: "test: 国办发明电〔2027〕N号 (not a real notice)"
    holidays:
      - {date: 2028-01-01, name: 元旦}
      - {date: 2028-01-26, name: 春节}
      - {date: 2028-01-27, name: 春节}
      - {date: 2028-01-28, name: 春节}
      - {date: 2028-01-31, name: 春节}
      - {date: 2028-02-01, name: 春节}
    workdays: [2028-01-23, 2028-02-05]
"""


@pytest.fixture
def cleanup_loaded():
    """Years a test loads beyond the demo's 2027 are deleted afterwards (the demo's year is static data)."""
    yield
    db.session.rollback()
    db.session.execute(text("DELETE FROM calendar_days WHERE year > 2027"))
    db.session.execute(text("DELETE FROM calendar_years WHERE year > 2027"))
    db.session.execute(text("DELETE FROM soe_groups WHERE key = 'calendar-test'"))
    db.session.commit()
    workdays.forget_loaded_years()


def flask_load(app, tmp_path, body: str):
    path = tmp_path / "load.yaml"
    path.write_text(body, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["load", str(path)])


def loaded_rows() -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(CalendarYear)),
            db.session.scalar(select(func.count()).select_from(CalendarDay)))


def test_a_loaded_year_is_used_and_a_year_not_loaded_is_refused(app, tmp_path, cleanup_loaded):
    with pytest.raises(Invalid, match="covers 2004–2027, not 2028"):
        workdays.add_working_days(date(2028, 1, 20), 5)
    out = flask_load(app, tmp_path, YEAR_2028)
    assert out.exit_code == 0, out.output
    assert "calendar_years 1" in out.output
    # no restart: the year not found a moment ago is read now (another process loaded it)
    assert not workdays.is_workday(date(2028, 1, 26))  # a Wednesday off
    assert workdays.is_workday(date(2028, 1, 23))  # a Sunday worked (调休)
    assert workdays.is_workday(date(2028, 2, 5))  # a Saturday worked
    assert not workdays.is_workday(date(2028, 2, 6))  # an ordinary Sunday
    assert workdays.holiday_name(date(2028, 1, 27)) == "春节"
    assert workdays.holiday_name(date(2028, 1, 3)) is None
    # Thu 01-20 + 5 working days: Fri 21, Sun 23 (worked), Mon 24, Tue 25, (26–28 off, 29–30 weekend, 31–01 off),
    # Wed 02-02
    assert workdays.add_working_days(date(2028, 1, 20), 5) == date(2028, 2, 2)
    assert workdays.working_days_between(date(2028, 1, 20), date(2028, 2, 6)) == 8
    assert workdays.covered_years() == (2004, 2028)
    with pytest.raises(Invalid, match="covers 2004–2028, not 2029"):
        workdays.add_working_days(date(2028, 12, 29), 5)
    # the engine's builtin reads the same year (here called as a script calls it, under the engine clock)
    with engine_clock(datetime(2028, 1, 20, 4, 0, tzinfo=timezone.utc)):
        assert deadline_after_working_days(5) == "2028-02-03T00:00:00+08:00"
    # loading the same year again unchanged is accepted (`flask demo` runs again); a change is refused
    again = flask_load(app, tmp_path, YEAR_2028)
    assert again.exit_code == 0 and "calendar_years 0" in again.output
    before = loaded_rows()
    changed = flask_load(app, tmp_path, YEAR_2028.replace("2028-02-05", "2028-02-12"))
    assert changed.exit_code == 1
    assert "calendar[0] (2028): year 2028 is loaded already" in changed.output
    assert loaded_rows() == before
    assert workdays.is_workday(date(2028, 2, 5))


BAD = [
    ("  - {year: 2026, source: x, holidays: [{date: 2026-10-09, name: 测试}]}",
     "calendar[0] (2026): chinesecalendar covers 2004–2026; it stays the source for year 2026"),
    ("  - {year: 2028, source: x, holidays: [{date: 2029-01-01, name: 元旦}]}",
     "calendar[0] (2028): holidays[0] 2029-01-01 is outside year 2028"),
    ("  - {year: 2028, source: x, holidays: [{date: 2028-01-01, name: 元旦}], workdays: [2028-01-01]}",
     "calendar[0] (2028): workdays[0] 2028-01-01 is listed twice"),
    ("  - {year: 2028, source: x, holidays: [{date: 2028-10-02, name: 国庆节}, {date: 2028-10-02, name: 国庆节}]}",
     "calendar[0] (2028): holidays[1] 2028-10-02 is listed twice"),
    ("  - {year: 2028, source: x, workdays: [2028-03-01]}",
     "calendar[0] (2028): workdays[0] 2028-03-01 is a Wednesday: a make-up working day (调休) is a Saturday or Sunday"),
    ("  - {year: 2028, source: x, holidays: [{date: 2028-13-01, name: 元旦}]}",
     "malformed YAML: month must be in 1..12"),
    ("  - {year: 2028, source: x, holidays: [{date: '2028-02-30', name: 元旦}]}",
     "calendar[0] (2028): holidays[0] '2028-02-30' is not a date"),
    ("  - {year: 2028, holidays: []}", "calendar[0] (2028): needs a source"),
    ("  - {year: 2028, source: x, holidays: [{date: 2028-01-01}]}",
     "calendar[0] (2028): holidays[0] needs a date and a name"),
    ("  - {year: 2028, source: x}\n  - {year: 2028, source: x}", "calendar[1] (2028): year 2028 is listed twice"),
    ("  - {year: '2028', source: x}", "calendar[0]: needs an integer year"),
]


@pytest.mark.parametrize("rows, message", BAD)
def test_a_bad_row_is_named_and_nothing_is_written(app, tmp_path, cleanup_loaded, rows, message):
    before = loaded_rows()
    body = ("soe_groups:\n  - {key: calendar-test, name: 测试集团}\ncalendar:\n"
            "  - {year: 2029, source: \"test\", holidays: [{date: 2029-01-01, name: 元旦}]}\n"
            + rows.replace("calendar[0]", "calendar[1]") + "\n")
    out = flask_load(app, tmp_path, body)
    assert out.exit_code == 1
    expected = message.replace("calendar[1]", "calendar[2]").replace("calendar[0]", "calendar[1]")
    assert expected in out.output, out.output
    assert loaded_rows() == before  # the good year 2029 neither
    assert db.session.get(SoeGroup, "calendar-test") is None  # nor the rest of the file
    with pytest.raises(Invalid):
        workdays.is_workday(date(2029, 1, 2))


def test_the_service_refuses_the_same_rows(cleanup_loaded):
    with pytest.raises(loading.LoadError) as exc:
        loading.load("calendar: {year: 2028}")
    assert exc.value.errors["rows"] == ["calendar: a list of years ({year, source, holidays, workdays})"]
    db.session.rollback()


def test_the_demo_year_2027_is_illustrative_and_dates_a_notice_across_national_day():
    loaded = workdays.loaded_year(2027)
    assert loaded.source.startswith("illustrative: weekends and the fixed-date holidays only")
    assert dict(loaded.holidays) == {date(2027, 1, 1): "元旦", date(2027, 5, 1): "劳动节", date(2027, 10, 1): "国庆节",
                                     date(2027, 10, 2): "国庆节", date(2027, 10, 3): "国庆节"}
    assert loaded.workdays == frozenset()  # no invented make-up working days
    # service: Tue 09-28 + 5 working days = Wed 29, Thu 30, (Fri 10-01 off, 02–03 weekend), Mon 4, Tue 5, Wed 6
    assert workdays.add_working_days(date(2027, 9, 28), 5) == date(2027, 10, 6)
    assert not workdays.is_workday(date(2027, 1, 1)) and workdays.is_workday(date(2027, 1, 4))
    # the engine builtin, run by the sandbox as the advanced diagram runs it
    with engine_clock(datetime(2027, 9, 28, 2, 0, tzinfo=timezone.utc)):
        assert restricted_engine().environment.evaluate("deadline_after_working_days(5)", {}) \
            == "2027-10-07T00:00:00+08:00"
        # across the year end: Thu 2026-12-30 → Thu 31, (Fri 2027-01-01 off), Mon 4 … Thu 7
    with engine_clock(datetime(2026, 12, 30, 2, 0, tzinfo=timezone.utc)):
        assert deadline_after_working_days(5) == "2027-01-08T00:00:00+08:00"
    with pytest.raises(CalendarMissing, match="no working-day calendar for year 2029"):
        is_chinese_workday(date(2029, 1, 1))


def test_the_calendar_api_lists_the_library_and_each_loaded_year_with_its_source(api_client, api_headers, app,
                                                                                 tmp_path, cleanup_loaded):
    assert flask_load(app, tmp_path, YEAR_2028).exit_code == 0
    info = api_client.get("/api/v1/calendar", headers=api_headers("zj-reviewer")).get_json()
    assert info["library"] == "chinesecalendar" and info["years"] == {"first": 2004, "last": 2026}
    assert info["covered"] == {"first": 2004, "last": 2028}
    assert [(y["year"], y["holidays"], y["workdays"]) for y in info["loaded_years"]] == [(2027, 5, 0), (2028, 6, 2)]
    assert info["loaded_years"][0]["source"].startswith("illustrative:")
    assert info["loaded_years"][1]["source"] == "test: 国办发明电〔2027〕N号 (not a real notice)"


def test_a_certified_list_of_campaign_2026_is_published_in_2027_and_replays(app, client, auth_headers, clock):
    """The demo campaign 2026 publishes its lists in 2027: the notice is dated by the demo's 2027, the case is
    certified when it runs out, and its whole history replays with the same deadline."""
    clock.at = datetime(2027, 9, 20, 2, 0, tzinfo=timezone.utc)
    ent, soe = auth_headers("sinopec-ningbo"), auth_headers("sinopec-reviewer")
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()["id"]
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    complete(client, soe, my_task(client, soe, cid)["id"], {"decision": "approve"})
    clock.at = datetime(2027, 9, 28, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Shanghai
    ent, soe = auth_headers("sinopec-ningbo"), auth_headers("sinopec-reviewer")  # tokens of that day
    r = client.post("/api/v1/lists", json={"tier": "advanced", "campaign": 2026, "case_ids": [cid]}, headers=soe)
    assert r.status_code == 201, r.get_json()
    assert status(client, ent, cid) == "public_notice"
    # the notice ends at 24:00 on Wednesday 10-06 (Friday 10-01 is the demo's holiday; without it: 10-05)
    assert [e for e, _ in timer_rows(cid)] == ["wait_public_notice"]
    assert timer_rows(cid)[0][1].astimezone(timezone.utc) == datetime(2027, 10, 6, 16, 0, tzinfo=timezone.utc)
    runner = app.test_cli_runner()
    early = runner.invoke(args=["timers", "run", "--now", "2027-10-06T15:59:59+00:00"])  # 23:59:59 on Oct 6
    assert f"case {cid}:" not in early.output and status(client, ent, cid) == "public_notice"
    out = runner.invoke(args=["timers", "run", "--now", "2027-10-06T16:00:01+00:00"])
    assert f"case {cid}: wait_public_notice fired" in out.output
    assert status(client, ent, cid) == "certified"
    rec = db.session.scalar(select(TierRecord).where(TierRecord.case_id == cid))
    assert (rec.tier, rec.year, rec.source) == ("advanced", 2026, "certified")
    assert audit.replay_all(cid) == (True, None, None)
