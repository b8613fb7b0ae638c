"""Derived search tables, maintained by database triggers (migration 0021), never written by the application."""
from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class EnterpriseNameGram(db.Model):
    """Every two-character piece of every enterprise name (ASCII letters lower-cased), for substring search on an
    index: a name containing "宁波示范" contains its pieces "宁波", "波示", "示范". Triggers on `enterprises` keep it
    (insert, rename, delete), so Core bulk inserts and imports are covered too."""

    __tablename__ = "enterprise_name_grams"
    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(Integer, primary_key=True)

    __table_args__ = (Index("ix_enterprise_name_grams_enterprise", "enterprise_id"),)


class GramPosition(db.Model):
    """The numbers 1..200 (the longest name), which the triggers walk a name with (SQLite triggers have no CTE)."""

    __tablename__ = "gram_positions"
    n: Mapped[int] = mapped_column(Integer, primary_key=True)
