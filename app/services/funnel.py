"""The funnel per tier of a campaign (issue 19, part 2): how many of the cases reached each stage of the tier's
lifecycle, within the reader's scope (`scope.case_filter`), optionally for one recommender.

Each stage is named by what the case did, read from the inbox rows (`human_tasks`: a row exists from the moment a
task opened, and says whether it was completed) and the case's status; a case counted at a stage was counted at
every stage before it:
- basic: applied (every case: a case is one factory's application, drafts included) →
  submitted (the self-assessment completed) → reviewed (the organizer's review
  completed) → self-rated basic (status `certified`);
- advanced: applied → preliminary approved (a joint review by the co-departments or the certifier's decision
  opened, or the case waits for, is in or passed the certified list's notice: only an approving preliminary review
  leads there; a central SOE's case skips the joint review) → joint reviewed (the certifier's decision opened, after
  every co-department answered, or the case reached the list as a central SOE's) → certified;
- excellent: applied → recommended (the paper check opened: the case was on its recommender's frozen list) →
  reviewed (the national decision completed) → certified;
- lighthouse: applied → recommended (the committee's material review opened) → reviewed (the cultivation-target
  decision completed) → cultivation target (status `cultivating` or `accepted`) → accepted.
"""
from datetime import timedelta

from sqlalchemy import and_, case, exists, func, or_, select

from app.extensions import db
from app.models import TIERS, Campaign, Case, HumanTask, User
from app.services import clock
from app.services.inbox import require_dashboard
from app.services.scope import case_filter
from app.settings import settings

JOINT = ("joint_ndrc", "joint_finance", "joint_sasac", "joint_samr", "joint_data")
MATERIAL = ("material_review_1", "material_review_2", "material_review_3", "material_review")

# tier -> [(stage key, English label (translated on the page), the ways a case reaches it (any of them))]
# a way: ("all",) every case; ("opened", elements) a task of one of them opened; ("completed", elements) one of them
# completed; ("status", statuses) the case's status is one of them
LISTED = ("approved", "public_notice", "objection_review", "certified")  # advanced: approved, on or past its list
STAGES: dict[str, list[tuple[str, str, list[tuple]]]] = {
    "basic": [("applied", "Applied", [("all",)]),
              ("submitted", "Self-assessment submitted", [("completed", ("self_assessment",))]),
              ("reviewed", "Reviewed by the organizer", [("completed", ("organizer_review",))]),
              ("certified", "Self-rated basic", [("status", ("certified",))])],
    "advanced": [("applied", "Applied", [("all",)]),
                 ("preliminary", "Preliminary review approved",
                  [("opened", JOINT), ("opened", ("certifier_decision",)), ("status", LISTED)]),
                 ("joint", "Joint review done", [("opened", ("certifier_decision",)), ("status", LISTED)]),
                 ("certified", "Certified", [("status", ("certified",))])],
    "excellent": [("applied", "Applied", [("all",)]),
                  ("recommended", "Recommended", [("opened", ("paper_check",))]),
                  ("reviewed", "Nationally reviewed", [("completed", ("national_decision",))]),
                  ("certified", "Certified", [("status", ("certified",))])],
    "lighthouse": [("applied", "Applied", [("all",)]),
                   ("recommended", "Recommended", [("opened", MATERIAL)]),
                   ("reviewed", "Target decision made", [("completed", ("target_decision",))]),
                   ("target", "Cultivation target", [("status", ("cultivating", "accepted"))]),
                   ("accepted", "Accepted", [("status", ("accepted",))])],
}


def _reached(ways: list[tuple]):
    return or_(*[_way(w) for w in ways])


def _way(how: tuple):
    kind = how[0]
    if kind == "status":
        return Case.status.in_(how[1])
    cond = [HumanTask.case_id == Case.id, HumanTask.element.in_(how[1])]
    if kind == "completed":
        cond.append(HumanTask.state == "completed")
    return exists().where(and_(*cond))


CACHE_ABOVE = 50_000  # cases of a tier in a campaign above which a funnel may be up to CACHE_SECONDS old
CACHE_SECONDS = 60
_cache: dict = {}


def funnel(actor: User, campaign: Campaign, recommender: str | None = None, tiers=TIERS) -> list[dict]:
    """[{tier, stages: [{key, label, count}], as_of}] for each tier, within the actor's scope (and the recommender's:
    `province:<code>` or `soe:<key>`, as tile_map attributes cases). One statement per tier (an index lookup per case
    and stage); above CACHE_ABOVE cases of a tier the counts are kept a minute per tier, campaign, reader's scope and
    recommender (`as_of` says when they were counted; None when counted for this request below that size)."""
    require_dashboard(actor)
    now = clock.now()
    out = []
    for tier in tiers:
        key = (settings().database_url, campaign.id, tier, recommender, actor.role, actor.province_code,
               actor.soe_group_key)
        hit = _cache.get(key)
        if hit is not None and hit[0] + timedelta(seconds=CACHE_SECONDS) > now:
            out.append({"tier": tier, "stages": hit[1], "as_of": hit[0]})
            continue
        stages = _stages(actor, campaign, tier, recommender)
        as_of = None
        if stages[0]["count"] > CACHE_ABOVE:  # learnt from the count itself: no extra statement on the way
            if len(_cache) > 1000:
                _cache.clear()
            _cache[key] = (now, stages)
            as_of = now
        out.append({"tier": tier, "stages": stages, "as_of": as_of})
    return out


def _stages(actor: User, campaign: Campaign, tier: str, recommender: str | None) -> list[dict]:
    stages = STAGES[tier]
    cols = [func.count()]
    for _k, _l, how in stages[1:]:
        cols.append(func.sum(case((_reached(how), 1), else_=0)))
    q = select(*cols).select_from(Case).where(case_filter(actor), Case.tier == tier, Case.campaign_id == campaign.id)
    if recommender:
        q = q.where(_of_recommender(tier, recommender))
    counts = [int(v or 0) for v in db.session.execute(q).one()]
    return [{"key": k, "label": label, "count": n} for (k, label, _h), n in zip(stages, counts, strict=True)]


def _of_recommender(tier: str, scope: str):
    kind, _, key = scope.partition(":")
    if kind == "soe":
        return (Case.soe_group_key == key) if tier != "lighthouse" else Case.id.is_(None)
    if tier == "lighthouse":
        return Case.province_code == key
    return (Case.province_code == key) & Case.soe_group_key.is_(None)
