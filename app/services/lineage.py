"""One enterprise's path through the tiers: its tier history with the case behind each step, every case it ever
had, and for each tier whether it may apply now (and why not). Eligibility comes only from this history."""
from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import TIERS, Campaign, Case, Enterprise, User
from app.services import eligibility
from app.services.scope import can_view_enterprise, case_filter


def get_enterprise(actor: User, enterprise_id: int | None) -> Enterprise:
    """The enterprise, if the actor may see it (404 otherwise: another scope's enterprise does not exist for it)."""
    ent = db.session.get(Enterprise, enterprise_id) if enterprise_id is not None else None
    if ent is None or not can_view_enterprise(actor, ent):
        raise NotFound("no such enterprise")
    return ent


def lineage(actor: User, enterprise_id: int) -> dict:
    ent = get_enterprise(actor, enterprise_id)
    campaign = db.session.scalar(select(Campaign).order_by(Campaign.year.desc()).limit(1))
    every_case = list(db.session.scalars(select(Case).where(Case.enterprise_id == ent.id).order_by(Case.id)))
    # the history shows only the cases the actor may view (scope.can_view_case, as a clause): a province sees an SOE
    # group member's page but not its group's cases, exactly as /cases/{id} answers 404 for them
    shown = set(db.session.scalars(select(Case.id).where(Case.enterprise_id == ent.id, case_filter(actor))))
    cases = [c for c in every_case if c.id in shown]
    open_tiers = {c.tier for c in every_case if c.campaign_id == (campaign.id if campaign else None)
                  and c.status not in ("rejected", "withdrawn", "expired")}
    eligible = {}
    for tier in TIERS:
        unmet = eligibility.unmet_rules(ent, tier, campaign) if campaign else [
            {"rule": "no_campaign", "message": "no campaign is open"}]
        if tier in open_tiers:
            unmet = unmet + [{"rule": "one_case_per_campaign", "message": "a case is already open in this campaign"}]
        eligible[tier] = {"eligible": not unmet, "unmet": unmet}
    return {
        "enterprise": {"id": ent.id, "name": ent.name, "credit_code": ent.credit_code, "province": ent.province_code,
                       "city": ent.city_code, "soe_group": ent.soe_group_key, "legal_person": ent.legal_person,
                       "industry": ent.industry},
        "tiers": [{"tier": t.tier, "year": t.year, "source": t.source,
                   "case_id": t.case_id if t.case_id in shown else None} for t in ent.tiers],
        "cases": [{"id": c.id, "tier": c.tier, "status": c.status, "campaign_id": c.campaign_id,
                   "created_at": c.created_at.isoformat(), "closed_at": c.closed_at.isoformat() if c.closed_at
                   else None} for c in cases],
        "campaign": campaign.year if campaign else None,
        "eligibility": eligible,
    }
