"""The process heatmap (issue 19) with 500,000 cases of one tier stored, beside its floors.

    .venv/bin/python -m bench.heatmap [--cases 500000] [--runs 30] [--reuse DIR] [--with-triggers]

A fresh SQLite file (migrated, the demo world loaded), then synthetic enterprises over every province (5% members of
ten central SOE groups) and excellent-tier cases over two campaigns, written straight into the schema with plain
`sqlite3` executemany: each case went through the diagram's user tasks up to a random step (application,
recommender's review, paper check, formal review, three expert reviews and their lead, three on-site checks and
their lead, national decision), every earlier task completed after a random time (a log-normal spread from minutes to
months; a due date 15 days after opening on the reviews) and the step it reached open, with the deadline timer of the
application or the review waiting beside it. As a bulk load (a restore) does: the summaries' triggers (migrations
0023, 0025) dropped during the load, `heatmap_cells` and `heatmap_range_cells` rebuilt from the rows after it and the
triggers created again (`--with-triggers` keeps them during the load: the same tables, slower).

Figures: `services.heatmap.heatmap` (what the API answers) per view, p50/p95 over --runs; beside each
- floor: the same aggregation over the summary table in plain SQL through `sqlite3` (the service's grouped scans,
  its percentile walk in Python), same file, same run; for a date range, over the day and month summary (the
  range's whole months and end days per scope, one UNION ALL);
- raw: the same figures computed from the inbox rows themselves in plain SQL (window functions for the exact
  nearest-rank median and p90), fewer runs — what the summary table saves. Its counts are checked against the
  service's (passed and waiting per element must be equal).
Target: p95 <= 200 ms.
"""
import argparse
import importlib.util
import math
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bench.rows import emit, row

KEY, TIER = "excellent_national_review", "excellent"
# the user tasks in order; a tuple is a parallel group
STEPS = ("application", "recommender_review", "paper_check", "formal_review",
         ("expert_review_1", "expert_review_2", "expert_review_3"), "expert_review",
         ("onsite_verification_1", "onsite_verification_2", "onsite_verification_3"), "onsite_verification",
         "national_decision")
REACHED = (30, 25, 8, 8, 10, 5, 5, 3, 3, 3)  # weights of the step a case has reached (the last: closed)
TIMER_AT = {"application": "application_deadline", "recommender_review": "recommendation_deadline"}
DUE = {"recommender_review", "paper_check", "formal_review", "national_decision"}
SOE_GROUPS = ["sinopec"] + [f"bench{n:02d}" for n in range(1, 10)]


def _ts(d: datetime) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")


def _q(xs, f):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * f))]


