"""A campaign on the injectable clock with synthetic actors, through advanced certified lists (public notice,
objections) and lighthouse cultivation and acceptance: `flask simulate`, also a benchmark data generator.

`run(year, n, seed)` adds `n` synthetic factories with a seeded tier history and a disabled login each: most in
Zhejiang (the demo's province with an excellent quota input), applying for basic, advanced or excellent; every
fourth in Shandong (the demo's province with a lighthouse quota input, see data/demo.yaml) already holds the
excellent tier and applies for lighthouse. From 120 days before the excellent application deadline, a simulated
day goes: factories start their case on a seeded day (09:00; some never submit); every open task is done by the
user of its role and scope with seeded odds (10:00; forms filled from their JSON Schema, decisions mostly
`approve`; an expert task by the expert drawn for it); planned objections are lodged (11:00); certifiers publish
their certified lists (15:00); three days before the recommendation deadline the Zhejiang reviewer ranks its
excellent cases and the Shandong reviewer its lighthouse cases, each within its DMN quota (16:00); then one sweep
runs at 00:00:01 Asia/Shanghai, printing what fired when.

Advanced: an approved case waits for its certifier's certified list. The certifier (the provincial reviewer; a
central SOE group's reviewer for its members) publishes one on a seeded day 2 to 12 days after the first case of
its scope waiting for it was approved, with every case of its scope approved by then (one batch; capped by the
campaign's advanced recommendation deadline, which the data does not set today). `lists.publish_certified`
starts each case's public notice of 5 Chinese working days and reports the list to the national reviewers (and
SASAC for an SOE list); the daily sweep ends the notice and the case is `certified` (tier history written). Each
listed case draws in turn from a seeded shuffle of (upheld, dismissed, none), so three listed cases show all three:
another simulated factory lodges an objection 1 to 4 days into the notice (`objections.lodge`; anyone logged in
may), which holds the case until the national reviewer decides: upheld ends it `rejected`, dismissed resumes the
notice (ended at once if its end passed meanwhile). The notice is dated by the working-day calendar
(chinesecalendar to 2026 with 1.11.0, and the years loaded as data: the demo's 2027 is illustrative); a list whose
notice falls in a year neither covers is refused and its cases named at the end with the reason.

Lighthouse: the recommended cases go through the expert committee (material review and on-site inspection panels)
to the national decision on cultivation targets, which starts the two-year cultivation (the deadline is a date in
the case data, `cultivation_deadline_at`); progress reports open at the six-month marks, each followed by an
expert's guidance. Each recommended case gets a seeded plan, taken in turn so that three recommended cases show
all three: `accepted` (applies for acceptance once, passes), `retry` (the expert committee rejects the first
application, the factory applies again within the period and passes) and `expired` (never applies; the
cultivation deadline timer ends it `expired`). An accepted case ends after its public notice.

Drafts never submitted: an excellent or lighthouse draft expires at the campaign's application deadline (a timer
of its diagram). The basic and advanced tiers have no application deadline: the notice (../shared/DOMAIN.md) dates
only excellent and lighthouse, the campaign data sets none for basic or advanced (the summary says `basic deadline
none`, `advanced deadline none`), and their diagrams have no expiry timer; such drafts stay `draft` and are named
at the end rather than expired on an invented date.

The run goes on until nothing is left to happen to a simulated case (no open task the actors would do, no planned
start, list, objection or acceptance application, no waiting timer), or at the latest three years after the
recommendation deadline. Days with nothing to do are skipped: the next simulated day is the next one with a planned
action, a task to do or a timer due, so a run over two cultivation years stays fast. At the end every case still
open is named with why (a draft never submitted without a deadline; an approved case whose list was refused, with
the service's reason; otherwise its status), and the summary counts them (`open otherwise` is what the simulation
leaves open without a reason: 0). The same seed on the same starting database gives the same run, line for line;
`run_fresh` makes that database (a new SQLite file, migrated, with the demo world) so a run is throwaway and
repeatable.

The days run here, on the entry floor: one unit of work per step (a case started, a task done, a list published,
an objection lodged), a sweep as `flask timers run` does it (`app/jobs/scheduler.py`); the reads and the synthetic
factories are `services/simulation.py`, the advanced lists and lighthouse cultivation `app/jobs/simulate_lists.py`.
"""
import io
import random
from datetime import date, datetime, time, timedelta

