"""merge the security (0003), audit (0004) and case-list (0005) branches

Revision ID: 0006
Revises: 0003, 0004, 0005
Create Date: 2026-11-25

"""
revision = "0006"
down_revision = ("0003", "0004", "0005")
branch_labels = None
depends_on = None


def upgrade():
    pass  # joins the branches; no schema change


def downgrade():
    pass
