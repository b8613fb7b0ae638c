"""Reminders of open tasks' due dates and escalation of overdue tasks, written by the scheduler's sweep.

For every open human task with a due date: `before_7d` (7 days before), `before_1d` (1 day before), `due_day` (from
00:00 Asia/Shanghai of the due day) to the task's role and scope, and `overdue` (after the due instant) to the
supervisor role (provincial, co-department, SOE reviewers and experts: the national reviewers), with one
`task.overdue` event on the case. A row per (task, kind) makes each reminder once, however many sweeps or
schedulers run (`INSERT ... ON CONFLICT DO NOTHING`). Only the latest reminder whose time has come is sent: a task
opened 5 days before its due date gets no "7 days before", and a scheduler back from a week away does not send a
burst of stale reminders. E-mail (SMTP_HOST set) goes after the commit, to the active users of the role and scope
that have an address; a reminder is marked e-mailed once sent.
"""
import logging
import smtplib
from datetime import datetime, time, timedelta
from email.message import EmailMessage

from sqlalchemy import and_, select, update

from app.extensions import db
from app.models import HumanTask, User
from app.models.scheduling import USER_EMAILS, Reminder
from app.services import events, instances
from app.services.clock import SHANGHAI
from app.settings import settings

log = logging.getLogger("tierflow.reminders")
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


def sweep(now: datetime) -> int:
    """Write the reminders due at `now` (one transaction), the overdue events (one per case), then e-mail."""
    from app.uow import unit_of_work

    with unit_of_work():
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
    for r in inserted:
        if r["kind"] == "overdue":
            _overdue_event(r, elements[r["task_id"]], now)
    if inserted and settings().smtp_host:
        _email(inserted, now)
    return len(inserted)


def _overdue_event(row: dict, element: str, now: datetime) -> None:
    from app.errors import ServiceError
    from app.uow import unit_of_work

    try:
        with unit_of_work():
            case = instances.load(row["case_id"])
            events.append(case, "task.overdue", None, now, element=element,
                          data={"task_id": row["task_id"], "due_at": row["due_at"].isoformat(),
                                "escalated_to": row["role"]})
            instances.commit_case(case)
    except ServiceError as exc:  # a concurrent step on the case: the reminder row stands, the event is retried
        log.warning("case %s: task.overdue event not written: %s", row["case_id"], exc.message)
        with unit_of_work():
            db.session.execute(Reminder.__table__.delete().where(
                Reminder.task_id == row["task_id"], Reminder.kind == "overdue"))


def _email(rows: list[dict], now: datetime) -> None:
    from app.uow import unit_of_work

    cfg = settings()
    for r in rows:
        to = _addresses(r["role"], r["scope"])
        if not to:
            continue
        msg = EmailMessage()
        msg["From"] = cfg.mail_from
        msg["To"] = ", ".join(to)
        msg["Subject"] = f"[Tierflow] {SUBJECT[r['kind']]}: case {r['case_id']}"
        due = r["due_at"].astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        msg.set_content(f"案件 {r['case_id']} 的任务 {r['task_id']} 截止时间：{due}（北京时间）。\n"
                        f"Case {r['case_id']}, task {r['task_id']}: due {due} Asia/Shanghai ({r['kind']}).\n")
        try:
            with smtplib.SMTP(cfg.smtp_host, int(cfg.smtp_port), timeout=10) as smtp:
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("reminder e-mail for task %s not sent: %s", r["task_id"], exc)
            continue
        with unit_of_work():
            db.session.execute(update(Reminder.__table__).where(
                Reminder.task_id == r["task_id"], Reminder.kind == r["kind"]).values(emailed_at=now))


def _addresses(role: str, scope: str) -> list[str]:
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
