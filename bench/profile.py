"""Profiles of the hot paths with pyinstrument (a sampling profiler: low overhead, whole call stacks).

    .venv/bin/python -m bench.profile [--n 300] [--cases 20000] [--runs 30] [--out docs/profiles]

Each path runs on a fresh SQLite file (WAL, as in production) and is sampled every 0.2 ms while it runs (setup
and the floors are outside the samples):

- `completion_service`: `services.tasks.complete` in its own unit of work, N basic self-assessments
  (`bench.service_completion`, the figure of `python -m bench`);
- `completion_http`: `POST /api/v1/tasks/{id}/complete` through the Flask test client with a bearer token, N
  tasks (the whole WSGI stack, authentication, JSON, the same service call);
- `inbox_page`: `GET /inbox` for the Zhejiang reviewer with CASES cases stored (as `bench.inbox_page`), the
  counts computed each time (their one-minute cache emptied before each request);
- `case_page`: `GET /cases/{id}` for the same reviewer, a case with a completed self-assessment and its events.

Writes `<name>.txt` (the call tree, frames under 1 % of the time hidden) and `<name>.html` (pyinstrument's
interactive view) per path into --out, and prints the time per call of each.
"""
import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from pyinstrument import Profiler

from bench.inbox_page import store_review_queue

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 0.0002


def _write(out: Path, name: str, prof: Profiler, calls: int, times: list[float], note: str) -> None:
    text = prof.output_text(unicode=True, color=False, show_all=False, time="seconds", flat=False)
    head = (f"# {name}: {note}\n# {calls} calls, median {statistics.median(times) * 1000:.3f} ms per call while "
            f"sampled (the profiler's own overhead included)\n")
    (out / f"{name}.txt").write_text(head + text, encoding="utf-8")
    (out / f"{name}.html").write_text(prof.output_html(), encoding="utf-8")
    print(f"{name:<20} {calls:5d} calls, median {statistics.median(times) * 1000:7.3f} ms  -> {out / name}.txt")


def completion_service(out: Path, n: int) -> None:
    from bench.__main__ import service_completion

    prof = Profiler(interval=INTERVAL)
    times, _raw = service_completion(n, prof)
    _write(out, "completion_service", prof, n, times,
           "services.tasks.complete in a unit of work (one committed transaction), basic self-assessment")


def completion_http(out: Path, n: int) -> None:
    from app import create_app
    from bench.http import prepare
    from tests.factories import GOOD_ASSESSMENT

    tmp = tempfile.mkdtemp(prefix="tierflow-profile-http-")
    url = f"sqlite:///{tmp}/p.sqlite3"
    todo = prepare(url, n, tmp)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": f"{tmp}/files", "SECRET_KEY": "bench",
                      "API_TOKEN_HOURS": 24 * 365})
    client = app.test_client()
    prof = Profiler(interval=INTERVAL)
    times = []
    for token, task_id in todo:
        t0 = time.perf_counter()
        prof.start()
        r = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": GOOD_ASSESSMENT},
                        headers={"Authorization": f"Bearer {token}"})
        prof.stop()
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200, (r.status_code, r.get_data(as_text=True)[:300])
    _write(out, "completion_http", prof, n, times,
           "POST /api/v1/tasks/{id}/complete through the Flask test client, bearer token")


def _reviewer_world(cases_n: int):
    """An app with the demo world and CASES review tasks written straight into the schema (bench.inbox_page's
    distribution: one review task per case over the demo enterprises, a third of them open)."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Case
    from app.services import demo

    tmp = tempfile.mkdtemp(prefix="tierflow-profile-pages-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/p.sqlite3", "UPLOAD_DIR": f"{tmp}/files",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(revision="heads")
        demo.load_demo()
        db.session.commit()
        base = (db.session.scalar(select(Case.id).order_by(Case.id.desc())) or 0) + 1000
        store_review_queue(cases_n, first_id=base)
    return app


def _real_case(app) -> int:
    """A basic case of a demo enterprise in Zhejiang with its self-assessment completed (events, a review task)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Campaign, HumanTask, User
    from app.services import cases, tasks
    from app.uow import unit_of_work
    from tests.factories import GOOD_ASSESSMENT

    with app.app_context():
        ent_user = db.session.scalar(select(User).where(User.username == "acme"))
        year = db.session.scalar(select(Campaign.year).where(Campaign.year == 2026))
        with unit_of_work():
            case = cases.create_case(ent_user, "basic", year)
        case_id = case["id"] if isinstance(case, dict) else case.id
        task_id = db.session.scalar(select(HumanTask.id).where(HumanTask.case_id == case_id,
                                                               HumanTask.state == "open"))
        with unit_of_work():
            tasks.complete(ent_user, task_id, GOOD_ASSESSMENT)
        db.session.remove()
    return case_id


def pages(out: Path, cases_n: int, runs: int) -> None:
    from app.services import inbox
    from tests.security.helpers import browser_login, fresh_client

    app = _reviewer_world(cases_n)
    case_id = _real_case(app)
    web = fresh_client(app)
    r = browser_login(web, "zj-reviewer")
    assert r.status_code in (200, 302), r.status_code
    for name, path, note, before in (
            ("inbox_page", "/inbox", f"GET /inbox as zj-reviewer, {cases_n} cases stored, counts computed (cold)",
             inbox._counts_cache.clear),
            ("case_page", f"/cases/{case_id}", "GET /cases/{id} as zj-reviewer, a basic case after its "
             "self-assessment", lambda: None)):
        for _ in range(3):  # warm up: templates compiled, specs parsed
            before()
            assert web.get(path).status_code == 200
        prof = Profiler(interval=INTERVAL)
        times = []
        for _ in range(runs):
            before()
            t0 = time.perf_counter()
            prof.start()
            r = web.get(path)
            prof.stop()
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.status_code
        _write(out, name, prof, runs, times, note)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=300, help="completions profiled (service layer and HTTP each)")
    p.add_argument("--cases", type=int, default=20_000, help="cases stored for the inbox page")
    p.add_argument("--runs", type=int, default=30, help="requests per page")
    p.add_argument("--out", default=str(ROOT / "docs" / "profiles"))
    p.add_argument("--only", choices=["completion_service", "completion_http", "pages"], action="append")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SECRET_KEY", "bench")
    only = set(args.only or ["completion_service", "completion_http", "pages"])
    if "completion_service" in only:
        completion_service(out, args.n)
    if "completion_http" in only:
        completion_http(out, args.n)
    if "pages" in only:
        pages(out, args.cases, args.runs)


if __name__ == "__main__":
    main()
