"""Auditor use cases: search events across cases, export a case's history, verify by replay, and an administrator's
rewind of a case to an earlier task (the abandoned events stay in the chain; the rewind is an event itself)."""
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from app.extensions import db
from app.models import Case, CaseEvent, User
from app.services import anchors, events, instances, processes, replay, steps, users
from app.services.clock import SHANGHAI
from app.services.scope import can_view_case

AUDIT_ROLES = ("auditor", "national_reviewer", "admin")
EXPORT_FORMAT = "tierflow-case-history/1"


def may_audit(user: User) -> bool:
    return user.role in AUDIT_ROLES


def require_auditor(user: User) -> None:
    if not may_audit(user):
        raise Forbidden("the audit pages are for auditors, national reviewers and administrators")


def _day(text: str | None, name: str, end: bool = False) -> datetime | None:
    """A date (Asia/Shanghai day) or an ISO-8601 instant from a search form."""
    if not text:
        return None
    try:
        if len(text) == 10:
            d = datetime.fromisoformat(text).date()
            return datetime.combine(d + timedelta(days=1) if end else d, time(0), tzinfo=SHANGHAI)
        at = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{name} is not a date", errors={name: "YYYY-MM-DD or an ISO-8601 instant"}) from None
    return at if at.tzinfo else at.replace(tzinfo=SHANGHAI)


