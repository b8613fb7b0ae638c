"""The write path of a case, in SQLAlchemy Core: the hot path of every completion.

A case is read into a plain `CaseRecord`, the instance advances, and `save` writes inbox rows, timer rows and the
case row in as few statements as it can; the case UPDATE carries the version check (`WHERE lock_version = n`), so
a stale or concurrent write changes zero rows and is refused. The ORM is kept for everything else; a session that
mixes both must not hold an ORM Case for the same row (the write path never loads one).
"""
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import bindparam, delete, insert, select, update

from app.errors import Conflict
from app.extensions import db
from app.models import Case, HumanTask, MessageWait, TierRecord, TimerRow
from app.models.cases import FINAL_STATUSES
from app.services import events, experts
from app.services.scope import resolve_role, task_scope
from workflows.instance import Instance

TIER_SOURCE = {"basic": "self_assessment", "lighthouse": "accepted"}
CASES, TASKS, TIMERS, WAITS = Case.__table__, HumanTask.__table__, TimerRow.__table__, MessageWait.__table__


@dataclass
class CaseRecord:
    id: int | None
    enterprise_id: int
    campaign_id: int
    tier: str
    status: str
    province_code: str
    city_code: str | None
    soe_group_key: str | None
    process_version_id: int
    state: str
    revisions: int
    lock_version: int
    event_seq: int
    last_hash: str
    next_timer_at: datetime | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    message_wait: str | None = None  # the message catch events waiting, comma-joined (`_mirror_message_waits`)


_COLUMNS = [CASES.c[f.name] for f in fields(CaseRecord)]


_CASE_BY_ID = select(*_COLUMNS).where(CASES.c.id == bindparam("_id"))
_OPEN_TASKS = select(TASKS.c.task_uuid, TASKS.c.id).where(TASKS.c.case_id == bindparam("_case"),
                                                          TASKS.c.state == "open")
_INSERT_TASK = insert(TASKS)
# a task, its case and the case's open tasks in one statement (one row per open task; the completion's read)
_T, _O = TASKS.alias("t"), TASKS.alias("o")
_TASK_CASE_OPEN = (
    select(_T, *[c.label(f"c_{c.name}") for c in _COLUMNS], _O.c.task_uuid.label("o_uuid"), _O.c.id.label("o_id"))
    .select_from(_T.join(CASES, CASES.c.id == _T.c.case_id)
                 .outerjoin(_O, (_O.c.case_id == _T.c.case_id) & (_O.c.state == "open")))
    .where(_T.c.id == bindparam("_id")))


def execute(statement, params=None):
    """A Core statement on the session's connection. Pending ORM changes are flushed first, as `session.execute`
    would, but an INSERT/UPDATE skips the ORM's bulk-DML handling, which costs 3× the statement itself on SQLite
    (bench: ~60 µs against ~18 µs per UPDATE)."""
    session = db.session()
    session.flush()  # returns at once when nothing is pending
    return session.connection().execute(statement, params)


def load(case_id: int) -> CaseRecord | None:
    row = execute(_CASE_BY_ID, {"_id": case_id}).first()
    return CaseRecord(*row) if row else None


def load_task(task_id: int):
    """(task, case, {uuid: id of the case's open tasks}) or None: the write path's one read of a completion.

    The task is a plain namespace of its row's columns, the case a `CaseRecord`. The open tasks are read before
    the caller's first write; a write to the case by anyone else after this read fails `commit_case`'s version
    check, so they are what `save` would have read later in the same step."""
    rows = execute(_TASK_CASE_OPEN, {"_id": task_id}).all()
    if not rows:
        return None
    m = rows[0]._mapping
    task = SimpleNamespace(**{c.name: m[c.name] for c in _T.c})
    case = CaseRecord(*(m[f"c_{f.name}"] for f in fields(CaseRecord)))
    return task, case, {r.o_uuid: r.o_id for r in rows if r.o_id is not None}


def insert_case(rec: CaseRecord) -> None:
    values = {f.name: getattr(rec, f.name) for f in fields(CaseRecord) if f.name != "id"}
    rec.id = db.session.execute(insert(CASES).values(**values)).inserted_primary_key[0]


@lru_cache(maxsize=256)
def _parsed_duration(text: str):
    """A `due` property parsed once per process (a few distinct texts per diagram); None when it does not parse."""
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as T

    try:
        return T.parse_iso_duration(text)
    except Exception:
        return None


