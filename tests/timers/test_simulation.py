"""`flask simulate`: a campaign on the injectable clock with synthetic actors, through lighthouse cultivation and
acceptance, in a throwaway database; the same seed gives the same run, line for line."""
import re
from calendar import monthrange
from datetime import date, datetime, time, timedelta, timezone

import pytest

from app.services import simulation
from app.services.clock import SHANGHAI
from app.services.errors import ServiceError

N = 16  # every fourth factory applies for lighthouse: 4 applicants for Shandong's quota of 3


def run(app, tmp_path, name, seed=5, n=N):
    r = app.test_cli_runner().invoke(args=["simulate", "--campaign", "2026", "--enterprises", str(n), "--seed",
                                           str(seed), "--database", f"sqlite:///{tmp_path / name}"])
    assert r.exit_code == 0, r.output
    return [line for line in r.output.splitlines() if not line.startswith("INFO ")]  # alembic's log aside


@pytest.fixture(scope="module")
def seeded(app, tmp_path_factory):
    """One seeded run shared by the tests that read it (a run simulates about two and a half years)."""
    return run(app, tmp_path_factory.mktemp("sim"), "seeded.sqlite3")


def summary_of(lines) -> dict:
    return {k: int(v) for k, v in re.findall(r"(\w[\w ]*?) (\d+)", lines[-1].removeprefix("summary: "))}


