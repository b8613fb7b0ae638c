"""The provinces at a glance (issue 19, part 2) at national scale: the tile map's figures, the funnel per tier and the
whole `GET /dashboard` for a national reviewer, with N basic cases stored (one review task each, a third open).

    .venv/bin/python -m bench.dashboard_tiles [--cases 500000] [--runs 10]

Rows are written straight into the migrated schema (`bench.inbox_page.store_review_queue`). The floor is one plain
`SELECT count(*)` of the campaign's cases of the tier in the same run: every figure reads at least that many rows.
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
    from app.services import funnel, tile_map
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
        client = app.test_client()
        client.post("/login", data={"username": "miit-1", "password": _password("miit-1")})
        client.get(f"/dashboard?tier=basic&campaign={camp.year}")
        page = _time(lambda: client.get(f"/dashboard?tier=basic&campaign={camp.year}"), args.runs)
    floor_s = f"SELECT count(*) of the tier's cases: {_fmt(floor)}"
    print(f"{args.cases} cases; {floor_s}\ntile map figures: {_fmt(tiles)}\nfunnel, four tiers: {_fmt(funnels)}\n"
          f"GET /dashboard: {_fmt(page)}")
    cmd = f".venv/bin/python -m bench.dashboard_tiles --cases {args.cases}"
    emit(row(f"the tile map's figures per province (national reviewer), {args.cases:,} basic cases", cmd,
             _fmt(tiles), floor_s),
         row("the funnel of the four tiers, same world", cmd, _fmt(funnels), floor_s),
         row("GET /dashboard (tile map, funnels, calendar, counts), same world", cmd, _fmt(page), floor_s))


if __name__ == "__main__":
    main()
