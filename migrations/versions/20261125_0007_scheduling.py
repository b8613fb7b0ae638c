"""scheduling: timer claims, the scheduler lease, deadline extensions, reminders, users.email

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 18:00:00

`timers.claim_token`/`claimed_at`: a sweep marks the due rows it will fire (a conditional UPDATE; on PostgreSQL
its subquery takes the rows FOR UPDATE SKIP LOCKED), commits, then fires each case in its own transaction; a claim
older than TIMER_CLAIM_TIMEOUT is taken over by the next sweep (a sweep that died mid-way loses nothing).
`scheduler_leases`: one row per lease name; the holder renews `expires_at` every tick, another scheduler takes the
lease once it has expired. `deadline_extensions`: an administrator's extension of a campaign deadline for a tier,
a province or one case, with the reason. `reminders`: one row per (task, kind), so each reminder is sent once.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("timers") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("acquired_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )
    op.create_table(
        "deadline_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),  # campaign | province | case
        sa.Column("province_code", sa.String(length=6), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("application_deadline", sa.Date(), nullable=True),
        sa.Column("recommendation_deadline", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("affected", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_deadline_extensions_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_deadline_extensions_case_id_cases")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_deadline_extensions_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_extensions")),
    )
    op.create_index("ix_deadline_extensions_lookup", "deadline_extensions", ["campaign_id", "tier", "scope"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),  # before_7d | before_1d | due_day | overdue
        sa.Column("role", sa.String(length=32), nullable=False),  # who is reminded (overdue: the supervisor role)
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("emailed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["human_tasks.id"], name=op.f("fk_reminders_task_id_human_tasks")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_reminders_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("task_id", "kind", name="uq_reminders_task_kind"),
    )
    op.create_index("ix_reminders_inbox", "reminders", ["role", "scope", "sent_at"])


def downgrade():
    op.drop_index("ix_reminders_inbox", table_name="reminders")
    op.drop_table("reminders")
    op.drop_index("ix_deadline_extensions_lookup", table_name="deadline_extensions")
    op.drop_table("deadline_extensions")
    op.drop_table("scheduler_leases")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
    with op.batch_alter_table("timers") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claim_token")
