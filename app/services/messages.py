"""Delivering a BPMN message to one case. Routing is ours, by case id; a diagram may also correlate the message
(bpmn:correlationProperty with a retrieval expression per message, edited in the properties panel): its keys are
computed from the payload in the sandbox and the engine refuses a message whose keys do not match the case's."""
from datetime import datetime

from sqlalchemy import select

from app.errors import Conflict
from app.extensions import db
from app.models import Campaign
from app.services import events, instances, processes
from app.services.instances import CaseRecord
from workflows.errors import EngineError
from workflows.instance import Instance
from workflows.parsing import message_correlations


def deliver(rec: CaseRecord, name: str, payload: dict, actor_id: int | None, now: datetime) -> CaseRecord:
    """Advance the case with the message and write it back (the caller's unit of work commits)."""
    info = processes.version_info(rec.process_version_id)
    inst = Instance.load(rec.state, info.bundle)
    if name not in {n for _el, n in inst.waiting_messages()}:
        raise Conflict(f"case {rec.id} is not waiting for {name!r} (status {rec.status})")
    try:
        correlations = message_correlations(info.bundle, name, payload) or {"case": {"case_id": rec.id}}
        inst.send_message(name, payload, correlations, now)
    except EngineError as exc:
        raise Conflict(f"case {rec.id} refused {name!r}: {exc}") from None
    instances.save(rec, inst, now)
    events.append(rec, "message.received", actor_id, now, element=name, data=payload, state=rec.state,
                  replay={"op": "message", "name": name, "correlations": correlations})
    if inst.completed:
        year = db.session.scalar(select(Campaign.year).where(Campaign.id == rec.campaign_id))
        instances.record_outcome(rec, actor_id, now, year)
    instances.commit_case(rec)
    return rec
