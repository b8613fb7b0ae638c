"""The outbox: effects outside the database (e-mail today) written in the transaction of the step that causes
them and carried out after its commit by a job (app/jobs/outbox.py), so a slow mail server never holds a
transaction or a request.

At least once, idempotent by key: an item is marked sent in its own transaction right after the effect; a worker
killed before the effect leaves it pending and the next drain carries it out once. A worker killed between the
effect and the mark would repeat it: the e-mail carries the key as its Message-ID so the mail system drops the
duplicate. A failing item is retried after 1, 2, 4, ... minutes; after MAX_ATTEMPTS an incident is opened on its
case (when it has one) and the item waits for an administrator (retry or skip)."""
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import or_, select, update

from app.extensions import db
from app.models import OutboxItem
from app.models.scheduling import USER_EMAILS
from app.settings import settings

MAX_ATTEMPTS = 5
BACKOFF = timedelta(minutes=1)


def enqueue(kind: str, key: str, payload: dict, *, case_id: int | None = None, now: datetime) -> OutboxItem:
    """Add an effect once: a key already queued keeps its first item."""
    found = db.session.scalar(select(OutboxItem).where(OutboxItem.key == key))
    if found is not None:
        return found
    item = OutboxItem(key=key, kind=kind, payload=payload, case_id=case_id, attempts=0, created_at=now)
    db.session.add(item)
    db.session.flush()
    return item


def due(now: datetime, limit: int = 100) -> list[dict]:
    """Pending items whose time has come, oldest first, as plain dicts (the job works on them outside any
    transaction)."""
    rows = db.session.scalars(select(OutboxItem).where(
        OutboxItem.sent_at.is_(None), OutboxItem.incident_id.is_(None),
        or_(OutboxItem.next_attempt_at.is_(None), OutboxItem.next_attempt_at <= now))
        .order_by(OutboxItem.id).limit(limit))
    return [{"id": r.id, "key": r.key, "kind": r.kind, "payload": dict(r.payload or {}), "case_id": r.case_id,
             "attempts": r.attempts} for r in rows]


def email_message(item: dict) -> EmailMessage | None:
    """The e-mail of an item; None when the recipient has no address (nothing to send)."""
    p = item["payload"]
    to = p.get("to")
    if not to and p.get("user_id"):
        to = db.session.scalar(select(USER_EMAILS.c.email).where(USER_EMAILS.c.id == p["user_id"]))
    if not to:
        return None
    msg = EmailMessage()
    msg["From"] = settings().mail_from
    msg["To"] = to
    msg["Subject"] = "[Tierflow] " + (p.get("subject") or "")
    msg["Message-ID"] = f"<{item['key'].replace(':', '.')}@tierflow>"
    msg.set_content(p.get("body") or "")
    return msg


def mark_sent(item_id: int, now: datetime) -> None:
    db.session.execute(update(OutboxItem).where(OutboxItem.id == item_id, OutboxItem.sent_at.is_(None))
                       .values(sent_at=now, attempts=OutboxItem.attempts + 1)
                       .execution_options(synchronize_session=False))


def note_failure(item_id: int, message: str, now: datetime) -> bool:
    """Count a failed attempt: retried after a growing pause. True when it failed MAX_ATTEMPTS times (the caller
    then holds it by an incident, `incidents.hold_outbox`)."""
    item = db.session.get(OutboxItem, item_id)
    item.attempts += 1
    item.last_error = message[:500]
    item.next_attempt_at = now + BACKOFF * (2 ** (item.attempts - 1))
    db.session.flush()
    return item.attempts >= MAX_ATTEMPTS


def drop_for_incident(incident_id: int, now: datetime) -> None:
    """An administrator skipped the effect: it is never carried out (marked with the time, not sent)."""
    db.session.execute(update(OutboxItem).where(OutboxItem.incident_id == incident_id)
                       .values(last_error="skipped by an administrator", next_attempt_at=None)
                       .execution_options(synchronize_session=False))


def release_for_incident(incident_id: int) -> None:
    """An administrator retries the effect: pending again, its next drain carries it out."""
    db.session.execute(update(OutboxItem).where(OutboxItem.incident_id == incident_id)
                       .values(incident_id=None, attempts=0, next_attempt_at=None)
                       .execution_options(synchronize_session=False))
