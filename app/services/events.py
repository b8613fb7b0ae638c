"""The append-only, hash-chained case history.

hash = SHA-256(prev_hash || canonical JSON of the event). Canonical JSON: keys sorted, no spaces, UTF-8, times as
ISO-8601 UTC with microseconds. The procedure to verify offline is in docs/ARCHITECTURE.md ("The event chain").

Besides the raw `state_hash` (SHA-256 of the serialized instance, which holds random task UUIDs and wall-clock
times and so can never be reproduced), every event that carries a state records its `digest`: a hash over the
instance with UUIDs replaced by tree positions and the wall-clock fields left out, which a replay of the recorded
events reproduces exactly (`services/replay.py`). `replay` holds what re-running the event needs beyond the other
fields (the start data, a rewind's target step, a message's correlations). Both enter the hash when present, so
events written before they existed keep their hashes.
"""
import hashlib
import json
import re
from datetime import timezone

from sqlalchemy import insert, select

from app.extensions import db
from app.models import Case, CaseEvent

GENESIS = "0" * 64
_INSERT = insert(CaseEvent.__table__)
_UUID = re.compile(r'"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')  # a UUID as a JSON string
# instance fields that a replay cannot reproduce (wall-clock) or that only restate the tree's shape
_VOLATILE_TASK = ("id", "parent", "children", "last_state_change")
_STRUCTURE = ("tasks", "root", "subprocesses", "serializer_version")


def canonical(fields: dict) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def hashed_instant(at) -> str:
    """The instant as hashed: in UTC, as it is stored and read back (`UTCDateTime`), whatever zone the caller's
    clock gave it in (an operator's `timers run --now …+08:00`, the simulation's Shanghai days)."""
    if at.tzinfo is not None and at.utcoffset():
        at = at.astimezone(timezone.utc)
    return at.isoformat(timespec="microseconds")


def event_fields(case_id, seq, at, actor_id, action, task_uuid, element, data, process_version_id, state_hash,
                 digest=None, replay=None):
    fields = {
        "case_id": case_id, "seq": seq, "at": hashed_instant(at), "actor_id": actor_id,
        "action": action, "task_uuid": task_uuid, "element": element, "data": data,
        "process_version_id": process_version_id, "state_hash": state_hash,
    }
    if digest is not None:
        fields["digest"] = digest
    if replay is not None:
        fields["replay"] = replay
    return fields


def fields_of(ev) -> dict:
    """The hashed fields of a stored event (an ORM CaseEvent or a row mapping)."""
    g = ev.get if isinstance(ev, dict) else (lambda k: getattr(ev, k))
    return event_fields(g("case_id"), g("seq"), g("at"), g("actor_id"), g("action"), g("task_uuid"), g("element"),
                        g("data"), g("process_version_id"), g("state_hash"), g("digest"), g("replay"))


def chain_hash(prev_hash: str, fields: dict) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(fields)).hexdigest()


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _positions(dct: dict) -> dict[str, str]:
    """Every task UUID of the instance (subprocesses included) -> its position in a pre-order walk, which is the
    same in every run of the same steps (children follow the spec's order)."""
    subs = dct.get("subprocesses") or {}
    order: dict[str, str] = {}
    stack = [(dct["tasks"], dct["root"])]
    while stack:
        tasks, tid = stack.pop()
        if tid in order or tid not in tasks:
            continue
        order[tid] = f"#{len(order)}"
        if tid in subs:  # a call activity: its subprocess follows it
            stack.append((subs[tid]["tasks"], subs[tid]["root"]))
        stack.extend((tasks, c) for c in reversed(tasks[tid]["children"]))
    return order


def _flat(wf: dict, order: dict) -> dict:
    tasks = [[order.get(tid), t.get("parent") and order.get(t["parent"]),
              {k: v for k, v in t.items() if k not in _VOLATILE_TASK}] for tid, t in wf["tasks"].items()]
    tasks.sort(key=lambda row: int(row[0][1:]) if row[0] else -1)
    out = {k: v for k, v in wf.items() if k not in _STRUCTURE}
    out["tasks"] = tasks
    return out


def digest_text(dct: dict) -> str:
    """The text `digest_of` hashes: the instance as JSON with its task UUIDs replaced by tree positions and the
    volatile fields left out (bulk onboarding cuts it into a template)."""
    order = _positions(dct)
    doc = _flat(dct, order)
    doc["subprocesses"] = {order.get(k, "#?"): _flat(v, order) for k, v in (dct.get("subprocesses") or {}).items()}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return _UUID.sub(lambda m: '"' + order.get(m.group(1), "#?") + '"', text)


def digest_of(dct: dict) -> str:
    return hashlib.sha256(digest_text(dct).encode()).hexdigest()


_memo: tuple[str | None, str | None, dict | None] = (None, None, None)


def state_digest(state: str) -> str:
    """The reproducible digest of a serialized instance (the last one is remembered: a closing event repeats the
    state of the step before it)."""
    global _memo
    memo = _memo  # one read: another thread may replace the memo at any time
    if memo[0] is state:
        return memo[1]  # type: ignore[return-value]
    dct = json.loads(state)
    d = digest_of(dct)
    _memo = (state, d, dct)
    return d


