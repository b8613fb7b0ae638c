"""inbox facets: the covering index in the order of the grouped count (region before due date, then id)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25

The counts per filter value group a queue by (tier, element, claimed_by, province_code, city_code) and sum its due
buckets. With due_at before the region columns the database sorted the whole queue to group it, and the task title
(not in the index) cost a table lookup per row: 28,000 tasks took ~85 ms on SQLite. In this order the scan is
streamed from the index alone.
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD = ["role", "scope", "state", "tier", "element", "claimed_by", "due_at", "province_code", "city_code"]
NEW = ["role", "scope", "state", "tier", "element", "claimed_by", "province_code", "city_code", "due_at", "id"]


def upgrade():
    op.drop_index("ix_human_tasks_facets", table_name="human_tasks")
    op.create_index("ix_human_tasks_facets", "human_tasks", NEW, unique=False)


def downgrade():
    op.drop_index("ix_human_tasks_facets", table_name="human_tasks")
    op.create_index("ix_human_tasks_facets", "human_tasks", OLD, unique=False)
