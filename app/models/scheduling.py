"""Tables of the scheduler (migration 0007): the lease, deadline extensions, reminders.

The claim columns of `timers` and `users.email` are read through the table clauses below, so the models of other
areas stay as they are."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint, column, table
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime

# `timers` with the claim columns a sweep writes (migration 0007)
TIMER_CLAIMS = table("timers", column("id", Integer), column("case_id", Integer), column("element", String),
                     column("due_at", UTCDateTime), column("claim_token", String), column("claimed_at", UTCDateTime),
                     column("attempts", Integer), column("next_attempt_at", UTCDateTime),
                     column("incident_id", Integer))
USER_EMAILS = table("users", column("id", Integer), column("role", String), column("email", String),
                    column("active"))


class SchedulerLease(db.Model):
    """Who runs the scheduler now: renewed every tick; taken over by another instance once `expires_at` passed."""

    __tablename__ = "scheduler_leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadlineExtension(db.Model):
    """An administrator's extension of a campaign deadline: for a tier (scope campaign), a province or a case."""

    __tablename__ = "deadline_extensions"
    __table_args__ = (Index("ix_deadline_extensions_lookup", "campaign_id", "tier", "scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    tier: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16))  # campaign | province | case
    province_code: Mapped[str | None] = mapped_column(String(6))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    application_deadline: Mapped[date | None] = mapped_column(Date)
    recommendation_deadline: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(2000))
    affected: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reminder(db.Model):
    """A reminder of an open task's due date (or its escalation when overdue), sent once per (task, kind)."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("task_id", "kind", name="uq_reminders_task_kind"),
                      Index("ix_reminders_inbox", "role", "scope", "sent_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
