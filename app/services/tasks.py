"""Use cases on human tasks: inbox, read with form, claim/release, drafts, completion.

A completion is one transaction: the task row is taken with a conditional UPDATE (so two completions cannot both
win), the instance advances, and state, inbox rows and a chained event are written together; the case row's
version counter refuses a stale write.
"""
import hashlib
import json

from sqlalchemy import bindparam, func, select, update

from app.errors import Conflict, Ineligible, Invalid, NotFound
from app.extensions import db
from app.models import Attachment, Campaign, Case, Enterprise, HumanTask, User
from app.services import (
    clock,
    eligibility,
    events,
    form_rules,
    incidents,
    instances,
    operators,
    panels,
    processes,
    steps,
    timeline,
)
from app.services.scope import acting_clause, can_view_case, may_act, require_act
from app.settings import settings
from workflows.errors import EngineError, TaskNotReady
from workflows.instance import Instance


def inbox_query(actor: User, state: str = "open"):
    return select(HumanTask).where(acting_clause(actor), HumanTask.state == state)


def inbox(actor: User, page: int = 1, per_page: int = 50, tier: str | None = None):
    """The caller's tasks, due first. Reads only human_tasks (indexed on role, scope, state, due_at)."""
    q = inbox_query(actor)
    if tier:
        q = q.where(HumanTask.tier == tier)
    total = db.session.scalar(select(func.count()).select_from(q.subquery()))
    # plain (due_at, id): the inbox index serves the order, no sort of a province's whole queue (tasks with no due
    # date come first on SQLite and last on PostgreSQL, each database's natural NULL order)
    rows = db.session.scalars(q.order_by(HumanTask.due_at, HumanTask.id)
                              .limit(per_page).offset((max(page, 1) - 1) * per_page))
    return list(rows), total


def _load(actor: User, task_id: int) -> tuple[HumanTask, Case]:
    task = db.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("no such task")
    case = db.session.get(Case, task.case_id)
    if not _visible(actor, task, case):
        raise NotFound("no such task")  # another scope's task looks absent
    return task, case


def _visible(actor: User, task, case) -> bool:
    """A task exists for those who see its case, except that an enterprise sees whom its case waits for, never
    the reviewer's task itself (issue 15)."""
    if actor.role == "enterprise" and not may_act(actor, task):
        return False
    return can_view_case(actor, case)


def task_form(actor: User, task_id: int) -> dict:
    """The task, its case and its form (JSON Schema), without restoring the workflow instance: what a posted form
    needs to be read back (`get_task` adds the data). `may_act`: whether the actor may act on it."""
    task, case = _load(actor, task_id)
    info = processes.version_info(case.process_version_id)
    return {"task": task, "case": case, "form": info.forms.get(task.form) if task.form else None,
            "forms": info.forms, "may_act": may_act(actor, task)}


def schema_of(task: HumanTask) -> dict | None:
    """The JSON Schema of a task row's form (on its case's version), without restoring the instance."""
    if not task.form:
        return None
    version_id = db.session.scalar(select(Case.process_version_id).where(Case.id == task.case_id))
    return processes.version_info(version_id).forms.get(task.form)


def get_task(actor: User, task_id: int, with_timeline: bool = True) -> dict:
    """The task, its form, the data to prefill it with, and the case's timeline as the actor may see it.

    The form is prefilled from the same step's latest earlier round (a returned application comes back as it was
    sent), never from another step's fields; fields marked `"x-fresh": true` (a reviewer's decision and comment)
    are not prefilled at all. A saved draft wins."""
    view = task_form(actor, task_id)
    task, case, form = view["task"], view["case"], view["form"]
    fields = _form_fields(form)
    fresh = {k for k, p in fields.items() if p.get("x-fresh")}
    earlier = steps.latest(case.id, task.element)
    data = {k: v for k, v in ((earlier.data or {}) if earlier else {}).items() if k in fields and k not in fresh}
    if task.draft:
        data.update(task.draft)
    computed = [k for k, p in fields.items() if p.get("readOnly")]
    if computed and task.state == "open":  # what the process computed for this step (a panel's result), shown as is
        info = processes.version_info(case.process_version_id)
        own = Instance.load(case.state, info.bundle).task_data(task.task_uuid)
        data.update({k: own.get(k) for k in computed})
    return {**view, "data": data, "timeline": timeline.build(actor, case) if with_timeline else None}


def claim(actor: User, task_id: int) -> HumanTask:
    task, case = _load(actor, task_id)
    require_act(actor, task)
    res = db.session.execute(update(HumanTask).where(
        HumanTask.id == task_id, HumanTask.state == "open",
        (HumanTask.claimed_by.is_(None)) | (HumanTask.claimed_by == actor.id)).values(claimed_by=actor.id,
                                                                                         claimed_at=clock.now()))
    if res.rowcount != 1:
        raise Conflict("the task is held by someone else or no longer open")
    db.session.refresh(task)
    events.append(case, "task.claimed", actor.id, clock.now(), task_uuid=task.task_uuid, element=task.element)
    instances.flush_orm()
    return task


