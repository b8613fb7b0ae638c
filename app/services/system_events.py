"""The system chain: deployments of diagrams and decision tables, user and role changes (hash-chained like case
events: hash = SHA-256(prev_hash || canonical JSON of the event); the first event's prev_hash is 64 zeros)."""
import hashlib
import json

from sqlalchemy import insert, select

from app.extensions import db
from app.models import SystemEvent
from app.services import clock
from app.services.events import GENESIS, canonical, hashed_instant

_INSERT = insert(SystemEvent.__table__)


def _fields(seq, at, actor_id, action, subject, data) -> dict:
    return {"seq": seq, "at": hashed_instant(at), "actor_id": actor_id, "action": action,
            "subject": subject, "data": data}


def append(actor_id: int | None, action: str, subject: str, data: dict | None = None, at=None) -> dict:
    """Append in the caller's transaction; a concurrent append takes the same seq and fails on its unique key (the
    unit of work answers 409), so the chain never forks."""
    at = at or clock.now()
    head = db.session.execute(select(SystemEvent.seq, SystemEvent.hash).order_by(SystemEvent.seq.desc())
                              .limit(1)).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    data = json.loads(json.dumps(data, ensure_ascii=False, default=str)) if data is not None else None
    h = hashlib.sha256(prev.encode() + canonical(_fields(seq, at, actor_id, action, subject, data))).hexdigest()
    row = {"seq": seq, "at": at, "actor_id": actor_id, "action": action, "subject": subject, "data": data,
           "prev_hash": prev, "hash": h}
    db.session.execute(_INSERT, row)
    return row


def verify() -> tuple[bool, int | None, str | None]:
    prev, expected = GENESIS, None
    for ev in db.session.scalars(select(SystemEvent).order_by(SystemEvent.seq)):
        if expected is not None and ev.seq != expected:
            return False, ev.seq, f"sequence gap: expected {expected}"
        if ev.prev_hash != prev:
            return False, ev.seq, "prev_hash does not match the previous event"
        if hashlib.sha256(prev.encode() + canonical(_fields(ev.seq, ev.at, ev.actor_id, ev.action, ev.subject,
                                                            ev.data))).hexdigest() != ev.hash:
            return False, ev.seq, "hash does not match the event's content"
        prev, expected = ev.hash, ev.seq + 1
    return True, None, None


def to_json(ev: SystemEvent) -> dict:
    return {"seq": ev.seq, "at": ev.at.isoformat(), "actor_id": ev.actor_id, "action": ev.action,
            "subject": ev.subject, "data": ev.data, "prev_hash": ev.prev_hash, "hash": ev.hash}