def _start_data(state: str) -> dict:
    """The data an instance was started with: the root task's data right after the start."""
    memo = _memo
    dct = memo[2] if memo[0] is state else json.loads(state)
    return (dct or {})["tasks"][dct["root"]]["data"]


def replay_info(case, action: str, element, state: str | None) -> dict | None:
    """How to re-run an event of one of the engine actions the services write today (see services/replay.py)."""
    if state is None:
        return None
    if action == "case.created":
        return {"op": "start", "data": _start_data(state)}
    if action == "task.completed":
        return {"op": "complete"}
    if action == "timer.fired":
        return {"op": "advance"}
    if action == "message.received":
        return {"op": "message", "name": element, "correlations": {"case": {"case_id": case.id}}}
    return None


def event_row(case, action: str, actor_id: int | None, at, *, task_uuid=None, element=None, data=None,
              state: str | None = None, replay: dict | None = None, digest: str | None = None,
              plain: bool = False) -> dict:
    """The row `append` inserts as the case's next event, hash-chained from the case's head; nothing is executed
    and the case is left as it is (the caller inserts the row and advances the head to its `seq` and `hash`).

    `digest`: the state's reproducible digest when the caller has it already (bulk onboarding renders it with the
    state); else it is computed from `state`. `plain`: the caller vouches that `data` and `replay` hold JSON values
    only (string keys, str/int/float/bool/None leaves), so the JSON round trip would be the identity and is skipped
    (bulk onboarding: 20 µs a case)."""
    seq = (case.event_seq or 0) + 1
    prev = case.last_hash or GENESIS
    if state is not None:
        sh = state_hash(state)
        if digest is None:
            digest = state_digest(state)
    else:
        sh = None
    if replay is None:
        replay = replay_info(case, action, element, state)
    if not plain:
        # round-trip through JSON so the stored data is exactly what was hashed
        data = json.loads(json.dumps(data, ensure_ascii=False, default=str)) if data is not None else None
        replay = json.loads(json.dumps(replay, ensure_ascii=False, default=str)) if replay is not None else None
    fields = event_fields(case.id, seq, at, actor_id, action, task_uuid, element, data, case.process_version_id, sh,
                          digest, replay)
    return {"case_id": case.id, "seq": seq, "at": at, "actor_id": actor_id, "action": action,
            "task_uuid": task_uuid, "element": element, "data": data, "process_version_id": case.process_version_id,
            "state_hash": sh, "digest": digest, "replay": replay, "prev_hash": prev, "hash": chain_hash(prev, fields)}


def append(case, action: str, actor_id: int | None, at, *, task_uuid=None, element=None, data=None,
           state: str | None = None, replay: dict | None = None) -> dict:
    """Append one event to a case (an ORM Case or a CaseRecord): the case carries the chain head, so no query is
    needed; the caller writes the case row (ORM flush or `instances.commit_case`) in the same transaction.

    `state` is the serialized instance after the step, when the step touched the engine; `replay` says how to
    re-run the step when the action is not one `replay_info` knows. The row is `event_row`'s."""
    ev = event_row(case, action, actor_id, at, task_uuid=task_uuid, element=element, data=data, state=state,
                   replay=replay)
    # parameters apart from the statement: compiled once, cached; on the session's connection after a flush (what
    # session.execute would do) without the ORM's bulk-DML handling, 3x the statement's own cost (bench --profile)
    session = db.session()
    session.flush()
    session.connection().execute(_INSERT, ev)
    case.event_seq = ev["seq"]
    case.last_hash = ev["hash"]
    return ev


def check_chain(rows, upto: int | None = None) -> tuple[bool, int | None, str | None]:
    """(ok, first broken seq, reason) over events given in `seq` order."""
    prev = GENESIS
    expected_seq = 1
    for ev in rows:
        if upto is not None and expected_seq > upto:
            break
        if ev.seq != expected_seq:
            return False, min(ev.seq, expected_seq), f"sequence gap: expected {expected_seq}, found {ev.seq}"
        if ev.prev_hash != prev:
            return False, ev.seq, "prev_hash does not match the previous event"
        if chain_hash(prev, fields_of(ev)) != ev.hash:
            return False, ev.seq, "hash does not match the event's content"
        prev = ev.hash
        expected_seq += 1
    return True, None, None


def verify_case(case_id: int) -> tuple[bool, int | None, str | None]:
    """(ok, first broken seq, reason). Recomputes every hash of the case's chain."""
    rows = list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)))
    ok, seq, why = check_chain(rows)
    if not ok:
        return ok, seq, why
    last_seq, last_hash = (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS)
    case = db.session.get(Case, case_id)
    if case is not None and case.event_seq and (case.event_seq != last_seq or case.last_hash != last_hash):
        return False, last_seq + 1, "events are missing after the last stored one"
    return True, None, None


def to_json(ev: CaseEvent) -> dict:
    return {
        "seq": ev.seq, "at": ev.at.isoformat(timespec="microseconds"), "actor_id": ev.actor_id,
        "action": ev.action, "task_uuid": ev.task_uuid, "element": ev.element, "data": ev.data,
        "process_version_id": ev.process_version_id, "state_hash": ev.state_hash, "digest": ev.digest,
        "replay": ev.replay, "prev_hash": ev.prev_hash, "hash": ev.hash,
    }
