"""Bulk creation of basic cases (the provincial onboarding path, issue 8), beside its floors.

    .venv/bin/python -m bench.bulk_create [--n 500000] [--batch 5000] [--sample 500]

A fresh SQLite file (WAL, synchronous=NORMAL): migrated, the demo world loaded, then N synthetic enterprises spread
over the provinces (valid GB 32100 credit codes) inserted with one Core executemany per 50,000. The figure is
`jobs.onboarding.open_basic(admin, 2025)` over all of them (what `flask cases open-basic --campaign 2025` runs): one
committed transaction per batch writing the case rows (with their serialized state), the enterprises' inbox rows
and the hash-chained `case.created` events. Floors, measured in the same run:
1. the same rows, read back from the measured database outside the timing, written with plain `sqlite3`
   executemany (pre-built tuples, no Python business logic) into a copy of the database as it was before the run,
   one transaction per batch;
2. `cases.create_case` one by one (one committed transaction each, as the API does) on a sample in another copy,
   extrapolated to N.
"""
import argparse
import os
import resource
import shutil
import sqlite3
import tempfile
import time
from datetime import datetime, timezone

CAMPAIGN = 2025
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
TABLES = ("cases", "human_tasks", "case_events")
INDUSTRIES = ("equipment", "automotive", "electronics", "textiles", "food")


def _app(path: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       "UPLOAD_DIR": os.path.join(os.path.dirname(path), "files")})


def _checkpoint(path: str) -> int:
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return os.path.getsize(path)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def setup(tmp: str, n: int) -> str:
    """The database before the run: migrated, demo loaded, n enterprises."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Enterprise, Region
    from app.services import demo
    from app.services.credit_code import with_check_char
    from app.uow import unit_of_work

    path = os.path.join(tmp, "bench.sqlite3")
    app = _app(path)
    with app.app_context():
        upgrade(revision="heads")
        with unit_of_work():
            demo.load_demo()
        provinces = list(db.session.scalars(select(Region.code).where(Region.kind == "province").order_by(Region.code)))
        table = Enterprise.__table__
        for start in range(0, n, 50_000):
            rows = []
            for i in range(start, min(n, start + 50_000)):
                prov = provinces[i % len(provinces)]
                rows.append({"credit_code": with_check_char(f"91{prov}{i:09d}"), "name": f"bulk factory {i}",
                             "legal_person": True, "industry": INDUSTRIES[i % len(INDUSTRIES)],
                             "province_code": prov, "city_code": None, "soe_group_key": None, "declarations": {}})
            with unit_of_work():
                db.session.execute(insert(table), rows)
        db.session.remove()
        db.engine.dispose()
    _checkpoint(path)
    return path


def measure_bulk(path: str, batch: int) -> dict:
    from sqlalchemy import select

    from app.extensions import db
    from app.jobs import onboarding
    from app.models import User

    before = _checkpoint(path)
    app = _app(path)
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        t0, c0 = time.perf_counter(), time.process_time()
        res = onboarding.open_basic(admin, CAMPAIGN, batch=batch)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        db.session.remove()
        db.engine.dispose()
    after = _checkpoint(path)
    con = sqlite3.connect(path)
    state_avg = con.execute("SELECT avg(length(state)) FROM cases").fetchone()[0]
    con.close()
    return {"seconds": seconds, "cpu": cpu, "created": res.created, "rows": res.rows_written,
            "by_table": dict(res.rows), "bytes": after - before, "state_avg": state_avg, "batches": res.batches}


def measure_floor(src: str, dst: str, batch: int) -> tuple[float, float]:
    """Plain sqlite3: the measured run's rows, batch by batch, read outside the timing and inserted inside it."""
    s = sqlite3.connect(src)
    d = sqlite3.connect(dst, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        d.execute(f"PRAGMA {pragma}")
    cols = {t: [r[1] for r in s.execute(f"PRAGMA table_info({t})")] for t in TABLES}
    sql = {t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})" for t, c in cols.items()}
    lo, hi = s.execute("SELECT min(id), max(id) FROM cases").fetchone()
    timed = cpu = 0.0
    for first in range(lo, hi + 1, batch):
        last = first + batch - 1
        rows = {
            "cases": s.execute(f"SELECT {', '.join(cols['cases'])} FROM cases WHERE id BETWEEN ? AND ?",
                               (first, last)).fetchall(),
            "human_tasks": s.execute(f"SELECT {', '.join(cols['human_tasks'])} FROM human_tasks "
                                     "WHERE case_id BETWEEN ? AND ?", (first, last)).fetchall(),
            "case_events": s.execute(f"SELECT {', '.join(cols['case_events'])} FROM case_events "
                                     "WHERE case_id BETWEEN ? AND ?", (first, last)).fetchall(),
        }
        t0, c0 = time.perf_counter(), time.process_time()
        d.execute("BEGIN")
        for t in TABLES:
            d.executemany(sql[t], rows[t])
        d.execute("COMMIT")
        timed += time.perf_counter() - t0
        cpu += time.process_time() - c0
    s.close()
    d.close()
    return timed, cpu


