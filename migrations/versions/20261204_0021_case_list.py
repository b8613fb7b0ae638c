"""case list and 已办 indexes: cases by status, by tier and status, by city; the tasks a user completed by time;
on PostgreSQL a trigram index on enterprise names (substring search)

Revision ID: 0021
Revises: 0016
Create Date: 2026-12-04

The case list (services/case_list.py) filters the cases in scope by tier, status, region and campaign, newest first
(`ORDER BY id DESC LIMIT 50`). SQLite appends the rowid to every index, so an index whose columns are all pinned by
equality also serves the order: `ix_cases_status` (status alone, the national list), `ix_cases_tier_status`
(tier alone or tier and status), `ix_cases_city` (a city). The other filters already have theirs
(`ix_cases_scope`, `ix_cases_soe`, `ix_cases_campaign`, `ix_cases_enterprise_id`). The 已办 view reads
`completed_by = ? ORDER BY completed_at DESC`: `ix_human_tasks_done`. Name search is `name LIKE '%...%'`: on
PostgreSQL a pg_trgm GIN index serves it (when the extension can be created; without it the search scans, as on
SQLite, where the scan of the enterprises' names measured within the budget: docs/PERFORMANCE.md).
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0016"
branch_labels = None
depends_on = None


def _trigram_available(bind) -> bool:
    if bind.dialect.name != "postgresql":
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        return True
    except sa.exc.DBAPIError:  # no right to create extensions: the search scans (correct, slower)
        return False


def upgrade():
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_index("ix_cases_tier_status", "cases", ["tier", "status"])
    op.create_index("ix_cases_city", "cases", ["city_code"])
    op.create_index("ix_human_tasks_done", "human_tasks", ["completed_by", "completed_at"])
    bind = op.get_bind()
    if _trigram_available(bind):
        op.execute("CREATE INDEX ix_enterprises_name_trgm ON enterprises USING gin (name gin_trgm_ops)")


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_enterprises_name_trgm")
    op.drop_index("ix_human_tasks_done", table_name="human_tasks")
    op.drop_index("ix_cases_city", table_name="cases")
    op.drop_index("ix_cases_tier_status", table_name="cases")
    op.drop_index("ix_cases_status", table_name="cases")
