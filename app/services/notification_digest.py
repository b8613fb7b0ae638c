"""The notification digest (issue 18 part 3), run by every scheduler sweep: what happened since the last digest,
as one notice per recipient and kind (a bulk creation of 5,000 tasks is one notice "5000 项新任务", not 5,000):
new tasks in one's inbox (`task`; an enterprise's task on a returned case is `returned`), due-date reminders and
escalations (`due`), decisions on one's own case (`decision`, the case's enterprise). It reads by id past a mark
per source (`notification_marks`), off the completion's hot path; the first digest only sets the marks."""
from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, CaseEvent, HumanTask, User
from app.models.incidents import NotificationMark
from app.models.scheduling import Reminder
from app.services import notifications

STATUS_ZH = {"certified": "已通过", "accepted": "已验收", "rejected": "不予认可", "withdrawn": "已撤回",
             "expired": "已过期"}
SOURCES = {"tasks": HumanTask.id, "events": CaseEvent.id, "reminders": Reminder.id}


def _marks() -> dict[str, NotificationMark]:
    return {m.name: m for m in db.session.scalars(select(NotificationMark))}


def _recipients(role: str, scope: str, cache: dict) -> list[int]:
    if role not in cache:
        cache[role] = list(db.session.scalars(select(User).where(User.role == role, User.active.is_(True))))
    return [u.id for u in cache[role] if u.scope == scope]


def digest(now: datetime) -> int:
    """Send what is new since the marks; returns the number of notices written."""
    marks = _marks()
    tops = {name: db.session.scalar(select(func.max(col))) or 0 for name, col in SOURCES.items()}
    if not marks:  # the first digest: start from now, nothing historical
        for name, top in tops.items():
            db.session.add(NotificationMark(name=name, last_id=top))
        db.session.flush()
        return 0
    sent = 0
    users: dict = {}
    # new inbox rows, still open
    rows = db.session.execute(select(HumanTask.role, HumanTask.scope, HumanTask.title, HumanTask.case_id,
                                     Case.status).join(Case, Case.id == HumanTask.case_id).where(
        HumanTask.id > marks["tasks"].last_id, HumanTask.id <= tops["tasks"], HumanTask.state == "open")).all()
    groups: dict = defaultdict(list)
    for role, scope, title, case_id, status in rows:
        kind = "returned" if role == "enterprise" and status == "returned" else "task"
        groups[(role, scope, kind)].append((title, case_id))
    for (role, scope, kind), items in groups.items():
        ids = _recipients(role, scope, users)
        if not ids:
            continue
        if kind == "returned":
            text = "案件 %s 已退回修改，请补充后重新提交" % "、".join(str(c) for _t, c in items[:5])
        elif len(items) == 1:
            text = f"新任务：{items[0][0]}（案件 {items[0][1]}）"
        else:
            text = f"您有 {len(items)} 项新任务"
        sent += len(notifications.send(ids, kind, text, link="/inbox", at=now))
    # decisions on one's own case
    closed = db.session.execute(select(CaseEvent.case_id, CaseEvent.data).where(
        CaseEvent.id > marks["events"].last_id, CaseEvent.id <= tops["events"],
        CaseEvent.action == "case.closed")).all()
    for case_id, data in closed:
        case = db.session.get(Case, case_id)
        ids = list(db.session.scalars(select(User.id).where(User.role == "enterprise", User.active.is_(True),
                                                            User.enterprise_id == case.enterprise_id)))
        status = (data or {}).get("status") or case.status
        sent += len(notifications.send(ids, "decision", f"案件 {case_id} 已办结：{STATUS_ZH.get(status, status)}",
                                       link=f"/cases/{case_id}", case_id=case_id, at=now))
    # due dates: reminders and escalations written by the reminder sweep
    due: dict = defaultdict(int)
    for role, scope, kind in db.session.execute(select(Reminder.role, Reminder.scope, Reminder.kind).where(
            Reminder.id > marks["reminders"].last_id, Reminder.id <= tops["reminders"])).all():
        due[(role, scope, kind)] += 1
    for (role, scope, kind), n in due.items():
        ids = _recipients(role, scope, users)
        text = f"{n} 项任务已逾期" if kind == "overdue" else f"{n} 项任务即将到期"
        sent += len(notifications.send(ids, "due", text, link="/inbox", at=now)) if ids else 0
    for name, top in tops.items():
        marks[name].last_id = max(marks[name].last_id, top)
    db.session.flush()
    return sent
