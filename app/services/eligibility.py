"""Who may apply for which tier (DOMAIN.md). Each unmet rule is reported, never just the first."""
from app.models import Campaign, Enterprise

BELOW = {"advanced": "basic", "excellent": "advanced", "lighthouse": "excellent"}


ORDER = ("basic", "advanced", "excellent", "lighthouse")


def unmet_rules(enterprise: Enterprise, tier: str, campaign: Campaign) -> list[dict]:
    unmet = []
    if tier != "basic":  # a certified tier is not applied for again (basic is a yearly self-assessment)
        held = [t.tier for t in enterprise.tiers if ORDER.index(t.tier) >= ORDER.index(tier)]
        if held:
            unmet.append({"rule": "already_holds",
                          "message": f"the factory already holds the {max(held, key=ORDER.index)} tier"})
    below = BELOW.get(tier)
    if below and not enterprise.has_tier(below):
        unmet.append({"rule": f"requires_{below}",
                      "message": f"the factory must hold the {below} tier before applying for {tier}"})
    if tier in ("excellent", "lighthouse") and not enterprise.legal_person:
        allowed = campaign.branch_industries or []
        if enterprise.industry not in allowed:
            unmet.append({"rule": "legal_person",
                          "message": "only an independent legal person may apply, or a branch in an industry the "
                                     f"campaign allows ({', '.join(allowed) or 'none'})"})
    return unmet
