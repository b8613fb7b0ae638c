"""Task completions per second over HTTP, with the load generator on the same machine.

    .venv/bin/python -m bench.http [--n 1500] [--threads 8] [--server run|flask|gunicorn] [--workers 3]
                                   [--server-threads 4] [--db URL]

A fresh database (SQLite file by default, or --db, e.g. a PostgreSQL URL) gets N basic cases, one enterprise user
each, and a bearer token per user. The server runs as a subprocess on 127.0.0.1: `run` (the default) is exactly the
server of the README's run command (scripts/serve.sh: gunicorn, --workers processes of gthread workers), `flask`
the development server, `gunicorn` plain sync workers (or gthread with --server-threads). T client threads complete
the N self-assessments through `POST /api/v1/tasks/{id}/complete`, each task once. The floor, measured against the
same server in the same run, is `GET /api/v1/me` (authentication and JSON, no workflow).
"""
import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.rows import emit, row
from bench.world import fresh_database

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, n: int, tmp: str) -> list[tuple[str, int]]:
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Campaign, Enterprise, HumanTask, User
    from app.services import auth, cases
    from app.services.credit_code import with_check_char
    from app.uow import unit_of_work

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "UPLOAD_DIR": f"{tmp}/files", "API_TOKEN_HOURS": 24 * 365})
    with app.app_context():
        fresh_database(url)
        with unit_of_work():
            for i in range(n):
                db.session.add(Enterprise(credit_code=with_check_char(f"9133010{i:010d}"), name=f"bench {i}",
                                          industry="equipment", province_code="330000", legal_person=True,
                                          declarations={}))
        with unit_of_work():
            ents = list(db.session.scalars(select(Enterprise).where(Enterprise.name.like("bench %"))))
            users = [User(username=f"bench-{e.id}", password_hash="x", role="enterprise", enterprise_id=e.id)
                     for e in ents]
            db.session.add_all(users)
        year = db.session.scalar(select(Campaign.year).where(Campaign.year == 2026))
        out = []
        with unit_of_work():
            for u in users:
                cases.create_case(u, "basic", year)
        with unit_of_work():
            for u in users:
                (task_id,) = db.session.scalars(select(HumanTask.id).where(HumanTask.scope == u.scope,
                                                                           HumanTask.state == "open"))
                out.append((auth.issue_token(u), task_id))
        return out


def start_server(kind: str, workers: int, url: str, port: int, tmp: str, threads: int = 1) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, UPLOAD_DIR=f"{tmp}/files", SECRET_KEY="bench", TIERFLOW_INSTANCE=tmp)
    venv = ROOT / ".venv" / "bin"
    if kind == "run":  # exactly the server of the README's run command (scripts/serve.sh)
        env.update(PORT=str(port), WEB_WORKERS=str(workers), ACCESS_LOG="/dev/null")
        cmd = ["bash", str(ROOT / "scripts" / "serve.sh")]
    elif kind == "gunicorn":
        cmd = [str(venv / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
               *(["-k", "gthread", "--threads", str(threads)] if threads > 1 else []), "wsgi:app"]
    else:
        cmd = [str(venv / "flask"), "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    return wait_for_port(proc, port, 200)


def wait_for_port(proc, port: int, tries: int):
    """`proc` once something listens on 127.0.0.1:`port` (polled every 50 ms, `tries` times)."""
    for _ in range(tries):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def rss_mb(proc: subprocess.Popen) -> float:
    """Resident memory of the server and its workers (children), from /proc."""
    total = 0
    pids = [proc.pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        pids += [int(p) for p in children]
    except FileNotFoundError:
        pass
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def drive(port: int, jobs: list, threads: int, method: str, path_of, body_of) -> tuple[float, int, dict]:
    """Run the jobs over `threads` keep-alive connections; (seconds, successes, status counts)."""
    lock = threading.Lock()
    it = iter(jobs)
    statuses: dict = {}
    ok = [0]

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                job = next(it, None)
            if job is None:
                break
            token, task_id = job
            body = body_of(task_id)
            conn.request(method, path_of(task_id), body=json.dumps(body) if body is not None else None,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            with lock:
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
                ok[0] += resp.status == 200
        conn.close()

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - t0, ok[0], statuses


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1500)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--server", choices=["run", "flask", "gunicorn"], default="run",
                   help="run: as `make run` serves (scripts/serve.sh: gunicorn gthread); flask: the development server")
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--db", default=None)
    p.add_argument("--server-threads", type=int, default=1, help="gunicorn: threads per worker (gthread, keep-alive)")
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="tierflow-http-")
    url = args.db or f"sqlite:///{tmp}/http.sqlite3"
    sys.path.insert(0, str(ROOT))
    from tests.factories import GOOD_ASSESSMENT

    jobs = prepare(url, args.n, tmp)
    port = _free_port()
    proc = start_server(args.server, args.workers, url, port, tmp, args.server_threads)
    try:
        me_s, me_ok, _ = drive(port, jobs, args.threads, "GET", lambda _t: "/api/v1/me", lambda _t: None)
        done_s, done_ok, statuses = drive(port, jobs, args.threads, "POST",
                                          lambda t: f"/api/v1/tasks/{t}/complete", lambda _t: {"data": GOOD_ASSESSMENT})
        rss = rss_mb(proc)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    server = ("the run command's server (scripts/serve.sh: gunicorn gthread, 4 threads)" if args.server == "run"
              else args.server) + (f" -w {args.workers}" if args.server in ("run", "gunicorn") else "") + (
        f" -k gthread --threads {args.server_threads}" if args.server == "gunicorn" and args.server_threads > 1 else "")
    db_kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"server: {server} on {db_kind}; {args.threads} client threads on the same machine; {args.n} tasks")
    print(f"{'task completions over HTTP':<34} {done_ok / done_s:8.0f}/s  ({done_ok} of {args.n} completed, "
          f"statuses {statuses})   floor GET /api/v1/me: {me_ok / me_s:.0f}/s   target >= 300/s on SQLite")
    print(f"server RSS after the run: {rss:.0f} MB")
    rate = done_ok / done_s
    sqlite = db_kind == "SQLite"
    cmd = f".venv/bin/python -m bench.http --n {args.n} --server {args.server}" + (
        f" --workers {args.workers}" if args.server in ("run", "gunicorn") else "") + (
        f" --server-threads {args.server_threads}" if args.server_threads > 1 else "") + ("" if sqlite else " --db URL")
    emit(row(f"task completions over HTTP, {db_kind}, {server}, {args.threads} client threads on the same machine",
             cmd, f"{rate:.0f}/s ({done_ok} of {args.n} completed once); server RSS {rss:.0f} MB",
             f"GET /api/v1/me on the same server: {me_ok / me_s:.0f}/s",
             ">= 300/s on SQLite" if sqlite else "more than on SQLite",
             ("met" if rate >= 300 else "not met") if sqlite else ""))


if __name__ == "__main__":
    main()
