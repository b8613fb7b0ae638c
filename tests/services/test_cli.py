"""CLI commands: load (all or nothing), timers run --now, audit verify."""
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Case, CaseEvent, Enterprise, HumanTask, TimerRow, User
from app.services import cases, instances, processes
from app.uow import unit_of_work
from tests.conftest import allow_event_writes, user
from workflows.instance import Instance

DATA = Path(__file__).resolve().parents[1] / "engine" / "data"

GOOD = """
campaigns:
  - {year: 2030, application_deadline: 2030-07-18, recommendation_deadline: 2030-08-01}
soe_groups:
  - {key: cnnc, name: 中国核工业集团有限公司}
enterprises:
  - {credit_code: 91330100123456788G, name: 某某智能装备有限公司, province: "330000", city: "330100",
     soe_group: null, legal_person: true, industry: equipment,
     tiers: [{tier: basic, year: 2024}, {tier: advanced, year: 2024}]}
users:
  - {username: new-acme, password: "long-enough-1", role: enterprise, enterprise: 91330100123456788G}
  - {username: cnnc-rev, password: "long-enough-2", role: soe_reviewer, soe_group: cnnc}
"""


def write(tmp_path, body):
    p = tmp_path / "load.yaml"
    p.write_text(body, encoding="utf-8")
    return str(p)


def counts():
    return (db.session.scalar(select(func.count()).select_from(Enterprise)),
            db.session.scalar(select(func.count()).select_from(User)))


def cleanup():
    db.session.rollback()
    db.session.execute(text("DELETE FROM users WHERE username IN ('new-acme', 'cnnc-rev')"))
    db.session.execute(text("DELETE FROM tier_records WHERE enterprise_id IN "
                            "(SELECT id FROM enterprises WHERE credit_code = '91330100123456788G')"))
    db.session.execute(text("DELETE FROM enterprises WHERE credit_code = '91330100123456788G'"))
    db.session.execute(text("DELETE FROM soe_groups WHERE key = 'cnnc'"))
    db.session.execute(text("DELETE FROM campaign_deadlines WHERE campaign_id IN "
                            "(SELECT id FROM campaigns WHERE year = 2030)"))
    db.session.execute(text("DELETE FROM campaigns WHERE year = 2030"))
    db.session.commit()


def test_load_writes_everything(app, tmp_path):
    try:
        r = app.test_cli_runner().invoke(args=["load", write(tmp_path, GOOD)])
        assert r.exit_code == 0, r.output
        ent = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == "91330100123456788G"))
        assert [t.tier for t in ent.tiers] == ["basic", "advanced"]
        assert user("cnnc-rev").scope == "soe:cnnc"
        again = app.test_cli_runner().invoke(args=["load", write(tmp_path, GOOD)])  # idempotent
        assert again.exit_code == 0, again.output
    finally:
        cleanup()


def test_bad_credit_code_is_named_and_nothing_is_written(app, tmp_path):
    before = counts()
    body = GOOD.replace("91330100123456788G, name", "91330100123456789G, name")
    r = app.test_cli_runner().invoke(args=["load", write(tmp_path, body)])
    assert r.exit_code == 1
    assert "enterprises[0] (91330100123456789G)" in r.output and "check digit" in r.output
    db.session.rollback()
    assert counts() == before
    assert db.session.scalar(text("SELECT count(*) FROM soe_groups WHERE key = 'cnnc'")) == 0


def test_every_bad_row_is_named(app, tmp_path):
    body = GOOD + """  - {username: bad-role, password: "long-enough-3", role: emperor}
  - {username: short, password: "x", role: national_reviewer}
  - {username: lost, password: "long-enough-4", role: provincial_reviewer, province: "999999"}
"""
    r = app.test_cli_runner().invoke(args=["load", write(tmp_path, body)])
    assert r.exit_code == 1
    assert "users[2] (bad-role)" in r.output and "users[3] (short)" in r.output and "users[4] (lost)" in r.output
    db.session.rollback()
    assert user("new-acme") is None


