"""The reviewer's inbox *page* (issue 4): rows, total and the counts per filter value, with 100,000 cases stored.

    .venv/bin/python -m bench.inbox_page [--cases 100000] [--runs 30]

Rows are written straight into the migrated schema; one open review task per case, spread over six provinces'
enterprises, a third of them open. The figures are `services.inbox.inbox_page` for the Zhejiang reviewer:
"cold" with the counts computed (exact, as every queue up to `inbox.CACHE_ABOVE` tasks gets them), "warm" with the
counts served from the one-minute cache that queues above that size use; then the whole `GET /inbox` (session,
counts, template) in Chinese and English. The floor is the inbox's own first page (`services.tasks.inbox`: count +
50 rows) in the same run.
"""
import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone

from bench.rows import emit, row


def _q(xs, f):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * f))]


def store_review_queue(n: int, first_id: int | None = None):
    """N basic cases in review written straight into the migrated schema of the current app (demo loaded): one
    review task per case over the demo enterprises, a third of them open, due from -100 h to +2000 h. Returns now."""
    from sqlalchemy import insert, select, text

    from app.extensions import db
    from app.models import Campaign, Case, Enterprise, HumanTask, ProcessVersion

    ents = [(e.id, e.province_code, e.city_code) for e in db.session.scalars(select(Enterprise))]
    camp = db.session.scalar(select(Campaign.id))
    pv = db.session.scalar(select(ProcessVersion.id))
    if first_id is None:
        first_id = (db.session.scalar(select(Case.id).order_by(Case.id.desc())) or 0) + 1
    now = datetime.now(timezone.utc)
    rnd = random.Random(1)
    cases, rows = [], []
    for i in range(first_id, first_id + n):
        ent, prov, city = rnd.choice(ents)
        cases.append(dict(id=i, enterprise_id=ent, campaign_id=camp, tier="basic", status="in_review",
                          province_code=prov, city_code=city, soe_group_key=None, process_version_id=pv, state="{}",
                          revisions=0, event_seq=0, last_hash="0" * 64, lock_version=1, created_at=now,
                          updated_at=now))
        rows.append(dict(case_id=i, task_uuid=str(uuid.UUID(int=rnd.getrandbits(128))),
                         element="organizer_review", title="组织单位审核", title_en="Review",
                         form="basic_review.json", role="provincial_reviewer", scope=f"province:{prov}",
                         province_code=prov, city_code=city,
                         state=rnd.choice(["open", "completed", "completed"]), tier="basic",
                         due_at=now + timedelta(hours=rnd.randint(-100, 2000)), created_at=now))
    if cases:
        db.session.execute(insert(Case), cases)
        db.session.execute(insert(HumanTask), rows)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return now


def _password(username: str) -> str:
    import yaml

    from app.config import ROOT
    users = yaml.safe_load((ROOT / "app" / "data" / "demo.yaml").read_text(encoding="utf-8"))["users"]
    return next(u["password"] for u in users if u["username"] == username)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=30)
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="tierflow-inbox-page-")
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import User
    from app.services import demo, inbox, tasks

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/b.sqlite3", "UPLOAD_DIR": f"{tmp}/files",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade(revision="heads")
        demo.load_demo()
        db.session.commit()
        now = store_review_queue(args.cases)
        reviewer = db.session.scalar(select(User).where(User.username == "zj-reviewer"))
        floor = []
        for _ in range(args.runs):
            t = time.perf_counter()
            tasks.inbox(reviewer)
            floor.append((time.perf_counter() - t) * 1000)
        print(f"stored: {args.cases} cases; floor tasks.inbox (count + 50 rows): "
              f"p50 {statistics.median(floor):.1f} ms, p95 {_q(floor, .95):.1f} ms")
        for label, q in (("default", {}), ("city filter", {"region": "330200"}), ("page 20", {"page": "20"}),
                         ("due before", {"due_before": (now + timedelta(days=5)).date().isoformat()})):
            f = inbox.Filters.parse(q)
            for mode in ("cold", "warm"):
                times = []
                for _ in range(args.runs):
                    db.session.expire_all()
                    if mode == "cold":
                        inbox._counts_cache.clear()
                    inbox.CACHE_ABOVE = 50_000 if mode == "cold" else 0
                    t = time.perf_counter()
                    page = inbox.inbox_page(reviewer, f)
                    times.append((time.perf_counter() - t) * 1000)
                print(f"inbox page {label:<12} {mode}: {page.total:6d} rows, p50 {statistics.median(times):6.1f} ms, "
                      f"p95 {_q(times, .95):6.1f} ms")
                if label == "default" and mode == "cold":
                    service = (page.total, times)
        # the whole HTTP page as the reviewer's browser gets it: session, query, counts, template, both languages
        inbox.CACHE_ABOVE = 50_000
        client = app.test_client()
        client.post("/login", data={"username": "zj-reviewer", "password": _password("zj-reviewer")})
        for lang in ("zh", "en"):
            client.post(f"/lang/{lang}")
            client.get("/inbox")  # templates compiled once per process
            times = []
            for _ in range(args.runs):
                inbox._counts_cache.clear()
                t = time.perf_counter()
                r = client.get("/inbox")
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.status_code
            print(f"GET /inbox ({lang}) cold, {len(r.data) // 1024} KB: p50 {statistics.median(times):6.1f} ms, "
                  f"p95 {_q(times, .95):6.1f} ms")
            if lang == "zh":
                http = times
        floor_s = f"tasks.inbox (count + 50 rows): p50 {statistics.median(floor):.1f} ms, p95 {_q(floor, .95):.1f} ms"
        cmd = f".venv/bin/python -m bench.inbox_page --cases {args.cases}"
        emit(row(f"a provincial reviewer's inbox page with its exact counts per filter value (service), "
                 f"{args.cases:,} cases stored, a {service[0]:,}-task queue", cmd,
                 f"p50 {statistics.median(service[1]):.1f} ms, p95 {_q(service[1], .95):.1f} ms", floor_s,
                 "well under 100 ms", "met" if _q(service[1], .95) < 50 else "not met"),
             row("the same page as the browser gets it: GET /inbox (session, counts, Chinese template)", cmd,
                 f"p50 {statistics.median(http):.1f} ms, p95 {_q(http, .95):.1f} ms", floor_s,
                 "well under 100 ms", "met" if _q(http, .95) < 50 else "not met"))


if __name__ == "__main__":
    main()
