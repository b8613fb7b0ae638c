"""Several workers on one PostgreSQL: a bounded load test that proves no transition was lost or duplicated.

    .venv/bin/python -m bench.load [--db URL] [--workers 4] [--users 200] [--seconds 60]

Without --db a throwaway PostgreSQL 15 is started (scripts/pg_temp.sh, its state in a temp dir) and stopped after;
with --db the database's public schema is DROPPED and rebuilt (give it a database of its own).

1. Prepare (in this process, through the services): migrations, the demo world, and `--users` distinct users:
   provincial reviewers (3 in each of four provinces), two SOE group reviewers, and enterprises in those provinces
   and in the SOE group, each with a bearer token and a basic case waiting for its self-assessment. Some cases are
   prepared 20 days in the past with the self-assessment done, so their reviews are overdue: the scheduler's
   escalation writes `task.overdue` events on cases the reviewers are completing at the same moment. A few
   enterprises also get a small timer case (a date timer due during the run, then a report task): the scheduler
   fires it, and the enterprise completes the task it opens.
2. Serve: gunicorn with --workers on 127.0.0.1, and TWO `flask scheduler run` processes (sweep every second): the
   lease lets only one of them sweep.
3. Floor: GET /api/v1/me (authentication and JSON, no workflow) on the same server, in the same run, before the
   load and again after it (the machine is shared: the two show how much the noise moved).
4. Load for --seconds from threads using http.client (keep-alive, one connection each): enterprises complete their
   self-assessments (again when returned) and reports; every reviewer of three provinces and of the SOE group works
   its inbox (approve, return, reject), so reviewers of one province collide on tasks; a racer makes two
   completions of one task start at the same instant (a barrier) - the same enterprise twice, and two reviewers of
   the fourth province, which only the racer reviews: exactly one must get 200, the other 409.
5. Proofs, after the server stopped and the scheduler fired everything due: every case's chain verifies
   (`events.verify_case`, then `flask audit verify`); the events of each kind equal what the clients and the
   scheduler were told (task.completed = 2xx completions + the prepared ones, timer.fired = the lines the sweeping
   scheduler printed = the timer cases, case.created = the cases, case.closed = the closed cases, task.overdue =
   the overdue reminder rows, one per task at most); every acknowledged task is completed by its acknowledger with
   exactly one event; no task was completed twice; each case's open inbox rows and timer rows are exactly the
   waiting tasks and timers of its stored instance, its status and closing follow from it, and its event count is
   its chain head's seq; only one scheduler swept.

`rows(...)` returns the figures as rows (figure, command, measured, floor, target) for a combined runner.
"""
import argparse
import functools
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http import _free_port, drive  # noqa: E402
from bench.world import fresh_database  # noqa: E402

PROVINCES = ("330000", "320000", "370000", "440000")  # Zhejiang, Jiangsu, Shandong, Guangdong
RACE_PROVINCE = "440000"  # only the racer reviews this province's cases, so its races have no third party
REVIEWERS_PER_PROVINCE = 3
SOE_GROUP = "sinopec"
DEPARTMENTS = ("ndrc", "finance", "sasac", "samr", "data")  # the advanced tier's joint review, in parallel
JOINT_PROVINCES = ("330000", "320000")  # a co-department reviewer per department in each
SOE_REVIEWERS = 2
REAPPLY_AFTER = ("rejected", "withdrawn", "expired")  # cases.OPEN_STATUSES_EXCLUDED: these allow a new case
FINAL = REAPPLY_AFTER + ("certified", "closed")
PAST = timedelta(days=20)  # the overdue cases were prepared this long ago (the review is due after 15 days)
_TEXT = "建设内容说明：已完成生产线数字化改造与网络化协同。"
ADVANCED_APPLICATION = {
    "project_name": "压力测试智能工厂", "contact_name": "张三", "contact_phone": "0571-12345678", "maturity_level": 3,
    "above_scale": True, "sound_operations": True, "no_bad_record": True, "secure_controllable": True,
    "organisation_talent": True, "maturity_report_level": 3,  # every tier's application asks these (16.9)
    "outcomes": "生产效率提升25%，形成区域标杆。" * 2, "accept_responsibility": True,
    "construction": {k: _TEXT for k in ("factory_construction", "rd_design", "production_operations",
                                        "production_management", "operations_management")}}

# the bench's timer process: a date timer from the start data, then a report task; it ends as "closed" (no tier record,
# which the enterprise's basic case writes when certified)
TIMER_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="load_timer_defs" targetNamespace="https://tierflow.example/bench">
  <bpmn:process id="load_timer" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="l_ent" name="enterprise"><bpmn:flowNodeRef>report</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait_report">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate>fire_at</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="report" name="Report">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end_reported"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_report" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait_report" targetRef="report" />
    <bpmn:sequenceFlow id="f3" sourceRef="report" targetRef="end_reported" />
  </bpmn:process>
