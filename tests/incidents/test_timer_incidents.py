"""A timer whose firing fails is retried with backoff and becomes an incident after N tries; the sweep never loops
on it and other timers still fire on time; after a fix and a migration the retry fires it (injectable clock)."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.jobs import scheduler
from app.models import Campaign, HumanTask, Incident, TimerRow
from app.services import case_migrations, events, incident_actions, instances, processes, timers
from app.uow import unit_of_work
from tests.conftest import user
from tests.timers.helpers import DATA, DATE_TIMER_DUE, T0, count_events, timer_case
from workflows.instance import Instance

KEY = "test_timers_script"
GOOD = (DATA / "timers.bpmn").read_bytes().replace(
    b'<bpmn:sequenceFlow id="f2" sourceRef="wait_until_date" targetRef="report" />',
    b'<bpmn:sequenceFlow id="f2" sourceRef="wait_until_date" targetRef="calc" />'
    b'<bpmn:scriptTask id="calc" name="Compute"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f2b</bpmn:outgoing>'
    b'<bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>'
    b'<bpmn:sequenceFlow id="f2b" sourceRef="calc" targetRef="report" />').replace(
    b'<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>',
    b'<bpmn:incoming>f2b</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>')
BROKEN = GOOD.replace(b"<bpmn:script>x = 1</bpmn:script>", b'<bpmn:script>x = 1 // (len("ab") - 2)</bpmn:script>')


def _case(xml: bytes) -> int:
    with unit_of_work():
        version = processes.deploy(KEY, xml, None, tier=None)
        info = processes.version_info(version.id)
        ent = user("acme").enterprise
        campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
        rec = instances.CaseRecord(
            id=None, enterprise_id=ent.id, campaign_id=campaign.id, tier="basic", status="new",
            province_code=ent.province_code, city_code=ent.city_code, soe_group_key=ent.soe_group_key,
            process_version_id=info.id, state="", revisions=0, lock_version=1, event_seq=0,
            last_hash=events.GENESIS, next_timer_at=None, created_by=None, created_at=T0, updated_at=T0,
            closed_at=None)
        instances.insert_case(rec)
        instances.save(rec, Instance.start(info.bundle, {}, T0), T0)
        events.append(rec, "case.created", None, T0, data={"test": True}, state=rec.state)
        instances.commit_case(rec)
    return rec.id


def _row(case_id) -> TimerRow:
    db.session.expire_all()
    return db.session.scalar(select(TimerRow).where(TimerRow.case_id == case_id))


def test_a_failing_timer_is_retried_with_backoff_then_held_by_an_incident_while_others_fire():
    assert BROKEN != GOOD and b"calc" in GOOD
    bad = _case(BROKEN)
    now = DATE_TIMER_DUE + timedelta(seconds=1)
    res = scheduler.sweep(now)
    assert [c for c, _m in res.errors] == [bad]
    row = _row(bad)
    assert (row.attempts, row.next_attempt_at, row.incident_id) == (1, now + timedelta(minutes=1), None)
    good = timer_case()  # another case's timer, due meanwhile: it fires while the bad one waits for its next try
    res = scheduler.sweep(now + timedelta(seconds=30))
    assert res.fired == [(good, ["wait_until_date"])] and res.errors == []
    t = now
    for attempt in range(2, timers.MAX_ATTEMPTS + 1):
        t = _row(bad).next_attempt_at
        assert scheduler.sweep(t - timedelta(seconds=1)).errors == []  # not before its time
        assert [c for c, _m in scheduler.sweep(t).errors] == [bad]
        assert _row(bad).attempts == attempt
    row = _row(bad)
    inc = db.session.get(Incident, row.incident_id)
    assert inc.kind == "timer" and inc.element == "wait_until_date" and inc.state == "open"
    assert "calc" in inc.message
    assert count_events(bad, "incident.opened") == 1 and count_events(bad, "timer.fired") == 0
    for later in (timedelta(hours=1), timedelta(days=3)):  # held: no sweep picks it up again
        assert scheduler.sweep(t + later).errors == []
    assert _row(bad).attempts == timers.MAX_ATTEMPTS
    # a fix, the case migrated to it, then the retry fires the timer
    with unit_of_work():
        fixed = processes.deploy(KEY, GOOD, None, tier=None).version
    with unit_of_work():
        case_migrations.migrate_case(user("admin"), bad, KEY, fixed, t)
    with unit_of_work():
        out = incident_actions.retry(user("admin"), inc.id, t + timedelta(days=3))
    assert out["resolution"] == "retried"
    # the migration restored the passed due time, so the engine fired it on the fixed version already, or the retry
    # did: either way the case waits at the report task and no timer row is held any more
    tasks = db.session.scalars(select(HumanTask.element).where(HumanTask.case_id == bad, HumanTask.state == "open"))
    assert list(tasks) == ["report"]
    assert all(r.incident_id is None for r in db.session.scalars(select(TimerRow).where(TimerRow.case_id == bad)))
    assert events.verify_case(bad)[0]
