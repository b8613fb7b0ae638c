"""An administrator corrects a value on a case (issue 18 part 4): a form field of a completed step (a mistyped phone
number), with a reason. From now on the step's record (services/steps.py: the timeline, and the form when the step
comes back) holds the new value, and so does the process variable the field feeds when the step declares it among
its `outputs`; the history keeps the original: the completed step's event is untouched and a `case.corrected` event
records {element, field, from, to, reason}; replay re-applies it to the process variable (`{"op": "correct"}`)."""
from datetime import datetime

from jsonschema import Draft202012Validator
from sqlalchemy import select

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import CaseEvent, User
from app.services import clock, events, instances, processes, steps
from workflows.instance import Instance, parse_outputs


def apply(inst: Instance, field: str, value) -> int:
    """Set `field` wherever the instance's data holds it (the workflow's and every task's); returns how many."""
    n = 0
    for wf in [inst.wf, *inst.wf.subprocesses.values()]:
        if field in wf.data:
            wf.data[field] = value
            n += 1
        for t in wf.get_tasks():
            if field in t.data:
                t.data[field] = value
                n += 1
    return n


def correct(actor: User, case_id: int, element: str, field: str, value, reason, now: datetime | None = None) -> dict:
    if actor.role != "admin":
        raise Forbidden("only an administrator corrects a case")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise Invalid("give a reason", errors={"reason": "required"})
    rec = instances.load(case_id)
    if rec is None:
        raise NotFound("no such case")
    if rec.closed_at is not None:
        raise Conflict("the case has ended; its values are final")
    done = db.session.scalar(select(CaseEvent).where(
        CaseEvent.case_id == case_id, CaseEvent.action == "task.completed", CaseEvent.element == element)
        .order_by(CaseEvent.seq.desc()).limit(1))
    if done is None or not isinstance(done.data, dict) or field not in done.data:
        raise Invalid("no completed step of this case has that field", errors={"field": "not a completed value"})
    info = processes.version_info(rec.process_version_id)
    form = info.forms.get(info.properties.get(element, {}).get("form") or "") or {}
    prop = (form.get("properties") or {}).get(field)
    if prop is None:
        raise Invalid("the field is not on the step's form", errors={"field": "not on the form"})
    problems = [e.message for e in Draft202012Validator(prop).iter_errors(value)]
    if problems:
        raise Invalid("the new value does not fit the field", errors={"value": problems[0]})
    step = steps.latest(case_id, element)
    old = (step.data or {}).get(field) if step is not None else done.data.get(field)
    if old == value:
        raise Invalid("the value is unchanged", errors={"value": "unchanged"})
    pairs = parse_outputs(info.properties.get(element, {}).get("outputs"))
    variable = field if pairs is None else dict(pairs).get(field)  # the process variable the field feeds, if any
    now = now or clock.now()
    replay = None
    if variable:
        inst = Instance.load(rec.state, info.bundle)
        apply(inst, variable, value)
        instances.save(rec, inst, now)
        replay = {"op": "correct", "field": variable, "value": value}
    if step is not None:
        step.data = {**(step.data or {}), field: value}  # a new dict: the JSON column sees the change
    events.append(rec, "case.corrected", actor.id, now, element=element,
                  data={"field": field, "from": old, "to": value, "reason": reason[:500]}, state=rec.state,
                  replay=replay)
    instances.commit_case(rec)
    return {"case_id": case_id, "element": element, "field": field, "from": old, "to": value}
