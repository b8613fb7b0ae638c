"""A campaign year on the injectable clock with synthetic actors: `flask simulate`, also a benchmark data generator.

`run(year, n, seed)` adds `n` synthetic Zhejiang factories (the demo's only province with a quota input, see
data/demo.yaml) with a seeded tier history and a disabled login each, then walks the campaign day by day from 120
days before the excellent application deadline to 90 days after the recommendation deadline: factories self-assess
(basic), apply for advanced and excellent on a seeded day (some never submit and expire at the deadline), every
open task is done by the user of its role and scope with seeded odds each day (forms filled from their JSON Schema,
decisions mostly `approve`), the provincial reviewer sends its ranked recommendation list (within the DMN quota) a
few days before the recommendation deadline, and one sweep runs at 00:00:01 Asia/Shanghai each day, printing what
fired when. The same seed on the same starting database gives the same run; `run_fresh` makes that database (a new
SQLite file, migrated, with the demo world) so a run is throwaway and repeatable. Lighthouse cultivation is not
simulated yet (tests/api/test_lighthouse.py walks it).
"""
import io
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Campaign, Case, Enterprise, HumanTask, TierRecord, User
from app.services import attachments, cases, clock, lists, scheduler, tasks
from app.services.clock import SHANGHAI, FixedClock
from app.services.credit_code import check_char
from app.services.errors import ServiceError

PROVINCE, CITY = "330000", "330100"
TEXT = "通过数字化改造与智能化升级，关键工序数据实时采集，质量追溯覆盖全流程，生产效率显著提升。"


