"""Replay: the state of a case after any event, rebuilt by re-running the recorded events on the recorded process
version at the recorded instants, and checked against the digest recorded with every event on the way.

What each event re-runs is in its `replay` field (see `events.replay_info`):
    start    Instance.start(bundle, replay.data, at)
    complete the waiting human task of `element` completed with `data` at `at`
    advance  engine steps at `at` (a timer firing)
    message  the message `replay.name` with payload `data` and `replay.correlations` (at `replay.at` when given)
    rewind   the state after event `replay.to` again (an administrator's rewind; the events in between stay)
Events without an op (claims, uploads, the closing event) leave the instance as it was. A step whose recomputed
digest differs from the recorded one stops the replay there (`ReplayMismatch`, 409): an edited row, a process
version changed under the history, or an action the replay does not know. A wrong state is never shown.
"""
import copy
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.errors import NotFound, ServiceError
from app.extensions import db
from app.models import Case, CaseEvent, HumanTask, User
from app.services import events, processes, users, visibility
from app.services.scope import can_view_case, resolve_role
from workflows.errors import EngineError, TaskNotReady
from workflows.instance import Instance
from workflows.migration import migrate


class ReplayMismatch(ServiceError):
    status, code = 409, "replay_mismatch"


@dataclass
class Replayed:
    """The outcome of replaying events 1..N."""

    inst: Instance | None
    event: CaseEvent
    before: dict  # the case data after event N-1
    claims: dict = field(default_factory=dict)  # element -> user id holding the task
    verified: int = 0  # how many digests were checked on the way
    abandoned: dict = field(default_factory=dict)  # seq -> seq of the rewind that abandoned it


def history(case_id: int) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)))


def abandoned_steps(rows) -> dict[int, int]:
    """Events left behind by a rewind: seq -> the rewind event's seq. They stay in the chain as a side branch."""
    out: dict[int, int] = {}
    for ev in rows:
        if (ev.replay or {}).get("op") == "rewind":
            for s in range(int(ev.replay["to"]) + 1, ev.seq):
                out.setdefault(s, ev.seq)
    return out


def _fail(ev: CaseEvent, why: str):
    raise ReplayMismatch(f"replay stopped at event {ev.seq} ({ev.action}): {why}",
                         errors={"step": ev.seq, "action": ev.action, "reason": why})


def _pick_task(inst: Instance, ev: CaseEvent):
    """The replayed task the event completed: the only waiting task of its element, or, when several wait (parallel
    instances of one task), the one in the same position as the recorded task among the inbox rows created with it."""
    ready = [t for t in inst.human_tasks() if t.element == ev.element]
    if len(ready) == 1:
        return ready[0]
    if not ready:
        _fail(ev, f"the task {ev.element!r} is not waiting in the replayed state")
    ref = (ev.replay or {}).get("ref")
    if ref is None:
        row = db.session.scalar(select(HumanTask).where(HumanTask.task_uuid == ev.task_uuid))
        if row is not None:
            siblings = list(db.session.scalars(select(HumanTask.task_uuid).where(
                HumanTask.case_id == row.case_id, HumanTask.element == row.element,
                HumanTask.created_at == row.created_at).order_by(HumanTask.id)))
            ref = siblings.index(row.task_uuid)
    if ref is None or ref >= len(ready):
        _fail(ev, f"{len(ready)} tasks {ev.element!r} wait and the event does not say which one")
    return ready[ref]


def _engine_at(ev: CaseEvent):
    """The instant the engine ran the event at: its own, or the earlier one its op names (a held timely message and
    the migration of its case, services/messages.py)."""
    at = (ev.replay or {}).get("at")
    return datetime.fromisoformat(at) if at else ev.at


def _apply(inst: Instance | None, ev: CaseEvent, snapshots: dict[int, str]) -> Instance | None:
    op = (ev.replay or {}).get("op")
    info = processes.version_info(ev.process_version_id)
    if op == "migrate" and inst is not None:  # a case moved to another version: the same migration again
        try:
            return migrate(inst, info.bundle, _engine_at(ev))[0]
        except EngineError as exc:
            _fail(ev, f"the engine refused the recorded migration: {exc}")
    if inst is not None and inst.bundle is not info.bundle and op not in ("start", "rewind"):
        inst = Instance.load(inst.dump(), info.bundle)  # the case moved to another version with this event
    try:
        if op == "start":
            return Instance.start(info.bundle, copy.deepcopy(ev.replay.get("data") or {}), ev.at)
        if op == "rewind":
            to = int(ev.replay["to"])
            if to not in snapshots:
                _fail(ev, f"the rewind target {to} is not an earlier step")
            return Instance.load(snapshots[to], info.bundle)
        if inst is None:
            _fail(ev, "the history does not start with the creation of the case")
        if op == "complete":
            inst.complete(_pick_task(inst, ev).uuid, copy.deepcopy(ev.data or {}), ev.at)
        elif op == "advance":
            inst.fire_timers(ev.at)
        elif op == "deadline":  # an administrator's extension moved the deadline dates in the case data
            from app.services import deadlines

            deadlines.retime(inst, dict(ev.replay.get("set") or {}))
        elif op == "correct":  # an administrator's correction of a value (services/corrections.py)
            from app.services import corrections

            corrections.apply(inst, ev.replay["field"], copy.deepcopy(ev.replay.get("value")))
        elif op == "message":
            inst.send_message(ev.replay["name"], copy.deepcopy(ev.data), ev.replay.get("correlations") or {},
                              _engine_at(ev))
    except (EngineError, TaskNotReady) as exc:
        _fail(ev, f"the engine refused the recorded step: {exc}")
    return inst


