"""Reminders 7 days and 1 day before a task's due date and on the due day, each once, in the caller's reminders and
by e-mail to a local SMTP sink (aiosmtpd); an overdue task is escalated to the national reviewers once."""
import socket
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from sqlalchemy import text

from app.extensions import db
from app.jobs import scheduler
from app.services import reminders
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT
from tests.services.test_basic_tier import complete, open_task, start
from tests.timers.helpers import T0, count_events

DUE = T0 + timedelta(days=15)  # the organizer's review is due 15 days after it opens: 2026-12-10 10:00 Shanghai


def review_task():
    case = start()
    complete("acme", open_task(case).id, GOOD_ASSESSMENT)
    task = open_task(case)
    assert task.due_at == DUE and task.role == "provincial_reviewer"
    return case.id, task.id


def kinds(username):
    return [(r["kind"], r["task_id"]) for r in reminders.for_user(user(username))]


@pytest.fixture
def smtp_sink(app):
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, MAIL_FROM="tierflow@example.test")
    try:
        yield sink
    finally:
        app.config.update(SMTP_HOST="")
        controller.stop()


def test_reminders_before_and_on_the_due_day_and_escalation(api_client, api_headers):
    case_id, task_id = review_task()
    assert scheduler.sweep(T0 + timedelta(days=1)).reminders == 0
    assert scheduler.sweep(DUE - timedelta(days=7) + timedelta(seconds=1)).reminders == 1
    assert scheduler.sweep(DUE - timedelta(days=6)).reminders == 0  # once
    assert kinds("zj-reviewer") == [("before_7d", task_id)]
    assert kinds("sd-reviewer") == []  # another province's reviewer is not reminded
    assert scheduler.sweep(DUE - timedelta(days=1)).reminders == 1
    due_day = datetime(2026, 12, 9, 16, 0, tzinfo=timezone.utc)  # 2026-12-10 00:00 Asia/Shanghai
    assert scheduler.sweep(due_day - timedelta(seconds=1)).reminders == 0
    assert scheduler.sweep(due_day).reminders == 1
    assert [k for k, _t in kinds("zj-reviewer")] == ["due_day", "before_1d", "before_7d"]
    assert scheduler.sweep(DUE).reminders == 0  # due at, not yet overdue
    assert scheduler.sweep(DUE + timedelta(seconds=1)).reminders == 1
    assert scheduler.sweep(DUE + timedelta(days=3)).reminders == 0
    assert kinds("miit-1") == [("overdue", task_id)]  # the supervisor role
    assert count_events(case_id, "task.overdue") == 1
    r = api_client.get("/api/v1/reminders", headers=api_headers("zj-reviewer"))
    assert r.status_code == 200 and [x["kind"] for x in r.get_json()["reminders"]] == ["due_day", "before_1d",
                                                                                        "before_7d"]
    assert r.get_json()["reminders"][0]["case_id"] == case_id
    assert api_client.get("/api/v1/reminders", headers=api_headers("acme")).get_json()["reminders"] == []


def test_a_task_opened_late_gets_no_stale_reminder_and_a_returning_scheduler_no_burst():
    _case_id, task_id = review_task()
    # the scheduler was away until the day before the due date: one reminder, not three
    assert scheduler.sweep(DUE - timedelta(hours=20)).reminders == 1
    assert kinds("zj-reviewer") == [("before_1d", task_id)]
    assert reminders.kind_now(DUE - timedelta(days=5), DUE, DUE - timedelta(days=4)) is None  # opened 5 days before


def test_reminders_are_e_mailed_when_smtp_is_set(smtp_sink):
    db.session.execute(text("UPDATE users SET email = 'zj@example.test' WHERE username = 'zj-reviewer'"))
    db.session.commit()
    _case_id, task_id = review_task()
    assert scheduler.sweep(DUE - timedelta(days=7) + timedelta(seconds=1)).reminders == 1
    ((to, msg),) = smtp_sink.messages
    assert to == ["zj@example.test"] and msg["From"] == "tierflow@example.test"
    assert msg["Subject"] == f"[Tierflow] 任务7天后到期: case {_case_id}"
    assert f"task {task_id}" in msg.get_content()
    assert reminders.for_user(user("zj-reviewer"))[0]["emailed"] is True
    assert scheduler.sweep(DUE - timedelta(days=6)).reminders == 0 and len(smtp_sink.messages) == 1
