"""Reminders of open tasks' due dates and escalation of overdue tasks, written by the scheduler's sweep.

For every open human task with a due date: `before_7d` (7 days before), `before_1d` (1 day before), `due_day` (from
00:00 Asia/Shanghai of the due day) to the task's role and scope, and `overdue` (after the due instant) to the
supervisor role (provincial, co-department, SOE reviewers and experts: the national reviewers), with one
`task.overdue` event on the case. A row per (task, kind) makes each reminder once, however many sweeps or
schedulers run (`INSERT ... ON CONFLICT DO NOTHING`). Only the latest reminder whose time has come is sent: a task
opened 5 days before its due date gets no "7 days before", and a scheduler back from a week away does not send a
burst of stale reminders. E-mail (SMTP_HOST set) goes after the commit, to the active users of the role and scope
that have an address; a reminder is marked e-mailed once sent. The sweep's job (`app/jobs/reminders.py`) opens the
transactions and sends the e-mail; this module writes in the caller's transaction.
"""
from datetime import datetime, time, timedelta
from email.message import EmailMessage

from sqlalchemy import and_, select, update

from app.extensions import db
from app.models import HumanTask, User
from app.models.scheduling import USER_EMAILS, Reminder
from app.services import events, instances
from app.services.clock import SHANGHAI
from app.settings import settings

KINDS = ("before_7d", "before_1d", "due_day", "overdue")
SUPERVISOR = {"provincial_reviewer": "national_reviewer", "co_department_reviewer": "national_reviewer",
              "soe_reviewer": "national_reviewer", "expert": "national_reviewer"}
SUBJECT = {"before_7d": "任务7天后到期", "before_1d": "任务明天到期", "due_day": "任务今天到期",
           "overdue": "任务已逾期"}


def trigger_times(due_at: datetime) -> dict[str, datetime]:
    due_day = due_at.astimezone(SHANGHAI).date()
    return {"before_7d": due_at - timedelta(days=7), "before_1d": due_at - timedelta(days=1),
            "due_day": datetime.combine(due_day, time(0, 0), tzinfo=SHANGHAI), "overdue": due_at}


def kind_now(created_at: datetime, due_at: datetime, now: datetime) -> str | None:
    """The reminder whose time has come and whose successor's has not (None: nothing to send now). A "before"
    reminder whose time passed before the task opened is not sent."""
    times = trigger_times(due_at)
    if now > due_at:
        return "overdue"
    if now >= times["due_day"]:
        return "due_day"
    for kind in ("before_1d", "before_7d"):
        if now >= times[kind]:
            return kind if created_at <= times[kind] else None
    return None


def _insert_ignore(rows: list[dict]) -> list[dict]:
    """Insert reminder rows; rows that exist already (another sweep sent them) are skipped. Returns those inserted."""
    table = Reminder.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    out = []
    for row in rows:
        res = db.session.execute(insert(table).values(**row).on_conflict_do_nothing(
            index_elements=["task_id", "kind"]))
        if res.rowcount:
            out.append(row)
    return out


def record_due(now: datetime) -> list[dict]:
    """Write the reminder rows due at `now` (in the caller's transaction); returns those written (another sweep
    wrote the rest), each with the task's `element`. The job then writes the overdue events and sends e-mail
    after the commit (`app/jobs/reminders.py`)."""
    tasks = db.session.execute(
        select(HumanTask.id, HumanTask.case_id, HumanTask.role, HumanTask.scope, HumanTask.due_at,
               HumanTask.created_at, HumanTask.element)
        .where(HumanTask.state == "open", HumanTask.due_at.is_not(None),
               HumanTask.due_at <= now + timedelta(days=7))).all()
    sent = {(t, k) for t, k in db.session.execute(
        select(Reminder.task_id, Reminder.kind).where(Reminder.task_id.in_([t.id for t in tasks])))}
    rows = []
    for t in tasks:
        kind = kind_now(t.created_at, t.due_at, now)
        if kind is None or (t.id, kind) in sent:
            continue
        role, scope = t.role, t.scope
        if kind == "overdue":
            role = SUPERVISOR.get(t.role)
            if role is None:
                continue  # nobody supervises an enterprise's or the national reviewers' own tasks here
            scope = "national"
        rows.append({"task_id": t.id, "case_id": t.case_id, "kind": kind, "role": role, "scope": scope,
                     "due_at": t.due_at, "sent_at": now, "emailed_at": None, "_element": t.element})
    inserted = _insert_ignore([{k: v for k, v in r.items() if k != "_element"} for r in rows])
    elements = {r["task_id"]: r["_element"] for r in rows}
    return [dict(r, element=elements[r["task_id"]]) for r in inserted]


def overdue_event(row: dict, now: datetime) -> None:
    """The `task.overdue` event of an overdue reminder row, on its case (in the caller's transaction)."""
    case = instances.load(row["case_id"])
    events.append(case, "task.overdue", None, now, element=row["element"],
                  data={"task_id": row["task_id"], "due_at": row["due_at"].isoformat(),
                        "escalated_to": row["role"]})
    instances.commit_case(case)


def forget_overdue(row: dict) -> None:
    """The overdue event could not be written (a concurrent step on the case): drop the reminder row so that the
    next sweep writes both again."""
    db.session.execute(Reminder.__table__.delete().where(
        Reminder.task_id == row["task_id"], Reminder.kind == "overdue"))


def email_message(row: dict, to: list[str]) -> EmailMessage:
    """The e-mail of one reminder row to the addresses `to`."""
    msg = EmailMessage()
    msg["From"] = settings().mail_from
    msg["To"] = ", ".join(to)
    msg["Subject"] = f"[Tierflow] {SUBJECT[row['kind']]}: case {row['case_id']}"
    due = row["due_at"].astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    msg.set_content(f"案件 {row['case_id']} 的任务 {row['task_id']} 截止时间：{due}（北京时间）。\n"
                    f"Case {row['case_id']}, task {row['task_id']}: due {due} Asia/Shanghai ({row['kind']}).\n")
    return msg


def mark_emailed(row: dict, now: datetime) -> None:
    db.session.execute(update(Reminder.__table__).where(
        Reminder.task_id == row["task_id"], Reminder.kind == row["kind"]).values(emailed_at=now))


def addresses(role: str, scope: str) -> list[str]:
    """The e-mail addresses of the active users of that role and scope."""
    users = db.session.scalars(select(User).where(User.role == role, User.active.is_(True))).all()
    ids = [u.id for u in users if u.scope == scope]
    if not ids:
        return []
    return [e for e in db.session.scalars(select(USER_EMAILS.c.email).where(
        and_(USER_EMAILS.c.id.in_(ids), USER_EMAILS.c.email.is_not(None))))]


def for_user(actor: User, limit: int = 100) -> list[dict]:
    """The caller's reminders (its role and scope), newest first, with the task's title and state."""
    rows = db.session.execute(
        select(Reminder, HumanTask.title, HumanTask.title_en, HumanTask.state)
        .join(HumanTask, HumanTask.id == Reminder.task_id)
        .where(Reminder.role == actor.role, Reminder.scope == actor.scope)
        .order_by(Reminder.sent_at.desc(), Reminder.id.desc()).limit(limit)).all()
    return [{"id": r.id, "task_id": r.task_id, "case_id": r.case_id, "kind": r.kind, "title": title,
             "title_en": title_en, "task_state": state, "due_at": r.due_at.isoformat(),
             "sent_at": r.sent_at.isoformat(), "emailed": r.emailed_at is not None}
            for r, title, title_en, state in rows]
