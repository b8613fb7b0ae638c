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


_TYPED = ("string", "integer", "number")


def _correctable_prop(prop: dict) -> str | None:
    """The JSON type of a field the 更正 form offers (a text or a number a person typed: a phone number, a name, a
    figure), else None. A choice (a decision, a yes/no) is not offered: the process already went its way on it."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind not in _TYPED or "enum" in prop or "const" in prop or prop.get("readOnly") \
            or prop.get("format") == "attachment":
        return None
    return kind


def correctable(actor: User, case_id: int) -> list[dict]:
    """What the case page's 更正 form offers an administrator: each field of the latest completed round of each step
    of the open case that holds a typed text or number ({element, title, field, label, label_en, type, value});
    empty for anyone else or an ended case."""
    if actor.role != "admin":
        return []
    rec = instances.load(case_id)
    if rec is None or rec.closed_at is not None:
        return []
    info = processes.version_info(rec.process_version_id)
    latest: dict[str, object] = {}
    for step in steps.for_case(case_id):
        if not step.abandoned:
            latest[step.element] = step
    out = []
    for element, step in latest.items():
        form = info.forms.get(info.properties.get(element, {}).get("form") or "") or {}
        for name, prop in (form.get("properties") or {}).items():
            kind = _correctable_prop(prop)
            if kind is None or name not in (step.data or {}):
                continue
            out.append({"element": element, "title": step.title or element, "field": name,
                        "label": prop.get("title") or name, "label_en": prop.get("x-title-en") or prop.get("title"),
                        "type": kind, "value": step.data[name]})
    return out


def typed(actor: User, case_id: int, element: str, field: str, text: str):
    """A value typed in the browser as the field's JSON type (a number stays a number); Invalid naming the value
    when it is not one. Unknown fields are left to `correct`, which refuses them."""
    kinds = {(f["element"], f["field"]): f["type"] for f in correctable(actor, case_id)}
    kind = kinds.get((element, field))
    text = (text or "").strip() if isinstance(text, str) else ""
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        raise Invalid("the new value is not a number", errors={"value": "not a number"}) from None
    return text
