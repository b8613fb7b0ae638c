"""The simulation's pieces that read and write in the caller's transaction: the synthetic factories, forms filled
from their JSON Schema, and the reads the simulated days are planned on. The run itself (the days, one unit of work
per step, the sweeps) is a job: `app/jobs/simulate.py`, where its docstring says what a run does."""
import random
from datetime import datetime

from sqlalchemy import func, select

from app.errors import ServiceError
from app.extensions import db
from app.models import Campaign, Case, CaseEvent, Enterprise, HumanTask, TierRecord, TimerRow, User
from app.services.campaigns import campaign_by_year
from app.services.credit_code import check_char

PROVINCE, CITY = "330000", "330100"
LH_PROVINCE, LH_CITY = "370000", "370200"  # lighthouse applicants: Shandong has the lighthouse quota input
# what a recommended lighthouse case does in cultivation; `accepted` applies late in its two years and its province
# does the preliminary review only after the period ended (issue 16.2: overdue and escalated, never expired)
FATES = ("accepted", "retry", "expired")
PANEL_OVERRIDE_REASON = "组长复核认为，专家对申报材料中人工智能应用场景的判断有误，经核实达到卓越级要求，改判通过。"
TEXT = "通过数字化改造与智能化升级，关键工序数据实时采集，质量追溯覆盖全流程，生产效率显著提升。"
VERDICTS = ("upheld", "dismissed", None)  # an objection to a listed advanced case, drawn in turn from a seeded shuffle
OBJECTION_REASONS = ("申报材料中的生产效率提升数据与实际情况不符，请核实。",
                     "该企业近三年内发生过质量事故，不符合基础要求。",
                     "申报的关键工序数据采集覆盖率存在夸大，请现场核查。")


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
    if kind == "object":  # a read-only field is the process's (a panel's result): never posted
        return {k: fill(s, rng, upload) for k, s in (schema.get("properties") or {}).items() if not s.get("readOnly")}
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


def form_data(form: dict, rng, upload) -> dict:
    data = fill(form, rng, upload)
    for rule in form.get("x-rules", []):  # an AI share among the declared scenarios: declare them all as AI
        if rule.get("kind") in ("subset", "share"):
            data[rule["part"]] = list(data[rule["whole"]])
        elif rule.get("kind") == "equal":  # the maturity report is for the level claimed
            data[rule["part"]] = data[rule["whole"]]
    return data


_form_data = form_data  # services/demo.py fills its demo forms the same way


def campaign(year: int) -> Campaign:
    camp = campaign_by_year(year, required=False)
    if camp is None:
        raise ServiceError(f"no campaign {year}")
    return camp


def create_factories(year: int, n: int, seed: int, rng: random.Random) -> dict[int, dict]:
    """`n` synthetic factories with a seeded tier history and a login nobody can use (in the caller's transaction);
    returns each one's plan by enterprise id: the tier it applies for, on which day, whether it submits."""
    plans = {}
    for i in range(n):
        lighthouse = i % 4 == 3
        province, city = (LH_PROVINCE, LH_CITY) if lighthouse else (PROVINCE, CITY)
        code = credit_code(seed, i, city)
        if db.session.scalar(select(Enterprise.id).where(Enterprise.credit_code == code)):
            raise ServiceError(f"seed {seed} was already simulated in this database: use another seed "
                               "or a fresh database (run_fresh)")
        ent = Enterprise(credit_code=code, name=f"模拟智能工厂{seed}-{i:04d}有限公司",
                         province_code=province, city_code=city, soe_group_key=None, legal_person=True,
                         industry=rng.choice(["equipment", "automotive", "electronics"]))
        db.session.add(ent)
        db.session.flush()
        roll = rng.random()
        if lighthouse:
            history = ["basic", "advanced", "excellent"]
        else:
            history = [] if roll < 0.4 else ["basic"] if roll < 0.7 else ["basic", "advanced"]
        for k, tier in enumerate(history):  # the excellent tier last year, the ones below earlier
            db.session.add(TierRecord(enterprise_id=ent.id, tier=tier, year=year - len(history) + k,
                                      source="imported"))
        db.session.add(User(username=f"sim{seed}-{i:04d}", password_hash="!", role="enterprise",
                            enterprise_id=ent.id))  # "!" matches no password: a login nobody can use
        target = ("lighthouse" if lighthouse else "basic" if not history
                  else "advanced" if history == ["basic"] else "excellent")
        plans[ent.id] = {"tier": target, "apply_day": rng.randint(0, 100), "enterprise": ent.id,
                         "submits": rng.random() < 0.8 or lighthouse}
    return plans


