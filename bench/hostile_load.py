"""Load test with one hostile diagram deployed (issue 17 "Done when"): ordinary completions keep their p95.

    .venv/bin/python -m bench.hostile_load [--n 600] [--threads 4] [--hostile 2] [--workers 3]

A fresh SQLite database gets N basic cases (one enterprise each, self-assessment open). Then an administrator
deploys a new version of the basic diagram whose review gateway condition burns CPU inside builtins
(`sum(map(sum, [range(10**6)] * 10**6))`, no Python line runs: the old tracer never saw it), and H cases on that
version are brought to the review. The real server starts as the run command starts it (scripts/serve.sh:
gunicorn, W processes of 4 gthread threads). In one run:
  phase 1: T client threads complete the first half of the self-assessments (the ordinary work), alone;
  phase 2: they complete the second half while H client threads keep completing the hostile reviews in a loop
           (each answers 422 after the 2 s limit, the task stays open).
It prints each phase's p50/p95 completion latency, the ratio of the p95s (target <= 2), the hostile answers (status,
time) and whether every gunicorn worker process is the one it started with (no worker lost).
"""
import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.http import _free_port, prepare, wait_for_port
from bench.rows import emit, row

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_CONDITION = b"sum(map(sum, [range(10**6)] * 10**6)) == 0 and decision == &quot;approve&quot;"


def prepare_hostile(url: str, tmp: str, h: int) -> tuple[str, list[int]]:
    """Deploy the hostile version; h cases on it waiting for review; (reviewer token, review task ids)."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Enterprise, User
    from app.services import auth, cases, tasks, versions
    from app.services.credit_code import with_check_char
    from app.uow import unit_of_work
    from tests.factories import GOOD_ASSESSMENT

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "UPLOAD_DIR": f"{tmp}/files", "API_TOKEN_HOURS": 24 * 365})
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        xml = (ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes()
        with unit_of_work():
            versions.deploy(admin, "basic_self_assessment", xml.replace(b'decision == "approve"', HOSTILE_CONDITION),
                            "hostile: CPU inside builtins")
        with unit_of_work():
            ents = [Enterprise(credit_code=with_check_char(f"9133020{i:010d}"), name=f"hostile {i}",
                               industry="equipment", province_code="330000", legal_person=True, declarations={})
                    for i in range(h)]
            db.session.add_all(ents)
            db.session.flush()
            users = [User(username=f"hostile-{e.id}", password_hash="x", role="enterprise", enterprise_id=e.id)
                     for e in ents]
            db.session.add_all(users)
        reviews = []
        for u in users:
            with unit_of_work():
                case = cases.create_case(u, "basic", 2026)
            (t,) = cases.open_tasks(case)
            with unit_of_work():
                tasks.complete(u, t.id, GOOD_ASSESSMENT)
            (review,) = cases.open_tasks(case)
            reviews.append(review.id)
        with unit_of_work():
            reviewer = db.session.scalar(select(User).where(User.username == "zj-reviewer"))
            token = auth.issue_token(reviewer)
        return token, reviews


def start(url: str, port: int, tmp: str, workers: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, UPLOAD_DIR=f"{tmp}/files", SECRET_KEY="bench", TIERFLOW_INSTANCE=tmp)
    cmd = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "gthread", "--threads", "4",
           "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--access-logfile", "/dev/null", "wsgi:app"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    return wait_for_port(proc, port, 400)


def workers_of(proc) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    return {int(p) for p in out}


def complete_all(port, jobs, threads, body) -> tuple[list[float], dict]:
    lock, it, lat, statuses = threading.Lock(), iter(jobs), [], {}

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                job = next(it, None)
            if job is None:
                break
            token, task_id = job
            t0 = time.perf_counter()
            conn.request("POST", f"/api/v1/tasks/{task_id}/complete", body=json.dumps({"data": body}),
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            dt = time.perf_counter() - t0
            with lock:
                lat.append(dt)
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return lat, statuses


def hostile_loop(port, token, task_id, stop: threading.Event, out: list):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        t0 = time.perf_counter()
        conn.request("POST", f"/api/v1/tasks/{task_id}/complete",
                     body=json.dumps({"data": {"decision": "approve", "comment": "x"}}),
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        out.append((resp.status, time.perf_counter() - t0, body[:300]))
    conn.close()


def p(values, q):
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--hostile", type=int, default=2)
    ap.add_argument("--workers", type=int, default=3)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tierflow-hostile-")
    url = f"sqlite:///{tmp}/hostile.sqlite3"
    sys.path.insert(0, str(ROOT))
    from tests.factories import GOOD_ASSESSMENT

    jobs = prepare(url, args.n, tmp)
    reviewer, reviews = prepare_hostile(url, tmp, args.hostile)
    port = _free_port()
    proc = start(url, port, tmp, args.workers)
    try:
        time.sleep(1.0)  # workers import the app and start their sandbox children
        before = workers_of(proc)
        half = len(jobs) // 2
        alone, s1 = complete_all(port, jobs[:half], args.threads, GOOD_ASSESSMENT)
        stop, hostile = threading.Event(), []
        attackers = [threading.Thread(target=hostile_loop, args=(port, reviewer, t, stop, hostile))
                     for t in reviews]
        for t in attackers:
            t.start()
        time.sleep(0.5)  # the first hostile requests are running
        loaded, s2 = complete_all(port, jobs[half:], args.threads, GOOD_ASSESSMENT)
        stop.set()
        for t in attackers:
            t.join()
        after = workers_of(proc)
        alive = proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    a95, l95 = p(alone, 95), p(loaded, 95)
    h_status = {}
    for status, _dt, _b in hostile:
        h_status[status] = h_status.get(status, 0) + 1
    h_times = [dt for _s, dt, _b in hostile]
    print(f"server: gunicorn -w {args.workers} gthread 4 threads, SQLite; {args.threads} client threads; "
          f"{args.n} completions, {args.hostile} hostile clients")
    print(f"ordinary completions alone:        n={len(alone):4d} p50 {p(alone, 50) * 1000:6.1f} ms  "
          f"p95 {a95 * 1000:6.1f} ms  statuses {s1}")
    print(f"ordinary completions with hostile: n={len(loaded):4d} p50 {p(loaded, 50) * 1000:6.1f} ms  "
          f"p95 {l95 * 1000:6.1f} ms  statuses {s2}")
    print(f"p95 ratio (with / without): {l95 / a95:.2f}  (target <= 2)")
    print(f"hostile requests: {len(hostile)}  statuses {h_status}  time min {min(h_times):.2f} s "
          f"max {max(h_times):.2f} s")
    if hostile:
        print(f"hostile answer: {hostile[0][2].decode(errors='replace')}")
    print(f"gunicorn workers: {sorted(before)} before, {sorted(after)} after; server alive: {alive}; "
          f"worker lost: {'no' if before == after and alive else 'YES'}")
    emit(row("p95 of ordinary task completions with a hostile diagram deployed and attacked in parallel",
             "python -m bench.hostile_load", f"{l95 * 1000:.1f} ms (ratio {l95 / a95:.2f}); hostile: "
             f"{h_status}, {min(h_times):.2f}-{max(h_times):.2f} s; workers lost: "
             f"{0 if before == after and alive else len(before - after)}",
             f"{a95 * 1000:.1f} ms without hostile requests", "ratio <= 2, no worker lost",
             "met" if l95 / a95 <= 2 and before == after and alive else "not met"))


if __name__ == "__main__":
    main()
