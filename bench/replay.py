"""Replay benchmark: the state after step N of a 100-event case, rebuilt and checked, beside its floor.

    .venv/bin/python -m bench.replay [--events 100] [--repeat 30]

The case is the basic tier through the services on a SQLite file: created, submitted, then rounds of claim →
return → resubmit, then approved and closed (exactly `--events` events). The figure is `replay.replay` as the API
calls it: read the events, check the hash chain, re-run every step on the recorded version at the recorded
instants, serialize and compare the digest at every step, and build the answer (active elements, open tasks,
data, diff); the digests of the states shown (steps N-1 and N) are compared, and a last line shows the same
replay comparing the digest of every step (what `flask audit verify --replay` does). The floor is the same engine
steps run in memory on the same spec with nothing else (no database, no serialization, no digests), measured in
the same run. Target: <= 100 ms for any step of a 100-event case.
"""
import argparse
import os
import statistics
import tempfile
import time
from datetime import datetime, timezone

from bench.rows import emit, row


def build(n_events: int):
    tmp = tempfile.mkdtemp(prefix="tierflow-bench-replay-")
    url = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.services import demo
    from app.services.clock import FixedClock, set_clock
    from app.uow import unit_of_work
    from tests.audit import helpers

    rounds = (n_events - 4) // 3  # created, submitted, 3 per round, approved, closed
    if 4 + 3 * rounds != n_events:
        raise SystemExit("--events must be 4 + 3k (e.g. 100)")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "UPLOAD_DIR": f"{tmp}/files", "MAX_REVISIONS": rounds + 1})
    clock = FixedClock(datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc))
    set_clock(clock)
    ctx = app.app_context()
    ctx.push()
    upgrade(revision="heads")
    with unit_of_work():
        demo.load_demo()
    case_id = helpers.basic_case(rounds, clock)
    db.session.remove()
    return app, case_id


def floor_factory(case_id: int, at: int):
    """The same engine steps, in memory, nothing else."""
    from app.services import processes, replay
    from workflows.instance import Instance

    rows = replay.history(case_id)[:at]
    info = processes.version_info(rows[0].process_version_id)
    steps = [((ev.replay or {}).get("op"), ev) for ev in rows]

    def run() -> float:
        t0 = time.perf_counter()
        inst = None
        for op, ev in steps:
            if op == "start":
                inst = Instance.start(info.bundle, dict(ev.replay["data"]), ev.at)
            elif op == "complete":
                (task,) = [t for t in inst.human_tasks() if t.element == ev.element]
                inst.complete(task.uuid, ev.data, ev.at)
        return time.perf_counter() - t0

    return run


def measure(case_id: int, at: int, repeat: int, check_all: bool = False):
    from app.extensions import db
    from app.models import User
    from app.services import replay

    auditor = db.session.scalar(db.select(User).where(User.username == "auditor"))
    floor = floor_factory(case_id, at)
    for _ in range(3):  # warm up: spec cache, statement cache
        replay.replay(auditor, case_id, at, check_all)
        floor()
    figure, base = [], []
    for _ in range(repeat):
        base.append(floor())
        db.session.expire_all()
        t0 = time.perf_counter()
        out = replay.replay(auditor, case_id, at, check_all)
        figure.append(time.perf_counter() - t0)
    assert out["at"] == at
    return figure, base, out["verified_digests"]


def ms(values) -> str:
    v = sorted(x * 1000 for x in values)
    return f"median {statistics.median(v):7.2f} ms, p95 {v[max(0, int(len(v) * 0.95) - 1)]:7.2f} ms"


def line(label: str, figure, base) -> None:
    ratio = statistics.median(figure) / statistics.median(base)
    print(f"{label:<44} {ms(figure):<36} {ms(base)}   ratio {ratio:.2f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=100)
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args()
    _app, case_id = build(args.events)
    print(f"{'figure':<44} {'value':<36} floor (same engine steps in memory)")
    rows = []
    for at in sorted({args.events // 2, args.events - 1, args.events}):
        figure, base, verified = measure(case_id, at, args.repeat)
        label = f"replay step {at} of {args.events} ({verified} digests checked)"
        line(label, figure, base)
        if at == args.events:
            rows.append(row(f"replaying step {at} of a {args.events}-event case (the states shown are checked)",
                            f".venv/bin/python -m bench.replay --events {args.events}", ms(figure), ms(base),
                            "<= 100 ms", "met" if statistics.median(figure) * 1000 <= 100 else "not met"))
    figure, base, verified = measure(case_id, args.events, max(5, args.repeat // 3), check_all=True)
    label = f"  same, every step checked ({verified} digests)"
    line(label, figure, base)
    print("target: <= 100 ms for any step of a 100-event case (the API checks the states it shows; "
          "`flask audit verify --replay` checks every step)")
    emit(*rows)


if __name__ == "__main__":
    main()
