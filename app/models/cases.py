from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.processes import ProcessVersion
from app.models.reference import Campaign, Enterprise
from app.models.types import UTCDateTime, utcnow

FINAL_STATUSES = ("certified", "rejected", "withdrawn", "expired", "accepted")


class Case(db.Model):
    """One factory's application for one tier in one campaign, with its engine state.

    `lock_version` is SQLAlchemy's version counter: a stale write raises StaleDataError and is refused (409).
    """

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    tier: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(40))  # a final status or the step the case waits at
    province_code: Mapped[str] = mapped_column(String(6))  # the recommending province (cities mapped up)
    city_code: Mapped[str | None] = mapped_column(String(6))  # the enterprise's city, copied for the inbox
    soe_group_key: Mapped[str | None] = mapped_column(String(64))
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    state: Mapped[str] = mapped_column(Text)  # serialized workflow, spec excluded
    revisions: Mapped[int] = mapped_column(Integer, default=0)
    # head of the event chain, kept here so appending an event needs no extra query
    event_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="0" * 64)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # earliest waiting timer, if any
    # the message catch events waiting now, comma-joined (migration 0025): `message_waits` is rewritten only when
    # this changes, so a step that leaves them as they were writes nothing for them
    message_wait: Mapped[str | None] = mapped_column(String(512))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": lock_version}
    __table_args__ = (
        Index("ix_cases_scope", "province_code", "tier", "status"),
        Index("ix_cases_soe", "soe_group_key", "tier", "status"),
        Index("ix_cases_campaign", "campaign_id", "tier", "status"),
        # the case list's filters, newest first (migration 0021)
        Index("ix_cases_status", "status"),
        Index("ix_cases_tier_status", "tier", "status"),
        Index("ix_cases_city", "city_code"),
        Index("ix_cases_province_list", "province_code", "tier", "status", "soe_group_key", "city_code", "campaign_id",
              "enterprise_id"),
        Index("ix_cases_enterprise_list", "enterprise_id", "province_code", "soe_group_key", "tier", "status",
              "city_code", "campaign_id"),
    )

    enterprise: Mapped[Enterprise] = relationship()
    campaign: Mapped[Campaign] = relationship()
    process_version: Mapped[ProcessVersion] = relationship()


class HumanTask(db.Model):
    """The inbox row of a waiting user task, written in the same transaction as the instance."""

    __tablename__ = "human_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    element: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    # the case's province and city, copied when the row is written: the inbox groups a queue by them, no joins
    province_code: Mapped[str | None] = mapped_column(String(6))
    city_code: Mapped[str | None] = mapped_column(String(6))
    form: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | completed | cancelled
    tier: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # since when the holder holds it (0022)
    draft: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (Index("ix_human_tasks_inbox", "role", "scope", "state", "due_at"),
                      # the inbox's grouped count follows this order column for column (streamed, no sort);
                      # `id` lets it pick one row per task kind for the titles without a table lookup
                      Index("ix_human_tasks_facets", "role", "scope", "state", "tier", "element", "claimed_by",
                            "province_code", "city_code", "due_at", "id"),
                      Index("ix_human_tasks_done", "completed_by", "completed_at"))  # 已办 (migration 0021)

    case: Mapped[Case] = relationship()


class CaseEvent(db.Model):
    """Append-only, hash-chained history of a case: hash = SHA-256(canonical(event) + prev_hash)."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    task_uuid: Mapped[str | None] = mapped_column(String(36))
    element: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict | None] = mapped_column(JSON)
    process_version_id: Mapped[int] = mapped_column(Integer)
    state_hash: Mapped[str | None] = mapped_column(String(64))
    digest: Mapped[str | None] = mapped_column(String(64))  # reproducible state digest (services/replay.py)
    replay: Mapped[dict | None] = mapped_column(JSON)  # what a replay needs beyond the fields above
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class TimerRow(db.Model):
    """A waiting timer event of an instance, with its due time, rewritten whenever the instance is saved."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    element: Mapped[str] = mapped_column(String(128))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # a firing that failed: retried with backoff, then held by an incident (migration 0022)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incident_id: Mapped[int | None] = mapped_column(Integer)
    # when the timer started waiting (migration 0025; kept while the same timer waits): the heatmap times a
    # fired timer from here. None on rows older than that migration.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MessageWait(db.Model):
    """A message catch event of an instance waiting now, since when (migration 0025): mirrored by
    `instances.save` like `timers`, so that the process heatmap counts the cases waiting there."""

    __tablename__ = "message_waits"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    element: Mapped[str] = mapped_column(String(128))
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class Attachment(db.Model):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