def stamp(line) -> datetime:
    return datetime.strptime(line[:16], "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


def of_case(lines, cid) -> list[str]:
    return [line[17:].removeprefix(f"case {cid}: ") for line in lines if f" case {cid}: " in line]


def lighthouse_cases(lines) -> dict[int, str]:
    """case id -> its plan, from the line the national decision on targets prints."""
    return {int(c): fate for c, fate in re.findall(r"case (\d+): lighthouse cultivation \((\w+)\)", "\n".join(lines))}


def test_a_seeded_campaign_is_repeatable(app, tmp_path, seeded):
    assert seeded == run(app, tmp_path, "b.sqlite3")
    summary = summary_of(seeded)
    assert summary["enterprises"] == N and summary["cases"] == N and summary["tasks done"] > N
    assert any(" excellent started" in line for line in seeded)
    assert any(" lighthouse started" in line for line in seeded)
    assert any("excellent recommendation list" in line for line in seeded)
    stamps = [line[:16] for line in seeded[:-1]]
    assert stamps == sorted(stamps)  # what happened, when, in order
    assert seeded != run(app, tmp_path, "c.sqlite3", seed=6)


def test_the_run_lasts_until_every_lighthouse_case_has_ended_skipping_idle_days(seeded):
    first, last = stamp(seeded[0]), stamp(seeded[-2])
    assert last - first > timedelta(days=2 * 365)  # two cultivation years after the recommendation
    summary = summary_of(seeded)
    assert summary["days simulated"] < (last - first).days / 3  # idle days are jumped over
    assert "nothing left to do" in seeded[-2]  # ended by itself, not at the bound
    cultivated = lighthouse_cases(seeded)
    assert sorted(cultivated.values()) == ["accepted", "expired", "retry"]
    assert summary["lighthouse cultivated"] == 3
    ends = {cid: of_case(seeded, cid)[-1] for cid in cultivated}
    assert sorted(ends.values()) == ["ended accepted", "ended accepted", "ended expired"]


def test_the_lighthouse_list_keeps_within_the_quota(seeded):
    (line,) = [x for x in seeded if "lighthouse recommendation list" in x]
    listed, waiting, quota = map(int, re.search(r"(\d+) of (\d+) case\(s\) ranked \(quota (\d+)\)", line).groups())
    assert (listed, waiting, quota) == (3, 4, 3)  # Shandong: 22 excellent factories in 2024 -> 3 (DMN)
    started = {int(c) for c in re.findall(r"case (\d+): lighthouse started", "\n".join(seeded))}
    (left_out,) = started - set(lighthouse_cases(seeded))
    assert f"{line[:16]} case {left_out}: ended rejected" in seeded  # not recommended: rejected at once


def test_an_acceptance_rejected_by_the_experts_is_applied_for_again_and_passes(seeded):
    (retry,) = [cid for cid, fate in lighthouse_cases(seeded).items() if fate == "retry"]
    steps = of_case(seeded, retry)
    verdicts = [s.split(": ")[-1] for s in steps if s.startswith("national_acceptance done by expert-")]
    assert verdicts == ["reject", "approve"]
    applied = [i for i, s in enumerate(steps) if s.startswith("acceptance_application done by sim5-")]
    rejected = steps.index(next(s for s in steps if s.startswith("national_acceptance") and s.endswith("reject")))
    assert len(applied) == 2 and applied[0] < rejected < applied[1]  # within the period, without a new case
    assert steps[-2:] == ["wait_public_notice fired", "ended accepted"]  # after the seven-day public notice
    assert summary_of(seeded)["acceptance failures"] == 1 and summary_of(seeded)["lighthouse accepted"] == 2


def test_a_factory_that_never_applies_expires_at_the_cultivation_deadline(seeded):
    (expired,) = [cid for cid, fate in lighthouse_cases(seeded).items() if fate == "expired"]
    lines = [x for x in seeded if f" case {expired}: " in x]
    (until,) = [x for x in lines if "lighthouse cultivation (expired) until" in x]
    deadline = datetime.strptime(until[-16:], "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    assert deadline.date() == stamp(until).date().replace(year=stamp(until).year + 2)  # two years
    assert not any("acceptance_application done" in x for x in lines)
    sweep = datetime.combine(deadline.date() + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)  # the next sweep
    assert lines[-2:] == [f"{sweep:%Y-%m-%d %H:%M} case {expired}: cultivation_deadline fired",
                          f"{sweep:%Y-%m-%d %H:%M} case {expired}: ended expired"]
    assert summary_of(seeded)["lighthouse expired"] == 1


def six_months_from(start: datetime) -> timedelta:
    """P6M from `start` (UTC) in calendar months, as SpiffWorkflow counts it; `R4/P6M` repeats that length."""
    days, year, month = 0, start.year, start.month
    for _ in range(6):
        days += monthrange(year, month)[1]
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return timedelta(days=days)


def test_progress_reports_open_on_the_six_month_marks_with_guidance(seeded):
    (expired,) = [cid for cid, fate in lighthouse_cases(seeded).items() if fate == "expired"]
    lines = [x for x in seeded if f" case {expired}: " in x]
    (decided,) = [x for x in lines if "target_decision done by miit-1: approve" in x]
    start = stamp(decided).astimezone(timezone.utc)  # the two years and the progress timer start here
    period, until = six_months_from(start), start.replace(year=start.year + 2)
    marks = [start + k * period for k in range(1, 5) if start + k * period < until]
    assert len(marks) >= 3
    fired = [stamp(x) for x in lines if x.endswith("progress_due fired")]
    # each mark is fired by the daily sweep that follows it (00:00:01 Asia/Shanghai of the next day)
    expected = [datetime.combine(m.astimezone(SHANGHAI).date() + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)
                for m in marks]
    assert fired == expected
    steps = of_case(seeded, expired)
    for when in fired:  # each report is written by the factory, then an expert's guidance follows
        after = [s for x, s in zip(lines, steps, strict=True) if stamp(x) > when]
        assert after[0].startswith("progress_report done by sim5-")
        assert after[1].startswith("guidance_note done by expert-")
    assert fired[0].date() == date(start.year + (start.month + 5) // 12, (start.month + 5) % 12 + 1,
                                   start.day) + timedelta(days=1)  # the first is six calendar months on


def test_a_seed_already_simulated_in_the_database_is_refused(app, tmp_path):
    lines = run(app, tmp_path, "d.sqlite3", n=2)  # two Zhejiang factories, no lighthouse applicant
    assert not any("lighthouse recommendation list" in line for line in lines)  # no empty list is recorded
    with pytest.raises(ServiceError, match="already simulated"):
        simulation.run_fresh(f"sqlite:///{tmp_path / 'd.sqlite3'}", 2026, 2, 5)
