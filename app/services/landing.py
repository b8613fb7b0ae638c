"""What each role sees first after login (issue 15, defect 10): the landing page's facts, one function per role.

- `kind(actor)`: which landing a user gets: `admin` (a system overview), `audit` (the audit search), `national`
  (its queue and the national figures), `expert` (its assigned reviews), `enterprise` (its applications and the next
  step of each), `inbox` (reviewers keep their inbox), `people` (a provincial administrator's accounts).
- `enterprise_view`: every case of the enterprise with what happens next, in the enterprise's words: its own open
  task (fill in, revise) with the due date, or whom the case waits for, or how it ended.
- `expert_view`: the reviews drawn for the expert, open first, then the ones it completed.
- `admin_view`: deployed models and their versions, the users per role, the recent deployments.

Every function takes the acting user and reads within its scope; nothing here writes.
"""
from sqlalchemy import func, select

from app.errors import Forbidden
from app.extensions import db
from app.models import Case, Enterprise, HumanTask, ProcessModel, ProcessVersion, User
from app.models.users import ROLES
from app.services import deadlines, incidents, users, versions
from app.services.inbox import FINAL
from app.services.scope import case_filter

NATIONAL = ("national_reviewer",)
INBOX_ROLES = ("provincial_reviewer", "co_department_reviewer", "soe_reviewer", "sasac_reviewer")


def kind(actor: User) -> str:
    """The landing page of the actor's role."""
    return {"admin": "admin", "auditor": "audit", "national_reviewer": "national", "expert": "expert",
            "enterprise": "enterprise", "provincial_admin": "people"}.get(actor.role, "inbox")


def _require(actor: User, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden("this overview belongs to another role")


def enterprise_view(actor: User) -> list[dict]:
    """The enterprise's cases, newest first, each with `next`: what happens next.

    `next` = {"who": "me", "task": HumanTask, "due_at"} when the enterprise has a task to do (fill in the
    self-assessment, revise a returned application); {"who": role, "task": HumanTask, "due_at"} for the first
    reviewer's step the case waits at (the enterprise cannot open it: it only sees whom it waits for);
    {"who": None} once the case is closed. `due_day`: the deadline date (ending 24:00 Beijing time) when the
    enterprise's task has no due time of its own (the application, due by the campaign's deadline)."""
    _require(actor, "enterprise")
    cases = list(db.session.scalars(select(Case).where(case_filter(actor)).order_by(Case.id.desc())))
    open_rows = list(db.session.scalars(select(HumanTask).where(
        HumanTask.case_id.in_([c.id for c in cases]), HumanTask.state == "open")
        .order_by(HumanTask.due_at, HumanTask.id))) if cases else []
    by_case: dict[int, list[HumanTask]] = {}
    for t in open_rows:
        by_case.setdefault(t.case_id, []).append(t)
    out = []
    for c in cases:
        waiting = by_case.get(c.id, [])
        mine = [t for t in waiting if t.role == actor.role and t.scope == actor.scope]
        if mine:
            nxt = {"who": "me", "task": mine[0], "due_at": mine[0].due_at}
            if mine[0].due_at is None:  # the application itself: due by the campaign's (extended) deadline
                nxt["due_day"] = deadlines.effective_dates(c.campaign, c.tier, c.province_code, c.id).get(
                    "application_deadline")
        elif waiting:
            nxt = {"who": waiting[0].role, "task": waiting[0], "due_at": waiting[0].due_at}
        else:
            nxt = {"who": None, "task": None, "due_at": None}
        out.append({"case": c, "next": nxt, "closed": c.closed_at is not None or c.status in FINAL})
    return out


def expert_view(actor: User, limit: int = 100) -> dict:
    """The reviews drawn for the expert: the open ones (due first) and the completed ones (newest first), each
    with its enterprise's name. Three statements."""
    _require(actor, "expert")
    mine = (HumanTask.role == "expert") & (HumanTask.scope == actor.scope)
    open_rows = list(db.session.scalars(select(HumanTask).where(mine, HumanTask.state == "open")
                                        .order_by(HumanTask.due_at, HumanTask.id).limit(limit)))
    done = list(db.session.scalars(select(HumanTask).where(mine, HumanTask.state == "completed")
                                   .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(limit)))
    ids = {t.case_id for t in open_rows + done}
    names = dict(db.session.execute(select(Case.id, Enterprise.name).join(
        Enterprise, Enterprise.id == Case.enterprise_id).where(Case.id.in_(ids))).all()) if ids else {}
    return {"open": open_rows, "done": done, "names": names}


def admin_view(actor: User, recent: int = 10) -> dict:
    """The administrator's overview: the deployed models (with their newest version and running cases), the active
    users per role, the most recent deployments, and how many incidents wait for an administrator."""
    _require(actor, "admin")
    models = versions.list_models(actor)
    per_role = dict(db.session.execute(select(User.role, func.count()).where(User.active.is_(True))
                                       .group_by(User.role)).all())
    deployments = list(db.session.execute(
        select(ProcessVersion.model_key, ProcessModel.name, ProcessVersion.version, ProcessVersion.created_at,
               ProcessVersion.author_id, ProcessVersion.message)
        .join(ProcessModel, ProcessModel.key == ProcessVersion.model_key)
        .order_by(ProcessVersion.created_at.desc(), ProcessVersion.id.desc()).limit(recent)))
    authors = users.usernames(d.author_id for d in deployments)
    return {"models": models, "roles": [(r, per_role.get(r, 0)) for r in ROLES],
            "users_total": sum(per_role.values()), "deployments": deployments, "authors": authors,
            "open_incidents": incidents.open_count()}
