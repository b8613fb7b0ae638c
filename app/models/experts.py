"""The expert pool's declared conflicts: enterprises or central SOE groups an expert must never review."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class ExpertConflict(db.Model):
    """One declared conflict: exactly one of `enterprise_id` and `soe_group_key` is set."""

    __tablename__ = "expert_conflicts"
    __table_args__ = (CheckConstraint("(enterprise_id IS NULL) <> (soe_group_key IS NULL)", name="one_target"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    soe_group_key: Mapped[str | None] = mapped_column(ForeignKey("soe_groups.key"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
