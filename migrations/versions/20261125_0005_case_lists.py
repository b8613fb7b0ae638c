"""case lists (certified lists, ranked recommendation lists) and DMN decision tables

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-25

"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_case_lists_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_case_lists_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_lists")),
    )
    op.create_index(op.f("ix_case_lists_scope"), "case_lists", ["scope"], unique=False)
    op.create_table(
        "case_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_list_entries_case_id_cases")),
        sa.ForeignKeyConstraint(["list_id"], ["case_lists.id"], name=op.f("fk_case_list_entries_list_id_case_lists")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_list_entries")),
        sa.UniqueConstraint("list_id", "case_id", name="uq_case_list_entries_case"),
        sa.UniqueConstraint("list_id", "position", name="uq_case_list_entries_position"),
    )
    op.create_index(op.f("ix_case_list_entries_case_id"), "case_list_entries", ["case_id"], unique=False)
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("notice_periods", sa.JSON(), nullable=True))
    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("lodged_by", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=4000), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resolution", sa.String(length=4000), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_objections_case_id_cases")),
        sa.ForeignKeyConstraint(["lodged_by"], ["users.id"], name=op.f("fk_objections_lodged_by_users")),
        sa.ForeignKeyConstraint(["resolved_by"], ["users.id"], name=op.f("fk_objections_resolved_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    op.create_index(op.f("ix_objections_case_id"), "objections", ["case_id"], unique=False)
    op.create_table(
        "decision_tables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("dmn_xml", sa.LargeBinary(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_decision_tables_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_tables")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_decision_tables_key")),
    )


def downgrade():
    op.drop_index(op.f("ix_objections_case_id"), table_name="objections")
    op.drop_table("objections")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("notice_periods")
    op.drop_table("decision_tables")
    op.drop_index(op.f("ix_case_list_entries_case_id"), table_name="case_list_entries")
    op.drop_table("case_list_entries")
    op.drop_index(op.f("ix_case_lists_scope"), table_name="case_lists")
    op.drop_table("case_lists")