def release(actor: User, task_id: int) -> HumanTask:
    task, case = _load(actor, task_id)
    require_act(actor, task)
    res = db.session.execute(update(HumanTask).where(
        HumanTask.id == task_id, HumanTask.state == "open", HumanTask.claimed_by == actor.id
    ).values(claimed_by=None))
    if res.rowcount != 1:
        raise Conflict("you do not hold this task")
    db.session.refresh(task)
    events.append(case, "task.released", actor.id, clock.now(), task_uuid=task.task_uuid, element=task.element)
    instances.flush_orm()
    return task


def _form_fields(schema: dict | None) -> dict:
    return (schema or {}).get("properties", {})


def _clean(schema: dict | None, data) -> dict:
    if not isinstance(data, dict):
        raise Invalid("data must be an object", errors={"data": "must be an object"})
    fields = _form_fields(schema)
    return {k: v for k, v in data.items() if k in fields}  # undeclared keys never reach the process


def save_draft(actor: User, task_id: int, data) -> HumanTask:
    task, case = _load(actor, task_id)
    require_act(actor, task)
    if task.state != "open":
        raise Conflict("the task is no longer open")
    info = processes.version_info(case.process_version_id)
    task.draft = _clean(info.forms.get(task.form), data)
    return task


# validator keyword -> (message template, what fills %(limit)s); the browser translates the template
MESSAGES = {
    "required": ("required", None),
    "const": ("must be confirmed", None),
    "minimum": ("must be at least %(limit)s", "validator_value"),
    "maximum": ("must be at most %(limit)s", "validator_value"),
    "minLength": ("must have at least %(limit)s characters", "validator_value"),
    "maxLength": ("must have at most %(limit)s characters", "validator_value"),
    "maxItems": ("at most %(limit)s items", "validator_value"),
    "minItems": ("at least %(limit)s items", "validator_value"),  # a file field: at least %(limit)s file(s)
    "pattern": ("is not in the expected format", None),  # a known pattern names its format (form_rules)
    "enum": ("not one of the allowed values", None),
    "type": ("has the wrong type (expected %(limit)s)", "validator_value"),
}


def _validation_errors(validator, data: dict) -> tuple[dict, dict]:
    """({field: English message}, {field: (template, params)}), one per field, fields as dotted paths."""
    errors, details = {}, {}
    for err in validator.iter_errors(data):
        path = [str(p) for p in err.absolute_path]
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            path.append(missing)
        template, source = MESSAGES.get(err.validator, ("is not valid", None))
        params = {"limit": getattr(err, source)} if source else {}
        if err.validator == "pattern" and form_rules.pattern_hint(err.validator_value):
            template = form_rules.pattern_hint(err.validator_value)["error"]
        elif err.validator == "minItems" and err.schema.get("format") == "attachment":
            template = "attach at least %(limit)s file(s) (upload them first, then tick them)"
        field = ".".join(path) or "data"
        if field not in errors:
            errors[field] = template % params
            details[field] = (template, params)
    return errors, details


def _check_attachments(schema: dict, data: dict, case: Case) -> dict:
    errors = {}
    for name, prop in _form_fields(schema).items():
        if prop.get("format") != "attachment" or name not in data:
            continue
        ids = data[name] if isinstance(data[name], list) else [data[name]]
        if not ids:
            continue
        found = set(db.session.scalars(select(Attachment.id).where(Attachment.id.in_(ids),
                                                                    Attachment.case_id == case.id)))
        if found != set(ids):
            errors[name] = "not a file of this case"
    return errors


_TAKE_TASK = (update(HumanTask.__table__).where(HumanTask.id == bindparam("_id"), HumanTask.state == "open")
              .values(state="completed", completed_at=bindparam("_at"), completed_by=bindparam("_by")))


def _recheck_eligibility(case) -> None:
    """Eligibility is checked again at submission: the tier history may have changed since the case began."""
    ent = db.session.get(Enterprise, case.enterprise_id)
    camp = db.session.get(Campaign, case.campaign_id)
    unmet = eligibility.unmet_rules(ent, case.tier, camp)
    if unmet:
        raise Ineligible("the factory is no longer eligible: " + "; ".join(u["message"] for u in unmet),
                         errors={"rules": unmet})