</bpmn:definitions>
"""


@dataclass
class Actor:
    user_id: int
    username: str
    role: str
    scope: str
    token: str


@dataclass
class World:
    enterprises: list[Actor]  # worked by the enterprise threads
    race_enterprises: list[Actor]  # only the racer completes their tasks
    reviewers: dict[str, list[Actor]]  # scope -> reviewers
    cases: int
    timer_cases: dict[int, datetime]  # case id -> due time
    prepared_completions: int  # completed while preparing (the overdue self-assessments, advanced steps)
    overdue_tasks: int
    advanced_cases: int = 0  # waiting for the joint review of five co-departments
    prepared_uploads: int = 0


# -- prepare ------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _app(url: str, tmp: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       "UPLOAD_DIR": f"{tmp}/files", "API_TOKEN_HOURS": 24 * 365})


def _timer_case(ent, campaign_id: int, info, fire_at: datetime, now: datetime) -> int:
    """A case of the bench's timer process, written straight through `instances` (one enterprise may hold it
    beside its basic case)."""
    from app.services import events, instances
    from workflows.instance import Instance

    rec = instances.CaseRecord(
        id=None, enterprise_id=ent.id, campaign_id=campaign_id, tier="basic", status="new",
        province_code=ent.province_code, city_code=ent.city_code, soe_group_key=ent.soe_group_key,
        process_version_id=info.id, state="", revisions=0, lock_version=1, event_seq=0, last_hash=events.GENESIS,
        next_timer_at=None, created_by=None, created_at=now, updated_at=now, closed_at=None)
    instances.insert_case(rec)
    inst = Instance.start(info.bundle, {"fire_at": fire_at.isoformat()}, now)
    instances.save(rec, inst, now)
    events.append(rec, "case.created", None, now, data={"bench": "load_timer"}, state=rec.state)
    instances.commit_case(rec)
    return rec.id


def prepare(url: str, users: int, tmp: str, timers_from: float, timers_span: float) -> World:
    """A fresh schema with the demo world and `users` distinct users with tokens and work (see the module doc).
    Timer cases fire between `timers_from` and `timers_from + timers_span` seconds from now."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Campaign, Enterprise, HumanTask, TierRecord, User
    from app.services import attachments, auth, cases, processes, tasks
    from app.services.clock import FixedClock, SystemClock, get_clock, set_clock
    from app.services.credit_code import with_check_char
    from app.uow import unit_of_work
    from tests.factories import GOOD_ASSESSMENT

    n_reviewers = len(PROVINCES) * REVIEWERS_PER_PROVINCE + SOE_REVIEWERS + len(JOINT_PROVINCES) * len(DEPARTMENTS)
    n_ent = max(users - n_reviewers, 8)
    app = _app(url, tmp)
    previous = get_clock()
    try:
        with app.app_context():
            set_clock(SystemClock())
            fresh_database(url)
            with unit_of_work():
                for i in range(n_ent):
                    soe = i % 10 == 9
                    prov = "330000" if soe else PROVINCES[i % len(PROVINCES)]
                    db.session.add(Enterprise(
                        credit_code=with_check_char(f"91{prov[:2]}0{'2' if soe else '1'}0{i:010d}"),
                        name=f"load {i}", industry="equipment", province_code=prov, legal_person=not soe,
                        soe_group_key=SOE_GROUP if soe else None, declarations={}))
            ents = list(db.session.scalars(select(Enterprise).where(Enterprise.name.like("load %"))
                                           .order_by(Enterprise.id)))
            with unit_of_work():
                ent_users = [User(username=f"load-{e.id}", password_hash="x", role="enterprise", enterprise_id=e.id)
                             for e in ents]
                rev_users = [User(username=f"load-rev-{p}-{k}", password_hash="x", role="provincial_reviewer",
                                  province_code=p) for p in PROVINCES for k in range(REVIEWERS_PER_PROVINCE)]
                rev_users += [User(username=f"load-rev-{SOE_GROUP}-{k}", password_hash="x", role="soe_reviewer",
                                   soe_group_key=SOE_GROUP) for k in range(SOE_REVIEWERS)]
                rev_users += [User(username=f"load-co-{p}-{d}", password_hash="x", role="co_department_reviewer",
                                   province_code=p, department=d) for p in JOINT_PROVINCES for d in DEPARTMENTS]
                db.session.add_all(ent_users + rev_users)
            year = db.session.scalar(select(Campaign.year).where(Campaign.year == 2026))
            campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.year == 2026))
            # roles: every 8th enterprise races, every 6th other one is overdue, every 5th other gets a timer case
            race = [u for i, u in enumerate(ent_users) if i % 8 == 3 and ents[i].soe_group_key is None]
            overdue = [u for i, u in enumerate(ent_users) if i % 6 == 1 and u not in race]
            now = datetime.now(timezone.utc)
            set_clock(FixedClock(now - PAST))
            with unit_of_work():
                for u in overdue:
                    cases.create_case(u, "basic", year)
            with unit_of_work():
                for u in overdue:
                    (tid,) = db.session.scalars(select(HumanTask.id).where(HumanTask.scope == u.scope,
                                                                           HumanTask.state == "open"))
                    tasks.complete(u, tid, GOOD_ASSESSMENT)
            set_clock(SystemClock())
            with unit_of_work():
                for u in ent_users:
                    if u not in overdue:
                        cases.create_case(u, "basic", year)
            # advanced cases (the enterprise held the basic tier in 2025) up to their joint review: applied, the
            # certifier approved, five co-department tasks open in parallel on each case
            advanced = [(e, u) for i, (e, u) in enumerate(zip(ents, ent_users, strict=True))
                        if i % 7 == 5 and e.province_code in JOINT_PROVINCES and e.soe_group_key is None
                        and u not in race and u not in overdue]
            with unit_of_work():
                for e, _u in advanced:
                    db.session.add(TierRecord(enterprise_id=e.id, tier="basic", year=2025, source="self_assessment"))
            prepared = len(overdue)
            for e, u in advanced:
                with unit_of_work():
                    case = cases.create_case(u, "advanced", year)
                    att = attachments.upload(u, case.id, "申报书.pdf", io.BytesIO(b"%PDF-1.4 load materials"))
                    (tid,) = db.session.scalars(select(HumanTask.id).where(HumanTask.case_id == case.id,
                                                                           HumanTask.state == "open"))
                    tasks.complete(u, tid, dict(ADVANCED_APPLICATION, materials=[att.id], maturity_report=att.id))
                reviewer = next(r for r in rev_users if r.role == "provincial_reviewer"
                                and r.province_code == e.province_code)
                with unit_of_work():
                    (tid,) = db.session.scalars(select(HumanTask.id).where(HumanTask.case_id == case.id,
                                                                           HumanTask.state == "open"))
                    tasks.complete(reviewer, tid, {"decision": "approve"})
                prepared += 2
            timer_cases = {}
            with unit_of_work():
                version = processes.deploy("load_timer", TIMER_BPMN, None, tier=None)
            info = processes.version_info(version.id)
            timer_owners = [e for i, (e, u) in enumerate(zip(ents, ent_users, strict=True))
                            if i % 5 == 2 and u not in race]
            now = datetime.now(timezone.utc)
            with unit_of_work():
                for k, e in enumerate(timer_owners):
                    due = now + timedelta(seconds=timers_from + timers_span * k / max(len(timer_owners), 1))
                    timer_cases[_timer_case(e, campaign_id, info, due, now)] = due
            with unit_of_work():
                actors = {u.id: Actor(u.id, u.username, u.role, u.scope, auth.issue_token(u))
                          for u in ent_users + rev_users}
            reviewers: dict[str, list[Actor]] = {}
            for u in rev_users:
                reviewers.setdefault(u.scope, []).append(actors[u.id])
            race_ids = {u.id for u in race}
            world = World(enterprises=[actors[u.id] for u in ent_users if u.id not in race_ids],
                          race_enterprises=[actors[u.id] for u in race], reviewers=reviewers,
                          cases=len(ent_users) + len(timer_cases) + len(advanced), timer_cases=timer_cases,
                          prepared_completions=prepared, overdue_tasks=len(overdue), advanced_cases=len(advanced),
                          prepared_uploads=len(advanced))
            db.session.remove()
            db.engine.dispose()
        return world
    finally:
        set_clock(previous)


