"""reference data managed in the browser: experts' declared conflicts, the sources of the quota inputs

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

`expert_conflicts`: an enterprise or a central SOE group an expert must never review (declared by the expert,
recorded by an administrator); the draw skips an expert with a conflict on the case's enterprise or group.
`regions.iva_rank_2024_source`, `regions.excellent_2024_source`: where each quota input comes from (a figure
without its source is not entered). The two figures migration 0002 seeded get the sources of shared/data.
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SEEDED_SOURCES = {
    "310000": "推算：2024、2025年累计28家（S09）减2025年16家（S15），见 program-research.yaml",
    "370000": "青岛新闻网2025年1月7日报道首批卓越级名单，山东省22家（S10），见 program-research.yaml",
}


def upgrade():
    op.create_table(
        "expert_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("soe_group_key", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("(enterprise_id IS NULL) <> (soe_group_key IS NULL)",
                           name=op.f("ck_expert_conflicts_one_target")),
        sa.ForeignKeyConstraint(["expert_id"], ["users.id"], name=op.f("fk_expert_conflicts_expert_id_users")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_expert_conflicts_enterprise_id_enterprises")),
        sa.ForeignKeyConstraint(["soe_group_key"], ["soe_groups.key"],
                                name=op.f("fk_expert_conflicts_soe_group_key_soe_groups")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_expert_conflicts_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_conflicts")),
    )
    op.create_index("ix_expert_conflicts_expert_id", "expert_conflicts", ["expert_id"])
    with op.batch_alter_table("regions") as batch:
        batch.add_column(sa.Column("iva_rank_2024_source", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("excellent_2024_source", sa.String(length=500), nullable=True))
    regions = sa.table("regions", sa.column("code", sa.String), sa.column("excellent_2024", sa.Integer),
                       sa.column("excellent_2024_source", sa.String))
    for code, source in SEEDED_SOURCES.items():
        op.execute(regions.update().where(regions.c.code == code, regions.c.excellent_2024.is_not(None))
                   .values(excellent_2024_source=source))


def downgrade():
    with op.batch_alter_table("regions") as batch:
        batch.drop_column("excellent_2024_source")
        batch.drop_column("iva_rank_2024_source")
    op.drop_index("ix_expert_conflicts_expert_id", table_name="expert_conflicts")
    op.drop_table("expert_conflicts")
