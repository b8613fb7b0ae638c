"""inbox regions on the task rows: human_tasks.province_code/city_code (and cases.city_code), a covering index

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25

The inbox counts per filter value group a reviewer's whole queue; reading the case's province and the enterprise's
city through two joins per task made a 28,000-task queue cost ~140 ms. The columns are copied when a task row is
written (they never change for a case) and the index covers the grouped scan.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("city_code", sa.String(length=6), nullable=True))
    with op.batch_alter_table("human_tasks") as batch:
        batch.add_column(sa.Column("province_code", sa.String(length=6), nullable=True))
        batch.add_column(sa.Column("city_code", sa.String(length=6), nullable=True))
    op.execute("UPDATE cases SET city_code = (SELECT city_code FROM enterprises WHERE enterprises.id = "
               "cases.enterprise_id)")
    op.execute("UPDATE human_tasks SET province_code = (SELECT province_code FROM cases WHERE cases.id = "
               "human_tasks.case_id), city_code = (SELECT city_code FROM cases WHERE cases.id = human_tasks.case_id)")
    op.create_index("ix_human_tasks_facets", "human_tasks",
                    ["role", "scope", "state", "tier", "element", "claimed_by", "due_at", "province_code",
                     "city_code"], unique=False)


def downgrade():
    op.drop_index("ix_human_tasks_facets", table_name="human_tasks")
    with op.batch_alter_table("human_tasks") as batch:
        batch.drop_column("city_code")
        batch.drop_column("province_code")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("city_code")
