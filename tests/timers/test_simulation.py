"""`flask simulate`: a campaign on the injectable clock with synthetic actors, through advanced certified lists with
their public notice and objections, and lighthouse cultivation and acceptance, in a throwaway database; the same
seed gives the same run, line for line.

The seeded run simulates campaign 2025 (its days fall in 2025, inside the years the working-day calendar ships,
so the advanced notice of 5 Chinese working days can be dated); campaign 2026's days fall in 2027 (see the last
test)."""
import re
import sqlite3
from calendar import monthrange
from datetime import datetime, time, timedelta, timezone

import pytest

from app.errors import ServiceError
from app.jobs import simulate as simulation
from app.services import workdays
from app.services.clock import SHANGHAI

N = 16  # every fourth factory applies for lighthouse: 4 applicants for Shandong's quota of 3
YEAR = 2025


def run(app, tmp_path, name, seed=5, n=N, year=YEAR):
    r = app.test_cli_runner().invoke(args=["simulate", "--campaign", str(year), "--enterprises", str(n), "--seed",
                                           str(seed), "--database", f"sqlite:///{tmp_path / name}"])
    assert r.exit_code == 0, r.output
    return [line for line in r.output.splitlines() if not line.startswith("INFO ")]  # alembic's log aside


@pytest.fixture(scope="module")
def seeded_db(app, tmp_path_factory):
    """One seeded run shared by the tests that read it (a run simulates about two and a half years): its lines and
    a read-only connection to the database it left."""
    path = tmp_path_factory.mktemp("sim") / "seeded.sqlite3"
    lines = run(app, path.parent, path.name)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    yield lines, con
    con.close()


@pytest.fixture(scope="module")
def seeded(seeded_db):
    return seeded_db[0]


def summary_of(lines) -> dict:
    """`summary: enterprises 16, ..., basic deadline none, ...` as {key: int or text}."""
    items = (item.rsplit(" ", 1) for item in lines[-1].removeprefix("summary: ").split(", "))
    return {k: int(v) if v.isdigit() else v for k, v in items}


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
    assert any("advanced certified list" in line for line in seeded)
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
    found = re.search(r"(\d+) of (\d+) case\(s\) ranked \(quota (\d+); amended (\d+) time", line)
    listed, waiting, quota, amended = map(int, found.groups())
    assert (listed, waiting, quota) == (3, 4, 3)  # Shandong: 22 excellent factories in 2024 -> 3 (DMN)
    assert amended == 1  # reordered once before it closed (16.3)
    started = {int(c) for c in re.findall(r"case (\d+): lighthouse started", "\n".join(seeded))}
    (left_out,) = started - set(lighthouse_cases(seeded))
    assert f"{line[:16]} case {left_out}: ended rejected" in seeded  # not recommended: rejected at once


def test_an_acceptance_rejected_by_the_experts_is_applied_for_again_and_passes(seeded):
    (retry,) = [cid for cid, fate in lighthouse_cases(seeded).items() if fate == "retry"]
    steps = of_case(seeded, retry)
    verdicts = [s.split(": ")[-1] for s in steps if s.startswith("national_acceptance done by miit-")]
    assert verdicts == ["reject", "approve"]  # the national body concludes on the committee's result
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


