"""Faults: the real server killed with SIGKILL at random moments under load loses nothing it acknowledged and
duplicates nothing; a database that refuses writes (read-only, full) answers a clear 503 and keeps no half step.

The kill test runs gunicorn (2 workers) on 127.0.0.1 with its own SQLite file and instance directory."""
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.config import ROOT
from app.extensions import db
from app.models import CaseEvent, HumanTask
from tests.factories import GOOD_ASSESSMENT
from tests.security.helpers import PASSWORDS, api_token

VENV = Path(sys.executable).parent
KILLS = int(os.environ.get("FAULT_KILLS", "5"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path):
        self.port = _free_port()
        self.env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp / 'fault.sqlite3'}", SECRET_KEY="fault-test",
                        TIERFLOW_INSTANCE=str(tmp), UPLOAD_DIR=str(tmp / "uploads"),
                        PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", LOGIN_MAX_FAILURES_PER_ADDRESS="0")
        self.env.pop("TEST_DATABASE_URL", None)
        self.proc = None

    def flask(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run([str(VENV / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)

    def start(self):
        self.proc = subprocess.Popen([str(VENV / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.port}",
                                      "--graceful-timeout", "1", "wsgi:app"], cwd=ROOT, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/openapi.json", timeout=2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("gunicorn did not start")

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)  # master and workers, mid-request
        self.proc.wait(timeout=10)


def _call(port, method, path, token=None, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def _token(port, username):
    status, out = _call(port, "POST", "/auth/token", body={"username": username, "password": PASSWORDS[username]})
    assert status == 200, out
    return out["token"]


@pytest.mark.skipif(not (VENV / "gunicorn").exists(), reason="gunicorn not installed")
@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="its own SQLite server: once, in the SQLite pass")
def test_sigkill_under_load_loses_and_duplicates_nothing(tmp_path):
    server = Server(tmp_path)
    for args in (("db", "upgrade", "heads"), ("demo",)):
        r = server.flask(*args)
        assert r.returncode == 0, r.stderr[-2000:]
    server.start()
    tokens = {u: _token(server.port, u) for u in ("acme", "zj-reviewer")}
    acked: list[int] = []  # task ids whose completion was answered 200
    unknown = 0
    stop = threading.Event()
    down = threading.Event()

    def client_loop():
        nonlocal unknown
        while not stop.is_set():
            if down.is_set():
                time.sleep(0.01)
                continue
            try:
                progressed = False
                for who, data in (("acme", GOOD_ASSESSMENT), ("zj-reviewer", {"decision": "reject",
                                                                            "review_comment": "故障测试"})):
                    status, inbox = _call(server.port, "GET", "/tasks", tokens[who])
                    if status != 200:
                        continue
                    for t in inbox["items"]:
                        status, _out = _call(server.port, "POST", f"/tasks/{t['id']}/complete", tokens[who],
                                             {"data": data})
                        if status == 200:
                            acked.append(t["id"])
                        progressed = True
                if not progressed:
                    _call(server.port, "POST", "/cases", tokens["acme"], {"tier": "basic", "campaign": 2026})
            except (OSError, ValueError):
                unknown += 1  # the server died under this request: its outcome is unknown, not acknowledged
                time.sleep(0.02)

    worker = threading.Thread(target=client_loop)
    worker.start()
    rng = random.Random(9)
    started = time.monotonic()
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.3, 1.5))
            down.set()
            server.kill()
            server.start()
            down.clear()
        time.sleep(0.5)
    finally:
        stop.set()
        worker.join(timeout=30)
        if server.proc and server.proc.poll() is None:
            server.kill()
    elapsed = time.monotonic() - started
    assert len(acked) >= 20, f"too little load: {len(acked)} acknowledged completions"

    conn = sqlite3.connect(tmp_path / "fault.sqlite3")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for task_id in acked:
            state, uuid = conn.execute("SELECT state, task_uuid FROM human_tasks WHERE id = ?", (task_id,)).fetchone()
            assert state == "completed", task_id
            n = conn.execute("SELECT count(*) FROM case_events WHERE action = 'task.completed' AND task_uuid = ?",
                             (uuid,)).fetchone()[0]
            assert n == 1, (task_id, n)
        dup = conn.execute("SELECT task_uuid, count(*) FROM case_events WHERE action = 'task.completed' "
                           "GROUP BY task_uuid HAVING count(*) > 1").fetchall()
        assert dup == []
        cases_n = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    finally:
        conn.close()
    r = server.flask("audit", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout
    print(f"\nkill test: {KILLS} SIGKILLs in {elapsed:.1f} s, {len(acked)} acknowledged completions all present "
          f"exactly once, {unknown} requests cut off, {cases_n} chains verified")


# --- a database that refuses writes -------------------------------------------------------------------------------

def _snapshot():
    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(CaseEvent)),
            tuple(db.session.execute(select(HumanTask.id, HumanTask.state).order_by(HumanTask.id)).all()))


