"""Official documents (issue 19 part 3, migration 0024): the templates administrators edit (versioned like diagrams)
and every generated document file (DOCX and PDF), attached to a list or a case; regenerating adds a version."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime

DOCUMENT_FORMATS = ("docx", "pdf")


class DocumentTemplate(db.Model):
    """One version of a document template (`key`: announcement, summary_table, letter, certification_notice). A
    save is a new row; the latest version is the one in force. `author_id` is NULL for the shipped files."""

    __tablename__ = "document_templates"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_document_templates_key_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the body (UTF-8)
    message: Mapped[str | None] = mapped_column(String(200))


class Document(db.Model):
    """One generated file. A generation writes two rows (DOCX and PDF) with the same kind, subject and version;
    `attachment_id` links a case document's file to the case's attachments."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    list_id: Mapped[int | None] = mapped_column(ForeignKey("case_lists.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(8))
    template_id: Mapped[int] = mapped_column(ForeignKey("document_templates.id"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