def credit_code(seed: int, i: int) -> str:
    first17 = f"91330100MA{seed % 100:02d}{i:05d}"
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
        self.counts = {"enterprises": 0, "cases": 0, "tasks done": 0, "timers fired": 0, "recommended": 0}
        self.plans: dict[int, dict] = {}

    def say(self, at: datetime, text: str) -> None:
        self.echo(f"{at.astimezone(SHANGHAI).strftime('%Y-%m-%d %H:%M')} {text}")

    # -- the synthetic factories ---------------------------------------------------------------------------------
    def create_factories(self) -> None:
        from app.uow import unit_of_work

        with unit_of_work():
            for i in range(self.n):
                code = credit_code(self.seed, i)
                if db.session.scalar(select(Enterprise.id).where(Enterprise.credit_code == code)):
                    raise ServiceError(f"seed {self.seed} was already simulated in this database: use another seed "
                                       "or a fresh database (run_fresh)")
                ent = Enterprise(credit_code=code, name=f"模拟智能工厂{self.seed}-{i:04d}有限公司",
                                 province_code=PROVINCE, city_code=CITY, soe_group_key=None, legal_person=True,
                                 industry=self.rng.choice(["equipment", "automotive", "electronics"]))
                db.session.add(ent)
                db.session.flush()
                roll = self.rng.random()
                history = [] if roll < 0.4 else ["basic"] if roll < 0.7 else ["basic", "advanced"]
                for tier in history:
                    db.session.add(TierRecord(enterprise_id=ent.id, tier=tier, year=self.year - 1, source="imported"))
                db.session.add(User(username=f"sim{self.seed}-{i:04d}", password_hash="!", role="enterprise",
                                    enterprise_id=ent.id))  # "!" matches no password: a login nobody can use
                target = "basic" if not history else "advanced" if history == ["basic"] else "excellent"
                self.plans[ent.id] = {"tier": target, "apply_day": self.rng.randint(0, 100),
                                      "submits": self.rng.random() < 0.8}
                self.counts["enterprises"] += 1

    # -- the days --------------------------------------------------------------------------------------------------
    def run(self) -> dict:
        first = self.app_deadline - timedelta(days=120)
        last = self.rec_deadline + timedelta(days=90)
        self.create_factories()
        users = {}
        for u in db.session.scalars(select(User).where(User.active.is_(True))):
            users.setdefault((u.role, u.scope), u)
        self.users = users
        day = first
        while day <= last:
            self.work_day(day)
            self.sweep(datetime.combine(day + timedelta(days=1), time(0, 0, 1), tzinfo=SHANGHAI))
            day += timedelta(days=1)
        return self.counts

    def at(self, day: date, hour: int) -> datetime:
        now = datetime.combine(day, time(hour, 0), tzinfo=SHANGHAI)
        clock.set_clock(FixedClock(now))
        return now

    def work_day(self, day: date) -> None:
        from app.uow import unit_of_work

        now = self.at(day, 9)
        first = self.app_deadline - timedelta(days=120)
        for ent_id, plan in sorted(self.plans.items()):
            if plan.get("case") is None and (day - first).days == plan["apply_day"]:
                actor = self.users[("enterprise", f"enterprise:{ent_id}")]
                try:
                    with unit_of_work():
                        case = cases.create_case(actor, plan["tier"], self.year)
                        plan["case"] = case.id
                    self.counts["cases"] += 1
                    self.say(now, f"case {case.id}: {plan['tier']} started")
                except ServiceError as exc:
                    plan["case"] = 0
                    self.say(now, f"enterprise {ent_id}: no {plan['tier']} case ({exc.message[:80]})")
        now = self.at(day, 10)
        open_tasks = db.session.execute(select(HumanTask.id, HumanTask.case_id, HumanTask.role, HumanTask.scope,
                                               HumanTask.element)
                                        .where(HumanTask.state == "open").order_by(HumanTask.id)).all()
        sim_cases = {p.get("case"): p for p in self.plans.values() if p.get("case")}
        for t in open_tasks:
            plan = sim_cases.get(t.case_id)
            if plan is None or self.rng.random() > 0.3:
                continue
            if t.role == "enterprise" and t.element in ("application", "self_assessment") and not plan["submits"]:
                continue
            self.complete(t, now)
        if day == self.rec_deadline - timedelta(days=3):
            self.recommend(self.at(day, 16))

    def complete(self, t, now: datetime) -> None:
        from app.uow import unit_of_work

        actor = self.users.get((t.role, t.scope))
        if actor is None:
            return
        try:
            with unit_of_work():
                view = tasks.get_task(actor, t.id)

                def upload():
                    stream = io.BytesIO(b"%PDF-1.4 simulated " + str(t.id).encode())
                    return attachments.upload(actor, t.case_id, "模拟材料.pdf", stream).id

                data = _form_data(view["form"] or {}, self.rng, upload)
                tasks.complete(actor, t.id, data)
            self.counts["tasks done"] += 1
            outcome = data.get("decision", "submitted")
            self.say(now, f"case {t.case_id}: {t.element} done by {actor.username}: {outcome}")
        except ServiceError as exc:
            self.say(now, f"case {t.case_id}: {t.element} refused: {exc.message[:100]} {exc.errors}")

    def recommend(self, now: datetime) -> None:
        from app.uow import unit_of_work

        actor = self.users[("provincial_reviewer", f"province:{PROVINCE}")]
        waiting = list(db.session.scalars(select(Case.id).where(
            Case.campaign_id == self.campaign.id, Case.tier == "excellent", Case.status == "recommendation",
            Case.province_code == PROVINCE, Case.soe_group_key.is_(None)).order_by(Case.id)))
        ranked = waiting[:]
        self.rng.shuffle(ranked)
        try:
            with unit_of_work():
                lst = lists.recommend(actor, "excellent", self.year, ranked[: 40])
            self.counts["recommended"] += len(ranked[:40])
            self.say(now, f"recommendation list {lst.id}: {len(ranked[:40])} case(s) ranked")
        except ServiceError as exc:
            self.say(now, f"recommendation list refused: {exc.message[:100]}")

    def sweep(self, now: datetime) -> None:
        clock.set_clock(FixedClock(now))
        res = scheduler.sweep(now)
        for case_id, elements in res.fired:
            for el in elements:
                self.say(now, f"case {case_id}: {el} fired")
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
    from flask_migrate import upgrade

    from app import create_app
    from app.services import demo
    from app.uow import unit_of_work

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade()
        with unit_of_work():
            demo.load_demo()
        try:
            return run(year, n, seed, echo)
        finally:
            db.session.remove()
            db.engine.dispose()