# -- the load -----------------------------------------------------------------------------------------------------
@dataclass
class Record:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)  # (kind, status) -> count
    latencies: list = field(default_factory=list)  # seconds of every completion POST
    acked: list = field(default_factory=list)  # (task id, user id) answered 2xx
    races: list = field(default_factory=list)  # (kind, sorted statuses)
    returns: Counter = field(default_factory=Counter)  # case id -> returns decided by a reviewer (client side)
    created: list = field(default_factory=list)  # case ids answered 201 to POST /cases
    acked_at: list = field(default_factory=list)  # time.monotonic() of each 2xx completion
    started: float = 0.0  # time.monotonic() when the load began

    def note(self, kind: str, status: int, seconds: float | None = None, ack=None):
        with self.lock:
            self.statuses[(kind, status)] += 1
            if seconds is not None:
                self.latencies.append(seconds)
            if ack is not None and 200 <= status < 300:
                self.acked_at.append(time.monotonic())
            if ack is not None and 200 <= status < 300:
                self.acked.append(ack)


class Client:
    """One keep-alive connection on loopback acting as one user."""

    def __init__(self, port: int, actor: Actor, rec: Record):
        self.port, self.actor, self.rec = port, actor, rec
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.done = False

    def call(self, method: str, path: str, body=None) -> tuple[int, dict | None]:
        try:
            self.conn.request(method, f"/api/v1{path}", body=json.dumps(body) if body is not None else None,
                              headers={"Authorization": f"Bearer {self.actor.token}",
                                       "Content-Type": "application/json"})
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            return 0, None  # no answer: its outcome is unknown, so never counted as acknowledged
        try:
            return resp.status, json.loads(raw or b"null")
        except ValueError:
            return resp.status, None

    def inbox(self) -> list[dict]:
        status, out = self.call("GET", "/tasks")
        self.rec.note("GET /tasks", status)
        return out["items"] if status == 200 and out else []

    def complete(self, task: dict, data: dict) -> int:
        t0 = time.perf_counter()
        status, _out = self.call("POST", f"/tasks/{task['id']}/complete", {"data": data})
        self.rec.note("POST complete", status, time.perf_counter() - t0, ack=(task["id"], self.actor.user_id))
        return status

    def cases(self) -> list[dict]:
        status, out = self.call("GET", "/cases")
        self.rec.note("GET /cases", status)
        return out["items"] if status == 200 and out else []

    def apply(self) -> int:
        """A new basic case in the 2026 campaign."""
        status, out = self.call("POST", "/cases", {"tier": "basic", "campaign": 2026})
        self.rec.note("POST /cases", status)
        if 200 <= status < 300:
            with self.rec.lock:
                self.rec.created.append(out["id"])
        return status

    def reapply(self) -> None:
        """An enterprise whose cases were all rejected applies again (a new basic case in the same campaign)."""
        items = self.cases()
        if not items:
            return
        if all(c["status"] in FINAL for c in items) and any(c["status"] not in REAPPLY_AFTER for c in items):
            self.done = True  # certified: nothing more to do in this campaign
        elif all(c["status"] in REAPPLY_AFTER for c in items):
            self.apply()

    def close(self):
        self.conn.close()


