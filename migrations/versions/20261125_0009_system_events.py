"""system events: the append-only chain of deployments and user/role changes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25

"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER system_events_no_update BEFORE UPDATE ON system_events
       WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance)
       BEGIN SELECT RAISE(ABORT, 'system_events is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER system_events_no_delete BEFORE DELETE ON system_events
       WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance)
       BEGIN SELECT RAISE(ABORT, 'system_events is append-only: DELETE refused'); END""",
]
PG_TRIGGERS = [  # the function comes from migration 0004 and names its table in the message only through TG_OP
    "CREATE TRIGGER system_events_no_change BEFORE UPDATE OR DELETE ON system_events "
    "FOR EACH ROW EXECUTE FUNCTION case_events_append_only()",
    "CREATE TRIGGER system_events_no_truncate BEFORE TRUNCATE ON system_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION case_events_append_only()",
]


def upgrade():
    op.create_table(
        "system_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_system_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_system_events_seq")),
    )
    triggers = PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for stmt in triggers:
        op.execute(stmt)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS system_events_no_truncate ON system_events")
        op.execute("DROP TRIGGER IF EXISTS system_events_no_change ON system_events")
    else:
        op.execute("DROP TRIGGER IF EXISTS system_events_no_delete")
        op.execute("DROP TRIGGER IF EXISTS system_events_no_update")
    op.drop_table("system_events")
