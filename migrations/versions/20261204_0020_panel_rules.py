"""campaign rules for expert panels and XPCC lighthouse recommendation

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04

`campaigns.panel_min_mean` (0-100) and `campaigns.panel_min_approval_pct` (0-100): a panel's consolidated result is
"approve" when the experts' mean score reaches the first and the share of experts approving reaches the second
(docs/ARCHITECTURE.md, "Expert panels: the consolidation rule"); 60 and 60 by default (two of three experts).
`campaigns.xpcc_recommends_lighthouse`: the 2025 notice's lighthouse quota names provinces only, so the XPCC does
not recommend lighthouse factories unless a campaign says so (false by default).
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    # ALTER TABLE ... ADD COLUMN on SQLite too (recreate="never"): the boolean's default is an SQL expression, for
    # which batch mode would otherwise copy the table and drop the old one, and that DROP TABLE fails on a
    # database whose campaign_deadlines (and cases) refer to their campaign while foreign keys are enforced.
    with op.batch_alter_table("campaigns", recreate="never") as batch:
        batch.add_column(sa.Column("panel_min_mean", sa.Float(), nullable=False, server_default="60"))
        batch.add_column(sa.Column("panel_min_approval_pct", sa.Integer(), nullable=False, server_default="60"))
        batch.add_column(sa.Column("xpcc_recommends_lighthouse", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("xpcc_recommends_lighthouse")
        batch.drop_column("panel_min_approval_pct")
        batch.drop_column("panel_min_mean")