def search(actor: User, *, username: str | None = None, action: str | None = None, tier: str | None = None,
           province: str | None = None, case_id: int | None = None, since: str | None = None,
           until: str | None = None, page: int = 1, per_page: int = 50):
    """Events across cases, newest first: ([(event, case tier, case province, actor name)], total)."""
    require_auditor(actor)
    q = (select(CaseEvent, Case.tier, Case.province_code, User.username)
         .join(Case, Case.id == CaseEvent.case_id).outerjoin(User, User.id == CaseEvent.actor_id))
    if username:
        q = q.where(User.username == username)
    if action:
        q = q.where(CaseEvent.action == action)
    if tier:
        q = q.where(Case.tier == tier)
    if province:
        q = q.where(Case.province_code == province)
    if case_id:
        q = q.where(CaseEvent.case_id == case_id)
    start, end = _day(since, "since"), _day(until, "until", end=True)
    if start:
        q = q.where(CaseEvent.at >= start)
    if end:
        q = q.where(CaseEvent.at < end)
    total = db.session.scalar(select(func.count()).select_from(q.subquery()))
    rows = db.session.execute(q.order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
                              .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return [tuple(r) for r in rows], total


def actions() -> list[str]:
    return list(db.session.scalars(select(CaseEvent.action).distinct().order_by(CaseEvent.action)))


def get_case(actor: User, case_id: int) -> Case:
    require_auditor(actor)
    return replay.visible_case(actor, case_id)


def case_page(actor: User, case_id: int, at: int | None) -> dict:
    """The auditor's page of one case: its history (read once), the replayed state after event `at` (default: the
    last) or why it cannot be shown (`failure`: 404 beyond the history, 409 where it no longer replays), the actors'
    names, the steps a rewind abandoned, and the case's process version."""
    case = get_case(actor, case_id)
    rows = replay.history(case.id)
    at = len(rows) if at is None else at
    state, failure, status = None, None, 200
    try:
        rep, _rows = replay.replay_case(case, at, rows=rows)
        state = replay.state_json(case, rep)
    except replay.ReplayMismatch as exc:
        failure, status = exc, 409
    except ServiceError as exc:
        if exc.status != 404:
            raise
        failure, status = exc, 404
    return {"case": case, "rows": rows, "at": at, "last": len(rows), "state": state, "failure": failure,
            "status": status, "names": users.usernames(e.actor_id for e in rows),
            "abandoned": replay.abandoned_steps(rows), "process": processes.version_info(case.process_version_id),
            "is_admin": actor.role == "admin"}


def export(actor: User, case_id: int) -> dict:
    """One case's history with every hash, verifiable offline (docs/ARCHITECTURE.md, "Audit and replay")."""
    case = get_case(actor, case_id)
    rows = replay.history(case.id)
    names = {u.id: u.username for u in db.session.scalars(
        select(User).where(User.id.in_({e.actor_id for e in rows if e.actor_id})))}
    abandoned = replay.abandoned_steps(rows)
    ok, seq, why = events.check_chain(rows)
    out_events = []
    for ev in rows:
        item = {"case_id": ev.case_id, **events.to_json(ev)}
        item["actor"] = names.get(ev.actor_id)
        if ev.seq in abandoned:
            item["abandoned_by"] = abandoned[ev.seq]
        out_events.append(item)
    heads = [{"line": a["_line"], "at": a.get("at"), "seq": a["heads"][str(case.id)][0],
              "hash": a["heads"][str(case.id)][1]} for a in anchors.read() if str(case.id) in (a.get("heads") or {})]
    return {
        "format": EXPORT_FORMAT,
        "case": {"id": case.id, "tier": case.tier, "status": case.status, "province": case.province_code,
                 "enterprise": case.enterprise.credit_code, "campaign": case.campaign.year,
                 "head": {"seq": case.event_seq, "hash": case.last_hash}},
        "chain": {"algorithm": "sha256", "genesis": events.GENESIS,
                  "hashed_fields": ["case_id", "seq", "at", "actor_id", "action", "task_uuid", "element", "data",
                                    "process_version_id", "state_hash", "digest (when not null)",
                                    "replay (when not null)"],
                  "verified": ok, "first_broken": seq, "reason": why},
        "anchors": heads,
        "events": out_events,
    }


def replay_all(case_id: int) -> tuple[bool, int | None, str | None]:
    """Replay a whole chain comparing the digest of every step: (ok, first differing step, reason)."""
    rows = replay.history(case_id)
    if not rows:
        return True, None, None
    try:
        replay.run(rows, len(rows), check_all=True)
    except replay.ReplayMismatch as exc:
        return False, exc.errors.get("step"), exc.errors.get("reason")
    return True, None, None


def rewind(actor: User, case_id: int, to: int, reason: str, now: datetime) -> dict:
    """Reset an open case to the moment before event `to` (a completed human task), so that task waits again.

    The new state is the replayed state after event `to`-1, checked against its recorded digest; the inbox and
    timers follow it; the events after `to`-1 stay in the chain (a side branch replay shows as abandoned) and the
    rewind is appended as `case.rewound` with the reason."""
    rec = instances.load(case_id)
    if rec is None or not can_view_case(actor, rec):
        raise NotFound("no such case")
    if actor.role != "admin":
        raise Forbidden("only an administrator rewinds a case")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("a rewind needs a reason", errors={"reason": "required"})
    if len(reason) > 500:
        raise Invalid("the reason is too long", errors={"reason": "at most 500 characters"})
    if rec.closed_at is not None:
        raise Conflict(f"case {case_id} is closed ({rec.status}); a closed case is not rewound")
    rows = replay.history(case_id)
    if not isinstance(to, int) or not 2 <= to <= len(rows):
        raise Invalid("to must name an event of the case", errors={"to": f"an event from 2 to {len(rows)}"})
    target = rows[to - 1]
    if target.action != "task.completed":
        raise Invalid("a case is rewound to a completed human task", errors={
            "to": f"event {to} is {target.action}, not task.completed"})
    ok, bad, why = events.check_chain(rows)
    if not ok:
        raise replay.ReplayMismatch(f"the history is altered at event {bad} ({why}); nothing was rewound",
                                    errors={"step": bad, "reason": why})
    state = replay.run(rows, to - 1)
    if state.inst is None or target.element not in {t.element for t in state.inst.human_tasks()}:
        raise Conflict(f"the task {target.element!r} was not waiting before event {to}")
    instances.save(rec, state.inst, now)
    events.append(rec, "case.rewound", actor.id, now, element=target.element,
                  data={"to": to, "reason": reason, "element": target.element},
                  state=rec.state, replay={"op": "rewind", "to": to - 1})
    steps.abandon_from(rec.id, to)  # the steps from event `to` on are an abandoned branch's history
    instances.commit_case(rec)
    return {"id": rec.id, "status": rec.status, "event": rec.event_seq, "task": target.element}



def diagram_xml(version_id: int) -> bytes:
    """The BPMN XML of a deployed version, for the diagram viewer."""
    from app.models import ProcessVersion

    row = db.session.get(ProcessVersion, version_id)
    if row is None:
        raise NotFound("no such process version")
    return row.bpmn_xml


def system_history(actor: User, page: int = 1, per_page: int = 100) -> dict:
    """The system chain (deployments, user and role changes), newest first, with whether it verifies: for auditors,
    national reviewers and administrators."""
    from app.models import SystemEvent
    from app.services import system_events

    if not may_audit(actor):
        raise Forbidden("the system history is for auditors, national reviewers and administrators")
    rows = db.session.scalars(select(SystemEvent).order_by(SystemEvent.seq.desc()).limit(per_page)
                              .offset((max(page, 1) - 1) * per_page))
    ok, seq, why = system_events.verify()
    return {"items": [system_events.to_json(e) for e in rows], "page": page, "verified": ok, "broken_at": seq,
            "reason": why}


def verify_all(case_id: int | None = None, with_replay: bool = False) -> dict:
    """`audit verify`: every hash chain (or one case's), optionally replayed, the anchor log, and (for all cases) the
    system chain. `broken` lists (case_id, seq, why); `problems` the anchor and system-chain disagreements."""
    from app.services import system_events

    ids = [case_id] if case_id else list(db.session.scalars(select(Case.id).order_by(Case.id)))
    broken = []
    for cid in ids:
        ok, seq, why = events.verify_case(cid)
        if ok and with_replay:
            ok, seq, why = replay_all(cid)
        if not ok:
            broken.append((cid, seq, why))
    problems = anchors.verify(case_id)
    if not case_id:  # the system chain: deployments, user and role changes
        ok, seq, why = system_events.verify()
        if not ok:
            problems.append(f"system chain: broken at event {seq}: {why}")
    return {"checked": len(ids), "broken": broken, "problems": problems, "anchors": len(anchors.read())}
