"""process drafts: an administrator's unsaved-to-production diagram and forms per process model (issue 5)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "process_drafts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("bpmn_xml", sa.LargeBinary(), nullable=False),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_process_drafts_author_id_users")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_process_drafts")),
    )


def downgrade():
    op.drop_table("process_drafts")
