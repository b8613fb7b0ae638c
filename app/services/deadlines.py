"""Campaign deadline extensions: an administrator moves the application or recommendation deadline of a campaign's
tier, for the whole tier, one province (recommender) or one case, with a reason.

A deadline reaches a running case as data (`application_deadline_at`, `recommendation_deadline_at`: the end of the
day, Asia/Shanghai) that the diagrams' timeDate timers read when they are reached. An extension therefore (1)
records a `deadline_extensions` row (a tier-wide one also moves `campaign_deadlines`, so new cases, eligibility and
the list checks follow it), (2) rewrites the data in every affected open case and re-times the timers already
waiting on it (`retime`), so the timer rows move with it, and (3) appends a `deadline.extended` event with the
reason to each affected case. A case's effective deadline is the latest of its campaign's, its province's and its
own extensions: an extension only ever moves a deadline later.
"""
from datetime import date, datetime

from sqlalchemy import select

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import TIERS, Campaign, CampaignDeadline, Case, User
from app.models.scheduling import DeadlineExtension
from app.services import clock, events, instances, processes
from app.services.campaigns import campaign_by_year, end_of_day, parse_date
from workflows.instance import Instance

FIELDS = ("application_deadline", "recommendation_deadline")


# -- the engine side: move a deadline held in data, and the timers waiting on it ---------------------------------
def retime(inst: Instance, values: dict[str, str]) -> list[str]:
    """Set each data variable of `values` (name -> ISO instant) in the instance's live tasks, and re-time every
    waiting timer whose expression is that variable (its fire time was evaluated when it was reached). Returns the
    timer elements moved. (Engine internals: SpiffWorkflow keeps a waiting timer's fire time in the task's
    internal data `event_value`; an event-based gateway keeps it on the gateway's task.)"""
    from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
    from SpiffWorkflow.util.task import TaskState

    moved = []
    live = TaskState.READY | TaskState.WAITING | TaskState.STARTED
    for wf in [inst.wf, *inst.wf.subprocesses.values()]:
        for t in wf.get_tasks(state=live):
            for name, value in values.items():
                if name in t.data:
                    t.data[name] = value
            ev = getattr(t.task_spec, "event_definition", None)
            defs = ev.event_definitions if isinstance(ev, MultipleEventDefinition) else [ev]
            for d in defs:
                if isinstance(d, TimerEventDefinition) and (d.expression or "").strip() in values:
                    if t.internal_data.get("event_value") is not None:
                        t.internal_data["event_value"] = values[d.expression.strip()]
                        moved.append(t.task_spec.bpmn_id or t.task_spec.name)
    return moved


# -- effective deadlines -----------------------------------------------------------------------------------------
def effective_dates(campaign: Campaign, tier: str, province_code: str | None, case_id: int | None = None) -> dict:
    """{field: date or None}: the latest of the campaign's deadline and the extensions for the province and case."""
    base = campaign.deadline_for(tier)
    out = {f: getattr(base, f, None) if base else None for f in FIELDS}
    q = select(DeadlineExtension).where(DeadlineExtension.campaign_id == campaign.id, DeadlineExtension.tier == tier)
    for ext in db.session.scalars(q):
        if (ext.scope == "province" and ext.province_code == province_code) or \
                (ext.scope == "case" and case_id is not None and ext.case_id == case_id):
            for f in FIELDS:
                day = getattr(ext, f)
                if day and (out[f] is None or day > out[f]):
                    out[f] = day
    return out


def instants(dates: dict) -> dict[str, str | None]:
    """Case data for the dates: `<field>_at` = the end of the day in Asia/Shanghai, ISO-8601."""
    return {f"{f}_at": end_of_day(d).isoformat() if d else None for f, d in dates.items()}


# -- the use case --------------------------------------------------------------------------------------------------
def _date(value, name: str) -> date | None:
    if value == "":
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise Invalid(f"{name} must be a date (YYYY-MM-DD)", errors={name: "YYYY-MM-DD"}) from None