def _enterprise_data(task: dict, client: "Client | None" = None) -> dict:
    """The self-assessment, the timer case's report, or (an advanced application returned) what the task's form
    is prefilled with, resubmitted."""
    from tests.factories import GOOD_ASSESSMENT

    if task["name"] == "self_assessment":
        return GOOD_ASSESSMENT
    if task["name"] == "report" or client is None:
        return {}
    status, out = client.call("GET", f"/tasks/{task['id']}")
    client.rec.note("GET /tasks/{id}", status)
    return out["data"] if status == 200 and out else {}


def _decision(rng: random.Random, rec: Record, task: dict) -> dict:
    """A reviewer's answer to the task's form: the joint review (approve/reject with a comment), the certifier's
    decision (`decision_comment`) or a review (`review_comment`)."""
    if task["name"].startswith("joint_"):
        return {"decision": rng.choices(["approve", "reject"], weights=[9, 1])[0], "comment": "联审意见"}
    with rec.lock:
        may_return = rec.returns[task["case_id"]] < 6  # far below MAX_REVISIONS
    # one approval in twenty: returned and rejected enterprises come back (a certified one is done for the
    # campaign), so the work lasts the whole run (see `per_window`)
    d = rng.choices(["approve", "return", "reject"], weights=[1, 11 if may_return else 0, 8])[0]
    if d == "return":
        with rec.lock:
            rec.returns[task["case_id"]] += 1
    if d == "approve":
        return {"decision": d}
    key = "decision_comment" if task["name"] == "certifier_decision" else "review_comment"
    return {"decision": d, key: "压力测试意见"}


def _enterprise_loop(port, actors: list[Actor], rec: Record, until: float):
    clients = [Client(port, a, rec) for a in actors]
    i = 0
    while time.monotonic() < until and clients:
        c = clients[i % len(clients)]
        i += 1
        if c.done:
            if all(x.done for x in clients):
                break
            continue
        items = c.inbox()
        for task in items:
            if time.monotonic() >= until:
                break
            c.complete(task, _enterprise_data(task, c))
        if not items and time.monotonic() < until:
            c.reapply()
    for c in clients:
        c.close()


def _reviewer_loop(port, actor: Actor, rec: Record, until: float, seed: int):
    """A reviewer works its inbox: a provincial or SOE reviewer takes one of the first ten (due first), so the
    colleagues of one province often pick the same task; a co-department reviewer takes the first, so the five
    departments of a province work on the same case's parallel tasks at the same moment."""
    rng = random.Random(seed)
    c = Client(port, actor, rec)
    while time.monotonic() < until:
        items = c.inbox()
        if not items:
            time.sleep(0.2)
            continue
        task = items[0] if actor.role == "co_department_reviewer" else rng.choice(items[:10])
        c.complete(task, _decision(rng, rec, task))
    c.close()


