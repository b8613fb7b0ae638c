"""The reminder part of a sweep: the reminder rows in one transaction, each overdue event in its case's own, then
the e-mail after those commits (SMTP_HOST set), each reminder marked e-mailed once sent
(`services/reminders.py` says which reminders are due)."""
import logging
import smtplib
from datetime import datetime

from app.errors import ServiceError
from app.services import reminders
from app.settings import settings
from app.uow import unit_of_work

log = logging.getLogger("tierflow.reminders")


def sweep(now: datetime) -> int:
    """Write the reminders due at `now` (one transaction), the overdue events (one per case), then e-mail."""
    with unit_of_work():
        rows = reminders.record_due(now)
    for row in rows:
        if row["kind"] == "overdue":
            _overdue_event(row, now)
    if rows and settings().smtp_host:
        _email(rows, now)
    return len(rows)


def _overdue_event(row: dict, now: datetime) -> None:
    try:
        with unit_of_work():
            reminders.overdue_event(row, now)
    except ServiceError as exc:  # a concurrent step on the case: the reminder row goes, both are retried
        log.warning("case %s: task.overdue event not written: %s", row["case_id"], exc.message)
        with unit_of_work():
            reminders.forget_overdue(row)


def _email(rows: list[dict], now: datetime) -> None:
    cfg = settings()
    for row in rows:
        to = reminders.addresses(row["role"], row["scope"])
        if not to:
            continue
        try:
            with smtplib.SMTP(cfg.smtp_host, int(cfg.smtp_port), timeout=10) as smtp:
                smtp.send_message(reminders.email_message(row, to))
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("reminder e-mail for task %s not sent: %s", row["task_id"], exc)
            continue
        with unit_of_work():
            reminders.mark_emailed(row, now)
