"""Campaign years as pages offer them (newest first)."""
from sqlalchemy import select

from app.extensions import db
from app.models import Campaign


def newest_first() -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).order_by(Campaign.year.desc())))


def years() -> list[int]:
    """Every campaign year, newest first."""
    return list(db.session.scalars(select(Campaign.year).order_by(Campaign.year.desc())))