def measure_create_case(path: str, sample: int) -> float:
    """Seconds per case of create_case, one committed transaction each, on the first `sample` enterprises."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Enterprise, User
    from app.services import cases
    from app.uow import unit_of_work

    app = _app(path)
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.username == "admin"))
        ids = list(db.session.scalars(select(Enterprise.id).where(Enterprise.name.like("bulk factory %"))
                                      .order_by(Enterprise.id).limit(sample)))
        db.session.remove()
        t0 = time.perf_counter()
        for eid in ids:
            admin = db.session.get(User, admin_id)
            with unit_of_work():
                cases.create_case(admin, "basic", CAMPAIGN, enterprise_id=eid)
            db.session.remove()
        per = (time.perf_counter() - t0) / len(ids)
        db.engine.dispose()
    return per


def run(n: int, batch: int = 5000, sample: int = 500, echo=print) -> dict:
    from app.services.clock import FixedClock, set_clock

    set_clock(FixedClock(NOW))
    tmp = tempfile.mkdtemp(prefix="tierflow-bench-bulk-")
    try:
        t0 = time.perf_counter()
        path = setup(tmp, n)
        floor_path, sample_path = os.path.join(tmp, "floor.sqlite3"), os.path.join(tmp, "sample.sqlite3")
        shutil.copy(path, floor_path)
        shutil.copy(path, sample_path)
        echo(f"setup: {n:,} enterprises in {time.perf_counter() - t0:.1f} s ({os.path.getsize(path):,} bytes); "
             f"peak RSS so far {_rss_mb():.0f} MB")
        bulk = measure_bulk(path, batch)
        bulk["rss_mb"] = _rss_mb()
        echo(f"bulk: {bulk['created']:,} cases, {bulk['rows']:,} rows {bulk['by_table']} in {bulk['seconds']:.1f} s "
             f"(CPU {bulk['cpu']:.1f} s), {bulk['batches']} batches; peak RSS {bulk['rss_mb']:.0f} MB")
        floor, floor_cpu = measure_floor(path, floor_path, batch)
        echo(f"floor (plain sqlite3 executemany of the same rows): {floor:.1f} s (CPU {floor_cpu:.1f} s)")
        per_case = measure_create_case(sample_path, min(sample, n))
        echo(f"create_case one by one: {per_case * 1000:.2f} ms per case ({min(sample, n)} cases)")
        return {"n": n, "batch": batch, "sample": min(sample, n), "bulk": bulk, "floor": floor,
                "floor_cpu": floor_cpu, "per_case": per_case}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def result_rows(r: dict) -> list[dict]:
    n, b = r["n"], r["bulk"]
    cmd = f".venv/bin/python -m bench.bulk_create --n {n} --batch {r['batch']}"
    secs, floor, rows = b["seconds"], r["floor"], b["rows"]
    extrapolated = r["per_case"] * n
    refs = (f"plain sqlite3 executemany of the same {rows:,} rows: {floor:.1f} s (CPU {r['floor_cpu']:.1f} s); "
            "create_case one by one: "
            f"{extrapolated:.0f} s (extrapolated from {r['sample']})")
    return [
        {"figure": f"bulk creation of {n:,} basic cases (case rows with state, inbox rows, chained events), "
                   f"{r['batch']:,} per transaction", "command": cmd,
         "measured": f"{secs:.1f} s (CPU {b['cpu']:.1f} s)",
         "floor": refs, "target": f"ratio to the sqlite3 floor: {secs / floor:.1f}"},
        {"figure": "bulk creation rate", "command": cmd,
         "measured": f"{b['created'] / secs:,.0f} cases/s, {rows / secs:,.0f} rows/s",
         "floor": f"sqlite3: {rows / floor:,.0f} rows/s; create_case: {1 / r['per_case']:,.0f} cases/s",
         "target": "-"},
        {"figure": "database size per basic case after bulk creation", "command": cmd,
         "measured": f"{b['bytes'] / max(b['created'], 1):,.0f} B (state {b['state_avg']:,.0f} B)", "floor": "-",
         "target": "-"},
    ]


def rows(n: int) -> list[dict]:
    """The figures of one run as rows for a combined table (keys figure, command, measured, floor, target)."""
    return result_rows(run(n, echo=lambda *_a: None))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=500_000)
    p.add_argument("--batch", type=int, default=5000)
    p.add_argument("--sample", type=int, default=500, help="create_case calls measured for the second reference")
    args = p.parse_args()
    res = run(args.n, args.batch, args.sample)
    print()
    for r in result_rows(res):
        print(f"{r['figure']:<95} {r['measured']}\n    floor: {r['floor']}\n    target: {r['target']}")
    from bench.rows import emit

    emit(*(dict(r, verdict="") for r in result_rows(res)))


if __name__ == "__main__":
    main()
