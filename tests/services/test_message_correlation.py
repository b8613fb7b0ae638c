"""Messages delivered by the services honour the diagram's correlation keys (issue 5): the keys are computed from
the payload in the sandbox, a second correlated message reaches the case whose key matches and is refused (409,
nothing written) for another, and the audit replay re-sends the same keys."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app.errors import Conflict
from app.extensions import db
from app.models import Campaign, CaseEvent, Enterprise
from app.services import audit, events, instances, messages, processes
from app.uow import unit_of_work
from tests.admin.test_correlation import diagram
from tests.conftest import user
from workflows.instance import Instance

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


def _case_on(version_id: int, owner: str) -> int:
    """A case of `owner` running the given (tier-less) process version, created the way create_case does."""
    ent = db.session.get(Enterprise, user(owner).enterprise_id)
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    info = processes.version_info(version_id)
    rec = instances.CaseRecord(
        id=None, enterprise_id=ent.id, campaign_id=campaign.id, tier="advanced", status="new",
        province_code=ent.province_code, city_code=ent.city_code, soe_group_key=None, process_version_id=info.id,
        state="", revisions=0, lock_version=1, event_seq=0, last_hash=events.GENESIS, next_timer_at=None,
        created_by=None, created_at=NOW, updated_at=NOW, closed_at=None)
    instances.insert_case(rec)
    inst = Instance.start(info.bundle, {}, NOW)
    instances.save(rec, inst, NOW)
    events.append(rec, "case.created", None, NOW, data={"tier": "advanced"}, state=rec.state)
    instances.commit_case(rec)
    return rec.id


def test_a_correlated_message_reaches_only_the_matching_case_and_replays():
    with unit_of_work():
        version = processes.deploy("corr_service", diagram(), None, message="correlated")
        a, b = _case_on(version.id, "acme"), _case_on(version.id, "ningbo-parts")
    with unit_of_work():
        messages.deliver(instances.load(a), "list_published", {"batch": "2026-1"}, None, NOW)
        messages.deliver(instances.load(b), "list_published", {"batch": "2026-2"}, None, NOW)
    objection = {"list_batch": "2026-1", "reason": "重复申报"}
    before = db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == b))
    with pytest.raises(Conflict), unit_of_work():
        messages.deliver(instances.load(b), "objection", objection, None, NOW)  # another batch's objection
    assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == b)) == before
    with unit_of_work():
        messages.deliver(instances.load(a), "objection", objection, None, NOW)  # the second correlated message
    done = instances.load(a)
    assert Instance.load(done.state, processes.version_info(version.id).bundle).completed
    last = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == a, CaseEvent.action == "message.received")
                             .order_by(CaseEvent.seq.desc()))
    assert last.replay["correlations"] == {"batch": {"batch_no": "2026-1"}}
    assert audit.replay_all(a) == (True, None, None)
    assert audit.replay_all(b) == (True, None, None)


def test_a_payload_without_the_correlated_value_is_refused_and_changes_nothing():
    with unit_of_work():
        version = processes.deploy("corr_service", diagram(), None, message="correlated")
        a = _case_on(version.id, "acme")
    before = instances.load(a)
    with pytest.raises(Conflict, match="cannot be computed"), unit_of_work():
        messages.deliver(instances.load(a), "list_published", {"no_batch": 1}, None, NOW)
    assert instances.load(a).state == before.state and instances.load(a).event_seq == before.event_seq
