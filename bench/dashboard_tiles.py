"""The provinces at a glance (issue 19, part 2) at national scale: the tile map's figures, the funnel per tier and the
whole `GET /dashboard` for a national and a provincial reviewer, with N basic cases stored (one review task each, a
third open): as served (figures kept a minute at this scale) and with every kept figure dropped before each request.

    .venv/bin/python -m bench.dashboard_tiles [--cases 500000] [--runs 10] [--reuse DIR]

Rows are written straight into the migrated schema (`bench.inbox_page.store_review_queue`). The floor is one plain
`SELECT count(*)` of the campaign's cases of the tier in the same run: every figure reads at least that many rows;
the dashboard's case counts stand beside the same counts in plain SQL through sqlite3.
"""
import argparse
import statistics
import tempfile
import time

from bench.inbox_page import _password, _q, store_review_queue
from bench.rows import emit, row


def _time(fn, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


def _fmt(times):
    return f"p50 {statistics.median(times):.1f} ms, p95 {_q(times, .95):.1f} ms"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=int, default=500_000)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--reuse", help="a directory a previous run stored its database in (kept): skip storing")
    args = p.parse_args()
    tmp = args.reuse or tempfile.mkdtemp(prefix="tierflow-dashboard-")
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import Campaign, Case, User
    from app.services import dashboard_counts, funnel, tile_map
    from bench.world import fresh_database

    url = f"sqlite:///{tmp}/b.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": f"{tmp}/files",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        if args.reuse:
            from flask_migrate import upgrade
            upgrade(revision="heads")  # a migration added since the store was written
        else:
            t = time.perf_counter()
            fresh_database(url)
            store_review_queue(args.cases)
            print(f"stored {args.cases:,} cases in {time.perf_counter() - t:.0f} s in {tmp} "
                  f"(run again with --reuse {tmp})", flush=True)
        camp = db.session.scalar(select(Campaign).order_by(Campaign.id).limit(1))
        national = db.session.scalar(select(User).where(User.username == "miit-1"))
        floor = _time(lambda: db.session.scalar(select(func.count()).select_from(Case).where(
            Case.campaign_id == camp.id, Case.tier == "basic")), args.runs)
        tiles = _time(lambda: tile_map.tile_map(national, "basic", camp.year, "applications"), args.runs)
        funnels = _time(lambda: funnel.funnel(national, camp), args.runs)
        counts_floor, panels_floor = _plain_sql_counts(f"{tmp}/b.sqlite3", args.runs)
        counted = _time(lambda: (dashboard_counts._cache.clear(), dashboard_counts.dashboard(national, funnel=False)),
                        args.runs)
        pages = {}
        for who in ("miit-1", "zj-reviewer"):
            client = app.test_client()
            client.post("/login", data={"username": who, "password": _password(who)})
            url_ = f"/dashboard?tier=basic&campaign={camp.year}"
            client.get(url_)
            pages[who, "kept"] = _time(lambda c=client, u=url_: c.get(u), args.runs)
            pages[who, "counted"] = _time(lambda c=client, u=url_: (_forget(), c.get(u)), args.runs)
    floor_s = f"SELECT count(*) of the tier's cases: {_fmt(floor)}"
    counts_s = f"the same counts in plain SQL through sqlite3: {_fmt(counts_floor)}"
    print(f"{args.cases} cases; {floor_s}\ntile map figures: {_fmt(tiles)}\nfunnel, four tiers: {_fmt(funnels)}\n"
          f"dashboard counts (inbox.dashboard, counted each time): {_fmt(counted)}\n  floor: {counts_s}\n"
          f"  the four panels one grouped statement each plus the overdue tasks (plain SQL): {_fmt(panels_floor)}")
    for (who, how), times in pages.items():
        print(f"GET /dashboard as {who}, {how}: {_fmt(times)}")
    cmd = f".venv/bin/python -m bench.dashboard_tiles --cases {args.cases}"
    emit(row(f"the tile map's figures per province (national reviewer), {args.cases:,} basic cases", cmd,
             _fmt(tiles), floor_s),
         row("the funnel of the four tiers, same world", cmd, _fmt(funnels), floor_s),
         row("the dashboard's case counts (inbox.dashboard, counted each time), national", cmd, _fmt(counted),
             counts_s),
         row("GET /dashboard, national reviewer, every figure counted", cmd, _fmt(pages["miit-1", "counted"]),
             counts_s),
         row("GET /dashboard, national reviewer, as served (figures kept a minute at this scale)", cmd,
             _fmt(pages["miit-1", "kept"]), counts_s),
         row("GET /dashboard, provincial reviewer (Zhejiang), every figure counted", cmd,
             _fmt(pages["zj-reviewer", "counted"]), counts_s))


def _forget():
    """Drop every kept figure of the dashboard, so the next page counts them all."""
    from app.services import dashboard_counts, funnel, tile_map

    for cache in (dashboard_counts._cache, funnel._cache, tile_map._cache):
        cache.clear()


def _plain_sql_counts(path: str, runs: int):
    """The dashboard's case counts of a national reader in plain SQL through sqlite3: (the statements the service
    runs — one grouped scan in the covering index's order and the overdue tasks by scope; the four panels one
    grouped statement each plus the overdue tasks)."""
    import sqlite3
    from datetime import datetime, timezone

    con = sqlite3.connect(path)
    roles = ("provincial_reviewer", "soe_reviewer")

    def overdue():
        now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
        return con.execute("SELECT scope, count(*) FROM human_tasks WHERE state = 'open' AND due_at <= ? AND role IN "
                           "(?, ?) GROUP BY scope ORDER BY count(*) DESC, scope", (now, *roles)).fetchall()

    def one_scan():
        con.execute("SELECT province_code, tier, status, soe_group_key, city_code, campaign_id, count(*) FROM cases "
                    "GROUP BY province_code, tier, status, soe_group_key, city_code, campaign_id").fetchall()
        con.execute("SELECT id, year FROM campaigns").fetchall()
        overdue()

    def panels():
        for col in ("tier", "status", "province_code"):
            con.execute(f"SELECT {col}, count(*) FROM cases GROUP BY {col} ORDER BY {col}").fetchall()
        con.execute("SELECT campaigns.year, count(*) FROM cases JOIN campaigns ON campaigns.id = cases.campaign_id "
                    "GROUP BY campaigns.year ORDER BY campaigns.year").fetchall()
        overdue()

    one_scan()
    out = _time(one_scan, runs), _time(panels, runs)
    con.close()
    return out

if __name__ == "__main__":
    main()
