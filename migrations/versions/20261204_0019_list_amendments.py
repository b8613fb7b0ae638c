"""recommendation lists amendable until the deadline; a list's content hash

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

`case_lists.frozen_at`: when a recommendation list stopped changing (its recommender closed it, or the
recommendation deadline passed) and its cases learned their outcome; NULL while the recommender may still amend it.
`case_lists.content_hash`: sha256 of the list as recorded (kind, tier, campaign, scope, entries in order); a later
change of an entry's status (an objection upheld) never changes it, so the published original stays verifiable.
Lists recorded before this migration were closed when they were recorded: `frozen_at = created_at`.
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_lists") as batch:
        batch.add_column(sa.Column("frozen_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
    op.execute("UPDATE case_lists SET frozen_at = created_at")


def downgrade():
    with op.batch_alter_table("case_lists") as batch:
        batch.drop_column("content_hash")
        batch.drop_column("frozen_at")
