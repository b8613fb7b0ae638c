"""Use cases on cases: create (with eligibility), read within scope, list."""
from sqlalchemy import func, select, update

from app.errors import Forbidden, Ineligible, Invalid, NotFound
from app.extensions import db
from app.models import TIERS, Campaign, Case, Enterprise, HumanTask, Region, User
from app.services import clock, deadlines, eligibility, events, instances, operators, panels, processes
from app.services.campaigns import campaign_by_year, end_of_day
from app.services.scope import can_view_case, case_filter
from workflows.errors import EngineError
from workflows.instance import Instance

OPEN_STATUSES_EXCLUDED = ("rejected", "withdrawn", "expired")
DEADLINE_TIERS = ("excellent", "lighthouse")  # their diagrams run timers on the campaign's dates


def _enterprise_for(actor: User, enterprise_id: int | None) -> Enterprise:
    if actor.role == "enterprise":
        if enterprise_id is not None and enterprise_id != actor.enterprise_id:
            raise Forbidden("an enterprise may only apply for itself")
        enterprise_id = actor.enterprise_id
    elif actor.role != "admin":
        raise Forbidden("only an enterprise (or an administrator on its behalf) starts a case")
    if enterprise_id is None:
        raise Invalid("enterprise_id is required", errors={"enterprise_id": "required"})
    ent = db.session.get(Enterprise, enterprise_id)
    if ent is None:
        raise Invalid("unknown enterprise", errors={"enterprise_id": "unknown enterprise"})
    return ent


def start_data(rec, campaign: Campaign, ent: Enterprise) -> dict:
    """What a new instance knows: who and when, and the campaign's deadlines for its timers (ISO-8601, the end of
    the deadline day in Asia/Shanghai)."""
    deadline = campaign.deadline_for(rec.tier)
    data = {"tier": rec.tier, "campaign_year": campaign.year, "case_id": rec.id, "is_soe": bool(ent.soe_group_key),
            "legal_person": ent.legal_person, "industry": ent.industry,
            "notice_period": (campaign.notice_periods or {}).get(rec.tier, "P7D"),
            # provincial lists (advanced): a notice of working days (DOMAIN.md: 5)
            "provincial_notice_working_days": int((campaign.notice_periods or {}).get("advanced_working_days", 5)),
            **panels.thresholds(campaign)}  # what an expert panel's consolidated result is computed against
    if deadline:  # the campaign's dates, or later ones an administrator set for the province (services/deadlines)
        data.update(deadlines.instants(deadlines.effective_dates(campaign, rec.tier, rec.province_code)))
    else:
        data.update(application_deadline_at=None, recommendation_deadline_at=None)
    return data