from app.errors import ServiceError
from app.extensions import db
from app.jobs import scheduler
from app.jobs.simulate_lists import Lists
from app.services import attachments, cases, clock, simulation, tasks
from app.services.clock import SHANGHAI, FixedClock
from app.services.simulation import LH_PROVINCE, PANEL_OVERRIDE_REASON, PROVINCE
from app.uow import unit_of_work


class World(Lists):
    def __init__(self, year: int, n: int, seed: int, echo):
        self.rng = random.Random(seed)
        self.year, self.n, self.seed = year, n, seed
        self.echo = echo or (lambda _line: None)
        self.campaign = simulation.campaign(year)
        d = self.campaign.deadline_for("excellent")
        if d is None or not d.application_deadline or not d.recommendation_deadline:
            raise ServiceError(f"campaign {year} has no excellent deadlines")
        self.app_deadline, self.rec_deadline = d.application_deadline, d.recommendation_deadline
        lh = self.campaign.deadline_for("lighthouse")
        if lh is None or not lh.application_deadline or not lh.recommendation_deadline:
            raise ServiceError(f"campaign {year} has no lighthouse deadlines")
        self.lh_rec_deadline = lh.recommendation_deadline
        self.first = self.app_deadline - timedelta(days=120)
        self.bound = max(self.rec_deadline, self.lh_rec_deadline) + timedelta(days=3 * 365)
        self.counts = {"enterprises": 0, "cases": 0, "tasks done": 0, "timers fired": 0, "recommended": 0,
                       "certified lists": 0, "advanced listed": 0, "advanced certified": 0, "objections lodged": 0,
                       "objections upheld": 0, "objections dismissed": 0,
                       "lighthouse cultivated": 0, "lighthouse accepted": 0, "lighthouse expired": 0,
                       "acceptance failures": 0, "committee acceptances": 0, "panel overrides": 0,
                       "late reviews not expired": 0, "overdue escalations": 0, "days simulated": 0}
        self.plans: dict[int, dict] = {}
        self.by_case: dict[int, dict] = {}
        # the certified lists and objections draw from their own seeded stream (the other draws stay as they were)
        self.list_rng = random.Random(f"{seed}:certified lists")
        self.publish_on: dict[str, date] = {}  # certifier scope -> the day it publishes its next certified list
        self.verdicts: list = []

    def say(self, at: datetime, text: str) -> None:
        self.echo(f"{at.astimezone(SHANGHAI).strftime('%Y-%m-%d %H:%M')} {text}")

    # -- the synthetic factories ---------------------------------------------------------------------------------
    def create_factories(self) -> None:
        with unit_of_work():
            self.plans = simulation.create_factories(self.year, self.n, self.seed, self.rng)
        self.counts["enterprises"] += len(self.plans)

    # -- the days --------------------------------------------------------------------------------------------------
    def run(self) -> dict:
        self.create_factories()
        self.users = simulation.actors()
        day = self.first
        while day is not None and day <= self.bound:
            self.work_day(day)
            last = datetime.combine(day + timedelta(days=1), time(0, 0, 1), tzinfo=SHANGHAI)
            self.sweep(last)
            self.counts["days simulated"] += 1
            day = self.next_day(day)
        self.report_open(last, day is not None)
        return self.counts

    def application_deadline(self, tier: str) -> date | None:
        d = self.campaign.deadline_for(tier)
        return d.application_deadline if d else None

    def report_open(self, last: datetime, bound: bool) -> None:
        """Every case still open, with why: a draft never submitted whose tier has no application deadline in the
        campaign (basic and advanced: the notice sets dates for excellent and lighthouse only, so no sweep expires
        it), an approved advanced case whose certified list was refused (with the service's reason), or otherwise
        (its status: something the simulation does not do, which should not happen)."""
        for tier in ("basic", "advanced"):
            day = self.application_deadline(tier)
            self.counts[f"{tier} deadline"] = day.isoformat() if day else "none"
        still = simulation.cases_status(self.open_cases())
        kinds = {"drafts never submitted": 0, "approved with the list refused": 0, "otherwise": 0}
        named = []
        for cid, tier, status in still:
            plan = self.by_case[cid]
            timers = simulation.timer_count(cid)
            if status == "draft" and not plan["submits"] and not timers:
                kinds["drafts never submitted"] += 1
                day = self.application_deadline(tier)
                why = (f"campaign {self.year} sets no {tier} application deadline" if day is None
                       else f"no timer of the {tier} diagram waits on the application deadline {day}")
                named.append(f"case {cid} {tier} {status} (never submitted; {why}, so nothing expires it)")
            elif status == "approved" and plan.get("unlisted"):
                kinds["approved with the list refused"] += 1
                named.append(f"case {cid} {tier} {status} (its certified list was refused: {plan['unlisted']})")
            else:
                kinds["otherwise"] += 1
                named.append(f"case {cid} {tier} {status} (not something the simulation leaves open on purpose)")
        if still:
            self.say(last, ("bound reached; " if bound else "nothing left to do; ") + "still open: "
                     + ", ".join(named))
        self.counts["cases open at the end"] = len(still)
        self.counts.update({f"open {k}": v for k, v in kinds.items()})

    def at(self, day: date, hour: int) -> datetime:
        now = datetime.combine(day, time(hour, 0), tzinfo=SHANGHAI)
        clock.set_clock(FixedClock(now))
        return now

    def recommendation_day(self, tier: str) -> date:
        return (self.lh_rec_deadline if tier == "lighthouse" else self.rec_deadline) - timedelta(days=3)

    def open_cases(self) -> list[int]:
        return simulation.open_cases(sorted(self.by_case))

    def open_tasks(self) -> list:
        return simulation.open_tasks(sorted(self.by_case))

    def actionable(self, t, day: date) -> bool:
        """Whether a synthetic actor would do this open task on `day` (given the odds)."""
        plan = self.by_case.get(t.case_id)
        if plan is None or (t.role, t.scope) not in self.users:
            return False
        if t.role == "enterprise" and t.element in ("application", "self_assessment") and not plan["submits"]:
            return False
        if t.element == "acceptance_application":  # on the day the plan says (never, for `expired`)
            return plan.get("accept_on") is not None and day >= plan["accept_on"]
        if t.element == "preliminary_review" and plan.get("late_review"):  # a province late past the period
            return day >= plan["late_review"]
        return True

    def next_day(self, day: date) -> date | None:
        """The next day something may happen to a simulated case; None when nothing will."""
        tomorrow = day + timedelta(days=1)
        if any(self.actionable(t, tomorrow) for t in self.open_tasks()):
            return tomorrow
        later = [self.first + timedelta(days=p["apply_day"]) for p in self.plans.values() if p.get("case") is None]
        later += [self.recommendation_day(tier) for tier in ("excellent", "lighthouse")]
        later += [p["accept_on"] for p in self.by_case.values() if p.get("accept_on") is not None]
        later += [p["late_review"] for p in self.by_case.values() if p.get("late_review") and not p.get("ended")]
        later += list(self.publish_on.values())
        later += [p["object_on"] for p in self.by_case.values() if p.get("object_on") is not None]
        open_ids = self.open_cases()
        if open_ids:
            due = simulation.first_due(open_ids)
            if due is not None:  # the day whose closing sweep (00:00:01 the next day) fires it
                later.append((due - timedelta(seconds=1)).astimezone(SHANGHAI).date())
        later = [d for d in later if d >= tomorrow]
        return min(later) if later else None

    def work_day(self, day: date) -> None:
        now = self.at(day, 9)
        for ent_id, plan in sorted(self.plans.items()):
            if plan.get("case") is None and (day - self.first).days == plan["apply_day"]:
                actor = self.users[("enterprise", f"enterprise:{ent_id}")]
                try:
                    with unit_of_work():
                        case = cases.create_case(actor, plan["tier"], self.year)
                        plan["case"] = case.id
                    self.by_case[case.id] = plan
                    self.counts["cases"] += 1
                    self.say(now, f"case {case.id}: {plan['tier']} started")
                except ServiceError as exc:
                    plan["case"] = 0
                    self.say(now, f"enterprise {ent_id}: no {plan['tier']} case ({exc.message[:80]})")
        now = self.at(day, 10)
        for t in self.open_tasks():
            if self.rng.random() > 0.3 or not self.actionable(t, day):
                continue
            self.complete(t, now)
        now = self.at(day, 11)
        for cid, plan in sorted(self.by_case.items()):
            if plan.get("object_on") == day:
                self.lodge(cid, plan, now)
        for scope, when in sorted(self.publish_on.items()):
            if when == day:
                self.publish(scope, self.at(day, 15))
        for tier, province in (("excellent", PROVINCE), ("lighthouse", LH_PROVINCE)):
            if day == self.recommendation_day(tier):
                self.recommend(tier, province, self.at(day, 16))

    def decide(self, t, plan: dict, data: dict, day: date, status: str, shown: dict) -> None:
        """The reviewer of an objection decides as the case's plan says (`upheld`: the case is not certified).
        An excellent case planned `override`: its three experts reject, the panel lead approves with a reason
        (16.7). A lighthouse case follows its plan: every conclusion approves (a panel member's vote stays seeded),
        except the national acceptance of a `retry` case the first time. A lead whose conclusion differs from the
        panel's computed result (`shown`: what its form shows) gives the reason; one that agrees gives none."""
        self._decide(t, plan, data, day, status, shown)
        if "override_reason" in data or "panel_result" in shown:
            differs = "panel_result" in shown and data.get("decision") != shown["panel_result"]
            if differs:
                data["override_reason"] = PANEL_OVERRIDE_REASON if plan.get("override") else \
                    "综合专家意见与现场情况，组长结论与专家组汇总结果不同，理由已记录在案。"
            else:
                data.pop("override_reason", None)

    def _decide(self, t, plan: dict, data: dict, day: date, status: str, shown: dict) -> None:
        if status == "objection_review" and plan.get("objection") and "decision" in data:
            upheld = plan["objection"] == "upheld"
            data.update(decision="reject" if upheld else "approve",
                        resolution="经核查，异议反映的问题属实，不予认定。" if upheld
                        else "经核查，异议反映的问题不属实，继续公示。")
            return
        if "decision" not in data:
            return
        panel_member = t.element.rsplit("_", 1)[-1].isdigit()  # material_review_2, acceptance_review_3
        lighthouse = plan["tier"] == "lighthouse" or bool(plan.get("override"))  # these plans approve throughout
        first_retry = lighthouse and plan.get("fate") == "retry" and not plan.get("failed") and \
            t.element.startswith(("acceptance_review", "national_acceptance"))
        if panel_member:  # a score that goes with the vote; the vote stays seeded unless the plan says otherwise
            if (plan.get("override") and t.element.startswith("expert_review")) or first_retry:
                data["decision"] = "reject"
            elif lighthouse:
                data["decision"] = "approve"
            if "score" in data:
                data["score"] = self.rng.randint(70, 95) if data["decision"] == "approve" else self.rng.randint(10, 50)
            return
        if plan.get("override") and t.element == "expert_review":
            data["decision"] = "approve"  # against the panel's reject: with a reason (decide)
            return
        if first_retry and t.element == "national_acceptance":
            data.update(decision="reject", review_comment="部分培育目标尚未达到，继续培育后再次申请验收。")
            plan["failed"] = True
            plan["accept_on"] = day + timedelta(days=self.rng.randint(60, 150))
            self.counts["acceptance failures"] += 1
            return
        if "panel_result" in shown:  # a lead follows its panel's computed result
            data["decision"] = shown["panel_result"]
            return
        if lighthouse:
            data["decision"] = "approve"

    def complete(self, t, now: datetime) -> None:
        actor = self.users[(t.role, t.scope)]
        plan = self.by_case[t.case_id]
        day = now.astimezone(SHANGHAI).date()
        try:
            with unit_of_work():
                view = tasks.get_task(actor, t.id, with_timeline=False)

                def upload():
                    stream = io.BytesIO(b"%PDF-1.4 simulated " + str(t.id).encode())
                    return attachments.upload(actor, t.case_id, "模拟材料.pdf", stream).id

                data = simulation.form_data(view["form"] or {}, self.rng, upload)
                status = view["case"].status
                self.decide(t, plan, data, day, status, view["data"])
                tasks.complete(actor, t.id, data)
            self.counts["tasks done"] += 1
            outcome = data.get("decision", "submitted")
            self.say(now, f"case {t.case_id}: {t.element} done by {actor.username}: {outcome}")
            self.report_panel(t, plan, view["data"], data, now)
        except ServiceError as exc:
            self.say(now, f"case {t.case_id}: {t.element} refused: {exc.message[:100]} {exc.errors}")
            return
        if t.element == "acceptance_application":
            plan["accept_on"] = None
        if t.element == "preliminary_review" and plan.get("late_review"):
            plan["late_review"] = None
        if t.element == "target_decision" and outcome == "approve":
            self.cultivating(t.case_id, plan, now)
        if status == "objection_review" and plan.get("objection"):
            self.counts[f"objections {plan['objection']}"] += 1
        self.plan_list(t.case_id, day)
        self.report_end(t.case_id, now)

    def report_panel(self, t, plan: dict, shown: dict, data: dict, now: datetime) -> None:
        """A panel's lead (or the national acceptance on the committee's result): the computed result beside the
        conclusion, and the reason when it differs (16.7, 16.8)."""
        if "panel_result" not in shown:
            return
        differs = data.get("decision") != shown["panel_result"]
        self.say(now, f"case {t.case_id}: {t.element}: panel mean {shown.get('panel_mean')}, "
                      f"{shown.get('panel_approvals')} of 3 approve, panel result {shown['panel_result']}; "
                      + (f"overridden to {data.get('decision')} with a recorded reason" if differs else "followed"))
        if differs:
            self.counts["panel overrides"] += 1
        if t.element == "national_acceptance":
            self.counts["committee acceptances"] += 1

    def report_end(self, case_id: int, now: datetime) -> None:
        status, closed = simulation.case_end(case_id)
        plan = self.by_case.get(case_id)
        if closed is None or plan is None or plan.get("ended"):
            return
        plan["ended"] = status
        if plan["tier"] == "lighthouse" and status in ("accepted", "expired") and plan.get("fate"):
            self.counts[f"lighthouse {status}"] += 1
        if plan["tier"] == "advanced" and status == "certified":
            self.counts["advanced certified"] += 1
        self.say(now, f"case {case_id}: ended {status}")

    def sweep(self, now: datetime) -> None:
        clock.set_clock(FixedClock(now))
        res = scheduler.sweep(now)
        for case_id, elements in res.fired:
            for el in elements:
                self.say(now, f"case {case_id}: {el} fired")
                if el in ("preliminary_deadline", "acceptance_deadline", "recommendation_deadline"):
                    self.say(now, f"case {case_id}: a reviewer is late past the deadline: overdue, not expired "
                                  f"(status {simulation.case_end(case_id)[0]})")
                    self.counts["late reviews not expired"] += 1
            self.report_end(case_id, now)
        self.counts["timers fired"] += res.count
        for cid, plan in sorted(self.by_case.items()):  # the escalations of the case planned with a late reviewer
            if plan.get("watch_overdue") and res.reminders:
                for element, to in simulation.overdue_escalations(cid, now):
                    self.say(now, f"case {cid}: {element} overdue, escalated to {to}")
                    self.counts["overdue escalations"] += 1

def run(year: int, n: int, seed: int, echo=None) -> dict:
    """Simulate in the current database (the app context's)."""
    previous = clock.get_clock()
    try:
        return World(year, n, seed, echo).run()
    finally:
        clock.set_clock(previous)


def run_fresh(url: str, year: int, n: int, seed: int, echo=None) -> dict:
    """Simulate in a new database at `url` (migrated, demo world loaded): throwaway and repeatable. Called in the
    calling application's context: a second application for that database comes from the factory that made this
    one (app/__init__.py hands it down as `app.extensions["tierflow.create_app"]`, so nothing here imports the
    factory, which sits above every floor)."""
    from flask import current_app
    from flask_migrate import upgrade

    from app.services import demo

    create_app = current_app.extensions["tierflow.create_app"]
    config = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
              # the files go where the calling application keeps them (a test's temporary folder)
              "UPLOAD_DIR": current_app.config["UPLOAD_DIR"]}
    app = create_app(config)
    with app.app_context():
        upgrade()
        with unit_of_work():
            demo.load_demo()
        try:
            return run(year, n, seed, echo)
        finally:
            db.session.remove()
            db.engine.dispose()
