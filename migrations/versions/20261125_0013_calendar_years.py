"""working-day calendar years as data: years the chinesecalendar library does not ship yet

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25

`calendar_years`: one row per loaded year (`flask load`, key `calendar`) with its source (the State Council
notice, or "illustrative"); `calendar_days`: its public holidays (with their name) and make-up working days (调休),
the days that differ from the Monday–Friday rule. A loaded year is never changed (deadlines were dated with it).
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["year"], ["calendar_years.year"], name=op.f("fk_calendar_days_year_calendar_years")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
    )
    op.create_index("ix_calendar_days_year", "calendar_days", ["year"])


def downgrade():
    op.drop_index("ix_calendar_days_year", table_name="calendar_days")
    op.drop_table("calendar_days")
    op.drop_table("calendar_years")
