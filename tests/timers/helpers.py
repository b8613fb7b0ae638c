"""Cases with timers for the scheduler tests."""
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import Campaign, Case, CaseEvent, TimerRow
from app.services import events, instances, processes
from app.uow import unit_of_work
from tests.conftest import user
from workflows.instance import Instance

DATA = Path(__file__).resolve().parents[1] / "engine" / "data"
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
DATE_TIMER_DUE = datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)  # "2026-12-01T00:00:00+08:00" in timers.bpmn


def timer_case(username="acme", start: datetime = T0, key: str = "test_timers", xml: bytes | None = None) -> int:
    """A case running tests/engine/data/timers.bpmn (an intermediate date timer, then a task with a P30D boundary)
    or the diagram `xml`, written straight through `instances` so that one enterprise may have many."""
    with unit_of_work():
        version = processes.deploy(key, xml or (DATA / "timers.bpmn").read_bytes(), None, tier=None)
        info = processes.version_info(version.id)
        ent = user(username).enterprise
        campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
        rec = instances.CaseRecord(
            id=None, enterprise_id=ent.id, campaign_id=campaign.id, tier="basic", status="new",
            province_code=ent.province_code, city_code=ent.city_code, soe_group_key=ent.soe_group_key,
            process_version_id=info.id, state="",
            revisions=0, lock_version=1, event_seq=0, last_hash=events.GENESIS, next_timer_at=None, created_by=None,
            created_at=start, updated_at=start, closed_at=None)
        instances.insert_case(rec)
        inst = Instance.start(info.bundle, {}, start)
        instances.save(rec, inst, start)
        events.append(rec, "case.created", None, start, data={"test": True}, state=rec.state)
        instances.commit_case(rec)
    return rec.id


def timer_rows(case_id) -> list[tuple[str, datetime]]:
    return [(r.element, r.due_at) for r in db.session.scalars(
        select(TimerRow).where(TimerRow.case_id == case_id).order_by(TimerRow.id))]


def count_events(case_id, action) -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id,
                                                                                CaseEvent.action == action))


def case_status(case_id) -> str:
    db.session.expire_all()
    return db.session.get(Case, case_id).status
