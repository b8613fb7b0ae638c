"""Drawing an expert for an expert task: recusal, declared conflicts, balanced workload, a seeded recorded draw.

Only active members of the pool (users with role `expert`) are drawn. Recused: experts whose home region is the
applicant's province (a plan-listed city such as 330200 Ningbo counts for its province, through `regions`), experts
employed by the applicant (`users.enterprise_id`), and experts who declared a conflict with the applicant's
enterprise or its central SOE group (`expert_conflicts`, managed in services/expert_pool.py). Among the rest, the
least loaded (open expert tasks) are preferred and ties are broken by a seeded shuffle; the seed and the candidate
list go into the case history so an auditor can redraw it.
"""
import hashlib
import random

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import ExpertConflict, HumanTask, Region, User


def draw(case, element: str, exclude=()) -> dict:
    """{"expert": user id or None, "seed", "candidates": [ids in draw order], "recused": [ids]}

    `exclude`: experts already on this case's panel (drawn in the same step or holding an open task of the case),
    so the members of one panel are distinct."""
    home = aliased(Region)
    rows = db.session.execute(
        select(User.id, func.coalesce(home.province_code, User.province_code), User.enterprise_id)
        .outerjoin(home, home.code == User.province_code)
        .where(User.role == "expert", User.active.is_(True))).all()
    group = getattr(case, "soe_group_key", None)
    target = [ExpertConflict.enterprise_id == case.enterprise_id]
    if group:
        target.append(ExpertConflict.soe_group_key == group)
    conflicted = set(db.session.scalars(select(ExpertConflict.expert_id).where(or_(*target))))
    recused = sorted(uid for uid, prov, ent in rows
                     if prov == case.province_code or ent == case.enterprise_id or uid in conflicted)
    busy = {int(scope.split(":")[1]) for scope in db.session.scalars(select(HumanTask.scope).where(
        HumanTask.case_id == case.id, HumanTask.state == "open", HumanTask.scope.like("expert:%")))
        if scope.split(":")[1].isdigit()}
    eligible = sorted(uid for uid, _prov, _ent in rows if uid not in recused
                      and uid not in busy and uid not in set(exclude))
    load = dict(db.session.execute(select(HumanTask.scope, func.count()).where(
        HumanTask.state == "open", HumanTask.scope.like("expert:%")).group_by(HumanTask.scope)).all())
    seed = hashlib.sha256(f"{case.id}:{element}:{case.event_seq}".encode()).hexdigest()[:16]
    rng = random.Random(seed)
    shuffled = eligible[:]
    rng.shuffle(shuffled)
    ordered = sorted(shuffled, key=lambda uid: load.get(f"expert:{uid}", 0))  # stable: keeps the shuffle on ties
    return {"expert": ordered[0] if ordered else None, "seed": seed, "candidates": ordered, "recused": recused}
