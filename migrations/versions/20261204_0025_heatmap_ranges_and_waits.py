"""the process heatmap by date range, at message catch events, and timers timed from their start (issue 19)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04

- `heatmap_range_cells`: the completed inbox rows of `heatmap_cells` again, per Asia/Shanghai day of completion
  (grain 'd', period 'YYYY-MM-DD') per scope ('*' everyone; 'p:<province>' the province's own cases,
  'q:<province>' its SOE group members' cases; 's:<group>' the group's), and per month ('m', 'YYYY-MM') for '*';
  key ordered model, grain, scope, period: a national range is whole months plus the days at its two ends, each a
  contiguous range of the key, a province's or group's range its days, so a range reads thousands of summary rows
  instead of the inbox rows. Kept by triggers on `human_tasks` (and on `cases` when a case moves), like
  `heatmap_cells`, only for completed rows; a completion adds three upserts (four for an SOE group member's case).
- `message_waits`: the message catch events each case waits at now (mirrored by `instances.save` when the set
  changes; `cases.message_wait` holds the set so an unchanged one costs nothing), counted as waiting in
  `heatmap_cells` by triggers as timers are. Rows for cases already waiting are written by
  `flask cases mirror-waits` (it needs the engine).
- `timers.started_at`: when the timer started waiting, kept while the same timer waits, so a boundary timer is timed
  from its activity's start rather than from the case's last step.
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def _summary():
    """Migration 0023's SQL builders (bucket, lateness, the PostgreSQL function this one extends)."""
    path = next(Path(__file__).parent.glob("*_0023_heatmap_summary.py"))
    spec = importlib.util.spec_from_file_location("heatmap_summary_0023", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


S = _summary()
RKEY = ("model_key", "grain", "scope", "period", "campaign_id", "element", "bucket_s")
RUPSERT = (f"ON CONFLICT ({', '.join(RKEY)}) DO UPDATE SET passed = heatmap_range_cells.passed + excluded.passed, "
           "late = heatmap_range_cells.late + excluded.late")
GRAINS = "(SELECT 'd' AS grain UNION ALL SELECT 'm') AS g"
KINDS = "(SELECT '*' AS kind UNION ALL SELECT 'p' UNION ALL SELECT 's') AS k"


def _period(r: str, dialect: str) -> str:
    """Asia/Shanghai (UTC+8 all year) day or month of row `r`'s completion; the times are stored as naive UTC."""
    if dialect == "postgresql":
        return (f"to_char({r}.completed_at + interval '8 hours', "
                "CASE g.grain WHEN 'd' THEN 'YYYY-MM-DD' ELSE 'YYYY-MM' END)")
    return f"strftime(CASE g.grain WHEN 'd' THEN '%Y-%m-%d' ELSE '%Y-%m' END, {r}.completed_at, '+8 hours')"


def _scope(c: str) -> str:
    """The scope of kind k for case `c` (a row of `cases`, or OLD/NEW of its trigger)."""
    return (f"CASE k.kind WHEN '*' THEN '*' WHEN 'p' THEN (CASE WHEN coalesce({c}.soe_group_key, '') = '' THEN 'p:' "
            f"ELSE 'q:' END) || {c}.province_code ELSE 's:' || {c}.soe_group_key END")


def _has_kind(c: str) -> str:
    """The rows a completion adds: a group's only for a group member's case; months only for everyone (a province's
    or a group's range reads its days: a province's year is fewer rows than a national week)."""
    return f"(k.kind <> 's' OR coalesce({c}.soe_group_key, '') <> '') AND (g.grain = 'd' OR k.kind = '*')"


def _range_row(r: str, sign: int, dialect: str) -> str:
    """Add (sign 1) or subtract (-1) completed inbox row `r`'s day and month contributions, in every scope."""
    done = f"{r}.state = 'completed' AND {r}.completed_at IS NOT NULL"
    return (f"INSERT INTO heatmap_range_cells ({', '.join(RKEY)}, passed, late) SELECT v.model_key, g.grain, "
            f"{_scope('c')}, {_period(r, dialect)}, c.campaign_id, {r}.element, {S.bucket(r, dialect)}, {sign}, "
            f"{sign} * {S.late(r)} FROM cases c JOIN process_versions v ON v.id = c.process_version_id "
            f"CROSS JOIN {GRAINS} CROSS JOIN {KINDS} WHERE c.id = {r}.case_id AND {done} AND {_has_kind('c')} "
            f"{RUPSERT};")


def _range_case(c: str, sign: int, dialect: str) -> str:
    """All of case `c`'s completed rows, grouped (a case moving to another model, campaign, province or group)."""
    total = "sum(y.n), sum(y.lt)" if sign > 0 else "-sum(y.n), -sum(y.lt)"
    return (f"INSERT INTO heatmap_range_cells ({', '.join(RKEY)}, passed, late) SELECT y.model_key, y.grain, "
            f"y.scope, y.period, y.campaign_id, y.element, y.b, {total} FROM (SELECT v.model_key, g.grain, "
            f"{_scope(c)} AS scope, {_period('h', dialect)} AS period, {c}.campaign_id, h.element, "
            f"{S.bucket('h', dialect)} AS b, 1 AS n, "
            f"{S.late('h')} AS lt FROM human_tasks h JOIN process_versions v ON v.id = {c}.process_version_id "
            f"CROSS JOIN {GRAINS} CROSS JOIN {KINDS} WHERE h.case_id = {c}.id AND h.state = 'completed' "
            f"AND h.completed_at IS NOT NULL AND {_has_kind(c)}) AS y WHERE 1 = 1 "
            f"GROUP BY y.model_key, y.grain, y.scope, y.period, y.campaign_id, y.element, y.b {RUPSERT};")


def _waits_move(c: str, sign: int) -> str:
    """Case `c`'s message waits under its old (sign -1) or new values in `heatmap_cells`."""
    cols = ", ".join(S.KEY)
    n = "count(*)" if sign > 0 else "-count(*)"
    return (f"INSERT INTO heatmap_cells ({cols}, waiting, passed, late) SELECT v.model_key, w.element, -1, "
            f"{c}.campaign_id, {c}.province_code, coalesce({c}.soe_group_key, ''), {n}, 0, 0 FROM message_waits w "
            f"JOIN process_versions v ON v.id = {c}.process_version_id WHERE w.case_id = {c}.id "
            f"GROUP BY v.model_key, w.element {S.UPSERT.format(key=cols)};")


def backfill_ranges(dialect: str) -> str:
    """What the triggers would have written for the completed rows already stored (bench/heatmap.py uses it too)."""
    return (f"INSERT INTO heatmap_range_cells ({', '.join(RKEY)}, passed, late) SELECT y.model_key, y.grain, y.scope, "
            f"y.period, y.campaign_id, y.element, y.b, count(*), sum(y.lt) FROM (SELECT v.model_key, g.grain, "
            f"{_scope('c')} AS scope, {_period('h', dialect)} AS period, c.campaign_id, h.element, "
            f"{S.bucket('h', dialect)} AS b, {S.late('h')} AS lt FROM human_tasks h JOIN cases c ON c.id = h.case_id "
            f"JOIN process_versions v ON v.id = c.process_version_id CROSS JOIN {GRAINS} CROSS JOIN {KINDS} "
            f"WHERE h.state = 'completed' AND h.completed_at IS NOT NULL AND {_has_kind('c')}) AS y "
            f"GROUP BY y.model_key, y.grain, y.scope, y.period, y.campaign_id, y.element, y.b")


def sqlite_triggers() -> tuple[str, ...]:
    # only a completed row counts here: opening a row (most inbox writes) runs none of these
    change = f"({S.TASK_CHANGE}) AND (OLD.state = 'completed' OR NEW.state = 'completed')"
    return (
        "CREATE TRIGGER heatmap_range_insert AFTER INSERT ON human_tasks WHEN NEW.state = 'completed' "
        f"BEGIN {_range_row('NEW', 1, 'sqlite')} END",
        "CREATE TRIGGER heatmap_range_update AFTER UPDATE OF state, completed_at, created_at, due_at, element, "
        f"case_id ON human_tasks WHEN {change} BEGIN {_range_row('OLD', -1, 'sqlite')} "
        f"{_range_row('NEW', 1, 'sqlite')} END",
        "CREATE TRIGGER heatmap_range_delete AFTER DELETE ON human_tasks WHEN OLD.state = 'completed' "
        f"BEGIN {_range_row('OLD', -1, 'sqlite')} END",
        f"CREATE TRIGGER heatmap_waits_insert AFTER INSERT ON message_waits BEGIN {S._sqlite_timer('NEW', 1)} END",
        f"CREATE TRIGGER heatmap_waits_delete AFTER DELETE ON message_waits BEGIN {S._sqlite_timer('OLD', -1)} END",
        "CREATE TRIGGER heatmap_range_cases_move AFTER UPDATE OF process_version_id, campaign_id, province_code, "
        f"soe_group_key ON cases WHEN {S.CASE_CHANGE} BEGIN {_range_case('OLD', -1, 'sqlite')} "
        f"{_waits_move('OLD', -1)} {_range_case('NEW', 1, 'sqlite')} {_waits_move('NEW', 1)} END",
    )


SQLITE_TRIGGER_NAMES = ("heatmap_range_insert", "heatmap_range_update", "heatmap_range_delete",
                        "heatmap_waits_insert", "heatmap_waits_delete", "heatmap_range_cases_move")


def pg_statements() -> tuple[str, ...]:
    body = (f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_range_row('OLD', -1, 'postgresql')} END IF; "
            f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {_range_row('NEW', 1, 'postgresql')} END IF;")
    return (
        # message waits count as waiting as timers do (the function of 0023, one condition wider)
        S.PG_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
        .replace("TG_TABLE_NAME = 'timers'", "TG_TABLE_NAME IN ('timers', 'message_waits')"),
        "CREATE TRIGGER heatmap_waits_sync AFTER INSERT OR DELETE ON message_waits FOR EACH ROW "
        "EXECUTE FUNCTION heatmap_cells_sync()",
        f"CREATE FUNCTION heatmap_range_sync() RETURNS trigger AS $$ BEGIN {body} RETURN NULL; END $$ "
        "LANGUAGE plpgsql",
        # only a completed row counts here: opening a row (most inbox writes) does not call the function
        "CREATE TRIGGER heatmap_range_insert AFTER INSERT ON human_tasks FOR EACH ROW "
        "WHEN (NEW.state = 'completed') EXECUTE FUNCTION heatmap_range_sync()",
        "CREATE TRIGGER heatmap_range_update AFTER UPDATE OF state, completed_at, created_at, due_at, element, "
        "case_id ON human_tasks FOR EACH ROW WHEN (OLD.state = 'completed' OR NEW.state = 'completed') "
        "EXECUTE FUNCTION heatmap_range_sync()",
        "CREATE TRIGGER heatmap_range_delete AFTER DELETE ON human_tasks FOR EACH ROW "
        "WHEN (OLD.state = 'completed') EXECUTE FUNCTION heatmap_range_sync()",
        "CREATE FUNCTION heatmap_range_cases_move() RETURNS trigger AS $$ BEGIN "
        f"{_range_case('OLD', -1, 'postgresql')} {_waits_move('OLD', -1)} {_range_case('NEW', 1, 'postgresql')} "
        f"{_waits_move('NEW', 1)} RETURN NULL; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER heatmap_range_cases_move AFTER UPDATE OF process_version_id, campaign_id, province_code, "
        "soe_group_key ON cases FOR EACH ROW WHEN (OLD.process_version_id IS DISTINCT FROM NEW.process_version_id "
        "OR OLD.campaign_id IS DISTINCT FROM NEW.campaign_id OR OLD.province_code IS DISTINCT FROM NEW.province_code "
        "OR OLD.soe_group_key IS DISTINCT FROM NEW.soe_group_key) EXECUTE FUNCTION heatmap_range_cases_move()",
    )


def upgrade():
    op.add_column("timers", sa.Column("started_at", sa.DateTime(), nullable=True))
    op.add_column("cases", sa.Column("message_wait", sa.String(length=512), nullable=True))
    op.create_table(
        "message_waits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("element", sa.String(length=128), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_message_waits_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_waits")),
    )
    op.create_index(op.f("ix_message_waits_case_id"), "message_waits", ["case_id"])
    op.create_table(
        "heatmap_range_cells",
        sa.Column("model_key", sa.String(length=64), nullable=False),
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("element", sa.String(length=128), nullable=False),
        sa.Column("bucket_s", sa.BigInteger(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*RKEY, name=op.f("pk_heatmap_range_cells")),
        sqlite_with_rowid=False,
    )
    dialect = op.get_bind().dialect.name
    op.execute(backfill_ranges(dialect))
    for ddl in pg_statements() if dialect == "postgresql" else sqlite_triggers():
        op.execute(ddl)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS heatmap_range_{name} ON human_tasks")
        op.execute("DROP TRIGGER IF EXISTS heatmap_waits_sync ON message_waits")
        op.execute("DROP TRIGGER IF EXISTS heatmap_range_cases_move ON cases")
        op.execute("DROP FUNCTION IF EXISTS heatmap_range_sync()")
        op.execute("DROP FUNCTION IF EXISTS heatmap_range_cases_move()")
        op.execute(S.PG_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("heatmap_range_cells")
    op.drop_index(op.f("ix_message_waits_case_id"), table_name="message_waits")
    op.drop_table("message_waits")
    # plain ALTER TABLE (SQLite 3.35+ too): a batch rebuild would drop the tables' triggers
    op.execute("ALTER TABLE cases DROP COLUMN message_wait")
    op.execute("ALTER TABLE timers DROP COLUMN started_at")
