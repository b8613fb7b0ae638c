"""Draining the outbox (services/outbox.py): read the due items in one short transaction, carry each out with no
transaction open, then mark it sent (or count its failure) in its own. The scheduler's sweep calls `drain`;
`flask outbox drain` too."""
import logging
import smtplib
from datetime import datetime

from app.errors import ServiceError
from app.services import incidents, operator_runs, outbox
from app.settings import settings
from app.uow import unit_of_work

log = logging.getLogger("tierflow.outbox")


def _send_email(item: dict) -> None:
    msg = outbox.email_message(item)
    if msg is None:
        return  # no address: nothing to send, the item is done
    cfg = settings()
    if not cfg.smtp_host:
        raise OSError("no mail server configured (SMTP_HOST)")
    with smtplib.SMTP(cfg.smtp_host, int(cfg.smtp_port), timeout=10) as smtp:
        smtp.send_message(msg)


HANDLERS = {"email": _send_email}


def drain(now: datetime, limit: int = 100) -> dict:
    """Carry out the due items at `now`; returns {"sent", "failed"}."""
    with unit_of_work():
        items = outbox.due(now, limit)
    sent = failed = 0
    for item in items:
        if item["kind"] == "service":  # database work: the effect and its mark commit together
            if _run_service(item, now):
                sent += 1
            else:
                failed += 1
            continue
        try:
            HANDLERS[item["kind"]](item)
        except (OSError, smtplib.SMTPException, KeyError) as exc:
            failed += 1
            log.warning("outbox %s not carried out: %s", item["key"], exc)
            message = f"{type(exc).__name__}: {exc}"
            with unit_of_work():
                if outbox.note_failure(item["id"], message, now):
                    incidents.hold_outbox(item["id"], message, now)
            continue
        with unit_of_work():
            outbox.mark_sent(item["id"], now)
        sent += 1
    return {"sent": sent, "failed": failed}


def _run_service(item: dict, now: datetime) -> bool:
    try:
        with unit_of_work():
            operator_runs.run(item, now)
            outbox.mark_sent(item["id"], now)
        return True
    except Exception as exc:  # noqa: BLE001 - any failure of an operator is counted, never loops
        message = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
        log.warning("outbox %s not carried out: %s", item["key"], message)
        with unit_of_work():
            if outbox.note_failure(item["id"], message, now):
                incidents.hold_outbox(item["id"], message, now)
        return False