def _track_claims(claims: dict, ev: CaseEvent) -> None:
    if ev.action == "task.claimed":
        claims[ev.element] = ev.actor_id
    elif ev.action == "task.reassigned":  # handed on (services/reassign.py)
        claims[ev.element] = (ev.data or {}).get("to")
    elif ev.action in ("task.released", "task.completed"):
        claims.pop(ev.element, None)
    elif (ev.replay or {}).get("op") == "rewind":
        claims.clear()


def run(rows: list[CaseEvent], at: int, check_all: bool = True) -> Replayed:
    """Replay events 1..at of a chain already checked up to `at`. With `check_all` every recorded digest on the
    way is compared; without, only those of the states shown (steps at-1 and at) and of rewind targets."""
    targets = {int(ev.replay["to"]) for ev in rows[:at] if (ev.replay or {}).get("op") == "rewind"}
    snapshots: dict[int, str] = {}
    claims: dict = {}
    inst: Instance | None = None
    before: dict = {}
    verified = 0
    for ev in rows[:at]:
        if ev.seq == at:
            before = inst.case_data() if inst is not None else {}
        inst = _apply(inst, ev, snapshots)
        _track_claims(claims, ev)
        state = None
        if ev.digest is not None and (check_all or ev.seq >= at - 1 or ev.seq in targets):
            if inst is None:
                _fail(ev, "the event records a state but no instance was replayed")
            state = inst.dump()
            if events.state_digest(state) != ev.digest:
                op = (ev.replay or {}).get("op")
                _fail(ev, "the replayed state differs from the state recorded with this event"
                      + ("" if op else f" (the action {ev.action!r} changed the instance in a way replay cannot"
                                       " re-run)"))
            verified += 1
        if ev.seq in targets and inst is not None:
            snapshots[ev.seq] = state or inst.dump()
    return Replayed(inst=inst, event=rows[at - 1], before=before, claims=claims, verified=verified,
                    abandoned=abandoned_steps(rows))


def replay_case(case: Case, at: int | None, check_all: bool = False,
                rows: list[CaseEvent] | None = None) -> tuple[Replayed, list[CaseEvent]]:
    """Check the chain up to `at` (default: the last event), then replay it. 404 beyond the history (with the last
    valid step), 409 where the chain or a recorded state disagrees. `rows`: the case's history when the caller has
    read it already (it is read once per request).

    The states shown (after `at` and `at`-1) are always checked against their recorded digests; `check_all` checks
    every step on the way too (`flask audit verify --replay` does). A mismatch is always reported at the first step
    that differs: the fast pass that finds one re-runs with every check."""
    rows = history(case.id) if rows is None else rows
    last = len(rows)
    if at is None:
        at = last
    if at < 1 or at > last:
        raise NotFound(f"the history of case {case.id} has events 1 to {last}", errors={"last": last})
    ok, bad, why = events.check_chain(rows, upto=at)
    if not ok:
        raise ReplayMismatch(f"replay stopped at event {bad}: the history was altered ({why})",
                             errors={"step": bad, "reason": why})
    if check_all:
        return run(rows, at), rows
    try:
        return run(rows, at, check_all=False), rows
    except ReplayMismatch:
        return run(rows, at), rows  # again, checking every step: names the first step that differs


def diff(before: dict, after: dict, prefix: str = "") -> dict:
    """{"added": {path: value}, "removed": {path: value}, "changed": {path: {"from", "to"}}}, nested objects as
    dotted paths."""
    out: dict = {"added": {}, "removed": {}, "changed": {}}
    for key in sorted(set(before) | set(after), key=str):
        path = f"{prefix}{key}"
        if key not in before:
            out["added"][path] = after[key]
        elif key not in after:
            out["removed"][path] = before[key]
        elif before[key] != after[key]:
            if isinstance(before[key], dict) and isinstance(after[key], dict):
                sub = diff(before[key], after[key], path + ".")
                for part in out:
                    out[part].update(sub[part])
            else:
                out["changed"][path] = {"from": before[key], "to": after[key]}
    return out


def state_json(case: Case, rep: Replayed) -> dict:
    inst, ev = rep.inst, rep.event
    data = inst.case_data() if inst is not None else {}
    names = users.usernames([ev.actor_id, *rep.claims.values()])
    event = events.to_json(ev)
    event["actor"] = names.get(ev.actor_id)
    event["abandoned_by"] = rep.abandoned.get(ev.seq)
    open_tasks = []
    for t in inst.human_tasks() if inst is not None else []:
        holder = rep.claims.get(t.element)
        open_tasks.append({"element": t.element, "title": t.title, "title_en": t.properties.get("title_en"),
                           "role": resolve_role(t.lane or "", case), "claimed_by": holder,
                           "claimed_by_name": names.get(holder)})
    return {
        "at": ev.seq, "event": event,
        "active_elements": inst.active_elements() if inst is not None else [],
        "open_tasks": open_tasks, "data": data, "diff": diff(rep.before, data),
        "completed": bool(inst and inst.completed), "end_event": inst.end_event() if inst is not None else None,
        "digest": ev.digest, "verified_digests": rep.verified,
    }


def replay(actor: User, case_id: int, at: int | None, check_all: bool = False) -> dict:
    """The state after event `at` as the API and the audit page show it. Outside the caller's scope: 404."""
    case = visible_case(actor, case_id)
    rep, _rows = replay_case(case, at, check_all)
    return visibility.redact_replay(visibility.for_case(actor, case), rep.event, state_json(case, rep))


def visible_case(actor: User, case_id: int) -> Case:
    """The case if the actor may see it (404 otherwise: another scope's case does not exist for it)."""
    case = db.session.get(Case, case_id)
    if case is None or not can_view_case(actor, case):
        raise NotFound("no such case")
    return case
