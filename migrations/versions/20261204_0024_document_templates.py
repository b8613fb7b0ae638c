"""official documents: versioned document templates and the generated files

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04

`document_templates`: each saved version of a document template (the shipped ones loaded by `bpmn sync`, then
edited by administrators): key, version, body, author, when, SHA-256 of the body.
`documents`: every generated file (DOCX and PDF of one generation share kind, subject and version) of a list or a
case, with its SHA-256; a case document's files are also the case's attachments (`attachment_id`).
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "document_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("message", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_document_templates_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_templates")),
        sa.UniqueConstraint("key", "version", name="uq_document_templates_key_version"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["case_lists.id"], name=op.f("fk_documents_list_id_case_lists")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_documents_case_id_cases")),
        sa.ForeignKeyConstraint(["template_id"], ["document_templates.id"],
                                name=op.f("fk_documents_template_id_document_templates")),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachments.id"],
                                name=op.f("fk_documents_attachment_id_attachments")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_documents_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(op.f("ix_documents_list_id"), "documents", ["list_id"])
    op.create_index(op.f("ix_documents_case_id"), "documents", ["case_id"])


def downgrade():
    op.drop_index(op.f("ix_documents_case_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_list_id"), table_name="documents")
    op.drop_table("documents")
    op.drop_table("document_templates")