# -- reads the simulated days are planned on ------------------------------------------------------------------------
def actors() -> dict[tuple[str, str], User]:
    """The first active user of every (role, scope): who does a task of that role and scope."""
    users: dict[tuple[str, str], User] = {}
    for u in db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)):
        users.setdefault((u.role, u.scope), u)
    return users


def open_cases(ids: list[int]) -> list[int]:
    return list(db.session.scalars(select(Case.id).where(Case.id.in_(ids), Case.closed_at.is_(None)))) \
        if ids else []


def open_tasks(ids: list[int]) -> list:
    """The open tasks of these cases: (id, case_id, role, scope, element), oldest first."""
    if not ids:
        return []
    return db.session.execute(select(HumanTask.id, HumanTask.case_id, HumanTask.role, HumanTask.scope,
                                     HumanTask.element)
                              .where(HumanTask.state == "open", HumanTask.case_id.in_(ids))
                              .order_by(HumanTask.id)).all()


def cases_status(ids: list[int]) -> list:
    """(id, tier, status) of these cases, by id."""
    return db.session.execute(select(Case.id, Case.tier, Case.status).where(Case.id.in_(ids))
                              .order_by(Case.id)).all()


def timer_count(case_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(TimerRow).where(TimerRow.case_id == case_id))


def first_due(case_ids: list[int], element: str | None = None) -> datetime | None:
    """The earliest waiting timer of these cases (of that element), or None."""
    q = select(func.min(TimerRow.due_at)).where(TimerRow.case_id.in_(case_ids))
    if element is not None:
        q = q.where(TimerRow.element == element)
    return db.session.scalar(q)


def case_scope(case_id: int):
    """(tier, status, province_code, soe_group_key) of the case."""
    return db.session.execute(select(Case.tier, Case.status, Case.province_code, Case.soe_group_key)
                              .where(Case.id == case_id)).one()


def case_end(case_id: int):
    """(status, closed_at) of the case."""
    return db.session.execute(select(Case.status, Case.closed_at).where(Case.id == case_id)).one()


def approved_advanced(ids: list[int], campaign_id: int, scope: str) -> list[int]:
    """Which of these cases are approved advanced cases of the campaign waiting for the certifier of `scope`
    (`soe:<group>` or `province:<code>`; a province certifies its non-SOE cases)."""
    kind, key = scope.split(":", 1)
    q = select(Case.id).where(Case.id.in_(ids), Case.campaign_id == campaign_id, Case.tier == "advanced",
                              Case.status == "approved")
    q = q.where(Case.soe_group_key == key) if kind == "soe" else \
        q.where(Case.province_code == key, Case.soe_group_key.is_(None))
    return list(db.session.scalars(q.order_by(Case.id)))


def awaiting_recommendation(campaign_id: int, tier: str, province: str) -> list[int]:
    """The province's non-SOE cases of the tier waiting for its recommendation list, by id."""
    return list(db.session.scalars(select(Case.id).where(
        Case.campaign_id == campaign_id, Case.tier == tier, Case.status == "recommendation",
        Case.province_code == province, Case.soe_group_key.is_(None)).order_by(Case.id)))


def overdue_escalations(case_id: int, since: datetime) -> list[tuple[str, str]]:
    """(element, escalated to) of the case's `task.overdue` events written at or after `since`."""
    rows = db.session.execute(select(CaseEvent.element, CaseEvent.data).where(
        CaseEvent.case_id == case_id, CaseEvent.action == "task.overdue", CaseEvent.at >= since)
        .order_by(CaseEvent.seq)).all()
    return [(el, (data or {}).get("escalated_to")) for el, data in rows]