def create_case(actor: User, tier: str, campaign_year, enterprise_id: int | None = None) -> Case:
    errors = {}
    if tier not in TIERS:
        errors["tier"] = f"unknown tier; one of {', '.join(TIERS)}"
    campaign = campaign_by_year(campaign_year, required=False)
    if campaign is None:
        errors["campaign"] = "unknown campaign"
    if errors:
        raise Invalid("unknown tier or campaign", errors=errors)
    ent = _enterprise_for(actor, enterprise_id)
    # simultaneous applications of one enterprise wait here for each other, so that the second one's checks below
    # see the first one's case: a write to the enterprise row first (PostgreSQL: its row lock; SQLite: the write
    # lock, which pysqlite takes only at a transaction's first write, so a SELECT ... FOR UPDATE would not do)
    E = Enterprise.__table__
    db.session.execute(update(E).where(E.c.id == ent.id).values(id=E.c.id))
    now = clock.now()
    unmet = eligibility.unmet_rules(ent, tier, campaign)
    dup = db.session.scalar(select(Case.id).where(
        Case.enterprise_id == ent.id, Case.campaign_id == campaign.id, Case.tier == tier,
        Case.status.not_in(OPEN_STATUSES_EXCLUDED)).limit(1))
    if dup is not None:
        unmet.append({"rule": "one_case_per_campaign",
                      "message": f"the factory already has case {dup} for {tier} in campaign {campaign.year}"})
    deadline = campaign.deadline_for(tier)
    if tier in DEADLINE_TIERS and not (deadline and deadline.application_deadline and deadline.recommendation_deadline):
        raise Invalid(f"campaign {campaign.year} has no application and recommendation deadlines for {tier}; "
                      "an administrator must set them first", errors={"campaign": "deadlines missing"})
    region = db.session.get(Region, ent.province_code)
    province = region.recommender_code if region else ent.province_code
    app_day = deadlines.effective_dates(campaign, tier, province)["application_deadline"] if deadline else None
    if app_day and now >= end_of_day(app_day):
        unmet.append({"rule": "application_deadline",
                      "message": f"the application deadline {app_day} has passed"})
    if unmet:
        raise Ineligible("the factory is not eligible: " + "; ".join(u["message"] for u in unmet),
                         errors={"rules": unmet})
    version_row = processes.version_for_tier(tier)
    info = processes.version_info(version_row.id)
    rec = instances.CaseRecord(
        id=None, enterprise_id=ent.id, campaign_id=campaign.id, tier=tier, status="new", province_code=province,
        city_code=ent.city_code,
        soe_group_key=ent.soe_group_key, process_version_id=info.id, state="", revisions=0, lock_version=1,
        event_seq=0, last_hash=events.GENESIS, next_timer_at=None, created_by=actor.id, created_at=now,
        updated_at=now, closed_at=None)
    instances.insert_case(rec)
    try:
        inst = Instance.start(info.bundle, start_data(rec, campaign, ent), now)
    except EngineError as exc:
        raise Invalid(f"the process could not start: {exc}") from None
    instances.save(rec, inst, now)
    events.append(rec, "case.created", actor.id, now, data={"tier": tier, "campaign": campaign.year,
                                                            "enterprise": ent.credit_code}, state=rec.state)
    operators.enqueue_pending(rec, inst.wf, actor.id, now)  # a service task right after the start: after the commit
    if inst.completed:
        instances.record_outcome(rec, actor.id, now, campaign.year)
    instances.commit_case(rec)
    return db.session.get(Case, rec.id)


def get_case(actor: User, case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not can_view_case(actor, case):
        raise NotFound("no such case")  # outside scope looks the same as absent
    return case


def list_cases(actor: User, tier: str | None = None, status: str | None = None, page: int = 1, per_page: int = 50,
               text: str | None = None):
    """`text`: part of the enterprise's name or the start of its credit code."""
    q = select(Case).where(case_filter(actor))
    if text and text.strip():
        from app.services.case_list import search_clause  # the one search rule of the case list

        q = q.where(search_clause(text))
    if tier:
        q = q.where(Case.tier == tier)
    if status:
        q = q.where(Case.status == status)
    total = db.session.scalar(select(func.count()).select_from(q.subquery()))
    rows = db.session.scalars(q.order_by(Case.id.desc()).limit(per_page).offset((max(page, 1) - 1) * per_page))
    return list(rows), total


def open_tasks(case: Case) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")
                                   .order_by(HumanTask.id)))


def case_json(case: Case) -> dict:
    info = processes.version_info(case.process_version_id)
    ent = case.enterprise
    return {
        "id": case.id, "tier": case.tier, "status": case.status, "campaign": case.campaign.year,
        "enterprise": {"id": ent.id, "name": ent.name, "credit_code": ent.credit_code},
        "province": case.province_code, "soe_group": case.soe_group_key, "revisions": case.revisions,
        "process": {"key": info.model_key, "version": info.version},
        "open_tasks": [task_json(t) for t in open_tasks(case)],
        "created_at": case.created_at.isoformat(), "updated_at": case.updated_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
    }


def task_json(t) -> dict:
    """A HumanTask (ORM) or its row as a dict."""
    g = t.get if isinstance(t, dict) else (lambda k: getattr(t, k))
    due = g("due_at")
    return {"id": g("id"), "case_id": g("case_id"), "name": g("element"), "title": g("title"),
            "title_en": g("title_en"), "role": g("role"), "scope": g("scope"), "state": g("state"),
            "tier": g("tier"), "form": g("form"), "due_at": due.isoformat() if due else None,
            "claimed_by": g("claimed_by")}
