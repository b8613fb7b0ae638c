"""A case's history as the people within its scope read it (each event hidden or anonymised per kind by
`visibility`): the ordered, hash-chained events (the API) and the browser's case page (the events with who did them,
the files, the task titles in the reader's language, where the case stands on its diagram, the timeline of steps)."""
from sqlalchemy import select

from app.extensions import db
from app.models import CaseEvent, HumanTask, User
from app.services import attachments, cases, documents, inbox, processes, timeline, users, visibility
from app.services import events as event_rows


def _rows(case_id: int) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)))


def events(actor: User, case_id: int) -> list[dict]:
    """The case's events in order as the actor may see them (404 outside the actor's scope): `visibility` hides
    or anonymises an event per kind (the objector, the expert draw, individual expert steps for the applicant)."""
    case = cases.get_case(actor, case_id)
    seen = visibility.for_case(actor, case)
    out = (seen.event_json(e, event_rows.to_json) for e in _rows(case.id))
    return [e for e in out if e is not None]


def case_view(actor: User, case_id: int) -> dict:
    """`GET /api/v1/cases/{id}`: the case (404 outside the actor's scope) as the actor may read it."""
    case = cases.get_case(actor, case_id)
    return visibility.redact_case_json(visibility.for_case(actor, case), cases.case_json(case))


def element_names(bundle) -> dict[str, str]:
    """BPMN id -> the diagram's name for every named element, and a message's name -> the name of the event that
    waits for it (a `message.received` event names the message)."""
    out: dict[str, str] = {}
    for ts in bundle.all_task_specs():
        name = getattr(ts, "bpmn_name", None)
        if name:
            out[ts.bpmn_id or ts.name] = name
        ev = getattr(ts, "event_definition", None)
        if isinstance(getattr(ev, "name", None), str) and ev.name and name:
            out.setdefault(ev.name, name)
        # an event-based gateway waits with one definition per branch, in the order of its outgoing targets
        for d, target in zip(getattr(ev, "event_definitions", None) or [], ts.outputs, strict=False):
            if isinstance(getattr(d, "name", None), str) and getattr(target, "bpmn_name", None):
                out.setdefault(d.name, target.bpmn_name)
    return out


def case_page(actor: User, case_id: int, lang: str) -> dict:
    """Everything the case page shows (404 outside the actor's scope), as the actor may see it: the history (events
    hidden or anonymised per kind), the timeline of steps, each with its own form's fields, the files."""
    case = cases.get_case(actor, case_id)
    seen = visibility.for_case(actor, case)
    history = [e for e in _rows(case.id) if seen.event(e) != "hidden"]
    anonymous = {e.seq for e in history if seen.event(e) == "anonymous"}
    info = processes.version_info(case.process_version_id)
    titles = element_names(info.bundle)  # timers, catch events and messages by the diagram's names, not ids
    titles.update({t.element: (t.title_en if lang == "en" and t.title_en else t.title)
                   for t in db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))})
    summary = cases.case_json(case)
    generated = documents.attachment_ids(case.id)  # listed with their versions, not as application materials
    files = [f for f in attachments.of_case(actor, case.id) if seen.attachment(f.id) and f.id not in generated]
    return {
        "case": case, "info": summary, "history": history, "anonymous": anonymous,
        "actors": users.usernames(e.actor_id for e in history if e.seq not in anonymous), "files": files,
        "evidence": seen.evidence, "titles": titles, "forms": info.forms,
        "timeline": timeline.build(actor, case, seen),
        "where": inbox.case_positions(case, [t["name"] for t in summary["open_tasks"]], history),
    }