def declared_hash(data: dict, schema: dict, case) -> str:
    """SHA-256 over the submitted form (canonical JSON) and the SHA-256 of every attached file, in field order:
    what the sealed paper copy must match."""
    files = {}
    for name, prop in _form_fields(schema).items():
        if prop.get("format") == "attachment" and data.get(name):
            ids = data[name] if isinstance(data[name], list) else [data[name]]
            rows = dict(db.session.execute(
                select(Attachment.id, Attachment.sha256).where(Attachment.id.in_(ids))).all())
            files[name] = [rows.get(i) for i in ids]
    body = {k: v for k, v in data.items() if k != "declared_hash"}
    return hashlib.sha256(json.dumps({"form": body, "files": files}, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode()).hexdigest()


def _check_rules(schema: dict, data: dict) -> dict:
    """Cross-field rules a JSON Schema cannot say (`x-rules` in the form): subset, minimum share, and equal (the
    maturity assessment report's level is the level claimed)."""
    errors = {}
    for rule in schema.get("x-rules", []):
        if rule["kind"] == "equal":
            if data.get(rule["part"]) != data.get(rule["whole"]):
                errors[rule["part"]] = rule["message"]
            continue
        part, whole = data.get(rule["part"]) or [], data.get(rule["whole"]) or []
        if rule["kind"] == "subset" and not set(part) <= set(whole):
            errors[rule["part"]] = rule["message"]
        elif rule["kind"] == "share" and whole and len(part) / len(whole) < rule["min"]:
            errors[rule["part"]] = rule["message"]
    return errors


def _load_for_write(actor: User, task_id: int):
    """The task row, its case and the case's open tasks as plain records (Core, one statement): no ORM objects
    on the hot path."""
    found = instances.load_task(task_id)
    if found is None or not _visible(actor, found[0], found[1]):
        raise NotFound("no such task")
    return found


def complete(actor: User, task_id: int, data) -> dict:
    """Complete a task; returns {"task": {...}, "case": {"id", "status"}}."""
    task, case, open_tasks = _load_for_write(actor, task_id)
    require_act(actor, task)
    if task.state != "open":
        raise Conflict("the task was already completed")
    if task.claimed_by not in (None, actor.id):
        raise Conflict("the task is claimed by someone else")
    info = processes.version_info(case.process_version_id)
    schema = info.forms.get(task.form) if task.form else None
    data = _clean(schema, data) if schema is not None else (data or {})
    if schema is not None:
        errors, details = _validation_errors(processes.form_validator(info, task.form), data)
        extra = _check_attachments(schema, data, case)
        extra.update(_check_rules(schema, data) if not errors else {})
        for field, msg in extra.items():
            errors[field], details[field] = msg, (msg, {})
        if errors:
            exc = Invalid("the form has errors", errors=errors)
            exc.details = details
            raise exc
    props = info.properties.get(task.element, {})
    if props.get("recheck_eligibility") == "true":
        _recheck_eligibility(case)
    if props.get("declare_hash") == "true":
        data["declared_hash"] = declared_hash(data, schema or {}, case)
    returning = data.get("decision") == "return"
    if returning and case.revisions >= settings().max_revisions:
        raise Invalid("this case was returned too often", errors={
            "decision": f"returned {case.revisions} times already; approve or reject"})
    now = clock.now()
    # the engine step first: its scripts may run up to the sandbox's time limit, and no write lock may be held
    # meanwhile (SQLite would stall every other writer); a step that loses the race below is simply discarded
    try:
        inst = Instance.load(case.state, info.bundle)
        if props.get("panel"):  # a panel's lead: an override of the computed result needs a reason (services/panels)
            panels.settle(props["panel"], inst.task_data(task.task_uuid), data)
        inst.complete(task.task_uuid, data, now)
    except TaskNotReady:
        raise Conflict("the task is not waiting any more") from None
    except EngineError as exc:  # the entry floor rolls the step back and opens an incident (services/incidents.py)
        raise incidents.StepFailed(incidents.Failure(
            case_id=case.id, kind="task", element=task.element, element_name=task.title, task_uuid=task.task_uuid,
            message=str(exc), data=data, actor_id=actor.id, at=now)) from None
    # the conditional update is the guard against two completions of one task
    res = instances.execute(_TAKE_TASK, {"_id": task_id, "_at": now, "_by": actor.id})
    if res.rowcount != 1:
        raise Conflict("the task was already completed")
    if returning:
        case.revisions += 1
    if props.get("resolves_objections") == "true":
        from app.services import objections

        objections.resolve_open(case.id, actor.id, data.get("decision"), data.get("resolution"), now)
    # the rows open before this step, less the one just taken (a loop back to it gets a new row)
    instances.save(case, inst, now, {u: i for u, i in open_tasks.items() if i != task_id})
    ev = events.append(case, "task.completed", actor.id, now, task_uuid=task.task_uuid, element=task.element,
                       data=data, state=case.state)
    steps.record(case.id, task, actor.id, data, ev["seq"], now)  # every field of the form, under its step
    operators.enqueue_pending(case, inst.wf, actor.id, now)  # service tasks of this step: after the commit
    if inst.completed:
        year = db.session.scalar(select(Campaign.year).where(Campaign.id == case.campaign_id))
        instances.record_outcome(case, actor.id, now, year)
    instances.commit_case(case)
    out = dict(vars(task))
    out.update(state="completed", completed_at=now, completed_by=actor.id)
    return {"task": out, "case": {"id": case.id, "status": case.status}}
