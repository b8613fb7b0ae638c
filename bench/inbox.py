"""A reviewer's inbox first page at national scale: 500,000 cases and 1,000,000 tasks stored.

    .venv/bin/python -m bench.inbox [--cases 500000] [--runs 300]

Rows are written straight into the migrated schema (bulk, one transaction), spread over the 31 provinces and all
roles' scopes the way a national basic-tier campaign would be. The figure is the service's inbox call
(`services.tasks.inbox`: count + first page, through SQLAlchemy) for the busiest provincial reviewer; the floor is
the same two SQL statements run with the sqlite3 module directly, in the same run.
"""
import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import datetime, timedelta

from bench.rows import emit, row


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=int, default=500_000)
    p.add_argument("--runs", type=int, default=300)
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="tierflow-inbox-")
    url = f"sqlite:///{tmp}/inbox.sqlite3"
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Region, User
    from app.services import demo, tasks
    from app.uow import unit_of_work

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "UPLOAD_DIR": f"{tmp}/files"})
    with app.app_context():
        upgrade(revision="heads")
        with unit_of_work():
            demo.load_demo()
        provinces = [r.code for r in db.session.scalars(select(Region).where(Region.kind == "province"))]
        ent_id = db.session.scalar(select(User.enterprise_id).where(User.username == "acme"))
        reviewer = db.session.scalar(select(User).where(User.username == "zj-reviewer"))
    rng = random.Random(7)
    t0 = time.perf_counter()
    con = sqlite3.connect(f"{tmp}/inbox.sqlite3")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    base = datetime(2026, 3, 1)
    case_rows, task_rows = [], []
    for i in range(1, args.cases + 1):
        # Zhejiang gets a large share, as a big manufacturing province would
        prov = "330000" if i % 10 < 2 else rng.choice(provinces)
        created = base + timedelta(minutes=i % 200_000)
        case_rows.append((i, ent_id, 1, "basic", "in_review", prov, None, 1, "", 0, 1, 1, "0" * 64, None, None,
                          created, created, None))
        due = created + timedelta(days=15 + i % 30)
        # two tasks per case: the enterprise's (completed) and the organizer's review (open)
        task_rows.append((i, f"e-{i}", "self_assessment", "填写基础级自评", None, "basic_self_assessment.json",
                          "enterprise", f"enterprise:{ent_id}", "completed", "basic", None, None, None, created,
                          created, None))
        task_rows.append((i, f"r-{i}", "organizer_review", "组织单位审核", None, "basic_review.json",
                          "provincial_reviewer", f"province:{prov}", "open", "basic", due, None, None, created,
                          None, None))
    con.execute("BEGIN")
    con.executemany("INSERT INTO cases (id, enterprise_id, campaign_id, tier, status, province_code, soe_group_key, "
                    "process_version_id, state, revisions, lock_version, event_seq, last_hash, next_timer_at, "
                    "created_by, created_at, updated_at, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    case_rows)
    con.executemany("INSERT INTO human_tasks (case_id, task_uuid, element, title, title_en, form, role, scope, state,"
                    " tier, due_at, claimed_by, draft, created_at, completed_at, completed_by) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", task_rows)
    con.execute("COMMIT")
    con.execute("ANALYZE")
    load_s = time.perf_counter() - t0
    n_tasks = con.execute("SELECT count(*) FROM human_tasks").fetchone()[0]
    n_cases = con.execute("SELECT count(*) FROM cases").fetchone()[0]

    scope = "province:330000"
    count_sql = ("SELECT count(*) FROM human_tasks WHERE role = ? AND scope = ? AND state = 'open'")
    page_sql = ("SELECT * FROM human_tasks WHERE role = ? AND scope = ? AND state = 'open' "
                "ORDER BY due_at, id LIMIT 50 OFFSET 0")
    floor = []
    for _ in range(args.runs):
        t = time.perf_counter()
        con.execute(count_sql, ("provincial_reviewer", scope)).fetchone()
        con.execute(page_sql, ("provincial_reviewer", scope)).fetchall()
        floor.append(time.perf_counter() - t)
    svc = []
    with app.app_context():
        actor = db.session.get(User, reviewer.id)
        for _ in range(args.runs):
            t = time.perf_counter()
            rows, total = tasks.inbox(actor, page=1)
            svc.append(time.perf_counter() - t)
        db.session.remove()
    plan = con.execute("EXPLAIN QUERY PLAN " + page_sql, ("provincial_reviewer", scope)).fetchall()

    def q(xs, f):
        xs = sorted(x * 1000 for x in xs)
        return xs[min(len(xs) - 1, int(len(xs) * f))]

    print(f"stored: {n_cases} cases, {n_tasks} tasks (bulk load {load_s:.1f} s); inbox of zj-reviewer: "
          f"{total} open tasks")
    print(f"{'figure':<46} {'p50':>9} {'p95':>9}   floor (sqlite3, same SQL) p50 / p95")
    print(f"{'inbox first page (count + 50 rows), service':<46} {statistics.median(svc) * 1000:8.2f}ms "
          f"{q(svc, .95):8.2f}ms   {statistics.median(floor) * 1000:.2f}ms / {q(floor, .95):.2f}ms   "
          "target p95 <= 50 ms")
    print("query plan:", "; ".join(str(r[-1]) for r in plan))
    size = os.path.getsize(f"{tmp}/inbox.sqlite3")
    print(f"database file: {size / 1e6:.0f} MB")
    p95 = q(svc, .95)
    emit(row(f"a reviewer's inbox first page (count + 50 rows), {n_cases:,} cases / {n_tasks:,} tasks stored, "
             f"{total:,} open in that inbox", f".venv/bin/python -m bench.inbox --cases {n_cases}",
             f"p50 {statistics.median(svc) * 1000:.1f} ms, p95 {p95:.1f} ms",
             f"same SQL through sqlite3: p50 {statistics.median(floor) * 1000:.1f} ms, p95 {q(floor, .95):.1f} ms",
             "p95 <= 50 ms", "met" if p95 <= 50 else "not met"))


if __name__ == "__main__":
    main()
