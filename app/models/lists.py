"""Lists that span cases: a certifier's published certified list, a recommender's ranked recommendation list."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime

LIST_KINDS = ("certified", "recommendation")


class CaseList(db.Model):
    __tablename__ = "case_lists"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    scope: Mapped[str] = mapped_column(String(64), index=True)  # whose list: province:<code> or soe:<group>
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. the quota and its inputs
    # a recommendation list: NULL while its recommender may amend it (until the recommendation deadline)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str | None] = mapped_column(String(64))  # the list as recorded (services/lists.py)

    campaign = relationship("Campaign")
    entries: Mapped[list["CaseListEntry"]] = relationship(back_populates="list", order_by="CaseListEntry.position",
                                                          cascade="all, delete-orphan")


class CaseListEntry(db.Model):
    __tablename__ = "case_list_entries"
    __table_args__ = (UniqueConstraint("list_id", "case_id", name="uq_case_list_entries_case"),
                      UniqueConstraint("list_id", "position", name="uq_case_list_entries_position"))
    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("case_lists.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)

    list: Mapped[CaseList] = relationship(back_populates="entries")


class Objection(db.Model):
    """An objection lodged during a public notice (公示); an open one holds the case until it is decided."""

    __tablename__ = "objections"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    lodged_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(4000))
    attachments: Mapped[list | None] = mapped_column(JSON)  # ids of the evidence files, stored on the case
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | upheld | dismissed
    resolution: Mapped[str | None] = mapped_column(String(4000))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
