"""Every benchmark in one run, printed as one table (the README's bench command, `make bench`).

    .venv/bin/python -m bench.table [--quick] [--only NAME ...] [--markdown FILE]

Each benchmark runs in its own process (a fresh interpreter, its own throwaway database) and prints its figures as
`BENCH-ROW` lines (bench/rows.py), each figure beside the floor it measured in the same run: these machines are
shared and noisy, so the floor is what a figure is compared with. The PostgreSQL rows use a throwaway PostgreSQL 15
(scripts/pg_temp.sh) started here and stopped at the end (each of those benchmarks empties its schema first);
without one they are reported as not run. `--quick` runs every benchmark at a small size (a smoke run, a few
minutes); the full sizes are the issue's: 500,000 cases.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.rows import parse, row

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def benches(quick: bool) -> list[tuple[str, list[str], bool]]:
    """(name, arguments of `python -m`, needs PostgreSQL)."""
    big = "20000" if quick else "500000"
    return [
        ("completion", ["bench", "--n", "100" if quick else "300"], False),
        ("http-run", ["bench.http", "--n", "300" if quick else "1200", "--server", "run", "--workers", "3"], False),
        ("http-flask", ["bench.http", "--n", "200" if quick else "600", "--server", "flask"], False),
        ("http-postgresql", ["bench.http", "--n", "300" if quick else "1200", "--server", "run", "--workers", "4",
                             "--db", "{pg}"], True),
        ("inbox", ["bench.inbox", "--cases", big, "--runs", "50" if quick else "300"], False),
        ("inbox-page", ["bench.inbox_page", "--cases", "20000" if quick else "100000", "--runs", "10" if quick
                        else "30"], False),
        ("bulk-create", ["bench.bulk_create", "--n", big], False),
        ("enterprise-import", ["bench.enterprise_import", "--n", "5000" if quick else "50000"], False),
        ("case-list", ["bench.case_list", "--cases", "20000" if quick else "500000", "--enterprises",
                       "10000" if quick else "250000", "--runs", "10" if quick else "30"], False),
        ("replay", ["bench.replay", "--events", "100", "--repeat", "10" if quick else "30"], False),
        ("load-postgresql", ["bench.load", "--db", "{pg}", "--workers", "4", "--seconds", "20" if quick else "60"],
         True),
        ("sandbox", ["bench.sandbox", "--n", "500" if quick else "2000"], False),
        ("validation", ["bench.validation", "--repeat", "1" if quick else "3"], False),
        ("hostile-load", ["bench.hostile_load", "--n", "400" if quick else "1200"], False),
        ("dashboard-tiles", ["bench.dashboard_tiles", "--cases", big, "--runs", "5" if quick else "10"], False),
        ("heatmap", ["bench.heatmap", "--cases", "20000" if quick else "500000", "--runs", "10" if quick else "30",
                     "--raw-runs", "1" if quick else "3"], False),  # issue 19
    ]


def _pg(state: str) -> str | None:
    env = dict(os.environ, PG_TEMP_STATE=state)
    r = subprocess.run(["bash", "scripts/pg_temp.sh", "start"], cwd=ROOT, env=env, capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def run(name: str, args: list[str], log) -> tuple[list[dict], float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run([PY, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    took = time.perf_counter() - t0
    log.write(f"$ python -m {' '.join(args)}\n{proc.stdout}\n{proc.stderr[-4000:]}\n")
    log.flush()
    return parse(proc.stdout), took, proc.returncode


def markdown(rows: list[dict]) -> str:
    out = ["| figure | measured | floor in the same run | target | verdict | command |", "|---|---|---|---|---|---|"]
    for r in rows:
        cells = [r["figure"], r["measured"], r["floor"], r["target"], r["verdict"], f"`{r['command']}`"]
        out.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every benchmark")
    p.add_argument("--only", nargs="*", help="run only these benchmarks (by name)")
    p.add_argument("--markdown", help="also write the table to this file")
    args = p.parse_args()
    todo = [b for b in benches(args.quick) if not args.only or b[0] in args.only]
    state = os.path.join(tempfile.mkdtemp(prefix="tierflow-bench-pg-"), "pg.state")
    pg = _pg(state) if any(b[2] for b in todo) else None
    log_path = Path(tempfile.mkdtemp(prefix="tierflow-bench-")) / "bench.log"
    rows, failed = [], []
    try:
        with log_path.open("w") as log:
            for name, argv, needs_pg in todo:
                if needs_pg and not pg:
                    rows.append(row(name, "python -m " + " ".join(argv), "not run", "", "",
                                    "PostgreSQL could not be started"))
                    continue
                argv = [a.replace("{pg}", pg or "") for a in argv]
                print(f"[bench] {name}: python -m {' '.join(argv)}", file=sys.stderr, flush=True)
                got, took, rc = run(name, argv, log)
                if rc != 0 or not got:
                    failed.append(name)
                    rows.append(row(name, "python -m " + " ".join(argv), f"FAILED (exit {rc})", "", "",
                                    f"see {log_path}"))
                rows += got
                print(f"[bench] {name}: {len(got)} row(s) in {took:.0f} s", file=sys.stderr, flush=True)
    finally:
        if pg:
            subprocess.run(["bash", "scripts/pg_temp.sh", "stop"], cwd=ROOT, env=dict(os.environ, PG_TEMP_STATE=state),
                           capture_output=True)
    import platform

    head = (f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"{'quick sizes' if args.quick else 'full sizes'}; every output in {log_path}")
    table = markdown(rows)
    print(head)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(head + "\n\n" + table + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
