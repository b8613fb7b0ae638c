"""audit: append-only case_events (triggers), replay fields (digest, replay), search indexes

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25 16:00:00

The triggers refuse UPDATE and DELETE on case_events (and TRUNCATE on PostgreSQL) unless the refusing transaction
itself holds a row in `audit_maintenance`: an uncommitted row is invisible to every other transaction, so the bypass
is local to one transaction (test cleanup uses it; production never should, and on PostgreSQL the application role
can be denied INSERT on that table).
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
       WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance)
       BEGIN SELECT RAISE(ABORT, 'case_events is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
       WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance)
       BEGIN SELECT RAISE(ABORT, 'case_events is append-only: DELETE refused'); END""",
]

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION case_events_append_only() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_maintenance) THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'case_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""
PG_TRIGGERS = [
    "CREATE TRIGGER case_events_no_change BEFORE UPDATE OR DELETE ON case_events "
    "FOR EACH ROW EXECUTE FUNCTION case_events_append_only()",
    "CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION case_events_append_only()",
]


def upgrade():
    op.create_table(
        "audit_maintenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_maintenance")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("replay", sa.JSON(), nullable=True))
        batch_op.create_index("ix_case_events_at", ["at"], unique=False)
        batch_op.create_index("ix_case_events_action_at", ["action", "at"], unique=False)
        batch_op.create_index("ix_case_events_actor_id_at", ["actor_id", "at"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
        for stmt in PG_TRIGGERS:
            op.execute(stmt)
    else:
        for stmt in SQLITE_TRIGGERS:
            op.execute(stmt)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_events_no_truncate ON case_events")
        op.execute("DROP TRIGGER IF EXISTS case_events_no_change ON case_events")
        op.execute("DROP FUNCTION IF EXISTS case_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS case_events_no_delete")
        op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index("ix_case_events_actor_id_at")
        batch_op.drop_index("ix_case_events_action_at")
        batch_op.drop_index("ix_case_events_at")
        batch_op.drop_column("replay")
        batch_op.drop_column("digest")
    op.drop_table("audit_maintenance")
