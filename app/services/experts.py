"""Drawing an expert for an expert task: recusal, balanced workload, a seeded and recorded draw.

Recused: experts of the applicant's province (and, once experts carry an enterprise link, of the enterprise).
Among the rest, the least loaded (open expert tasks) are preferred and ties are broken by a seeded shuffle; the
seed and the candidate list go into the case history so an auditor can redraw it.
"""
import hashlib
import random

from sqlalchemy import func, select

from app.extensions import db
from app.models import HumanTask, User


def draw(case, element: str, exclude=()) -> dict:
    """{"expert": user id or None, "seed", "candidates": [ids in draw order], "recused": [ids]}

    `exclude`: experts already on this case's panel (drawn in the same step or holding an open task of the case),
    so the members of one panel are distinct."""
    experts = list(db.session.execute(select(User.id, User.province_code).where(User.role == "expert",
                                                                                User.active.is_(True))))
    recused = sorted(uid for uid, prov in experts if prov == case.province_code)
    busy = {int(scope.split(":")[1]) for scope in db.session.scalars(select(HumanTask.scope).where(
        HumanTask.case_id == case.id, HumanTask.state == "open", HumanTask.scope.like("expert:%")))
        if scope.split(":")[1].isdigit()}
    eligible = sorted(uid for uid, prov in experts if prov != case.province_code
                      and uid not in busy and uid not in set(exclude))
    load = dict(db.session.execute(select(HumanTask.scope, func.count()).where(
        HumanTask.state == "open", HumanTask.scope.like("expert:%")).group_by(HumanTask.scope)).all())
    seed = hashlib.sha256(f"{case.id}:{element}:{case.event_seq}".encode()).hexdigest()[:16]
    rng = random.Random(seed)
    shuffled = eligible[:]
    rng.shuffle(shuffled)
    ordered = sorted(shuffled, key=lambda uid: load.get(f"expert:{uid}", 0))  # stable: keeps the shuffle on ties
    return {"expert": ordered[0] if ordered else None, "seed": seed, "candidates": ordered, "recused": recused}