def _race(port, pair: tuple[Actor, Actor], act, rec: Record, kind: str):
    """Two requests released at the same instant (`act(client, k)` sends the k-th); both outcomes recorded."""
    clients = [Client(port, a, rec) for a in pair]
    barrier = threading.Barrier(2)
    out = [None, None]

    def go(k):
        try:
            barrier.wait(timeout=30)
        except threading.BrokenBarrierError:
            pass
        out[k] = act(clients[k], k)

    threads = [threading.Thread(target=go, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    with rec.lock:
        rec.races.append((kind, tuple(sorted(out))))


RACE_OUTCOMES = {  # exactly one wins; the loser is refused as a conflict or by the rule the winner just made true
    "same enterprise twice": {(200, 409)},
    "two reviewers of one province": {(200, 409)},
    "same enterprise applies twice": {(201, 409), (201, 422)},
}


def _racer_loop(port, ents: list[Actor], reviewers: list[Actor], rec: Record, until: float, seed: int):
    rng = random.Random(seed)
    i = 0
    while time.monotonic() < until:
        if ents:
            a = ents[i % len(ents)]
            i += 1
            c = Client(port, a, rec)
            items = c.inbox()
            cases = [] if items else c.cases()
            c.close()
            if items:  # the same enterprise in two tabs, both pressing submit
                data = _enterprise_data(items[0])
                _race(port, (a, a), lambda cl, _k, t=items[0], d=data: cl.complete(t, d), rec,
                      "same enterprise twice")
            elif cases and all(x["status"] in REAPPLY_AFTER for x in cases):  # rejected: applies again, twice
                _race(port, (a, a), lambda cl, _k: cl.apply(), rec, "same enterprise applies twice")
        if len(reviewers) >= 2 and time.monotonic() < until:
            a, b = rng.sample(reviewers, 2)
            c = Client(port, a, rec)
            items = c.inbox()
            c.close()
            if items:
                task = items[0]
                datas = (_decision(rng, rec, task), {"decision": "approve"})
                _race(port, (a, b), lambda cl, k, t=task, d=datas: cl.complete(t, d[k]), rec,
                      "two reviewers of one province")
        time.sleep(0.05)


def load(port: int, world: World, seconds: float, enterprise_threads: int = 6) -> tuple[Record, float]:
    rec = Record(started=time.monotonic())
    until = rec.started + seconds
    threads = []
    groups = [world.enterprises[k::enterprise_threads] for k in range(enterprise_threads)]
    threads += [threading.Thread(target=_enterprise_loop, args=(port, g, rec, until)) for g in groups if g]
    seed = 0
    for scope, revs in world.reviewers.items():
        if scope == f"province:{RACE_PROVINCE}":
            continue
        for a in revs:
            seed += 1
            threads.append(threading.Thread(target=_reviewer_loop, args=(port, a, rec, until, seed)))
    threads.append(threading.Thread(target=_racer_loop, args=(port, world.race_enterprises,
                                                               world.reviewers.get(f"province:{RACE_PROVINCE}", []),
                                                               rec, until, 99)))
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rec, time.perf_counter() - t0


# -- processes ----------------------------------------------------------------------------------------------------
def _env(url: str, tmp: str) -> dict:
    # a 60 s lease: on a CI machine whose two cores also run the other test suite, a starved scheduler process can miss
    # 15 s of renewals and hand the lease over (correctly, tests/timers/test_claims.py); this run proves that the one
    # holding it is the only one sweeping
    env = dict(os.environ, DATABASE_URL=url, UPLOAD_DIR=f"{tmp}/files", SECRET_KEY="bench", TIERFLOW_INSTANCE=tmp,
               SCHEDULER_INTERVAL_SECONDS="1", SCHEDULER_LEASE_SECONDS="60", PYTHONUNBUFFERED="1",
               AUDIT_ANCHOR_FILE=f"{tmp}/anchors.log")
    env.pop("SCHEDULER_ENABLED", None)
    env.pop("TEST_DATABASE_URL", None)
    return env


def start_gunicorn(url: str, tmp: str, workers: int, port: int) -> subprocess.Popen:
    """gunicorn on 127.0.0.1 (as bench.http starts it), its output kept in tmp/gunicorn.log for the report."""
    with open(Path(tmp) / "gunicorn.log", "wb") as fh:
        proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(workers), "-b",
                                 f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120", "wsgi:app"],
                                cwd=ROOT, env=_env(url, tmp), stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    stop(proc, signal.SIGKILL)
    raise RuntimeError("gunicorn did not start: " + (Path(tmp) / "gunicorn.log").read_text(errors="replace")[-2000:])


def start_scheduler(url: str, tmp: str, name: str) -> tuple[subprocess.Popen, Path]:
    out = Path(tmp) / f"{name}.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "scheduler", "run"],
                                cwd=ROOT, env=_env(url, tmp), stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return proc, out


def stop(proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 60) -> None:
    """Stop a process group we started; SIGKILL if it does not end in time."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass


def pg_temp(cmd: str, state: str) -> str:
    env = dict(os.environ, PG_TEMP_STATE=state)
    r = subprocess.run(["bash", str(ROOT / "scripts" / "pg_temp.sh"), cmd], env=env, capture_output=True, text=True,
                       timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"scripts/pg_temp.sh {cmd} failed ({r.returncode}): {r.stderr[-2000:]}")
    return r.stdout.strip()


def _warm_up(port: int, world: World, sched: list, timeout: float = 180) -> None:
    """Until the schedulers have started and every gunicorn worker has loaded the app (a few answered requests
    per worker), so that the floor and the load measure a running system, not its start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(HOLDER.search(o.read_text(errors="replace")) for _p, o in sched):
        time.sleep(0.2)
    actor = (world.enterprises or world.race_enterprises)[0]
    jobs = [(actor.token, None)] * 200
    drive(port, jobs, 8, "GET", lambda _t: "/api/v1/me", lambda _t: None)


def lease_holder(url: str, tmp: str) -> str | None:
    from app.extensions import db
    from app.services import scheduler

    with _app(url, tmp).app_context():
        try:
            held = scheduler.lease_holder()
        finally:
            db.session.remove()
            db.engine.dispose()
    return held[0] if held else None


def _wait_timers(url: str, tmp: str, until_due: datetime, timeout: float) -> int:
    """Wait until no timer row due before `until_due` is left (the scheduler fired them); returns those left."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import TimerRow

    app = _app(url, tmp)
    deadline = time.monotonic() + timeout
    with app.app_context():
        try:
            while True:
                left = db.session.scalar(select(func.count()).select_from(TimerRow).where(TimerRow.due_at < until_due))
                db.session.rollback()
                if not left or time.monotonic() > deadline:
                    return left
                time.sleep(0.5)
        finally:
            db.session.remove()
            db.engine.dispose()


# -- proofs -------------------------------------------------------------------------------------------------------
FIRED = re.compile(r"^case (\d+): (\S+) fired$")
HOLDER = re.compile(r"^scheduler (\S+): a sweep every", re.M)


def scheduler_lines(path: Path) -> tuple[str | None, list[tuple[int, str]]]:
    holder, fired = None, []
    for line in path.read_text(errors="replace").splitlines():
        if m := HOLDER.match(line):
            holder = m.group(1)
        elif m := FIRED.match(line.strip()):
            fired.append((int(m.group(1)), m.group(2)))
    return holder, fired


def prove(url: str, tmp: str, world: World, rec: Record, schedulers: list[tuple[str | None, list]],
          lease: str | None) -> dict:
    """Check everything in the module doc (`lease`: its holder at the end of the load, both schedulers running);
    returns {"problems": [...], "events": {action: count}, ...}."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Case, CaseEvent, HumanTask, TimerRow
    from app.models.scheduling import Reminder
    from app.services import events, instances, processes
    from workflows.instance import Instance

    problems: list[str] = []
    app = _app(url, tmp)
    with app.app_context():
        try:
            kinds = dict(db.session.execute(select(CaseEvent.action, func.count()).group_by(CaseEvent.action)).all())
            case_ids = list(db.session.scalars(select(Case.id).order_by(Case.id)))
            broken = [(cid, seq, why) for cid in case_ids for ok, seq, why in [events.verify_case(cid)] if not ok]
            if broken:
                problems.append(f"{len(broken)} chain(s) broken, first: {broken[0]}")
            if len(case_ids) != world.cases + len(rec.created) or not set(rec.created) <= set(case_ids):
                problems.append(f"{len(case_ids)} cases, {world.cases} prepared + {len(rec.created)} created")

            ok_completions = sum(n for (k, s), n in rec.statuses.items() if k == "POST complete" and 200 <= s < 300)
            fired_lines = [f for _h, fired in schedulers for f in fired]
            overdue_rows = db.session.scalar(select(func.count()).select_from(Reminder)
                                             .where(Reminder.kind == "overdue"))
            closed = db.session.scalar(select(func.count()).select_from(Case).where(Case.closed_at.is_not(None)))
            expected = {
                "case.created": (world.cases + len(rec.created),
                                 f"{world.cases} prepared + {len(rec.created)} answered 201 to POST /cases"),
                "task.completed": (ok_completions + world.prepared_completions,
                                   f"{ok_completions} 2xx completions + {world.prepared_completions} prepared"),
                "timer.fired": (len(fired_lines), "'fired' lines printed by the schedulers"),
                "task.overdue": (overdue_rows, "overdue reminder rows"),
                "case.closed": (closed, "closed cases"),
                "attachment.uploaded": (world.prepared_uploads, "files uploaded while preparing"),
            }
            for action, (want, what) in expected.items():
                if kinds.get(action, 0) != want:
                    problems.append(f"{action}: {kinds.get(action, 0)} events, expected {want} ({what})")
            others = {k: v for k, v in kinds.items() if k not in expected}
            if others:
                problems.append(f"unexpected event kinds: {others}")
            if len(fired_lines) != len(world.timer_cases) or {c for c, _e in fired_lines} != set(world.timer_cases):
                problems.append(f"{len(fired_lines)} timers fired for {len(world.timer_cases)} timer cases")
            if any(h is None for h, _f in schedulers):
                problems.append("a scheduler process did not start")
            active = [h for h, fired in schedulers if fired]
            if len(active) > 1:
                problems.append(f"{len(active)} schedulers swept: {active}")
            if active and lease != active[0]:
                problems.append(f"the lease is held by {lease}, the sweeping scheduler was {active[0]}")

            # no duplicates: one task.completed event per task, one task.overdue per task
            dup = db.session.execute(select(CaseEvent.task_uuid, func.count()).where(
                CaseEvent.action == "task.completed").group_by(CaseEvent.task_uuid).having(func.count() > 1)).all()
            if dup:
                problems.append(f"{len(dup)} task(s) completed twice, e.g. {dup[0]}")
            overdue_per_task = Counter(e.data["task_id"] for e in db.session.scalars(
                select(CaseEvent).where(CaseEvent.action == "task.overdue")))
            if any(n > 1 for n in overdue_per_task.values()):
                problems.append("a task was escalated twice")
            timer_events = Counter(db.session.scalars(select(CaseEvent.case_id).where(
                CaseEvent.action == "timer.fired")))
            if any(n != 1 for n in timer_events.values()):
                problems.append(f"a timer case fired {max(timer_events.values())} times")
            # every acknowledged completion is there, by its acknowledger, exactly once
            completed_events = Counter(db.session.scalars(select(CaseEvent.task_uuid).where(
                CaseEvent.action == "task.completed")))
            task_rows = {r.id: r for r in db.session.execute(select(HumanTask.id, HumanTask.task_uuid, HumanTask.state,
                                                               HumanTask.completed_by))}
            acked_ids = Counter(tid for tid, _u in rec.acked)
            if any(n > 1 for n in acked_ids.values()):
                problems.append("one task was acknowledged twice")
            for tid, uid in rec.acked:
                r = task_rows.get(tid)
                if r is None or r.state != "completed" or r.completed_by != uid or completed_events[r.task_uuid] != 1:
                    problems.append(f"acknowledged task {tid} is not completed once by user {uid}: {r}")
                    break
            n_completed_rows = sum(1 for r in task_rows.values() if r.state == "completed")
            if n_completed_rows != kinds.get("task.completed", 0):
                problems.append(f"{n_completed_rows} completed task rows, {kinds.get('task.completed', 0)} events")
            # each case's rows follow from its stored instance
            open_rows: dict[int, set] = {}
            for cid, uuid in db.session.execute(select(HumanTask.case_id, HumanTask.task_uuid)
                                                .where(HumanTask.state == "open")):
                open_rows.setdefault(cid, set()).add(uuid)
            timer_rows: dict[int, set] = {}
            for cid, el in db.session.execute(select(TimerRow.case_id, TimerRow.element)):
                timer_rows.setdefault(cid, set()).add(el)
            seqs = dict(db.session.execute(select(CaseEvent.case_id, func.max(CaseEvent.seq))
                                           .group_by(CaseEvent.case_id)).all())
            counts = dict(db.session.execute(select(CaseEvent.case_id, func.count())
                                             .group_by(CaseEvent.case_id)).all())
            inconsistent = []
            for cid in case_ids:
                crec = instances.load(cid)
                inst = Instance.load(crec.state, processes.version_info(crec.process_version_id).bundle)
                ready = inst.human_tasks()
                why = []
                if {t.uuid for t in ready} != open_rows.get(cid, set()):
                    why.append("open tasks differ from the instance's waiting tasks")
                if {el for el, _d in inst.waiting_timers()} != timer_rows.get(cid, set()):
                    why.append("timer rows differ from the instance's waiting timers")
                if crec.status != instances.status_of(crec, inst, [t.properties for t in ready]):
                    why.append(f"status {crec.status} does not follow from the instance")
                if (crec.closed_at is not None) != inst.completed:
                    why.append("closed_at does not match completion")
                if crec.event_seq != seqs.get(cid) or counts.get(cid) != crec.event_seq:
                    why.append(f"event_seq {crec.event_seq}, last seq {seqs.get(cid)}, {counts.get(cid)} events")
                if why:
                    inconsistent.append((cid, why))
            if inconsistent:
                problems.append(f"{len(inconsistent)} case(s) inconsistent, first: {inconsistent[0]}")
            live = Counter(db.session.execute(
                select(Case.enterprise_id, Case.campaign_id, Case.tier)
                .where(Case.status.not_in(REAPPLY_AFTER), Case.id.not_in(list(world.timer_cases) or [0]))).all())
            doubled = {k: n for k, n in live.items() if n > 1}
            if doubled:
                problems.append(f"{len(doubled)} enterprise(s) with two live cases of one tier in one campaign "
                                f"(enterprise, campaign, tier): {list(doubled)[:3]}")
            statuses = Counter(db.session.scalars(select(Case.status)))
        finally:
            db.session.remove()
            db.engine.dispose()

    r = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "audit", "verify"], cwd=ROOT,
                       env=_env(url, tmp), capture_output=True, text=True, timeout=600)
    if r.returncode != 0 or ", 0 broken" not in r.stdout:
        problems.append(f"flask audit verify: exit {r.returncode}: {(r.stdout + r.stderr)[-500:]}")
    bad_races = [r for r in rec.races if r[1] not in RACE_OUTCOMES[r[0]]]
    if bad_races:
        problems.append(f"{len(bad_races)} of {len(rec.races)} races without exactly one winner: {bad_races[:3]}")
    server_errors = {k: n for k, n in rec.statuses.items() if k[1] >= 500 or k[1] == 0}
    if server_errors:
        problems.append(f"server errors or no answer: {server_errors}")
    return {"problems": problems, "events": kinds, "verified": len(case_ids) - len(broken), "cases": len(case_ids),
            "audit_verify": r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-200:],
            "timers_fired": len(fired_lines), "overdue": overdue_rows, "statuses": dict(statuses)}