def _sqlite_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("simulated with SQLite's read-only mode and page limit")


def test_read_only_database_answers_503_and_writes_nothing(app, client):
    _sqlite_only(app)
    h = api_token(client, "acme")
    case = client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026}, headers=h).get_json()
    task_id = case["open_tasks"][0]["id"]
    before = _snapshot()
    db.session.remove()
    db.engine.dispose()

    from sqlalchemy import event

    def _read_only(dbapi_conn, _record):
        dbapi_conn.execute("PRAGMA query_only = ON")  # what a read-only file or mount does to every write

    event.listen(db.engine, "connect", _read_only)
    try:
        r = client.post(f"/api/v1/tasks/{task_id}/complete", headers=h, json={"data": GOOD_ASSESSMENT})
        assert r.status_code == 503 and r.get_json()["error"] == "unavailable", r.get_json()
        assert "database" in r.get_json()["message"]
        r = client.put(f"/api/v1/tasks/{task_id}/draft", headers=h, json={"data": {"outcomes": "草稿"}})
        assert r.status_code == 503
        assert client.get(f"/api/v1/cases/{case['id']}", headers=h).status_code == 200  # reads still work
    finally:
        event.remove(db.engine, "connect", _read_only)
        db.session.remove()
        db.engine.dispose()
    assert _snapshot() == before


def test_full_database_answers_503_and_writes_nothing(app, client):
    _sqlite_only(app)
    h = api_token(client, "acme")
    case = client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026}, headers=h).get_json()
    task_id = case["open_tasks"][0]["id"]
    before = _snapshot()
    db.session.remove()
    db.engine.dispose()
    with db.engine.connect() as conn:  # no free pages left to reuse
        conn.exec_driver_sql("VACUUM")
    db.engine.dispose()

    from sqlalchemy import event

    def _full(dbapi_conn, _record):
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")  # not one page more: the disk is full

    event.listen(db.engine, "connect", _full)
    try:
        big = dict(GOOD_ASSESSMENT, outcomes="满" * 4000,  # a step that needs new pages
                   construction={k: "满" * 4000 for k in GOOD_ASSESSMENT["construction"]})
        r = client.post(f"/api/v1/tasks/{task_id}/complete", headers=h, json={"data": big})
        assert r.status_code == 503, r.get_json()
        assert r.get_json()["error"] == "unavailable" and "full" in r.get_json()["message"]
    finally:
        event.remove(db.engine, "connect", _full)
        db.session.remove()
        db.engine.dispose()
    assert _snapshot() == before
    # with room again the same step goes through
    r = client.post(f"/api/v1/tasks/{task_id}/complete", headers=h, json={"data": GOOD_ASSESSMENT})
    assert r.status_code == 200, r.get_json()


def test_database_gone_answers_503_json(app, client, monkeypatch):
    """A read that fails in the database (not inside a unit of work) is a 503 JSON error, not a 500 page."""
    h = api_token(client, "acme")
    from sqlalchemy.exc import OperationalError

    from app.services import cases

    def boom(*a, **k):
        raise OperationalError("SELECT 1", {}, Exception("unable to open database file"))

    monkeypatch.setattr(cases, "list_cases", boom)
    r = client.get("/api/v1/cases", headers=h)
    assert r.status_code == 503 and r.get_json()["error"] == "unavailable"
    assert db.session.execute(text("SELECT 1")).scalar() == 1
