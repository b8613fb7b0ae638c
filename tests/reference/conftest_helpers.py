"""Put the reference data back after a test that committed through the pages (the shared cleanup only empties the
dynamic tables): regions' quota inputs, campaigns and their deadlines, experts, declared conflicts."""
from contextlib import contextmanager

from sqlalchemy import delete, select, text

from app.extensions import db
from app.models import Campaign, CampaignDeadline, ExpertConflict, Region, User

REGION_COLS = ("iva_rank_2024", "iva_rank_2024_source", "excellent_2024", "excellent_2024_source")
USER_COLS = ("province_code", "expertise", "active", "enterprise_id")


@contextmanager
def restored_reference_data():
    regions = {r.code: {c: getattr(r, c) for c in REGION_COLS} for r in db.session.scalars(select(Region))}
    users = {u.id: {c: getattr(u, c) for c in USER_COLS} for u in db.session.scalars(select(User))}
    camps = {c.id: {"name": c.name, "branch_industries": list(c.branch_industries or []),
                    "notice_periods": dict(c.notice_periods or {})} for c in db.session.scalars(select(Campaign))}
    deadlines = {d.id: (d.campaign_id, d.tier, d.application_deadline, d.recommendation_deadline)
                 for d in db.session.scalars(select(CampaignDeadline))}
    db.session.rollback()
    try:
        yield
    finally:
        db.session.rollback()
        db.session.execute(delete(ExpertConflict))
        db.session.execute(text("DELETE FROM deadline_extensions"))
        db.session.execute(delete(CampaignDeadline).where(CampaignDeadline.id.not_in(list(deadlines))))
        db.session.execute(delete(Campaign).where(Campaign.id.not_in(list(camps))))
        new_users = list(db.session.scalars(select(User.id).where(User.id.not_in(list(users)))))
        if new_users:
            db.session.execute(text("DELETE FROM login_failures"))
            db.session.execute(text("DELETE FROM api_tokens"))
            db.session.execute(delete(User).where(User.id.in_(new_users)))
        for r in db.session.scalars(select(Region)):
            for c, v in regions[r.code].items():
                setattr(r, c, v)
        for u in db.session.scalars(select(User)):
            for c, v in users[u.id].items():
                setattr(u, c, v)
        for c in db.session.scalars(select(Campaign)):
            for k, v in camps[c.id].items():
                setattr(c, k, v)
        for d in db.session.scalars(select(CampaignDeadline)):
            _cid, _tier, d.application_deadline, d.recommendation_deadline = deadlines[d.id]
        db.session.commit()
