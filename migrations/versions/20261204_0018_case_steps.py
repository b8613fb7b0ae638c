"""per-step case data: every completed user task's form fields kept under its step (element, round)

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-04

`case_steps`: one row per completed user task, built here for the existing cases from their event history (each
`task.completed` event carries the data the task was completed with; its inbox row names the role, scope and
form). A step on a branch an administrator rewound (`case.rewound {to}`: the events from `to` up to the rewind)
is kept, marked `abandoned`. Nothing of `case_events` changes, so every chain still verifies.
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("element", sa.String(length=128), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("task_uuid", sa.String(length=36), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("form", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("department", sa.String(length=16), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("abandoned", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_steps_case_id_cases")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_case_steps_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_steps")),
        sa.UniqueConstraint("case_id", "seq", name=op.f("uq_case_steps_case_id")),
    )
    op.create_index("ix_case_steps_case_id", "case_steps", ["case_id"])
    backfill(op.get_bind())


def backfill(conn) -> int:
    """The per-step rows of every case from its history (also `flask cases migrate-step-data`, which skips the
    cases that have them)."""
    events = sa.table("case_events", sa.column("case_id", sa.Integer), sa.column("seq", sa.Integer),
                      sa.column("at", sa.DateTime), sa.column("actor_id", sa.Integer), sa.column("action", sa.String),
                      sa.column("task_uuid", sa.String), sa.column("element", sa.String),
                      sa.column("data", sa.JSON))
    tasks = sa.table("human_tasks", sa.column("task_uuid", sa.String), sa.column("title", sa.String),
                     sa.column("form", sa.String), sa.column("role", sa.String), sa.column("scope", sa.String))
    steps = sa.table("case_steps", sa.column("case_id", sa.Integer), sa.column("seq", sa.Integer),
                     sa.column("element", sa.String), sa.column("round", sa.Integer),
                     sa.column("task_uuid", sa.String), sa.column("title", sa.String), sa.column("form", sa.String),
                     sa.column("role", sa.String), sa.column("department", sa.String),
                     sa.column("actor_id", sa.Integer), sa.column("at", sa.DateTime), sa.column("data", sa.JSON),
                     sa.column("abandoned", sa.Boolean))
    done = set(conn.execute(sa.select(steps.c.case_id).distinct()).scalars())
    rows = conn.execute(
        sa.select(events.c.case_id, events.c.seq, events.c.at, events.c.actor_id, events.c.action,
                  events.c.task_uuid, events.c.element, events.c.data, tasks.c.title, tasks.c.form, tasks.c.role,
                  tasks.c.scope)
        .select_from(events.outerjoin(tasks, tasks.c.task_uuid == events.c.task_uuid))
        .where(events.c.action.in_(("task.completed", "case.rewound")))
        .order_by(events.c.case_id, events.c.seq)).all()
    out: list[dict] = []
    rounds: dict = {}
    for r in rows:
        if r.case_id in done:
            continue
        if r.action == "case.rewound":
            to = (r.data or {}).get("to")
            for s in out:
                if s["case_id"] == r.case_id and to is not None and to <= s["seq"] < r.seq and not s["abandoned"]:
                    s["abandoned"] = True
                    rounds[(r.case_id, s["element"])] -= 1
            continue
        key = (r.case_id, r.element)
        rounds[key] = rounds.get(key, 0) + 1
        parts = (r.scope or "").split(":")
        out.append({"case_id": r.case_id, "seq": r.seq, "element": r.element or "", "round": rounds[key],
                    "task_uuid": r.task_uuid, "title": r.title, "form": r.form, "role": r.role,
                    "department": parts[2] if r.role == "co_department_reviewer" and len(parts) > 2 else None,
                    "actor_id": r.actor_id, "at": r.at, "data": r.data or {}, "abandoned": False})
    if out:
        conn.execute(steps.insert(), out)
    return len(out)


def downgrade():
    op.drop_index("ix_case_steps_case_id", table_name="case_steps")
    op.drop_table("case_steps")
