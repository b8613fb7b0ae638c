"""A case's history as the people within its scope read it: the ordered, hash-chained events (the API) and the
browser's case page (the events with who did them, the files, the task titles and decision labels in the reader's
language, where the case stands on its diagram, what it holds)."""
from sqlalchemy import select

from app.extensions import db
from app.models import CaseEvent, HumanTask, User
from app.services import attachments, cases, inbox, processes, users


def _rows(case_id: int) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)))


def events(actor: User, case_id: int) -> list[CaseEvent]:
    """The case's events in order (404 outside the actor's scope)."""
    case = cases.get_case(actor, case_id)
    return _rows(case.id)


def case_page(actor: User, case_id: int, lang: str) -> dict:
    """Everything the case page shows (404 outside the actor's scope); the instance is restored once, for `data`."""
    case = cases.get_case(actor, case_id)
    history = _rows(case.id)
    info = processes.version_info(case.process_version_id)
    titles = {t.element: (t.title_en if lang == "en" and t.title_en else t.title)
              for t in db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    decisions: dict = {}
    for schema in info.forms.values():
        prop = (schema.get("properties") or {}).get("decision") or {}
        decisions.update(prop.get("x-enum-titles-en" if lang == "en" else "x-enum-titles", {}))
    summary = cases.case_json(case)
    return {
        "case": case, "info": summary, "history": history,
        "actors": users.usernames(e.actor_id for e in history), "files": attachments.of_case(actor, case.id),
        "titles": titles, "decisions": decisions, "forms": info.forms, "data": inbox.case_data(case),
        "where": inbox.case_positions(case, [t["name"] for t in summary["open_tasks"]], history),
    }
