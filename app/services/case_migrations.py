"""Migration of running cases to another version of their process: a dry run that says for every running case
whether it can move and why not, then the move itself, one case per transaction (the caller's unit of work; the
bulk helper runs each case in the `transaction()` its caller gives), each recorded as a `case.migrated` event with
the versions before and after. Migrating back is the same operation with the old version as the target.

What survives: the inbox rows of tasks still waiting (SpiffWorkflow keeps a reset READY task's id) with their
draft, claim and due date; when a row must be recreated its draft, claim and due date are copied from the row it
replaces; the timer due times (`workflows.migration` puts them back after the engine restarted them). Deadlines
kept as absolute dates in case data (excellent/lighthouse) are data and do not move.

A case whose timers are held by a timely message's incident (an objection lodged during the notice period whose
delivery failed, services/messages.py) moves at that message's instant and stays held, so the fix of its diagram
never ends a period the objection interrupted; `replay.at` records the instant.

Replay: the `case.migrated` event carries no replay op, so replay re-runs history up to it on the old version and
compares the digest recorded with the event; a difference stops replay there with a message naming the event
(409 `replay_mismatch`), never a wrong state.
"""
from sqlalchemy import select, update

from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.models import Campaign, Case, HumanTask, ProcessVersion, User
from app.services import case_history, events, instances, messages, processes, versions
from workflows.errors import EngineError
from workflows.instance import Instance
from workflows.migration import migrate, plan

TASKS = HumanTask.__table__


def _target(key: str, number: int) -> ProcessVersion:
    return versions.get(key, number)


def _running(key: str, case_ids: list[int] | None = None) -> list[Case]:
    q = (select(Case).join(ProcessVersion, ProcessVersion.id == Case.process_version_id)
         .where(ProcessVersion.model_key == key, Case.closed_at.is_(None)).order_by(Case.id))
    if case_ids is not None:
        q = q.where(Case.id.in_(case_ids))
    return list(db.session.scalars(q))


def _case_plan(case_version: int, state: str, target: ProcessVersion) -> dict:
    if case_version == target.id:
        return {"ok": False, "reasons": ["the case is already on this version"], "waiting": [], "changed": []}
    inst = Instance.load(state, processes.version_info(case_version).bundle)
    return plan(inst, processes.version_info(target.id).bundle).to_json()


def dry_run(user: User, key: str, number: int) -> dict:
    """Every running case of `key`: its version and whether it can move to version `number` (and why not)."""
    versions.require_admin(user)
    target = _target(key, number)
    numbers = dict(db.session.execute(select(ProcessVersion.id, ProcessVersion.version)
                                      .where(ProcessVersion.model_key == key)).all())
    items = []
    for case in _running(key):
        try:
            p = _case_plan(case.process_version_id, case.state, target)
        except EngineError as exc:
            p = {"ok": False, "reasons": [str(exc)], "waiting": [], "changed": []}
        names = case_history.element_names(processes.version_info(case.process_version_id).bundle)
        items.append({"case_id": case.id, "status": case.status, "version": numbers.get(case.process_version_id),
                      **p, "waiting_names": [names.get(w, w) for w in p.get("waiting", [])]})
    return {"key": key, "target": number, "items": items,
            "movable": sum(1 for i in items if i["ok"]), "total": len(items)}


def migrate_case(user: User, case_id: int, key: str, number: int, now) -> dict:
    """Move one running case to version `number` of `key`, in the caller's transaction."""
    versions.require_admin(user)
    target = _target(key, number)
    rec = instances.load(case_id)
    if rec is None:
        raise NotFound(f"case {case_id} does not exist")
    source = db.session.get(ProcessVersion, rec.process_version_id)
    if source.model_key != key:
        raise Invalid(f"case {case_id} runs process {source.model_key!r}, not {key!r}",
                      errors={"case_id": "another process"})
    if rec.closed_at is not None:
        raise Conflict(f"case {case_id} has finished")
    if source.id == target.id:
        raise Invalid(f"case {case_id} is already on version {number}", errors={"case_id": "same version"})
    inst = Instance.load(rec.state, processes.version_info(source.id).bundle)
    before_rows = db.session.execute(select(TASKS.c.element, TASKS.c.draft, TASKS.c.claimed_by, TASKS.c.due_at)
                                     .where(TASKS.c.case_id == rec.id, TASKS.c.state == "open")
                                     .order_by(TASKS.c.id)).all()
    held = messages.held_since(rec.id)  # a timely message held: the engine moves at its instant, the hold stays
    try:
        moved, p = migrate(inst, processes.version_info(target.id).bundle, held[1] if held else now)
    except EngineError as exc:
        raise Invalid(f"case {case_id} cannot move to version {number}: {exc}",
                      errors={"case_id": case_id, "reasons": str(exc)}) from None
    rec.process_version_id = target.id
    instances.save(rec, moved, now)
    if held:
        messages.hold_timers(rec.id, held[0])
    _restore_rows(rec.id, before_rows, now)
    events.append(rec, "case.migrated", user.id, now, element=None,
                  data={"from": {"key": key, "version": source.version, "id": source.id},
                        "to": {"key": key, "version": target.version, "id": target.id},
                        "waiting": p.waiting, "changed": p.changed},
                  state=rec.state, replay={"op": "migrate", "to": target.id,
                                           **({"at": held[1].isoformat()} if held else {})})
    if moved.completed:  # a restored due time had passed: the case ends as the timer says
        year = db.session.scalar(select(Campaign.year).where(Campaign.id == rec.campaign_id))
        instances.record_outcome(rec, user.id, now, year)
    instances.commit_case(rec)
    db.session.execute(update(Case.__table__).where(Case.__table__.c.id == rec.id)
                       .values(process_version_id=target.id))
    return {"case_id": rec.id, "from": source.version, "to": target.version, "status": rec.status}


def _restore_rows(case_id: int, before, now) -> None:
    """Inbox rows the save had to recreate get the draft, claim and due date of the row they replace."""
    created = db.session.execute(select(TASKS.c.id, TASKS.c.element).where(
        TASKS.c.case_id == case_id, TASKS.c.state == "open", TASKS.c.created_at == now)).all()
    olds: dict[str, list] = {}
    for element, draft, claimed, due in before:
        olds.setdefault(element, []).append((draft, claimed, due))
    for row_id, element in created:
        if olds.get(element):
            draft, claimed, due = olds[element].pop(0)
            db.session.execute(update(TASKS).where(TASKS.c.id == row_id)
                               .values(draft=draft, claimed_by=claimed, due_at=due))


def migrate_bulk(user: User, key: str, number: int, case_ids: list[int], now, transaction) -> dict:
    """Each case in its own `transaction()` (the caller's unit of work, as `inbox.bulk_complete` takes it): one
    that cannot move is reported and the others still move."""
    versions.require_admin(user)
    _target(key, number)
    done, failed = [], []
    for case_id in case_ids:
        try:
            with transaction():
                done.append(migrate_case(user, int(case_id), key, number, now))
        except (Invalid, Conflict, NotFound) as exc:
            failed.append({"case_id": case_id, "message": exc.message})
    return {"key": key, "target": number, "migrated": done, "failed": failed}