def months_after(start: datetime, months: int) -> datetime:
    """`months` calendar months after `start`, same time of day; a day the month lacks becomes its last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, monthrange(year, month)[1]))


def test_progress_reports_open_on_the_six_month_marks_with_guidance(seeded):
    (expired,) = [cid for cid, fate in lighthouse_cases(seeded).items() if fate == "expired"]
    lines = [x for x in seeded if f" case {expired}: " in x]
    (decided,) = [x for x in lines if "target_decision done by miit-1: approve" in x]
    start = stamp(decided).astimezone(timezone.utc)  # the two years and the progress reports start here
    until = start.replace(year=start.year + 2)
    # every mark counted in calendar months from the start (6, 12, 18 months), not one interval repeated
    marks = [months_after(start, 6 * k) for k in range(1, 5) if months_after(start, 6 * k) < until]
    assert len(marks) == 3
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


def test_a_seed_already_simulated_in_the_database_is_refused(app, tmp_path):
    lines = run(app, tmp_path, "d.sqlite3", n=2)  # two Zhejiang factories, no lighthouse applicant
    assert not any("lighthouse recommendation list" in line for line in lines)  # no empty list is recorded
    with pytest.raises(ServiceError, match="already simulated"):
        simulation.run_fresh(f"sqlite:///{tmp_path / 'd.sqlite3'}", YEAR, 2, 5)


# -- advanced: certified lists, the public notice, objections ----------------------------------------------------------
def notices(lines) -> dict[int, datetime]:
    """case id -> the end of its public notice, from the line printed when its certified list was published."""
    return {int(c): datetime.strptime(until, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
            for c, until in re.findall(r"case (\d+): public notice until (\S+ \S+)", "\n".join(lines))}


def objected(lines) -> dict[int, str]:
    """case id -> what the reviewer is to decide on the objection lodged against it."""
    return {int(c): verdict for c, verdict in
            re.findall(r"case (\d+): objection \d+ lodged by sim5-\d+ \(planned: (\w+)\)", "\n".join(lines))}


def ended(lines, cid) -> list[str]:
    return [x for x in lines if f" case {cid}: ended " in x]


def test_an_advanced_case_is_certified_through_a_published_list_and_its_notice(seeded_db):
    lines, con = seeded_db
    summary = summary_of(lines)
    quiet = sorted(set(notices(lines)) - set(objected(lines)))
    assert quiet and summary["advanced certified"] >= len(quiet)
    for cid in quiet:
        (published,) = [x for x in lines if f" case {cid}: public notice until " in x]
        listing = next(x for x in reversed(lines[:lines.index(published)]) if "advanced certified list" in x)
        assert listing[:16] == published[:16]
        assert "published by zj-reviewer, reported to the national reviewers" in listing
        steps = of_case(lines, cid)
        before = steps[:steps.index(published[17:].removeprefix(f"case {cid}: "))]
        assert before[-1].endswith("done by zj-reviewer: approve")  # the certifier's decision, then the list
        # the notice runs out through the daily sweep: 24:00 of its fifth working day, i.e. 00:00 of the next day
        assert ended(lines, cid) == [f"{notices(lines)[cid]:%Y-%m-%d %H:%M} case {cid}: ended certified"]
        assert workdays.working_days_between(stamp(published).date(), notices(lines)[cid].date()
                                             - timedelta(days=1)) == 5
        list_id = int(re.search(r"advanced certified list (\d+):", listing).group(1))
        assert con.execute("SELECT l.kind, l.tier, l.scope FROM case_lists l JOIN case_list_entries e "
                           "ON e.list_id = l.id WHERE l.id = ? AND e.case_id = ?", (list_id, cid)).fetchall() \
            == [("certified", "advanced", "province:330000")]
        assert con.execute("SELECT tier, year, source FROM tier_records WHERE case_id = ?", (cid,)).fetchall() \
            == [("advanced", YEAR, "certified")]  # the tier history


def test_an_upheld_objection_ends_the_case_rejected_a_dismissed_one_lets_the_notice_run_out(seeded_db):
    lines, con = seeded_db
    plans = objected(lines)
    assert sorted(plans.values()) == ["dismissed", "upheld"]  # three listed cases: one of each, one left alone
    summary = summary_of(lines)
    assert (summary["objections lodged"], summary["objections upheld"], summary["objections dismissed"]) == (2, 1, 1)
    for cid, verdict in plans.items():
        case_lines = [x for x in lines if f" case {cid}: " in x]
        (lodged,) = [x for x in case_lines if " objection " in x and " lodged by " in x]
        (decided,) = [x for x in case_lines if x.endswith(": reject") or x.endswith(": approve")
                      if stamp(x) > stamp(lodged)]
        assert " done by miit-1: " in decided  # the national reviewer decides
        assert stamp(lodged) < notices(lines)[cid]  # lodged during the notice, which it holds:
        assert not [x for x in case_lines if stamp(lodged) <= stamp(x) < stamp(decided) and "ended" in x]
        (end,) = ended(lines, cid)
        lodger, owner = con.execute(
            "SELECT u.enterprise_id, c.enterprise_id FROM objections o JOIN users u ON u.id = o.lodged_by "
            "JOIN cases c ON c.id = o.case_id WHERE o.case_id = ?", (cid,)).fetchone()
        assert lodger is not None and lodger != owner  # another factory objects
        state = con.execute("SELECT state FROM objections WHERE case_id = ?", (cid,)).fetchall()
        history = con.execute("SELECT tier FROM tier_records WHERE case_id = ?", (cid,)).fetchall()
        if verdict == "upheld":
            assert decided.endswith(": reject") and end == f"{decided[:16]} case {cid}: ended rejected"
            assert state == [("upheld",)] and history == []
        else:  # the notice goes on; its end had passed while held, so it ends when dismissed (else at its end)
            assert decided.endswith(": approve") and end.endswith("ended certified")
            assert stamp(end) == max(stamp(decided), notices(lines)[cid])
            assert state == [("dismissed",)] and history == [("advanced",)]


def test_a_basic_draft_never_submitted_is_named_the_campaign_sets_no_basic_deadline(seeded_db):
    lines, con = seeded_db
    summary = summary_of(lines)
    assert con.execute("SELECT count(*) FROM campaign_deadlines d JOIN campaigns c ON c.id = d.campaign_id "
                       "WHERE c.year = ? AND d.tier = 'basic'", (YEAR,)).fetchone() == (0,)
    assert summary["basic deadline"] == "none"  # the notice dates excellent and lighthouse only
    drafts = [int(c) for c in re.findall(rf"case (\d+) basic draft \(never submitted; campaign {YEAR} sets no "
                                         r"basic application deadline, so nothing expires it\)", lines[-2])]
    assert drafts and "nothing left to do; still open: " in lines[-2]
    for cid in drafts:
        assert con.execute("SELECT status, closed_at FROM cases WHERE id = ?", (cid,)).fetchone() == ("draft", None)
        assert con.execute("SELECT count(*) FROM timers WHERE case_id = ?", (cid,)).fetchone() == (0,)
    # nothing left open by something the simulation does not do
    assert summary["open otherwise"] == 0 and summary["open approved with the list refused"] == 0
    assert summary["cases open at the end"] == summary["open drafts never submitted"] == len(drafts)


def test_a_list_the_working_day_calendar_cannot_date_is_named_not_hidden(app, tmp_path):
    """Campaign 2026's application deadline is 2027-07-16: its advanced lists are published in 2027. If the
    working-day calendar does not cover 2027 the list is refused, and its cases are named at the end with why."""
    lines = run(app, tmp_path, "e.sqlite3", year=2026)
    summary = summary_of(lines)
    assert summary["open otherwise"] == 0
    if workdays.covered_years()[1] >= 2027:
        assert summary["advanced certified"] > 0 and summary["open approved with the list refused"] == 0
        return
    refused = [x for x in lines if "advanced certified list of province:330000 refused" in x]
    assert refused and all("2027" in x for x in refused)
    named = re.findall(r"case (\d+) advanced approved \(its certified list was refused: [^)]*year 2027", lines[-2])
    assert named and len(named) == summary["open approved with the list refused"]
    assert summary["advanced listed"] == summary["advanced certified"] == 0


# -- issue 16: a late reviewer, a panel overridden with a reason, the committee acceptance ---------------------------
def test_a_province_late_past_the_cultivation_deadline_does_not_expire_the_factory(seeded):
    (late,) = [cid for cid, fate in lighthouse_cases(seeded).items() if fate == "accepted"
               and any("preliminary_deadline fired" in s for s in of_case(seeded, cid))]
    steps = of_case(seeded, late)
    fired = steps.index("preliminary_deadline fired")
    assert steps[fired + 1] == ("a reviewer is late past the deadline: overdue, not expired "
                                "(status acceptance_preliminary)")
    assert "preliminary_review overdue, escalated to national_reviewer" in steps
    done = next(i for i, s in enumerate(steps) if s.startswith("preliminary_review done by sd-reviewer"))
    assert done > fired and steps[-1] == "ended accepted"  # reviewed late, then the committee, then accepted
    summary = summary_of(seeded)
    assert summary["late reviews not expired"] == 1 and summary["overdue escalations"] >= 1


def test_an_expert_panel_rejecting_is_overridden_by_its_lead_only_with_a_recorded_reason(seeded_db):
    lines, con = seeded_db
    (line,) = [x for x in lines if "overridden to approve with a recorded reason" in x]
    cid = int(re.search(r"case (\d+): expert_review: panel mean", line).group(1))
    assert "0 of 3 approve, panel result reject" in line
    import json

    (data,) = [json.loads(d) for (d,) in con.execute(
        "SELECT data FROM case_events WHERE case_id = ? AND element = 'expert_review' AND action = 'task.completed'",
        (cid,))]
    assert data["panel_result"] == "reject" and data["decision"] == "approve" and len(data["override_reason"]) > 10
    assert summary_of(lines)["panel overrides"] == 1


def test_every_acceptance_is_a_committee_panel_concluded_by_the_national_body(seeded):
    summary = summary_of(seeded)
    assert summary["committee acceptances"] == 3  # the retry case twice, the late-reviewed case once
    for cid in lighthouse_cases(seeded):
        steps = of_case(seeded, cid)
        for i, s in enumerate(steps):
            if s.startswith("national_acceptance done by"):
                members = [x for x in steps[:i] if re.match(r"acceptance_review_[123] done by expert-", x)]
                assert len(members) >= 3