def test_malformed_yaml_and_aliases_are_refused(app, tmp_path):
    r = app.test_cli_runner().invoke(args=["load", write(tmp_path, "campaigns: [ {year: 2030,")])
    assert r.exit_code == 1 and "malformed YAML" in r.output
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: [*b,*b]\n'
    r = app.test_cli_runner().invoke(args=["load", write(tmp_path, bomb)])
    assert r.exit_code == 1 and "aliases are not allowed" in r.output


def _timer_case():
    """A case running the timers test diagram (an intermediate date timer, then a task with a 30-day boundary)."""
    with unit_of_work():
        version = processes.deploy("test_timers", (DATA / "timers.bpmn").read_bytes(), None, tier=None)
        case = cases.create_case(user("acme"), "basic", 2026)
        info = processes.version_info(version.id)
        case.process_version_id = info.id
        now = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
        inst = Instance.start(info.bundle, {}, now)
        instances.save(case, inst, now)
    return case.id


def test_timers_run_now_fires_once(app):
    case_id = _timer_case()
    rows = list(db.session.scalars(select(TimerRow).where(TimerRow.case_id == case_id)))
    assert [(r.element, r.due_at) for r in rows] == [("wait_until_date", datetime(2026, 11, 30, 16, 0,
                                                                                   tzinfo=timezone.utc))]
    runner = app.test_cli_runner()
    early = runner.invoke(args=["timers", "run", "--now", "2026-11-30T15:59:00+00:00"])
    assert "0 timer(s) fired" in early.output
    r = runner.invoke(args=["timers", "run", "--now", "2026-12-01T00:00:01+08:00"])
    assert r.exit_code == 0 and f"case {case_id}: wait_until_date fired" in r.output
    again = runner.invoke(args=["timers", "run", "--now", "2026-12-01T00:00:02+08:00"])
    assert "0 timer(s) fired" in again.output
    db.session.expire_all()
    (task,) = cases.open_tasks(db.session.get(Case, case_id))
    assert task.element == "report"
    (boundary,) = db.session.scalars(select(TimerRow).where(TimerRow.case_id == case_id))
    assert boundary.element == "report_deadline"
    r = runner.invoke(args=["timers", "run", "--now", "2027-01-01T00:00:00+08:00"])
    assert "report_deadline fired" in r.output
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case.status == "expired" and cases.open_tasks(case) == []


def test_audit_verify_finds_tampering(app):
    case_id = cases.create_case(user("acme"), "basic", 2026).id
    db.session.commit()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify", str(case_id)])
    assert ok.exit_code == 0, ok.output
    allow_event_writes()  # the append-only trigger is lifted for this transaction: tampering as the owner of the db
    db.session.execute(text("UPDATE case_events SET action = 'case.forged' WHERE case_id = :c"), {"c": case_id})
    db.session.execute(text("DELETE FROM audit_maintenance"))
    db.session.commit()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1 and f"case {case_id}: broken at event 1" in bad.output
    assert db.session.scalar(select(CaseEvent.action).where(CaseEvent.case_id == case_id)) == "case.forged"


def test_demo_with_sample_cases_fills_every_inbox_once(app):
    """`flask demo --with-cases` (the run command): real cases through the services, verified chains, once."""
    r = app.test_cli_runner().invoke(args=["demo", "--with-cases"])
    assert r.exit_code == 0, r.output
    statuses = {c.enterprise.credit_code: (c.tier, c.status) for c in db.session.scalars(select(Case))}
    assert sorted(statuses.values()) == [("advanced", "joint_review"), ("advanced", "public_notice"),
                                         ("basic", "in_review"), ("excellent", "draft"),
                                         ("lighthouse", "recommender_review")]
    waiting = {t.scope for t in db.session.scalars(select(HumanTask).where(HumanTask.state == "open"))}
    assert {"province:330000", "province:370000"} <= waiting  # the Zhejiang and Shandong reviewers have work
    assert any(s.startswith("department:") or "ndrc" in s for s in waiting), waiting  # the joint review
    assert app.test_cli_runner().invoke(args=["audit", "verify", "--replay"]).exit_code == 0
    again = app.test_cli_runner().invoke(args=["demo", "--with-cases"])
    assert again.exit_code == 0 and "case " not in again.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == 5
