"""A campaign on the injectable clock with synthetic actors, through lighthouse cultivation and acceptance:
`flask simulate`, also a benchmark data generator.

`run(year, n, seed)` adds `n` synthetic factories with a seeded tier history and a disabled login each: most in
Zhejiang (the demo's province with an excellent quota input), applying for basic, advanced or excellent; every
fourth in Shandong (the demo's province with a lighthouse quota input, see data/demo.yaml) already holds the
excellent tier and applies for lighthouse. From 120 days before the excellent application deadline, a simulated
day goes: factories start their case on a seeded day (some never submit and expire at the deadline); every open
task is done by the user of its role and scope with seeded odds (forms filled from their JSON Schema, decisions
mostly `approve`; an expert task by the expert drawn for it); three days before the recommendation deadline the
Zhejiang reviewer ranks its excellent cases and the Shandong reviewer its lighthouse cases, each within its DMN
quota; then one sweep runs at 00:00:01 Asia/Shanghai, printing what fired when.

Lighthouse: the recommended cases go through the expert committee (material review and on-site inspection panels)
to the national decision on cultivation targets, which starts the two-year cultivation (the deadline is a date in
the case data, `cultivation_deadline_at`); the six-monthly progress timers open progress reports, each followed
by an expert's guidance. Each recommended case gets a seeded plan, taken in turn so that three recommended cases
show all three: `accepted` (applies for acceptance once, passes), `retry` (the expert committee rejects the first
application, the factory applies again within the period and passes) and `expired` (never applies; the
cultivation deadline timer ends it `expired`). An accepted case ends after its public notice.

The run goes on until nothing is left to happen to a simulated case (no open task the actors would do, no planned
start, list or acceptance application, no waiting timer), or at the latest three years after the recommendation
deadline. Days with nothing to do are skipped: the next simulated day is the next one with a planned action, a
task to do or a timer due, so a run over two cultivation years stays fast. The same seed on the same starting
database gives the same run, line for line; `run_fresh` makes that database (a new SQLite file, migrated, with the
demo world) so a run is throwaway and repeatable.
"""
import io
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Campaign, Case, Enterprise, HumanTask, TierRecord, TimerRow, User
from app.services import attachments, cases, clock, lists, quotas, scheduler, tasks
from app.services.clock import SHANGHAI, FixedClock
from app.services.credit_code import check_char
from app.services.errors import ServiceError

PROVINCE, CITY = "330000", "330100"
LH_PROVINCE, LH_CITY = "370000", "370200"  # lighthouse applicants: Shandong has the lighthouse quota input
FATES = ("accepted", "retry", "expired")  # what a recommended lighthouse case does in cultivation
TEXT = "通过数字化改造与智能化升级，关键工序数据实时采集，质量追溯覆盖全流程，生产效率显著提升。"


def credit_code(seed: int, i: int, city: str = CITY) -> str:
    first17 = f"91{city}MA{seed % 100:02d}{i:05d}"
    return first17 + check_char(first17)