def _migration(revision: str):
    """A migration module of migrations/versions (its SQL builders)."""
    path = next((Path(__file__).resolve().parents[1] / "migrations" / "versions").glob(f"*_{revision}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def summary_triggers() -> tuple[list[str], list[str]]:
    """(names, CREATE statements) of the SQLite triggers that keep the heatmap's summaries (0023, 0025)."""
    m23, m25 = _migration("0023"), _migration("0025")
    ddl = [*m23.SQLITE_TRIGGERS, m23.SQLITE_CASE_TRIGGER, *m25.sqlite_triggers()]
    return [d.split()[2] for d in ddl], ddl


def rebuild_summaries(con) -> None:
    """The summaries as the triggers would have kept them, from the stored rows (migrations 0023 and 0025's
    backfills, and the message waits)."""
    m23, m25 = _migration("0023"), _migration("0025")
    con.execute("DELETE FROM heatmap_cells")
    con.execute("DELETE FROM heatmap_range_cells")
    for sql in m23.backfill("sqlite"):
        con.execute(sql)
    key = ", ".join(m23.KEY)
    con.execute(f"INSERT INTO heatmap_cells ({key}, waiting, passed, late) SELECT v.model_key, w.element, -1, "  # noqa: S608
                "c.campaign_id, c.province_code, coalesce(c.soe_group_key, ''), count(*), 0, 0 FROM message_waits w "
                "JOIN cases c ON c.id = w.case_id JOIN process_versions v ON v.id = c.process_version_id WHERE 1 = 1 "
                f"GROUP BY v.model_key, w.element, c.campaign_id, c.province_code, coalesce(c.soe_group_key, '') "
                f"{m23.UPSERT.format(key=key)}")
    con.execute(m25.backfill_ranges("sqlite"))


def store(path: str, n_cases: int, with_triggers: bool = False) -> None:
    """Enterprises, cases, inbox rows and timers through plain sqlite3. By default as a bulk load: the summaries'
    triggers dropped, the summaries rebuilt from the rows afterwards (what they would have kept; `main` checks the
    answers against the rows) and the triggers created again; `with_triggers` keeps them during the load."""
    rnd = random.Random(19)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    names, ddl = summary_triggers()
    if not with_triggers:
        for name in names:
            con.execute(f"DROP TRIGGER {name}")
        con.commit()
    provinces = [r[0] for r in con.execute("SELECT code FROM regions WHERE kind IN ('province', 'xpcc')")]
    camps = dict(con.execute("SELECT year, id FROM campaigns"))
    pv = con.execute("SELECT id FROM process_versions WHERE model_key = ? ORDER BY version DESC LIMIT 1",
                     (KEY,)).fetchone()[0]
    con.executemany("INSERT OR IGNORE INTO soe_groups (key, name) VALUES (?, ?)",
                    [(k, f"基准测试集团{k}") for k in SOE_GROUPS])
    first_ent = (con.execute("SELECT max(id) FROM enterprises").fetchone()[0] or 0) + 1
    n_ents = max(1, n_cases // 2)
    ents = []
    for i in range(first_ent, first_ent + n_ents):
        soe = rnd.choice(SOE_GROUPS) if rnd.random() < 0.05 else None
        ents.append((i, f"91B{i:015d}", f"企{i}", 1, "equipment", rnd.choice(provinces), None, soe, "{}"))
    con.executemany("INSERT INTO enterprises (id, credit_code, name, legal_person, industry, province_code, "
                    "city_code, soe_group_key, declarations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", ents)
    first_case = (con.execute("SELECT max(id) FROM cases").fetchone()[0] or 0) + 1
    first_task = (con.execute("SELECT max(id) FROM human_tasks").fetchone()[0] or 0) + 1
    t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
    cases, tasks, timers = [], [], []
    tid = first_task

    def flush():
        con.executemany("INSERT INTO cases (id, enterprise_id, campaign_id, tier, status, province_code, city_code, "
                        "soe_group_key, process_version_id, state, revisions, event_seq, last_hash, lock_version, "
                        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, '{}', 0, 0, ?, 1, ?, ?)",
                        cases)
        con.executemany("INSERT INTO human_tasks (id, case_id, task_uuid, element, title, province_code, role, "
                        "scope, state, tier, due_at, created_at, completed_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tasks)
        con.executemany("INSERT INTO timers (case_id, element, due_at, attempts) VALUES (?, ?, ?, 0)", timers)
        con.commit()
        cases.clear(), tasks.clear(), timers.clear()

    for cid in range(first_case, first_case + n_cases):
        e = ents[rnd.randrange(n_ents)]
        year = 2026 if rnd.random() < 0.7 else 2025
        opened = t0 + timedelta(days=rnd.uniform(0, 120)) - timedelta(days=365 if year == 2025 else 0)
        reached = rnd.choices(range(len(STEPS) + 1), REACHED)[0]
        status = "certified" if reached == len(STEPS) else "in_review"
        cases.append((cid, e[0], camps[year], TIER, status, e[5], e[7], pv, "0" * 64, _ts(opened), _ts(opened)))
        for k, step in enumerate(STEPS[:reached + 1]):
            group = step if isinstance(step, tuple) else (step,)
            done_at = opened
            for el in group:
                due = opened + timedelta(days=15) if el in DUE else None
                if k < reached:
                    took = timedelta(seconds=min(3e7, math.exp(rnd.gauss(math.log(3 * 86400), 1.4))))
                    end = opened + took
                    done_at = max(done_at, end)
                    tasks.append((tid, cid, f"b{tid}", el, el, e[5], "national_reviewer", "national", "completed",
                                  TIER, _ts(due) if due else None, _ts(opened), _ts(end)))
                else:
                    tasks.append((tid, cid, f"b{tid}", el, el, e[5], "national_reviewer", "national", "open", TIER,
                                  _ts(due) if due else None, _ts(opened), None))
                    if el in TIMER_AT:
                        timers.append((cid, TIMER_AT[el], _ts(opened + timedelta(days=60))))
                tid += 1
            opened = done_at
        if len(cases) >= 20_000:
            flush()
    flush()
    if not with_triggers:
        rebuild_summaries(con)
        for sql in ddl:
            con.execute(sql)
        con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()


def _median_walk(done) -> None:
    """The service's percentile walk over (element, bucket, passed, late) rows, as the floors time it."""
    per: dict = {}
    for el, b, n, _late in done:
        per.setdefault(el, []).append((b, n))
    for counts in per.values():
        total, seen = sum(n for _, n in counts), 0
        for _b, n in counts:
            seen += n
            if seen * 2 >= total:
                break


def _summary_floor(con, campaign_id, province, soe, runs):
    """The service's aggregation over the summary table in plain SQL (and its percentile walk), timed."""
    where, args = "model_key = ?", [KEY]
    if campaign_id is not None:
        where, args = where + " AND campaign_id = ?", args + [campaign_id]
    if province:
        where, args = where + " AND province_code = ?", args + [province]
    if soe:
        where, args = where + " AND soe_group_key = ?", args + [soe]
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        con.execute(f"SELECT element, sum(waiting) FROM heatmap_cells WHERE {where} AND bucket_s = -1 "  # noqa: S608
                    "GROUP BY element", args).fetchall()
        done = con.execute(f"SELECT element, bucket_s, sum(passed), sum(late) FROM heatmap_cells WHERE {where} "  # noqa: S608
                           "AND bucket_s >= 0 GROUP BY element, bucket_s", args).fetchall()
        con.execute(f"SELECT element, bucket_s, sum(passed) FROM heatmap_timer_cells WHERE {where} "  # noqa: S608
                    "GROUP BY element, bucket_s", args).fetchall()
        _median_walk(done)
        out.append((time.perf_counter() - t) * 1000)
    return out


def _range_floor(con, campaign_id, province, soe, since, until, runs):
    """The service's date-range aggregation over the day and month summary in plain SQL (one UNION ALL of the
    range's month and day stretches per scope, grouped), with its percentile walk, timed."""
    from app.services.heatmap_ranges import spans

    scopes = ([f"s:{soe}"] if soe else [f"p:{province}"] if soe == "" else
              [f"p:{province}", f"q:{province}"] if province else ["*"])
    parts, args = [], []
    stretches = spans(since, until) if scopes == ["*"] else [("d", (since or date(1900, 1, 1)).isoformat(),
                                                                 (until or date(9000, 12, 31)).isoformat())]
    for grain, first, last in stretches:
        for scope in scopes:
            part = ("SELECT element, bucket_s, passed, late FROM heatmap_range_cells WHERE model_key = ? AND grain = ? "
                    "AND scope = ? AND period >= ? AND period <= ?")
            args += [KEY, grain, scope, first, last]
            if campaign_id is not None:
                part, args = part + " AND campaign_id = ?", args + [campaign_id]
            parts.append(part)
    sql = (f"SELECT element, bucket_s, sum(passed), sum(late) FROM ({' UNION ALL '.join(parts)}) "  # noqa: S608
           "GROUP BY element, bucket_s")
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        con.execute("SELECT element, sum(waiting) FROM heatmap_cells WHERE model_key = ? AND bucket_s = -1 "
                    "GROUP BY element", (KEY,)).fetchall()
        _median_walk(con.execute(sql, args).fetchall())
        out.append((time.perf_counter() - t) * 1000)
    return out


def _raw(con, campaign_id, province, soe, since=None, until=None):
    """The same figures from the inbox rows in plain SQL: (passed, waiting) per element, and the time taken."""
    where, args = "h.tier = ?", [TIER]
    if campaign_id is not None:
        where, args = where + " AND c.campaign_id = ?", args + [campaign_id]
    if province:
        where, args = where + " AND c.province_code = ?", args + [province]
    if soe == "":  # a province's own cases: not those of an SOE group member
        where += " AND c.soe_group_key IS NULL"
    elif soe:
        where, args = where + " AND c.soe_group_key = ?", args + [soe]
    done_where, done_args = where, list(args)
    if since:
        done_where, done_args = done_where + " AND h.completed_at >= ?", done_args + [since]
    if until:
        done_where, done_args = done_where + " AND h.completed_at < ?", done_args + [until]
    t = time.perf_counter()
    done = con.execute(f"""
        WITH d AS (SELECT h.element AS el,
                          CAST(round((julianday(h.completed_at) - julianday(h.created_at)) * 86400) AS INTEGER) AS s,
                          (h.due_at IS NOT NULL AND h.completed_at > h.due_at) AS late
                   FROM human_tasks h JOIN cases c ON c.id = h.case_id
                   WHERE {done_where} AND h.state = 'completed'),
             r AS (SELECT el, s, late, row_number() OVER (PARTITION BY el ORDER BY s) AS rn,
                          count(*) OVER (PARTITION BY el) AS n FROM d)
        SELECT el, max(n), sum(late), min(CASE WHEN 2 * rn >= n THEN s END), min(CASE WHEN 10 * rn >= 9 * n THEN s END)
        FROM r GROUP BY el""", done_args).fetchall()  # noqa: S608
    waiting = con.execute(f"""
        SELECT el, count(*) FROM (SELECT h.element AS el, h.case_id FROM human_tasks h WHERE h.state = 'open'
                                  UNION ALL SELECT element, case_id FROM timers) h
        JOIN cases c ON c.id = h.case_id WHERE {where.replace('h.tier = ?', 'c.tier = ?')}
        GROUP BY el""", args).fetchall()  # noqa: S608
    ms = (time.perf_counter() - t) * 1000
    return {el: n for el, n, *_ in done}, dict(waiting), ms


def _trigger_cost(path: str, n: int = 500, rounds: int = 5) -> dict[str, list[float]]:
    """What the triggers add to a completion's inbox writes (close the row, open the next one), in microseconds per
    completion, on the stored file: the same statements with every summary trigger, without the date-range ones
    (migration 0025) and with none (dropped inside the transaction, rolled back), interleaved."""
    con = sqlite3.connect(path, isolation_level=None)
    rows = con.execute("SELECT id, case_id, province_code FROM human_tasks WHERE state = 'open' "
                       "AND element = 'recommender_review' LIMIT ?", (n,)).fetchall()
    triggers = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                          "AND name LIKE 'heatmap_%'")]
    modes = {"all": [], "without the range triggers": [t for t in triggers if t.startswith("heatmap_range")],
             "none": triggers}
    now = _ts(datetime(2026, 6, 1, tzinfo=timezone.utc))
    first = con.execute("SELECT max(id) FROM human_tasks").fetchone()[0] + 1
    out: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(rounds):
        for mode, dropped in modes.items():
            con.execute("BEGIN")
            for name in dropped:
                con.execute(f"DROP TRIGGER {name}")
            t = time.perf_counter()
            for k, (tid, cid, prov) in enumerate(rows):
                con.execute("UPDATE human_tasks SET state = 'completed', completed_at = ? WHERE id = ? "
                            "AND state = 'open'", (now, tid))
                con.execute("INSERT INTO human_tasks (id, case_id, task_uuid, element, title, province_code, role, "
                            "scope, state, tier, created_at) VALUES (?, ?, ?, 'paper_check', 'x', ?, "
                            "'national_reviewer', 'national', 'open', ?, ?)", (first + k, cid, f"t{first + k}", prov,
                                                                              TIER, now))
            out[mode].append((time.perf_counter() - t) / len(rows) * 1e6)
            con.execute("ROLLBACK")
    con.close()
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=int, default=500_000)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--raw-runs", type=int, default=3)
    p.add_argument("--reuse", help="a directory a previous run stored its database in (kept): skip storing")
    p.add_argument("--with-triggers", action="store_true",
                   help="keep the summaries' triggers during the load (slower; default: rebuild them after it)")
    args = p.parse_args()
    tmp = args.reuse or tempfile.mkdtemp(prefix="tierflow-heatmap-")
    path = os.path.join(tmp, "b.sqlite3")
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Campaign, User
    from app.services import demo, heatmap

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "UPLOAD_DIR": f"{tmp}/files",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        if not args.reuse:
            upgrade(revision="heads")
            demo.load_demo()
            db.session.commit()
            db.session.remove()
            t = time.perf_counter()
            store(path, args.cases, args.with_triggers)
            con = sqlite3.connect(path)
            n_tasks = con.execute("SELECT count(*) FROM human_tasks").fetchone()[0]
            n_cells = con.execute("SELECT count(*) FROM heatmap_cells").fetchone()[0]
            n_range = con.execute("SELECT count(*) FROM heatmap_range_cells").fetchone()[0]
            con.close()
            how = "kept by the triggers" if args.with_triggers else "rebuilt after the load"
            print(f"stored {args.cases:,} cases, {n_tasks:,} inbox rows ({n_cells:,} summary rows and {n_range:,} "
                  f"day and month rows, {how}) in {time.perf_counter() - t:.0f} s "
                  f"({os.path.getsize(path) // 2**20} MB) in {tmp} (run again with --reuse {tmp})")
        users = {u.username: u for u in db.session.scalars(select(User))}
        c2026 = db.session.scalar(select(Campaign.id).where(Campaign.year == 2026))
        week_lo, week_hi = date(2026, 4, 6), date(2026, 4, 12)
        quarter = dict(since=date(2026, 3, 15), until=date(2026, 6, 20))  # months and days at both ends
        miit, admin, zj, sinopec = users["miit-1"], users["admin"], users["zj-reviewer"], users["sinopec-reviewer"]
        F = heatmap.Filters
        views = [
            ("national, campaign 2026", miit, F(campaign=2026), (c2026, None, None)),
            ("national, every campaign", admin, F(), (None, None, None)),
            ("national, one province (Shandong), 2026", miit, F(campaign=2026, province="370000"),
             (c2026, "370000", None)),
            ("provincial reviewer (Zhejiang), own scope", zj, F(campaign=2026), (c2026, "330000", "")),
            ("SOE group reviewer (Sinopec), own scope", sinopec, F(campaign=2026), (c2026, None, "sinopec")),
            ("national, 2026, one week", miit, F(campaign=2026, since=week_lo, until=week_hi), (c2026, None, None)),
            ("national, 2026, April", miit, F(campaign=2026, since=date(2026, 4, 1), until=date(2026, 4, 30)),
             (c2026, None, None)),
            ("national, 2026, 15 March to 20 June", miit, F(campaign=2026, **quarter), (c2026, None, None)),
            ("national, every campaign, up to 2026-05-10", admin, F(until=date(2026, 5, 10)), (None, None, None)),
            ("national, Shandong, 2026, April", miit, F(campaign=2026, province="370000", since=date(2026, 4, 1),
                                                        until=date(2026, 4, 30)), (c2026, "370000", None)),
            ("provincial reviewer (Zhejiang), one week", zj, F(campaign=2026, since=week_lo, until=week_hi),
             (c2026, "330000", "")),
            ("SOE group reviewer (Sinopec), 15 March to 20 June", sinopec, F(campaign=2026, **quarter),
             (c2026, None, "sinopec")),
        ]
        con = sqlite3.connect(path)
        out, worst = [], 0.0
        cmd = f".venv/bin/python -m bench.heatmap --cases {args.cases}"
        for label, actor, f, (camp, prov, soe) in views:
            heatmap.heatmap(actor, KEY, f)
            times = []
            for _ in range(args.runs):
                db.session.expire_all()
                t = time.perf_counter()
                got = heatmap.heatmap(actor, KEY, f)
                times.append((time.perf_counter() - t) * 1000)
            ranged = f.since is not None or f.until is not None
            since = _ts(datetime.combine(f.since, datetime.min.time()) - timedelta(hours=8)) if f.since else None
            until = _ts(datetime.combine(f.until + timedelta(days=1), datetime.min.time()) - timedelta(hours=8)) \
                if f.until else None
            raw = [_raw(con, camp, prov, soe, since, until) for _ in range(args.raw_runs)]
            passed, waiting, _ms = raw[0]
            for el, cell in got["elements"].items():
                assert cell["passed"] == passed.get(el, 0) or el in heatmap_timers(), (label, el, cell, passed.get(el))
                assert cell["waiting"] == waiting.get(el, 0), (label, el, cell, waiting.get(el))
            floor = (_range_floor(con, camp, prov, soe, f.since, f.until, args.runs) if ranged
                     else _summary_floor(con, camp, prov, soe, args.runs))
            raw_ms = [r[2] for r in raw]
            p95 = _q(times, .95)
            worst = max(worst, p95)
            total = sum(c["passed"] for c in got["elements"].values())
            floor_text = (f"summary in plain SQL p50 {statistics.median(floor):.1f} ms, p95 {_q(floor, .95):.1f} ms; "
                          if floor else "")
            print(f"{label:<50} {total:9,d} steps: p50 {statistics.median(times):6.1f} ms, p95 {p95:6.1f} ms | "
                  f"{floor_text}raw rows in plain SQL median {statistics.median(raw_ms):7.1f} ms")
            out.append(row(f"heatmap, {label} ({args.cases:,} cases)", cmd,
                           f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms",
                           f"{floor_text}the inbox rows in plain SQL: {statistics.median(raw_ms):.0f} ms",
                           "p95 <= 200 ms", "met" if p95 <= 200 else "not met"))
        con.close()
        cost = {mode: statistics.median(v) for mode, v in _trigger_cost(path).items()}
        print(f"a completion's inbox writes (close one row, open the next): {cost['all']:.0f} µs with the triggers, "
              f"{cost['without the range triggers']:.0f} µs without the date-range ones, {cost['none']:.0f} µs "
              "without any (medians of 5 rounds)")
        out.append(row("what the summary's triggers add to a completion's inbox writes (close a row, open the next)",
                       cmd, f"{cost['all']:.0f} µs", f"without the date-range triggers: "
                       f"{cost['without the range triggers']:.0f} µs; without any: {cost['none']:.0f} µs",
                       "cheap beside a completion (~3 ms)", ""))
        emit(*out)
        print(f"worst service p95: {worst:.1f} ms")


def heatmap_timers() -> set[str]:
    return set(TIMER_AT.values())


if __name__ == "__main__":
    main()