def duration(text: str | None) -> timedelta | None:
    """A task's `due` property (an ISO 8601 duration) as a timedelta from now; None when absent or unparsable."""
    if not text:
        return None
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as T

    parsed = _parsed_duration(text)
    if parsed is None:
        return None
    try:
        if "years" not in parsed and "months" not in parsed:
            return timedelta(**parsed)  # what the engine's function computes when no calendar month is involved
        # a copy: the engine's function pops from the dict it is given
        return T.get_timedelta_from_start(dict(parsed), datetime.now().astimezone())
    except Exception:
        return None


def inbox_row(rec: CaseRecord, info, task_uuid: str, role: str, scope: str, due: timedelta | None,
              now: datetime) -> dict:
    """The open inbox row (human_tasks) of a ready human task `info` of case `rec`; `due` is `duration(info.due)`."""
    return {
        "case_id": rec.id, "task_uuid": task_uuid, "element": info.element, "title": info.title,
        "title_en": info.properties.get("title_en"), "form": info.form, "role": role,
        "scope": scope, "state": "open", "tier": rec.tier, "province_code": rec.province_code,
        "city_code": rec.city_code,
        "due_at": (now + due) if due else None, "created_at": now, "claimed_by": None, "draft": None,
        "completed_at": None, "completed_by": None,
    }


def status_of(rec: CaseRecord, inst: Instance, open_props: list[dict]) -> str:
    if inst.completed:
        # end event id `end_<status>[_<detail>]`: end_certified, end_expired_application, end_rejected_quota
        end = inst.end_event() or ""
        return next((s for s in FINAL_STATUSES if end == f"end_{s}" or end.startswith(f"end_{s}_")), "closed")
    for props in open_props:
        if props.get("status"):
            status = props["status"]
            return "returned" if status == "draft" and rec.revisions else status
    # waiting for a message or a timer: a catch event with id `wait_<status>` names the status (wait_approved)
    for element in [el for el, _n in inst.waiting_messages()] + [el for el, _d in inst.waiting_timers()]:
        if element.startswith("wait_"):
            return element[5:]
    return "in_progress"


def save(rec: CaseRecord, inst: Instance, now: datetime, existing: dict[str, int] | None = None) -> None:
    """Mirror the instance's waiting human tasks and timers; the case row itself is written by `commit_case`.

    `existing`: the case's open inbox rows ({task uuid: row id}) when the caller has read them already in this
    step (`load_task`); else they are read here."""
    rec.state = inst.dump()
    rec.updated_at = now
    ready = inst.human_tasks()
    if existing is None:
        existing = dict(execute(_OPEN_TASKS, {"_case": rec.id}).all())
    ready_uuids = {t.uuid for t in ready}
    gone = [tid for uuid, tid in existing.items() if uuid not in ready_uuids]
    if gone:
        execute(update(TASKS).where(TASKS.c.id.in_(gone)).values(state="cancelled", completed_at=now))
    new_rows, drawn_now = [], []
    for info in ready:
        if info.uuid in existing:
            continue
        role = resolve_role(info.lane or "", rec)
        scope = task_scope(role, rec, info.properties)
        if role == "expert":
            drawn = experts.draw(rec, info.element, exclude=drawn_now)
            scope = f"expert:{drawn['expert']}" if drawn["expert"] else "expert:none"
            drawn_now.append(drawn["expert"])
            events.append(rec, "expert.drawn", None, now, element=info.element, data=drawn)
        new_rows.append(inbox_row(rec, info, info.uuid, role, scope, duration(info.due), now))
    if new_rows:
        # one row (the usual step) as a plain execute: the executemany path costs more than the row
        execute(_INSERT_TASK, new_rows[0] if len(new_rows) == 1 else new_rows)
    rec.status = status_of(rec, inst, [t.properties for t in ready])
    if inst.completed and rec.closed_at is None:
        rec.closed_at = now
    waiting = inst.waiting_timers()
    if waiting or rec.next_timer_at is not None:
        _mirror_timers(rec, waiting, now)
        rec.next_timer_at = min((due for _el, due in waiting), default=None)
    _mirror_message_waits(rec, inst, now)


_CASE_TIMERS = select(TIMERS.c.id, TIMERS.c.element, TIMERS.c.due_at, TIMERS.c.attempts, TIMERS.c.incident_id,
                      TIMERS.c.next_attempt_at).where(TIMERS.c.case_id == bindparam("_case"))


