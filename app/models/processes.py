from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, LargeBinary, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class ProcessModel(db.Model):
    __tablename__ = "process_models"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    tier: Mapped[str | None] = mapped_column(String(16), index=True)

    versions: Mapped[list["ProcessVersion"]] = relationship(
        back_populates="model", order_by="ProcessVersion.version"
    )


class ProcessVersion(db.Model):
    """An immutable deployed version. The parsed spec is stored once here, never inside instances."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("model_key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    model_key: Mapped[str] = mapped_column(ForeignKey("process_models.key"))
    version: Mapped[int] = mapped_column(Integer)
    process_id: Mapped[str] = mapped_column(String(128))  # the BPMN process element id
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    bpmn_xml: Mapped[bytes] = mapped_column(LargeBinary)
    spec_json: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict] = mapped_column(JSON, default=dict)  # form file name -> JSON Schema
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    model: Mapped[ProcessModel] = relationship(back_populates="versions")


class DecisionTable(db.Model):
    """An immutable version of a DMN decision table (e.g. the recommendation quotas), editable by deploying anew."""

    __tablename__ = "decision_tables"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))  # the DMN decision id
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    dmn_xml: Mapped[bytes] = mapped_column(LargeBinary)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# editor drafts, one per process model (migration 0008); services/drafts.py works on it with Core statements
DRAFTS = Table(
    "process_drafts", db.metadata,
    Column("key", String(64), primary_key=True),
    Column("bpmn_xml", LargeBinary, nullable=False),
    Column("forms", JSON, nullable=False),
    Column("author_id", Integer, ForeignKey("users.id")),
    Column("updated_at", DateTime, nullable=False),
    extend_existing=True,
)
