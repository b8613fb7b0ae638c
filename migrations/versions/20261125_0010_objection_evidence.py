"""objections keep the ids of their evidence files

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25

"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("objections") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("objections") as batch:
        batch.drop_column("attachments")
