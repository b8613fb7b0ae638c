"""Delivering a BPMN message to one case. Routing is ours, by case id; a diagram may also correlate the message
(bpmn:correlationProperty with a retrieval expression per message, edited in the properties panel): its keys are
computed from the payload in the sandbox and the engine refuses a message whose keys do not match the case's.

A delivery the engine refuses at run time (a script or condition after the catch event that fails) is an incident
of kind `message` (services/incidents.py), never a refusal of the sender:
- `deliver` raises `incidents.StepFailed`: the entry floor rolls the step back and records the incident in its own
  transaction (app/uow.py). An administrator's retry of a message incident takes this path: a second failure counts
  an attempt.
- `deliver_or_hold` is for senders whose own record must stay whatever one case does (a list published or frozen
  to many cases, an objection lodged): the engine step fails before anything of that case is written, so the
  incident is recorded in the same transaction, the case is held at its catch event (its timers too: they wait
  for the incident's resolution), and the others proceed."""
from datetime import datetime

from sqlalchemy import select, update

from app.errors import Conflict
from app.extensions import db
from app.models import Campaign, Incident, MessageWait, TimerRow
from app.services import events, heatmap, incidents, instances, processes
from app.services.instances import CaseRecord
from workflows.errors import EngineError, MessageNotCaught
from workflows.instance import Instance
from workflows.parsing import message_correlations


def deliver(rec: CaseRecord, name: str, payload: dict, actor_id: int | None, now: datetime,
            at: datetime | None = None) -> CaseRecord:
    """Advance the case with the message and write it back (the caller's unit of work commits). The engine
    refusing the step raises `incidents.StepFailed` before anything of the case is written. `at`: the instant the
    engine takes the message at when it counts from an earlier moment than `now` (a held objection's retry: it came
    during the notice period, whose timer must not win over it); recorded in the replay op."""
    info = processes.version_info(rec.process_version_id)
    inst = Instance.load(rec.state, info.bundle)
    catching = [el for el, n in inst.waiting_messages() if n == name]
    if not catching:
        raise Conflict(f"case {rec.id} is not waiting for {name!r} (status {rec.status})")
    try:  # keys the payload cannot give, or that do not match the case's: the sender's mistake (409)
        correlations = message_correlations(info.bundle, name, payload) or {"case": {"case_id": rec.id}}
    except EngineError as exc:
        raise Conflict(f"case {rec.id} refused {name!r}: {exc}") from None
    try:
        inst.send_message(name, payload, correlations, at or now)
    except MessageNotCaught as exc:
        raise Conflict(f"case {rec.id} refused {name!r}: {exc}") from None
    except EngineError as exc:  # a step after the catch event failed: the case is held (an incident)
        spec = info.bundle.all_task_specs()
        names = {getattr(ts, "bpmn_id", None): getattr(ts, "bpmn_name", None) for ts in spec}
        raise incidents.StepFailed(incidents.Failure(
            case_id=rec.id, kind="message", element=catching[0], element_name=names.get(catching[0]) or name,
            message=str(exc), data={"message": name, "payload": payload, **({"at": at.isoformat()} if at else {})},
            actor_id=actor_id, at=now)) from None
    waited = db.session.execute(select(MessageWait.element, MessageWait.since).where(
        MessageWait.case_id == rec.id, MessageWait.element.in_(catching))).all()
    instances.save(rec, inst, now)
    heatmap.note_fired(rec, [tuple(w) for w in waited], now)  # the heatmap's message catch events (issue 19)
    events.append(rec, "message.received", actor_id, now, element=name, data=payload, state=rec.state,
                  replay={"op": "message", "name": name, "correlations": correlations,
                          **({"at": at.isoformat()} if at else {})})
    if inst.completed:
        year = db.session.scalar(select(Campaign.year).where(Campaign.id == rec.campaign_id))
        instances.record_outcome(rec, actor_id, now, year)
    instances.commit_case(rec)
    return rec


def deliver_or_hold(rec: CaseRecord, name: str, payload: dict, actor_id: int | None, now: datetime,
                    timely: bool = False) -> bool:
    """Deliver, or hold this case with an incident in the same transaction (its retry delivers the same message);
    False when held. The sender's own rows and the other cases' deliveries are kept. `timely`: the message counts
    from `now` whenever it is delivered (an objection lodged in the notice period): the incident keeps the instant,
    the migration of the held case and the retry run the engine at it (case_migrations, incident_actions)."""
    try:
        deliver(rec, name, payload, actor_id, now)
    except incidents.StepFailed as failed:
        if timely:
            failed.failure.data["at"] = now.isoformat()
        inc = incidents.record(failed.failure)
        # held means held: the case's timers wait with it (no sweep claims a row with an incident), or a deadline
        # would move the case past the message it took in time (an objection lodged during the notice period, the
        # case certified when the period ends). The retry's save rewrites the rows, free again.
        hold_timers(rec.id, inc.id)
        return False
    return True


def hold_timers(case_id: int, incident_id: int) -> None:
    """Mark the case's timer rows with the incident: no sweep claims them until a save rewrites them."""
    db.session.execute(update(TimerRow).where(TimerRow.case_id == case_id).values(incident_id=incident_id))


def held_since(case_id: int) -> tuple[int, datetime] | None:
    """(incident id, instant) when the case's timers are held by a message incident whose message counts from an
    earlier instant (a timely objection): the migration runs the engine at that instant and keeps the hold."""
    row = db.session.execute(select(Incident.id, Incident.data).join(TimerRow, TimerRow.incident_id == Incident.id)
                             .where(TimerRow.case_id == case_id, Incident.kind == "message",
                                    Incident.state == "open").limit(1)).first()
    if row is None or not (row.data or {}).get("at"):
        return None
    return row.id, datetime.fromisoformat(row.data["at"])
