"""A case's timeline: every completed step with who (role, department; a username only where the reader may see
people), when, the decision, the comment and the files, each step's fields from its own form (issue 15). Dissent is
marked; the co-departments' latest opinions are given side by side (the certifier's view); the objections with
their evidence (the objector's name only for readers who may see it). What one reader sees is `visibility`'s rule.
"""
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Case, CaseStep, Enterprise, Objection, User
from app.services import processes, steps, visibility

COMMENT_FIELDS = ("review_comment", "comment", "decision_comment", "resolution", "guidance")
APPROVALS = ("approve",)


def _group(s: CaseStep, departments: dict) -> tuple | None:
    """Steps answered side by side: the co-departments of one round, or one panel's members of one round."""
    if s.element in departments:
        return ("departments", s.round)
    panel = visibility.panel_of(s.element)
    return (panel, s.round) if panel != s.element else None


def _names(ids: set) -> dict[int, str]:
    """id -> how a reviewer knows the person: an enterprise's account by its enterprise's name (and username), anyone
    else by username; one statement even for no ids (a page's statement count does not depend on its data)."""
    rows = db.session.execute(select(User.id, User.username, Enterprise.name).outerjoin(
        Enterprise, Enterprise.id == User.enterprise_id).where(User.id.in_(ids - {None}))).all()
    return {i: f"{ent}（{name}）" if ent else name for i, name, ent in rows}


def _files(ids: set) -> dict[int, Attachment]:
    return {a.id: a for a in db.session.scalars(select(Attachment).where(Attachment.id.in_(ids)))}


def _file_ids(schema: dict | None, data: dict) -> list[int]:
    ids: list[int] = []
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if prop.get("format") == "attachment" and data.get(name):
            value = data[name]
            ids += [i for i in (value if isinstance(value, list) else [value]) if isinstance(i, int)]
    return ids


def _earlier_rounds(rows: list[CaseStep]) -> set[int]:
    """The steps of an earlier round: S is history once its own element was completed again, or once a later step
    of a later round went back past it (T repeats an element whose previous completion came no later than S: a
    resubmitted application makes the reviews before it history at once). A step of the current round is never
    history because a later step of the same round repeats an element (the review after a resubmission)."""
    out: set[int] = set()
    previous: dict[str, int] = {}
    seen: set[str] = set()
    for t in reversed(rows):  # a later completion of the same element
        if t.element in seen:
            out.add(t.seq)
        seen.add(t.element)
    for t in rows:  # in seq order
        before = previous.get(t.element)
        if before is not None:
            out |= {s.seq for s in rows if before <= s.seq < t.seq and s.round < t.round}
        previous[t.element] = t.seq
    return out


def build(actor: User, case: Case, seen: "visibility.Seen | None" = None) -> dict:
    """{"steps": [...], "departments": [...], "objections": [...]} for `actor`, who may see the case."""
    seen = seen or visibility.for_case(actor, case)
    info = processes.version_info(case.process_version_id)
    rows = [s for s in steps.for_case(case.id) if seen.step(s)]
    departments = {el for el, p in info.properties.items() if p.get("department") and p.get("result_key")}
    departments |= {s.element for s in rows if s.department}
    names = _names({s.actor_id for s in rows})
    if not seen.sees_identities:  # the applicant sees its own people's names only
        names = {k: v for k, v in names.items() if k in seen.own_people}
    forms = info.forms
    files = _files({i for s in rows for i in _file_ids(forms.get(s.form), s.data or {})})
    history = _earlier_rounds([s for s in steps.for_case(case.id) if not s.abandoned])
    groups: dict[tuple, list[str]] = {}
    for s in rows:
        g = _group(s, departments)
        if g and not s.abandoned and (s.data or {}).get("decision"):
            groups.setdefault(g, []).append(s.data["decision"])
    out = []
    for s in rows:
        data = s.data or {}
        schema = forms.get(s.form) or {}
        decision = data.get("decision")
        g = _group(s, departments)
        others = groups.get(g, []) if g else []
        dissent = bool(decision and decision not in APPROVALS and any(d in APPROVALS for d in others))
        out.append({
            "seq": s.seq, "element": s.element, "round": s.round, "title": s.title or s.element,
            "title_en": (info.properties.get(s.element) or {}).get("title_en"),
            "role": s.role, "department": s.department, "who": names.get(s.actor_id), "at": s.at,
            "decision": decision, "decision_titles": ((schema.get("properties") or {}).get("decision") or {}),
            "comment": next((data[k] for k in COMMENT_FIELDS if data.get(k)), None),
            "form": s.form, "schema": schema, "data": data,
            "files": [files[i] for i in _file_ids(schema, data) if i in files and seen.attachment(i)],
            "dissent": dissent, "abandoned": s.abandoned,
            "superseded": s.seq in history,
        })
    side = {}
    for e in out:  # each department's latest opinion, in the diagram's order of departments
        if e["element"] in departments and not e["abandoned"]:
            side[e["element"]] = e
    return {"steps": out, "departments": list(side.values()), "objections": objections(actor, case, seen)}


def objections(actor: User, case: Case, seen: "visibility.Seen") -> list[dict]:
    """The case's objections: text, when, state; the evidence files and the objector for readers who may see them."""
    rows = list(db.session.scalars(select(Objection).where(Objection.case_id == case.id).order_by(Objection.id)))
    names = _names({o.lodged_by for o in rows}) if seen.sees_identities else {}  # one statement, rows or none
    files = _files({i for o in rows for i in (o.attachments or []) if seen.attachment(i)})
    return [{"id": o.id, "reason": o.reason, "at": o.created_at, "state": o.state, "resolution": o.resolution,
             "resolved_at": o.resolved_at, "by": names.get(o.lodged_by),
             "evidence": [files[i] for i in (o.attachments or []) if i in files]} for o in rows]