# -- the run ------------------------------------------------------------------------------------------------------
@dataclass
class Result:
    workers: int
    users: int
    seconds: float
    elapsed: float
    rec: Record
    floor_per_s: float
    floor_n: int
    proof: dict
    world: World
    floor_after_per_s: float = 0.0
    load_avg: float = 0.0  # the machine's 1-minute load average when the load started (other work on it)
    schedulers: list = field(default_factory=list)  # (holder, fired lines) of each scheduler process
    holder: str | None = None  # the lease holder at the end of the load
    url: str = ""  # the database (gone after the run when it was a throwaway one)

    @property
    def completions(self) -> int:
        return sum(n for (k, s), n in self.rec.statuses.items() if k == "POST complete" and 200 <= s < 300)

    def latency_ms(self, q: float) -> float:
        ms = sorted(t * 1000 for t in self.rec.latencies)
        return ms[min(len(ms) - 1, int(len(ms) * q))] if ms else float("nan")

    def per_window(self, width: float = 10) -> list[int]:
        """2xx completions in each `width` seconds of the load: a falling tail means the work ran out."""
        out = [0] * max(1, int(-(-self.elapsed // width)))
        for t in self.rec.acked_at:
            out[min(len(out) - 1, int((t - self.rec.started) // width))] += 1
        return out

    def by_status(self) -> dict:
        return {f"{k} {s}": n for (k, s), n in sorted(self.rec.statuses.items())}


def run(url: str | None = None, workers: int = 4, users: int = 200, seconds: float = 60, floor_requests: int = 1500,
        echo=print) -> Result:
    """The whole test (module doc); a throwaway PostgreSQL when `url` is None. Every process started is stopped."""
    tmp = tempfile.mkdtemp(prefix="tierflow-load-")
    keep_tmp = True
    state = f"{tmp}/pg.state"
    own_pg = url is None
    procs: list[subprocess.Popen] = []
    try:
        if own_pg:
            url = pg_temp("start", state)
            echo(f"throwaway PostgreSQL: {url}")
        t0 = time.perf_counter()
        world = prepare(url, users, tmp, timers_from=10, timers_span=max(seconds * 0.6, 5))
        n_users = len(world.enterprises) + len(world.race_enterprises) + sum(map(len, world.reviewers.values()))
        echo(f"prepared {world.cases} cases for {n_users} users ({len(world.timer_cases)} timer cases, "
             f"{world.overdue_tasks} overdue reviews) in {time.perf_counter() - t0:.1f} s")
        port = _free_port()
        server = start_gunicorn(url, tmp, workers, port)
        procs.append(server)
        sched = [start_scheduler(url, tmp, f"scheduler-{k}") for k in (1, 2)]
        procs += [p for p, _o in sched]
        _warm_up(port, world, sched)
        everyone = world.enterprises + world.race_enterprises + [a for v in world.reviewers.values() for a in v]
        jobs = [(everyone[k % len(everyone)].token, None) for k in range(floor_requests)]
        me_s, me_ok, me_statuses = drive(port, jobs, 8, "GET", lambda _t: "/api/v1/me", lambda _t: None)
        if me_ok != floor_requests:
            raise RuntimeError(f"GET /api/v1/me answered {me_statuses}")
        echo(f"floor: {me_ok} GET /api/v1/me in {me_s:.1f} s; load for {seconds:.0f} s ...")
        load_before = os.getloadavg()[0]
        rec, elapsed = load(port, world, seconds)
        after_s, after_ok, _st = drive(port, jobs, 8, "GET", lambda _t: "/api/v1/me", lambda _t: None)
        echo(f"floor again after the load: {after_ok} GET /api/v1/me in {after_s:.1f} s")
        stop(server)
        last_due = max(world.timer_cases.values(), default=datetime.now(timezone.utc))
        left = _wait_timers(url, tmp, last_due + timedelta(seconds=1), timeout=120)
        if left:
            echo(f"{left} timer(s) still due after waiting for the scheduler")
        time.sleep(2)  # one more sweep for the escalations of the last moments
        holder = lease_holder(url, tmp)
        for p, _o in sched:
            stop(p, signal.SIGINT)  # Ctrl+C: the scheduler gives its lease back
        lines = [scheduler_lines(o) for _p, o in sched]
        proof = prove(url, tmp, world, rec, lines, holder)
        if proof["problems"]:
            echo(f"logs kept in {tmp}")
        else:
            keep_tmp = False
        return Result(workers, n_users, seconds, elapsed, rec, me_ok / me_s, me_ok, proof, world,
                      floor_after_per_s=after_ok / after_s, load_avg=load_before, schedulers=lines, holder=holder,
                      url=url)
    finally:
        for p in procs:
            stop(p, signal.SIGKILL, timeout=30)
        if own_pg:
            try:
                pg_temp("stop", state)
            except RuntimeError as exc:
                echo(str(exc))
        if not keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def rows(db: str | None = None, workers: int = 4, users: int = 200, seconds: float = 60) -> list[dict]:
    """The figures of one run as rows for a combined table (keys figure, command, measured, floor, target)."""
    res = run(db, workers, users, seconds, echo=lambda *_a: None)
    return result_rows(res)


def result_rows(res: Result) -> list[dict]:
    cmd = f".venv/bin/python -m bench.load --workers {res.workers} --users {res.users} --seconds {res.seconds:.0f}"
    floor = f"GET /api/v1/me {res.floor_per_s:.0f}/s before, {res.floor_after_per_s:.0f}/s after the load"
    ev = res.proof["events"]
    errors = ", ".join(f"{k}: {n}" for k, n in res.by_status().items() if not re.search(r" 2\d\d$", k))
    races = Counter(res.rec.races)
    return [
        {"figure": f"task completions over HTTP, gunicorn -w {res.workers} + scheduler on PostgreSQL, "
                   f"{res.users} users", "command": cmd,
         "measured": f"{res.completions / res.elapsed:.1f}/s ({res.completions} in {res.elapsed:.0f} s; per 10 s: "
                     f"{res.per_window()})",
         "floor": floor, "target": "no transition lost or duplicated"},
        {"figure": "completion latency under that load", "command": cmd,
         "measured": f"p50 {res.latency_ms(0.5):.0f} ms, p95 {res.latency_ms(0.95):.0f} ms", "floor": floor,
         "target": "-"},
        {"figure": "answers other than 200", "command": cmd, "measured": errors or "none", "floor": floor,
         "target": "409 only for lost races, no 5xx"},
        {"figure": "races (two requests at one instant)", "command": cmd,
         "measured": "; ".join(f"{kind} {list(out)}: {n}" for (kind, out), n in sorted(races.items())) or "none",
         "floor": floor, "target": "exactly one wins (200/201), the other 409 (or 422: one case per campaign)"},
        {"figure": "proofs: chains verified, events by kind = 2xx answers", "command": cmd,
         "measured": (f"{res.proof['verified']}/{res.proof['cases']} chains; "
                      + ", ".join(f"{k} {v}" for k, v in sorted(ev.items()))
                      + ("; OK" if not res.proof["problems"] else f"; PROBLEMS: {res.proof['problems']}")),
         "floor": floor, "target": "0 lost, 0 duplicated"},
    ]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=None, help="PostgreSQL URL (its public schema is dropped); default: throwaway")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--seconds", type=float, default=60)
    args = p.parse_args()
    res = run(args.db, args.workers, args.users, args.seconds)
    print(f"\n{res.users} users, gunicorn -w {res.workers} + 2 scheduler processes, {res.elapsed:.1f} s of load")
    print(f"completions: {res.completions} -> {res.completions / res.elapsed:.1f}/s; latency p50 "
          f"{res.latency_ms(0.5):.0f} ms, p95 {res.latency_ms(0.95):.0f} ms")
    print(f"floor GET /api/v1/me: {res.floor_per_s:.0f}/s before the load, {res.floor_after_per_s:.0f}/s after "
          f"({res.floor_n} requests each, 8 threads, same server); {os.cpu_count()} CPUs, load average "
          f"{res.load_avg:.1f} when the load started")
    print(f"completions in each 10 s: {res.per_window()}")
    print(f"answers: {res.by_status()}")
    print(f"races: {dict(Counter(res.rec.races))}")
    print(f"events by kind: {res.proof['events']}; timers fired {res.proof['timers_fired']} of "
          f"{len(res.world.timer_cases)}; overdue escalations {res.proof['overdue']}")
    print(f"case statuses: {res.proof['statuses']}")
    print(f"audit verify: {res.proof['audit_verify']}")
    print("PROOFS: " + ("all hold" if not res.proof["problems"] else "FAILED"))
    for prob in res.proof["problems"]:
        print(f"  - {prob}")
    print()
    for r in result_rows(res):
        print(f"{r['figure']:<70} {r['measured']}   [floor {r['floor']}; target {r['target']}]")
    from bench.rows import emit

    emit(*(dict(r, verdict="" if i else ("met" if not res.proof["problems"] else "NOT MET"))
           for i, r in enumerate(result_rows(res))))
    sys.exit(1 if res.proof["problems"] else 0)


if __name__ == "__main__":
    main()