def fill(schema: dict, rng: random.Random, upload) -> object:
    """A valid value for a JSON Schema of our forms (every property filled, so conditional rules hold)."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        values = schema["enum"]
        if "approve" in values:
            return "approve" if rng.random() < 0.85 else rng.choice([v for v in values if v != "approve"])
        return values[0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if schema.get("format") == "attachment":
        return [upload()] if kind == "array" else upload()
    if kind == "object":
        return {k: fill(s, rng, upload) for k, s in (schema.get("properties") or {}).items()}
    if kind == "array":
        item = schema.get("items") or {}
        if item.get("format") == "attachment":
            return [upload()]
        if "enum" in item:
            return list(item["enum"][: max(schema.get("minItems", 1), 5)])
        return [fill(item, rng, upload) for _ in range(max(schema.get("minItems", 1), 1))]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        lo, hi = schema.get("minimum", 0), schema.get("maximum", 100)
        return max(lo, min(hi, rng.randint(max(lo, 3), max(lo, min(hi, 95)))))
    if kind == "string":
        if schema.get("pattern"):
            return "0571-87654321"
        text = TEXT * (1 + schema.get("minLength", 0) // len(TEXT))
        return text[: schema.get("maxLength", len(text))]
    return None


def _form_data(form: dict, rng, upload) -> dict:
    data = fill(form, rng, upload)
    for rule in form.get("x-rules", []):  # an AI share among the declared scenarios: declare them all as AI
        if rule.get("kind") in ("subset", "share"):
            data[rule["part"]] = list(data[rule["whole"]])
    return data


class World:
    def __init__(self, year: int, n: int, seed: int, echo):
        self.rng = random.Random(seed)
        self.year, self.n, self.seed = year, n, seed
        self.echo = echo or (lambda _line: None)
        self.campaign = db.session.scalar(select(Campaign).where(Campaign.year == year))
        if self.campaign is None:
            raise ServiceError(f"no campaign {year}")
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
                       "lighthouse cultivated": 0, "lighthouse accepted": 0, "lighthouse expired": 0,
                       "acceptance failures": 0, "cases open at the end": 0, "days simulated": 0}
        self.plans: dict[int, dict] = {}
        self.by_case: dict[int, dict] = {}

    def say(self, at: datetime, text: str) -> None:
        self.echo(f"{at.astimezone(SHANGHAI).strftime('%Y-%m-%d %H:%M')} {text}")

    # -- the synthetic factories ---------------------------------------------------------------------------------
    def create_factories(self) -> None:
        from app.uow import unit_of_work

        with unit_of_work():
            for i in range(self.n):
                lighthouse = i % 4 == 3
                province, city = (LH_PROVINCE, LH_CITY) if lighthouse else (PROVINCE, CITY)
                code = credit_code(self.seed, i, city)
                if db.session.scalar(select(Enterprise.id).where(Enterprise.credit_code == code)):
                    raise ServiceError(f"seed {self.seed} was already simulated in this database: use another seed "
                                       "or a fresh database (run_fresh)")
                ent = Enterprise(credit_code=code, name=f"模拟智能工厂{self.seed}-{i:04d}有限公司",
                                 province_code=province, city_code=city, soe_group_key=None, legal_person=True,
                                 industry=self.rng.choice(["equipment", "automotive", "electronics"]))
                db.session.add(ent)
                db.session.flush()
                roll = self.rng.random()
                if lighthouse:
                    history = ["basic", "advanced", "excellent"]
                else:
                    history = [] if roll < 0.4 else ["basic"] if roll < 0.7 else ["basic", "advanced"]
                for k, tier in enumerate(history):  # the excellent tier last year, the ones below earlier
                    db.session.add(TierRecord(enterprise_id=ent.id, tier=tier, year=self.year - len(history) + k,
                                              source="imported"))
                db.session.add(User(username=f"sim{self.seed}-{i:04d}", password_hash="!", role="enterprise",
                                    enterprise_id=ent.id))  # "!" matches no password: a login nobody can use
                target = ("lighthouse" if lighthouse else "basic" if not history
                          else "advanced" if history == ["basic"] else "excellent")
                self.plans[ent.id] = {"tier": target, "apply_day": self.rng.randint(0, 100),
                                      "submits": self.rng.random() < 0.8 or lighthouse}
                self.counts["enterprises"] += 1

    # -- the days --------------------------------------------------------------------------------------------------
    def run(self) -> dict:
        self.create_factories()
        users = {}
        for u in db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)):
            users.setdefault((u.role, u.scope), u)
        self.users = users
        day = self.first
        while day is not None and day <= self.bound:
            self.work_day(day)
            last = datetime.combine(day + timedelta(days=1), time(0, 0, 1), tzinfo=SHANGHAI)
            self.sweep(last)
            self.counts["days simulated"] += 1
            day = self.next_day(day)
        still = db.session.execute(select(Case.id, Case.status).where(Case.id.in_(self.open_cases()))
                                   .order_by(Case.id)).all()
        if still:  # waiting for what the simulation does not do (a certified list, a self-assessment never sent)
            self.say(last, ("bound reached; " if day is not None else "nothing left to do; ") + "still open: "
                     + ", ".join(f"case {cid} {status}" for cid, status in still))
        self.counts["cases open at the end"] = len(still)
        return self.counts

    def at(self, day: date, hour: int) -> datetime:
        now = datetime.combine(day, time(hour, 0), tzinfo=SHANGHAI)
        clock.set_clock(FixedClock(now))
        return now

    def recommendation_day(self, tier: str) -> date:
        return (self.lh_rec_deadline if tier == "lighthouse" else self.rec_deadline) - timedelta(days=3)

    def open_cases(self) -> list[int]:
        ids = sorted(self.by_case)
        return list(db.session.scalars(select(Case.id).where(Case.id.in_(ids), Case.closed_at.is_(None)))) \
            if ids else []

    def open_tasks(self) -> list:
        ids = sorted(self.by_case)
        if not ids:
            return []
        return db.session.execute(select(HumanTask.id, HumanTask.case_id, HumanTask.role, HumanTask.scope,
                                         HumanTask.element)
                                  .where(HumanTask.state == "open", HumanTask.case_id.in_(ids))
                                  .order_by(HumanTask.id)).all()

    def actionable(self, t, day: date) -> bool:
        """Whether a synthetic actor would do this open task on `day` (given the odds)."""
        plan = self.by_case.get(t.case_id)
        if plan is None or (t.role, t.scope) not in self.users:
            return False
        if t.role == "enterprise" and t.element in ("application", "self_assessment") and not plan["submits"]:
            return False
        if t.element == "acceptance_application":  # on the day the plan says (never, for `expired`)
            return plan.get("accept_on") is not None and day >= plan["accept_on"]
        return True

    def next_day(self, day: date) -> date | None:
        """The next day something may happen to a simulated case; None when nothing will."""
        tomorrow = day + timedelta(days=1)
        if any(self.actionable(t, tomorrow) for t in self.open_tasks()):
            return tomorrow
        later = [self.first + timedelta(days=p["apply_day"]) for p in self.plans.values() if p.get("case") is None]
        later += [self.recommendation_day(tier) for tier in ("excellent", "lighthouse")]
        later += [p["accept_on"] for p in self.by_case.values() if p.get("accept_on") is not None]
        open_ids = self.open_cases()
        if open_ids:
            due = db.session.scalar(select(func.min(TimerRow.due_at)).where(TimerRow.case_id.in_(open_ids)))
            if due is not None:  # the day whose closing sweep (00:00:01 the next day) fires it
                later.append((due - timedelta(seconds=1)).astimezone(SHANGHAI).date())
        later = [d for d in later if d >= tomorrow]
        return min(later) if later else None

    def work_day(self, day: date) -> None:
        from app.uow import unit_of_work

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
        for tier, province in (("excellent", PROVINCE), ("lighthouse", LH_PROVINCE)):
            if day == self.recommendation_day(tier):
                self.recommend(tier, province, self.at(day, 16))

    def decide(self, t, plan: dict, data: dict, day: date) -> None:
        """A lighthouse case follows its plan: every conclusion approves (a panel member's vote stays seeded),
        except the expert committee's first acceptance of a `retry` case."""
        panel_member = t.element.rsplit("_", 1)[-1].isdigit()  # material_review_2, onsite_inspection_3
        if plan["tier"] != "lighthouse" or "decision" not in data or panel_member:
            return
        if t.element == "national_acceptance" and plan.get("fate") == "retry" and not plan.get("failed"):
            data.update(decision="reject", score=self.rng.randint(45, 59),
                        review_comment="部分培育目标尚未达到，继续培育后再次申请验收。")
            plan["failed"] = True
            plan["accept_on"] = day + timedelta(days=self.rng.randint(60, 150))
            self.counts["acceptance failures"] += 1
            return
        data["decision"] = "approve"
        if "score" in data:
            data["score"] = max(data["score"], 80)

    def complete(self, t, now: datetime) -> None:
        from app.uow import unit_of_work

        actor = self.users[(t.role, t.scope)]
        plan = self.by_case[t.case_id]
        day = now.astimezone(SHANGHAI).date()
        try:
            with unit_of_work():
                view = tasks.get_task(actor, t.id)

                def upload():
                    stream = io.BytesIO(b"%PDF-1.4 simulated " + str(t.id).encode())
                    return attachments.upload(actor, t.case_id, "模拟材料.pdf", stream).id

                data = _form_data(view["form"] or {}, self.rng, upload)
                self.decide(t, plan, data, day)
                tasks.complete(actor, t.id, data)
            self.counts["tasks done"] += 1
            outcome = data.get("decision", "submitted")
            self.say(now, f"case {t.case_id}: {t.element} done by {actor.username}: {outcome}")
        except ServiceError as exc:
            self.say(now, f"case {t.case_id}: {t.element} refused: {exc.message[:100]} {exc.errors}")
            return
        if t.element == "acceptance_application":
            plan["accept_on"] = None
        if t.element == "target_decision" and outcome == "approve":
            self.cultivating(t.case_id, plan, now)
        self.report_end(t.case_id, now)

    def cultivating(self, case_id: int, plan: dict, now: datetime) -> None:
        """The national decision on targets started the two years: plan the acceptance application."""
        self.counts["lighthouse cultivated"] += 1
        until = db.session.scalar(select(TimerRow.due_at).where(TimerRow.case_id == case_id,
                                                                TimerRow.element == "cultivation_deadline"))
        fate = plan.get("fate", "expired")
        day = now.astimezone(SHANGHAI).date()
        if fate == "accepted":
            plan["accept_on"] = day + timedelta(days=self.rng.randint(270, 480))
        elif fate == "retry":
            plan["accept_on"] = day + timedelta(days=self.rng.randint(200, 330))
        self.say(now, f"case {case_id}: lighthouse cultivation ({fate}) until "
                      + (until.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if until else "?"))

    def report_end(self, case_id: int, now: datetime) -> None:
        status, closed = db.session.execute(select(Case.status, Case.closed_at).where(Case.id == case_id)).one()
        plan = self.by_case.get(case_id)
        if closed is None or plan is None or plan.get("ended"):
            return
        plan["ended"] = status
        if plan["tier"] == "lighthouse" and status in ("accepted", "expired") and plan.get("fate"):
            self.counts[f"lighthouse {status}"] += 1
        self.say(now, f"case {case_id}: ended {status}")

    def recommend(self, tier: str, province: str, now: datetime) -> None:
        from app.uow import unit_of_work

        actor = self.users.get(("provincial_reviewer", f"province:{province}"))
        if actor is None:
            self.say(now, f"{tier} recommendation list: no provincial reviewer of {province}")
            return
        waiting = list(db.session.scalars(select(Case.id).where(
            Case.campaign_id == self.campaign.id, Case.tier == tier, Case.status == "recommendation",
            Case.province_code == province, Case.soe_group_key.is_(None)).order_by(Case.id)))
        if not waiting:  # nothing to rank: no empty list is recorded
            return
        ranked = waiting[:]
        self.rng.shuffle(ranked)
        try:
            with unit_of_work():
                quota, _basis = quotas.quota_for(tier, actor.scope)
                listed = ranked[:quota]
                lst = lists.recommend(actor, tier, self.year, listed)
        except ServiceError as exc:
            self.say(now, f"{tier} recommendation list refused: {exc.message[:100]}")
            return
        self.counts["recommended"] += len(listed)
        self.say(now, f"{tier} recommendation list {lst.id}: {len(listed)} of {len(waiting)} case(s) ranked "
                      f"(quota {quota})")
        if tier == "lighthouse":
            fates = list(FATES)
            self.rng.shuffle(fates)
            for k, cid in enumerate(listed):
                self.by_case[cid]["fate"] = fates[k % len(fates)]
        for cid in sorted(set(waiting) - set(listed)):
            self.report_end(cid, now)

    def sweep(self, now: datetime) -> None:
        clock.set_clock(FixedClock(now))
        res = scheduler.sweep(now)
        for case_id, elements in res.fired:
            for el in elements:
                self.say(now, f"case {case_id}: {el} fired")
            self.report_end(case_id, now)
        self.counts["timers fired"] += res.count


def run(year: int, n: int, seed: int, echo=None) -> dict:
    """Simulate in the current database (the app context's)."""
    previous = clock.get_clock()
    try:
        return World(year, n, seed, echo).run()
    finally:
        clock.set_clock(previous)


def run_fresh(url: str, year: int, n: int, seed: int, echo=None) -> dict:
    """Simulate in a new database at `url` (migrated, demo world loaded): throwaway and repeatable."""
    from flask import current_app, has_app_context
    from flask_migrate import upgrade

    from app import create_app
    from app.services import demo
    from app.uow import unit_of_work

    config = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    if has_app_context():  # the files go where the calling application keeps them (a test's temporary folder)
        config["UPLOAD_DIR"] = current_app.config["UPLOAD_DIR"]
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
