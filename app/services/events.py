"""The append-only, hash-chained case history.

hash = SHA-256(prev_hash || canonical JSON of the event). Canonical JSON: keys sorted, no spaces, UTF-8, times as
ISO-8601 UTC with microseconds. The procedure to verify offline is in docs/ARCHITECTURE.md.
"""
import hashlib
import json

from sqlalchemy import insert, select

from app.extensions import db
from app.models import Case, CaseEvent

GENESIS = "0" * 64
_INSERT = insert(CaseEvent.__table__)


def canonical(fields: dict) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def event_fields(case_id, seq, at, actor_id, action, task_uuid, element, data, process_version_id, state_hash):
    return {
        "case_id": case_id, "seq": seq, "at": at.isoformat(timespec="microseconds"), "actor_id": actor_id,
        "action": action, "task_uuid": task_uuid, "element": element, "data": data,
        "process_version_id": process_version_id, "state_hash": state_hash,
    }


def chain_hash(prev_hash: str, fields: dict) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(fields)).hexdigest()


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def append(case, action: str, actor_id: int | None, at, *, task_uuid=None, element=None, data=None,
           state: str | None = None) -> dict:
    """Append one event to a case (an ORM Case or a CaseRecord): the case carries the chain head, so no query is
    needed; the caller writes the case row (ORM flush or `instances.commit_case`) in the same transaction."""
    seq = (case.event_seq or 0) + 1
    prev = case.last_hash or GENESIS
    sh = state_hash(state) if state is not None else None
    # round-trip through JSON so the stored data is exactly what was hashed
    data = json.loads(json.dumps(data, ensure_ascii=False, default=str)) if data is not None else None
    fields = event_fields(case.id, seq, at, actor_id, action, task_uuid, element, data, case.process_version_id, sh)
    h = chain_hash(prev, fields)
    ev = {"case_id": case.id, "seq": seq, "at": at, "actor_id": actor_id, "action": action, "task_uuid": task_uuid,
          "element": element, "data": data, "process_version_id": case.process_version_id, "state_hash": sh,
          "prev_hash": prev, "hash": h}
    db.session.execute(_INSERT, ev)  # parameters apart from the statement: compiled once, cached
    case.event_seq = seq
    case.last_hash = h
    return ev


def verify_case(case_id: int) -> tuple[bool, int | None, str | None]:
    """(ok, first broken seq, reason). Recomputes every hash of the case's chain."""
    prev = GENESIS
    expected_seq = 1
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))
    for ev in events:
        if ev.seq != expected_seq:
            return False, ev.seq, f"sequence gap: expected {expected_seq}"
        if ev.prev_hash != prev:
            return False, ev.seq, "prev_hash does not match the previous event"
        fields = event_fields(ev.case_id, ev.seq, ev.at, ev.actor_id, ev.action, ev.task_uuid, ev.element, ev.data,
                              ev.process_version_id, ev.state_hash)
        if chain_hash(prev, fields) != ev.hash:
            return False, ev.seq, "hash does not match the event's content"
        prev = ev.hash
        expected_seq += 1
    case = db.session.get(Case, case_id)
    if case is not None and case.event_seq and (case.event_seq != expected_seq - 1 or case.last_hash != prev):
        return False, expected_seq, "events are missing after the last stored one"
    return True, None, None


def to_json(ev: CaseEvent) -> dict:
    return {
        "seq": ev.seq, "at": ev.at.isoformat(), "actor_id": ev.actor_id, "action": ev.action,
        "task_uuid": ev.task_uuid, "element": ev.element, "data": ev.data,
        "process_version_id": ev.process_version_id, "state_hash": ev.state_hash, "prev_hash": ev.prev_hash,
        "hash": ev.hash,
    }
