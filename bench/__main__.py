"""Benchmarks, each figure beside a floor measured in the same run (shared, noisy machines).

    .venv/bin/python -m bench [--n 300] [--profile]

1. One task completion through the service layer (SQLite file, WAL, one committed transaction: inbox rows,
   state, chained event, JSON Schema validation, authorization) vs the raw SpiffWorkflow step with a serializer
   round trip and the spec stored separately (the floor). Target: ratio <= 2.
"""
import argparse
import os
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORAGE: dict = {}  # bytes per case after the run: serialized state, events


def raw_step_factory():
    """One raw SpiffWorkflow step: deserialize, complete the self-assessment, run engine steps, serialize."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    from SpiffWorkflow.task import TaskState

    from tests.factories import GOOD_ASSESSMENT
    from workflows.parsing import parse_bpmn
    from workflows.serialization import dump_instance, load_instance

    bundle = parse_bpmn((ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes())
    engine = PythonScriptEngine()
    wf = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=engine)
    wf.do_engine_steps()
    state = dump_instance(wf)

    def step() -> float:
        t0 = time.perf_counter()
        w = load_instance(state, bundle, engine)
        (task,) = w.get_tasks(state=TaskState.READY, manual=True)
        task.set_data(**GOOD_ASSESSMENT)
        task.run()
        w.do_engine_steps()
        dump_instance(w)
        return time.perf_counter() - t0

    return step


def service_completion(n: int, profile=False) -> tuple[list[float], list[float]]:
    """Service completions, each paired with a raw step measured right before it (same noise for both).

    `profile`: True prints a pyinstrument profile of the service completions alone (the raw steps and the setup
    are outside it); a `pyinstrument.Profiler` given here is started and stopped around each completion and left
    for the caller to render (`bench/profile.py`)."""
    raw_step = raw_step_factory()
    for _ in range(50):
        raw_step()  # warm up
    tmp = tempfile.mkdtemp(prefix="tierflow-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Campaign, Enterprise, HumanTask, User
    from app.services import cases, demo, tasks
    from app.services.clock import FixedClock, set_clock
    from app.uow import unit_of_work
    from tests.factories import GOOD_ASSESSMENT

    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"],
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "UPLOAD_DIR": f"{tmp}/files"})
    set_clock(FixedClock(datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)))
    with app.app_context():
        upgrade(revision="heads")
        with unit_of_work():
            demo.load_demo()
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        zj = "330000"
        # one enterprise and one user per case: an enterprise may hold one basic case per campaign
        with unit_of_work():
            for i in range(n):
                from app.services.credit_code import with_check_char

                code = with_check_char(f"9133010{i:010d}")
                e = Enterprise(credit_code=code, name=f"bench {i}", industry="equipment", province_code=zj,
                               legal_person=True, declarations={})
                db.session.add(e)
            db.session.flush()
            camp = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
            ents = list(db.session.scalars(select(Enterprise).where(Enterprise.name.like("bench %"))))
            users = []
            for e in ents:
                u = User(username=f"bench-{e.id}", password_hash="x", role="enterprise", enterprise_id=e.id)
                db.session.add(u)
                users.append(u)
        with unit_of_work():
            for u in users:
                cases.create_case(u, "basic", camp.year)
        todo = []
        for u in users:
            (t,) = db.session.scalars(select(HumanTask.id).where(HumanTask.scope == u.scope,
                                                                 HumanTask.state == "open"))
            todo.append((u.id, t))
        db.session.remove()
        assert admin is not None
        times, raw = [], []
        prof = _profiler(profile)
        for user_id, task_id in todo:
            # as a request does: a fresh session, the actor already authenticated, one unit of work
            actor = db.session.get(User, user_id)
            raw.append(raw_step())
            if prof is not None:
                prof.start()
            t0 = time.perf_counter()
            with unit_of_work():
                tasks.complete(actor, task_id, GOOD_ASSESSMENT)
            times.append(time.perf_counter() - t0)
            if prof is not None:
                prof.stop()
            db.session.remove()
        from sqlalchemy import text

        storage = db.session.execute(text(
            "SELECT avg(length(state)), (SELECT avg(n) FROM (SELECT sum(length(coalesce(data, '')) + 300) AS n "
            "FROM case_events GROUP BY case_id)) FROM cases")).one()
        print(f"storage per case after one completion: state {storage[0]:.0f} B, events ~{storage[1]:.0f} B "
              "(data + ~300 B of fixed columns and hashes)")
        STORAGE.update(state=storage[0], events=storage[1])
        if prof is not None and profile is True:
            print(prof.output_text(unicode=True, color=False))
        return times, raw


def _profiler(profile):
    """None, the caller's pyinstrument Profiler, or a new one (1 ms sampling is too coarse for 2 ms steps)."""
    if not profile:
        return None
    if profile is True:
        from pyinstrument import Profiler

        return Profiler(interval=0.0001)
    return profile


def fmt(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return f"median {statistics.median(ms):.3f} ms, p95 {ms[int(len(ms) * 0.95) - 1]:.3f} ms"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--profile", action="store_true",
                   help="print a pyinstrument profile of the service completions (bench/profile.py: all hot paths)")
    args = p.parse_args()
    svc, raw = service_completion(args.n, args.profile)
    raw_m, svc_m = statistics.median(raw), statistics.median(svc)
    print(f"{'figure':<58} {'value':<34} floor")
    print(f"{'task completion, service layer (SQLite WAL, committed)':<58} {fmt(svc):<34} "
          f"raw SpiffWorkflow step + serializer round trip: {fmt(raw)}")
    print(f"{'ratio service / raw (median), target <= 2':<58} {svc_m / raw_m:.2f}")
    from bench.rows import emit, row

    cmd = f".venv/bin/python -m bench --n {args.n}"
    ratio = svc_m / raw_m
    emit(row("one task completion through the service layer (authorization, JSON Schema validation, state, inbox "
             "rows, hash-chained event with its replay digest, one committed SQLite transaction)", cmd,
             f"{fmt(svc)}; ratio {ratio:.1f}", f"raw SpiffWorkflow step with a serializer round trip, the spec "
             f"stored apart: {fmt(raw)}", "ratio <= 2", "met" if ratio <= 2 else "not met"),
         row("storage per basic case after one completion", cmd,
             f"state {STORAGE.get('state', 0):,.0f} B, events ~{STORAGE.get('events', 0):,.0f} B", "-", "-"))


if __name__ == "__main__":
    main()
