"""The one source of an event row, of the digest's text and of an inbox row (events.event_row, events.digest_text,
instances.inbox_row, instances.duration), which events.append, instances.save and bulk onboarding all use."""
import hashlib
import json
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import CaseEvent, HumanTask
from app.services import cases, events, instances, processes
from app.services.scope import resolve_role, task_scope
from app.uow import unit_of_work
from tests.conftest import START, user
from workflows.instance import Instance


def _event_count(case_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))


def _acme_case():
    """acme and the basic case it opens (committed)."""
    acme = user("acme")
    with unit_of_work():
        case = cases.create_case(acme, "basic", 2026)
    return acme, case


def test_append_inserts_the_row_event_row_builds_and_advances_the_head(app):
    acme, case = _acme_case()
    case_id = case.id
    with unit_of_work():
        rec = instances.load(case_id)
        head = (rec.event_seq, rec.last_hash)
        built = events.event_row(rec, "task.completed", acme.id, START, data={"n": 1, "at": START}, state=rec.state)
        # built only: nothing written, the head where it was
        assert (rec.event_seq, rec.last_hash) == head and _event_count(case_id) == 1
        assert (built["seq"], built["prev_hash"]) == (head[0] + 1, head[1])
        assert built["data"] == {"n": 1, "at": str(START)}  # the JSON round trip: stored as hashed
        assert built["digest"] == events.state_digest(rec.state) and built["replay"] == {"op": "complete"}
        assert built["hash"] == events.chain_hash(head[1], events.fields_of(built))
        ev = events.append(rec, "task.completed", acme.id, START, data={"n": 1, "at": START}, state=rec.state)
        assert ev == built
        assert (rec.event_seq, rec.last_hash) == (built["seq"], built["hash"])
        instances.commit_case(rec)
    assert _event_count(case_id) == 2
    assert events.verify_case(case_id) == (True, None, None)
    # a digest the caller has already is taken as given
    rec = instances.load(case_id)
    assert events.event_row(rec, "x", None, START, state=rec.state, digest="d" * 64)["digest"] == "d" * 64
    assert events.event_row(rec, "x", None, START)["state_hash"] is None
    # plain values: the round trip skipped (the caller's dicts kept), the row and its hash the same
    data, replay = {"tier": "basic", "n": 2, "ok": True, "none": None}, {"op": "start", "data": {"case_id": 7}}
    plain = events.event_row(rec, "case.created", None, START, data=data, replay=replay, plain=True)
    assert plain["data"] is data and plain["replay"] is replay
    assert plain == events.event_row(rec, "case.created", None, START, data=data, replay=replay)


def test_the_digest_is_the_hash_of_the_digest_text(app):
    _acme, case = _acme_case()
    dct = json.loads(case.state)
    text = events.digest_text(dct)
    assert events.digest_of(json.loads(case.state)) == hashlib.sha256(text.encode()).hexdigest()
    assert not events._UUID.search(text) and '"#0"' in text  # task UUIDs replaced by tree positions
    assert not any(uuid in text for uuid in dct["tasks"])


def test_save_writes_the_inbox_row_inbox_row_builds(app):
    acme, case = _acme_case()
    rec = instances.load(case.id)
    inst = Instance.load(rec.state, processes.version_info(rec.process_version_id).bundle)
    (info,) = inst.human_tasks()
    role = resolve_role(info.lane or "", rec)
    row = instances.inbox_row(rec, info, info.uuid, role, task_scope(role, rec, info.properties),
                              instances.duration(info.due), case.created_at)
    (stored,) = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))
    assert {k: getattr(stored, k) for k in row} == row
    assert row["scope"] == f"enterprise:{acme.enterprise_id}" and row["task_uuid"] == info.uuid


def test_duration():
    assert instances.duration("P3D") == timedelta(days=3)
    assert instances.duration("PT36H") == timedelta(hours=36)
    assert instances.duration(None) is None and instances.duration("") is None
    assert instances.duration("three days") is None