def extend(actor: User, year, tier: str, *, reason: str, application_deadline=None, recommendation_deadline=None,
           province: str | None = None, case_id: int | None = None) -> dict:
    """Extend the deadline(s) for the campaign's tier, or only for `province`, or only for `case_id`."""
    if actor.role != "admin":
        raise Forbidden("only an administrator extends a deadline")
    errors = {}
    campaign = campaign_by_year(year, required=False)
    if campaign is None:
        raise NotFound("no such campaign")
    if tier not in TIERS:
        errors["tier"] = f"unknown tier; one of {', '.join(TIERS)}"
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "required: say why the deadline moves"
    elif len(reason) > 2000:
        errors["reason"] = "at most 2000 characters"
    new = {"application_deadline": _date(application_deadline, "application_deadline"),
           "recommendation_deadline": _date(recommendation_deadline, "recommendation_deadline")}
    if not any(new.values()):
        errors["application_deadline"] = "give application_deadline, recommendation_deadline or both"
    if province and case_id:
        errors["scope"] = "give a province or a case, not both"
    if errors:
        raise Invalid("the extension is incomplete or invalid", errors=errors)
    case = None
    if case_id is not None:
        case = db.session.get(Case, int(case_id))
        if case is None or case.campaign_id != campaign.id or case.tier != tier:
            raise NotFound(f"no {tier} case {case_id} in campaign {campaign.year}")
        case_id, province = case.id, None
        case_province = case.province_code
        db.session.expunge(case)  # the case is written through instances (Core): no ORM copy may linger
    current = effective_dates(campaign, tier, case_province if case else province, case_id if case else None)
    for f, day in new.items():
        if day and current[f] and day <= current[f]:
            errors[f] = f"an extension moves the deadline later than {current[f].isoformat()}"
        if day and current[f] is None:
            errors[f] = "the campaign has no such deadline for this tier"
    if new["application_deadline"] and (new["recommendation_deadline"] or current["recommendation_deadline"]) and \
            new["application_deadline"] > (new["recommendation_deadline"] or current["recommendation_deadline"]):
        errors["application_deadline"] = "the application deadline would fall after the recommendation deadline"
    if errors:
        raise Invalid("the extension does not extend", errors=errors)

    now = clock.now()
    scope = "case" if case else "province" if province else "campaign"
    if scope == "campaign":
        row = db.session.scalar(select(CampaignDeadline).where(CampaignDeadline.campaign_id == campaign.id,
                                                               CampaignDeadline.tier == tier))
        for f, day in new.items():
            if day:
                setattr(row, f, day)
    ext = DeadlineExtension(campaign_id=campaign.id, tier=tier, scope=scope, province_code=province,
                            case_id=case_id if case else None, reason=reason, affected=0, created_by=actor.id,
                            created_at=now, **new)
    db.session.add(ext)
    db.session.flush()
    affected = apply_to_cases(campaign, tier, ext, actor, now)
    ext.affected = len(affected)
    db.session.flush()
    return {"id": ext.id, "campaign": campaign.year, "tier": tier, "scope": scope, "province": province,
            "case_id": ext.case_id, "reason": reason,
            **{f: (d.isoformat() if d else None) for f, d in new.items()}, "affected": affected}


def apply_to_cases(campaign: Campaign, tier: str, ext: DeadlineExtension, actor: User, now: datetime) -> list[int]:
    """Move the deadline in every open case the extension covers; one `deadline.extended` event each."""
    q = select(Case.id).where(Case.campaign_id == campaign.id, Case.tier == tier, Case.closed_at.is_(None))
    if ext.scope == "province":
        q = q.where(Case.province_code == ext.province_code)
    elif ext.scope == "case":
        q = q.where(Case.id == ext.case_id)
    affected = []
    for case_id in db.session.scalars(q.order_by(Case.id)).all():
        rec = instances.load(case_id)
        dates = effective_dates(campaign, tier, rec.province_code, rec.id)
        values = {k: v for k, v in instants(dates).items() if v}
        inst = Instance.load(rec.state, processes.version_info(rec.process_version_id).bundle)
        before = {k: v for k, v in inst.case_data().items() if k in values}
        moved = retime(inst, values)
        if before == {k: values[k] for k in before} and not moved:
            continue  # already at (or beyond) these dates
        instances.save(rec, inst, now)
        events.append(rec, "deadline.extended", actor.id, now, element=",".join(moved) or None,
                      data={"extension": ext.id, "scope": ext.scope, "reason": ext.reason, "from": before,
                            "to": values},
                      state=rec.state, replay={"op": "deadline", "set": values})
        instances.commit_case(rec)
        affected.append(rec.id)
    return affected