def _mirror_timers(rec: CaseRecord, waiting: list[tuple[str, datetime]], now: datetime) -> None:
    """The case's timer rows made equal to the waiting timers: a timer still waiting (same element, same due time)
    keeps its row and so its `started_at` (the heatmap times a firing from it); a new or re-armed one starts now.
    A kept row is freed as a rewritten one was: a case that stepped is no longer held by a failed firing or a
    held message (attempts, retry time and incident cleared)."""
    rows = execute(_CASE_TIMERS, {"_case": rec.id}).all() if rec.id is not None else []
    wanted = list(waiting)
    stale, freed = [], []
    for tid, el, due, attempts, incident_id, next_attempt in rows:
        if (el, due) in wanted:
            wanted.remove((el, due))
            if attempts or incident_id is not None or next_attempt is not None:
                freed.append(tid)
        else:
            stale.append(tid)
    if stale:
        execute(delete(TIMERS).where(TIMERS.c.id.in_(stale)))
    if freed:
        execute(update(TIMERS).where(TIMERS.c.id.in_(freed)).values(attempts=0, incident_id=None,
                                                                     next_attempt_at=None))
    if wanted:
        execute(insert(TIMERS), [{"case_id": rec.id, "element": el, "due_at": due, "started_at": now}
                                 for el, due in wanted])


def _mirror_message_waits(rec: CaseRecord, inst: Instance, now: datetime) -> None:
    """`message_waits` made equal to the message catch events waiting, written only when their set changed (the
    case row carries it): the heatmap counts a case waiting there, and times its message from `since`."""
    now_waiting = sorted({el for el, _name in inst.waiting_messages()})
    signature = ",".join(now_waiting) or None
    if signature == rec.message_wait:
        return
    before = set(rec.message_wait.split(",")) if rec.message_wait else set()
    gone = before - set(now_waiting)
    if gone:
        execute(delete(WAITS).where(WAITS.c.case_id == rec.id, WAITS.c.element.in_(sorted(gone))))
    new = [el for el in now_waiting if el not in before]
    if new:
        execute(insert(WAITS), [{"case_id": rec.id, "element": el, "since": now} for el in new])
    rec.message_wait = signature


_WRITTEN = ("state", "status", "revisions", "event_seq", "last_hash", "next_timer_at", "updated_at", "closed_at",
            "message_wait")
_UPDATE_CASE = (update(CASES).where(CASES.c.id == bindparam("_id"), CASES.c.lock_version == bindparam("_seen"))
                .values({**{c: bindparam(c) for c in _WRITTEN}, "lock_version": bindparam("_next")}))


def commit_case(rec: CaseRecord) -> None:
    """Write the case row if nobody else did since we read it; else refuse (409) and let the unit of work roll
    back everything this step wrote."""
    params = {c: getattr(rec, c) for c in _WRITTEN}
    params.update(_id=rec.id, _seen=rec.lock_version, _next=rec.lock_version + 1)
    res = execute(_UPDATE_CASE, params)
    if res.rowcount != 1:
        raise Conflict("the case was changed by someone else at the same time; reload and try again")
    rec.lock_version += 1


def record_outcome(rec: CaseRecord, actor_id: int | None, now: datetime, year: int) -> None:
    """When a case closes: the tier history for a certified tier, and the closing event."""
    if rec.status in ("certified", "accepted"):  # lighthouse: accepted after cultivation
        db.session.execute(insert(TierRecord.__table__).values(
            enterprise_id=rec.enterprise_id, tier=rec.tier, year=year,
            source=TIER_SOURCE.get(rec.tier, "certified"), case_id=rec.id))
    events.append(rec, "case.closed", actor_id, now, data={"status": rec.status}, state=rec.state)


def flush_orm() -> None:
    """Flush ORM changes (claim, release, uploads change a Case through the ORM and its version counter)."""
    from sqlalchemy.orm.exc import StaleDataError

    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict("the case was changed by someone else at the same time; reload and try again") from None


def mirror_waits_batch(after_id: int, limit: int) -> tuple[int, int | None]:
    """Write `message_waits` for up to `limit` running cases after `after_id` that have none recorded (cases saved
    before migration 0025 and waiting at a message catch event since): each wait counted from the case's last save.
    Returns (cases given rows, the last case id looked at; None when no case is left)."""
    from app.services import processes

    rows = execute(select(*_COLUMNS).where(CASES.c.id > after_id, CASES.c.closed_at.is_(None),
                                           CASES.c.message_wait.is_(None)).order_by(CASES.c.id).limit(limit)).all()
    written = 0
    for row in rows:
        rec = CaseRecord(*row)
        inst = Instance.load(rec.state, processes.version_info(rec.process_version_id).bundle)
        _mirror_message_waits(rec, inst, rec.updated_at)
        if rec.message_wait is not None:
            commit_case(rec)
            written += 1
    return written, (rows[-1].id if rows else None)
