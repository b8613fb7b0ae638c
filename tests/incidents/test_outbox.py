"""The outbox (issue 18 part 2): effects written in the step's transaction and carried out after the commit by a
job; retried with backoff, an incident when they keep failing; a worker killed with SIGKILL between the commit and
the send sends the message exactly once after a restart (a real subprocess and a real SMTP conversation)."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.config import ROOT
from app.extensions import db
from app.jobs import outbox as outbox_job
from app.models import Incident, Notification, OutboxItem
from app.models.scheduling import USER_EMAILS
from app.services import cases, clock, notifications, outbox
from app.uow import unit_of_work
from tests.conftest import user
from tests.incidents.smtp_sink import SmtpSink

VENV = Path(sys.executable).parent


@pytest.fixture
def sink(app):
    s = SmtpSink()
    old = (app.config["SMTP_HOST"], app.config["SMTP_PORT"])
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "127.0.0.1", s.port
    yield s
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = old
    s.close()


def test_a_notice_with_email_on_is_sent_after_the_commit_once(sink):
    reviewer = user("zj-reviewer")
    with unit_of_work():
        db.session.execute(update(USER_EMAILS).where(USER_EMAILS.c.id == reviewer.id).values(email="zj@example.cn"))
        notifications.send([reviewer.id], "returned", "案件已退回修改", "请补充材料。")
    assert sink.messages == []  # nothing inside the transaction
    assert outbox_job.drain(clock.now()) == {"sent": 1, "failed": 0}
    assert outbox_job.drain(clock.now()) == {"sent": 0, "failed": 0}
    assert len(sink.messages) == 1 and "Message-ID: <notification." in sink.messages[0].decode()
    with unit_of_work():  # e-mail off for that kind: the in-app notice only
        notifications.set_prefs(reviewer, {"returned": False})
        notifications.send([reviewer.id], "returned", "案件已退回修改")
    assert outbox_job.drain(clock.now())["sent"] == 0
    assert notifications.unread_count(reviewer) == 2


def test_a_failing_effect_is_retried_with_backoff_then_becomes_an_incident(app):
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "127.0.0.1", 9  # nothing listens: refused
    try:
        with unit_of_work():
            case_id = cases.create_case(user("acme"), "basic", 2026).id
        with unit_of_work():
            item = outbox.enqueue("email", "test:1", {"to": "x@example.cn", "subject": "s", "body": "b"},
                                  case_id=case_id, now=clock.now())
        now = clock.now()
        for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
            assert outbox_job.drain(now)["failed"] == 1, attempt
            db.session.expire_all()
            row = db.session.get(OutboxItem, item.id)
            assert row.attempts == attempt
            if attempt < outbox.MAX_ATTEMPTS:  # not before its time: 1, 2, 4, 8 minutes later
                assert row.next_attempt_at - now == timedelta(minutes=2 ** (attempt - 1))
                assert outbox_job.drain(row.next_attempt_at - timedelta(seconds=1))["failed"] == 0
                now = row.next_attempt_at
        row = db.session.get(OutboxItem, item.id)
        assert row.incident_id is not None, (row.attempts, row.last_error)
        inc = db.session.get(Incident, row.incident_id)
        assert inc.kind == "outbox" and inc.case_id == case_id and inc.state == "open"
        assert outbox_job.drain(now + timedelta(days=1))["failed"] == 0  # held: not tried again
        db.session.expire_all()
        assert db.session.get(OutboxItem, item.id).attempts == outbox.MAX_ATTEMPTS
    finally:
        app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "", 25


def test_notifications_are_the_callers_own(client, auth_headers):
    with unit_of_work():
        notifications.send([user("zj-reviewer").id], "task", "新任务：组织单位审核")
    mine = client.get("/api/v1/notifications", headers=auth_headers("zj-reviewer")).get_json()
    assert mine["unread"] == 1 and mine["items"][0]["title"] == "新任务：组织单位审核"
    other = client.get("/api/v1/notifications", headers=auth_headers("acme")).get_json()
    assert other == {"items": [], "unread": 0}
    nid = mine["items"][0]["id"]
    r = client.post("/api/v1/notifications/read", json={"ids": [nid]}, headers=auth_headers("acme"))
    assert r.get_json()["marked"] == 0  # another user's notice: nothing changes
    r = client.post("/api/v1/notifications/read", json={"ids": [nid]}, headers=auth_headers("zj-reviewer"))
    assert r.get_json()["marked"] == 1
    assert client.get("/api/v1/notifications", headers=auth_headers("zj-reviewer")).get_json()["unread"] == 0
    r = client.put("/api/v1/notifications/prefs", json={"email": {"task": True}}, headers=auth_headers("acme"))
    assert r.status_code == 200 and r.get_json()["email"]["task"] is True
    assert client.put("/api/v1/notifications/prefs", json={"email": {"nope": 1}},
                      headers=auth_headers("acme")).status_code == 422
    assert db.session.scalar(select(Notification.id).where(Notification.user_id == user("acme").id)) is None


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="its own SQLite database file")
def test_sigkill_between_commit_and_send_sends_exactly_once_after_restart(tmp_path):
    sink = SmtpSink()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'outbox.sqlite3'}", SECRET_KEY="outbox-test",
               TIERFLOW_INSTANCE=str(tmp_path), UPLOAD_DIR=str(tmp_path / "uploads"), SMTP_HOST="127.0.0.1",
               SMTP_PORT=str(sink.port))
    env.pop("TEST_DATABASE_URL", None)
    flask = [str(VENV / "python"), "-m", "flask", "--app", "wsgi"]
    try:
        r = subprocess.run([*flask, "db", "upgrade", "heads"], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        with sqlite3.connect(tmp_path / "outbox.sqlite3") as con:  # a step's transaction, committed
            con.execute("INSERT INTO outbox (key, kind, payload, attempts, created_at) VALUES (?, ?, ?, 0, ?)",
                        ("notification:sigkill", "email", json.dumps({"to": "zj@example.cn", "subject": "退回修改",
                                                                      "body": "请补充材料。"}),
                         "2026-11-25 02:00:00"))
        sink.hold.set()  # the mail server hangs: the worker waits inside the send
        worker = subprocess.Popen([*flask, "outbox", "drain"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        assert sink.held.wait(60), "the worker never reached the mail server"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        sink.hold.clear()
        assert sink.messages == []
        for _run in range(2):  # the restarted worker sends it; a further drain sends nothing more
            r = subprocess.run([*flask, "outbox", "drain"], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=120)
            assert r.returncode == 0, r.stderr[-2000:]
        assert len(sink.messages) == 1
        assert b"Message-ID: <notification.sigkill@tierflow>" in sink.messages[0]
        with sqlite3.connect(tmp_path / "outbox.sqlite3") as con:
            sent, attempts = con.execute("SELECT sent_at, attempts FROM outbox").fetchone()
        assert sent is not None and attempts == 1
    finally:
        sink.close()
