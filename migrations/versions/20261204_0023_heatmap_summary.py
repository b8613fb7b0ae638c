"""the process heatmap's summary: per element, who waits and how long each step took (issue 19)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04

`heatmap_cells` is a function of the rows of `human_tasks` and `timers`, kept by triggers (insert, update of the
state or times, delete; Core bulk inserts included), like `enterprise_name_grams` (0021). One row per process model,
campaign, province, SOE group ('' for none), element and duration bucket:
- `bucket_s = -1`: `waiting` = the open inbox rows and the waiting timers at that element;
- `bucket_s >= 0`: `passed` = the completed inbox rows whose time from open to completion falls in the bucket,
  `late` = those completed after their due date.
A bucket is the duration in whole seconds with all but its top five bits cleared (16 buckets per doubling: 1 s steps
below 32 s, about 2 min at an hour, 68 min at a day, 4.5 h at five days), so a median or p90 read from the buckets is
low by less than 1/16, and a tier's summary stays a few hundred rows per element and province whatever the number
of cases. The table is WITHOUT ROWID (SQLite) with the key ordered model, element, bucket first, so that the grouped
scan of a national view streams in key order with no sort. Each trigger subtracts the old row's
contribution and adds the new row's, so any change (a test's cleanup writing a row back included) keeps the table
equal to what the rows say (every change is one upsert by primary key: a subtraction finds its row as an addition
does). The case's model, campaign, province and group are read from `cases` by its key.

`heatmap_timer_cells` holds fired timers per Asia/Shanghai day (from the case's last engine step before the
firing to the firing), written by
`services/heatmap.note_timers` in the sweep's transaction (a fired timer leaves no row for a trigger to read).
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

KEY = ("model_key", "element", "bucket_s", "campaign_id", "province_code", "soe_group_key")

def _seconds(r: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"round(extract(epoch from ({r}.completed_at - {r}.created_at)))::bigint"
    return f"CAST(round((julianday({r}.completed_at) - julianday({r}.created_at)) * 86400) AS INTEGER)"


def bucket_of(d: str) -> str:
    """SQL for the bucket of a duration `d` in whole seconds: below 16 s itself, else its top five bits (16 buckets
    per doubling, each less than 1/16 wide), the same as services/heatmap.bucket."""
    whens = " ".join(f"WHEN d < {2 ** (k + 1)} THEN (d / {2 ** (k - 4)}) * {2 ** (k - 4)}" for k in range(4, 41))
    return f"(SELECT CASE WHEN d < 0 THEN 0 WHEN d < 16 THEN d {whens} ELSE d END FROM (SELECT {d} AS d) AS x)"


def bucket(r: str, dialect: str) -> str:
    """The duration bucket of a completed inbox row `r` (SQL)."""
    return bucket_of(_seconds(r, dialect))


def late(r: str) -> str:
    return f"(CASE WHEN {r}.due_at IS NOT NULL AND {r}.completed_at > {r}.due_at THEN 1 ELSE 0 END)"


UPSERT = ("ON CONFLICT ({key}) DO UPDATE SET waiting = heatmap_cells.waiting + excluded.waiting, "
          "passed = heatmap_cells.passed + excluded.passed, late = heatmap_cells.late + excluded.late")


def _sqlite_add(r: str, sign: int, when: str, bucket_s: str, waiting: int, passed: int, late_sql: str) -> str:
    """One upsert adding (sign 1) or subtracting (-1) row `r`'s contribution: a primary-key conflict, so the
    summary row is found by its key whichever way (an UPDATE matching a subquery's row value scans the table)."""
    cols = ", ".join(KEY)
    return (f"INSERT INTO heatmap_cells ({cols}, waiting, passed, late) SELECT v.model_key, {r}.element, {bucket_s}, "
            f"c.campaign_id, c.province_code, coalesce(c.soe_group_key, ''), {sign * waiting}, {sign * passed}, "
            f"{sign} * {late_sql} FROM cases c JOIN process_versions v ON v.id = c.process_version_id "
            f"WHERE c.id = {r}.case_id AND {when} {UPSERT.format(key=cols)};")


def _sqlite_body(r: str, sign: int) -> list[str]:
    """Row `r` of human_tasks: waiting while open, passed (and late) once completed."""
    done = f"{r}.state = 'completed' AND {r}.completed_at IS NOT NULL"
    return [_sqlite_add(r, sign, f"{r}.state = 'open'", "-1", 1, 0, "0"),
            _sqlite_add(r, sign, done, bucket(r, "sqlite"), 0, 1, late(r))]


def _sqlite_timer(r: str, sign: int) -> str:
    return _sqlite_add(r, sign, "1 = 1", "-1", 1, 0, "0")


TASK_CHANGE = ("OLD.state IS NOT NEW.state OR OLD.completed_at IS NOT NEW.completed_at OR OLD.created_at IS NOT "
               "NEW.created_at OR OLD.due_at IS NOT NEW.due_at OR OLD.element IS NOT NEW.element OR OLD.case_id IS NOT "
               "NEW.case_id")
SQLITE_TRIGGERS = (
    "CREATE TRIGGER heatmap_tasks_insert AFTER INSERT ON human_tasks BEGIN " + " ".join(_sqlite_body("NEW", 1))
    + " END",
    "CREATE TRIGGER heatmap_tasks_update AFTER UPDATE OF state, completed_at, created_at, due_at, element, case_id "
    f"ON human_tasks WHEN {TASK_CHANGE} BEGIN " + " ".join(_sqlite_body("OLD", -1) + _sqlite_body("NEW", 1))
    + " END",
    "CREATE TRIGGER heatmap_tasks_delete AFTER DELETE ON human_tasks BEGIN " + " ".join(_sqlite_body("OLD", -1))
    + " END",
    f"CREATE TRIGGER heatmap_timers_insert AFTER INSERT ON timers BEGIN {_sqlite_timer('NEW', 1)} END",
    f"CREATE TRIGGER heatmap_timers_delete AFTER DELETE ON timers BEGIN {_sqlite_timer('OLD', -1)} END",
)

def _move(r: str, sign: int, dialect: str) -> list[str]:
    """A case whose model, campaign, province or group changes (a test moving a case onto another diagram; no
    product code does it today): its rows' contributions under the old values (`r` = OLD, sign -1) or the new ones
    (NEW, +1), grouped first (PostgreSQL refuses an upsert touching a row twice)."""
    cols = ", ".join(KEY)
    scope = f"{r}.campaign_id, {r}.province_code, coalesce({r}.soe_group_key, '')"
    src = (f"SELECT v.model_key, x.element, x.b, {scope}, sum(x.w), sum(x.p), sum(x.lt) FROM ("
           f"SELECT h.element, -1 AS b, 1 AS w, 0 AS p, 0 AS lt FROM human_tasks h WHERE h.case_id = {r}.id "
           f"AND h.state = 'open' UNION ALL "
           f"SELECT h.element, {bucket('h', dialect)}, 0, 1, {late('h')} FROM human_tasks h WHERE h.case_id = {r}.id "
           f"AND h.state = 'completed' AND h.completed_at IS NOT NULL UNION ALL "
           f"SELECT t.element, -1, 1, 0, 0 FROM timers t WHERE t.case_id = {r}.id) AS x "
           f"JOIN process_versions v ON v.id = {r}.process_version_id WHERE 1 = 1 GROUP BY v.model_key, x.element, x.b")
    if sign < 0:
        src = src.replace("sum(x.w), sum(x.p), sum(x.lt)", "-sum(x.w), -sum(x.p), -sum(x.lt)")
    return [f"INSERT INTO heatmap_cells ({cols}, waiting, passed, late) {src} {UPSERT.format(key=cols)};"]


CASE_CHANGE = ("OLD.process_version_id IS NOT NEW.process_version_id OR OLD.campaign_id IS NOT NEW.campaign_id OR "
               "OLD.province_code IS NOT NEW.province_code OR OLD.soe_group_key IS NOT NEW.soe_group_key")
SQLITE_CASE_TRIGGER = (
    "CREATE TRIGGER heatmap_cases_move AFTER UPDATE OF process_version_id, campaign_id, province_code, soe_group_key "
    f"ON cases WHEN {CASE_CHANGE} BEGIN " + " ".join(_move("OLD", -1, "sqlite") + _move("NEW", 1, "sqlite")) + " END")
PG_CASE_FUNCTION = (
    "CREATE FUNCTION heatmap_cases_move() RETURNS trigger AS $$ BEGIN "
    + " ".join(_move("OLD", -1, "postgresql") + _move("NEW", 1, "postgresql"))
    + " RETURN NULL; END $$ LANGUAGE plpgsql")
PG_CASE_TRIGGER = (
    "CREATE TRIGGER heatmap_cases_move AFTER UPDATE OF process_version_id, campaign_id, province_code, soe_group_key "
    "ON cases FOR EACH ROW WHEN (OLD.process_version_id IS DISTINCT FROM NEW.process_version_id OR OLD.campaign_id "
    "IS DISTINCT FROM NEW.campaign_id OR OLD.province_code IS DISTINCT FROM NEW.province_code OR OLD.soe_group_key "
    "IS DISTINCT FROM NEW.soe_group_key) EXECUTE FUNCTION heatmap_cases_move()")


PG_FUNCTION = f"""
CREATE FUNCTION heatmap_cells_sync() RETURNS trigger AS $$
DECLARE
  k record;
  is_open boolean;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT v.model_key, c.campaign_id, c.province_code, coalesce(c.soe_group_key, '') AS soe INTO k
      FROM cases c JOIN process_versions v ON v.id = c.process_version_id WHERE c.id = OLD.case_id;
    IF FOUND THEN
      IF TG_TABLE_NAME = 'timers' THEN
        is_open := true;
      ELSE
        is_open := OLD.state = 'open';
      END IF;
      IF is_open THEN
        INSERT INTO heatmap_cells ({", ".join(KEY)}, waiting, passed, late)
          VALUES (k.model_key, OLD.element, -1, k.campaign_id, k.province_code, k.soe, -1, 0, 0)
          {UPSERT.format(key=", ".join(KEY))};
      ELSIF OLD.state = 'completed' AND OLD.completed_at IS NOT NULL THEN
        INSERT INTO heatmap_cells ({", ".join(KEY)}, waiting, passed, late)
          VALUES (k.model_key, OLD.element, {bucket('OLD', 'postgresql')}, k.campaign_id, k.province_code, k.soe,
                  0, -1, -{late('OLD')})
          {UPSERT.format(key=", ".join(KEY))};
      END IF;
    END IF;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    SELECT v.model_key, c.campaign_id, c.province_code, coalesce(c.soe_group_key, '') AS soe INTO k
      FROM cases c JOIN process_versions v ON v.id = c.process_version_id WHERE c.id = NEW.case_id;
    IF FOUND THEN
      IF TG_TABLE_NAME = 'timers' THEN
        is_open := true;
      ELSE
        is_open := NEW.state = 'open';
      END IF;
      IF is_open THEN
        INSERT INTO heatmap_cells ({", ".join(KEY)}, waiting, passed, late)
          VALUES (k.model_key, NEW.element, -1, k.campaign_id, k.province_code, k.soe, 1, 0, 0)
          {UPSERT.format(key=", ".join(KEY))};
      ELSIF NEW.state = 'completed' AND NEW.completed_at IS NOT NULL THEN
        INSERT INTO heatmap_cells ({", ".join(KEY)}, waiting, passed, late)
          VALUES (k.model_key, NEW.element, {bucket('NEW', 'postgresql')}, k.campaign_id, k.province_code, k.soe,
                  0, 1, {late('NEW')})
          {UPSERT.format(key=", ".join(KEY))};
      END IF;
    END IF;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
PG_TRIGGERS = (
    "CREATE TRIGGER heatmap_tasks_sync AFTER INSERT OR DELETE OR UPDATE OF state, completed_at, created_at, due_at, "
    "element, case_id ON human_tasks FOR EACH ROW EXECUTE FUNCTION heatmap_cells_sync()",
    "CREATE TRIGGER heatmap_timers_sync AFTER INSERT OR DELETE ON timers FOR EACH ROW "
    "EXECUTE FUNCTION heatmap_cells_sync()",
)


def _key_columns():
    return [sa.Column("model_key", sa.String(length=64), nullable=False),
            sa.Column("element", sa.String(length=128), nullable=False),
            sa.Column("bucket_s", sa.BigInteger(), nullable=False),
            sa.Column("campaign_id", sa.Integer(), nullable=False),
            sa.Column("province_code", sa.String(length=6), nullable=False),
            sa.Column("soe_group_key", sa.String(length=64), nullable=False)]


def backfill(dialect: str) -> list[str]:
    """The rows the triggers would have written for what is already stored (also used by bench/heatmap.py)."""
    cols = ", ".join(KEY)
    src = ("FROM {t} r JOIN cases c ON c.id = r.case_id JOIN process_versions v ON v.id = c.process_version_id")
    scope = "c.campaign_id, c.province_code, coalesce(c.soe_group_key, '')"
    return [
        f"INSERT INTO heatmap_cells ({cols}, waiting, passed, late) SELECT v.model_key, r.element, -1, {scope}, "
        f"count(*), 0, 0 FROM (SELECT case_id, element FROM human_tasks WHERE state = 'open' UNION ALL "
        f"SELECT case_id, element FROM timers) r JOIN cases c ON c.id = r.case_id "
        f"JOIN process_versions v ON v.id = c.process_version_id GROUP BY v.model_key, r.element, {scope}",
        f"INSERT INTO heatmap_cells ({cols}, waiting, passed, late) SELECT model_key, element, b, campaign_id, "
        f"province_code, soe, 0, count(*), sum(lt) FROM (SELECT v.model_key, r.element, {bucket('r', dialect)} AS b, "
        f"c.campaign_id, c.province_code, coalesce(c.soe_group_key, '') AS soe, {late('r')} AS lt "
        f"{src.format(t='human_tasks')} WHERE r.state = 'completed' AND r.completed_at IS NOT NULL) AS y "
        f"GROUP BY model_key, element, b, campaign_id, province_code, soe",
    ]


def upgrade():
    op.create_table(
        "heatmap_cells", *_key_columns(),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_heatmap_cells")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "heatmap_timer_cells", *_key_columns(),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, "day", name=op.f("pk_heatmap_timer_cells")),
        sqlite_with_rowid=False,
    )
    # a date range reads the completed inbox rows themselves (services/heatmap.py): every column it reads or filters
    # on is in the index, so the range is scanned without visiting the rows (only their cases, for the campaign)
    op.create_index("ix_human_tasks_tier_done", "human_tasks", ["tier", "state", "completed_at", "province_code",
                                                                "element", "created_at", "due_at", "case_id"])
    dialect = op.get_bind().dialect.name
    for sql in backfill(dialect):
        op.execute(sql)
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
        for ddl in PG_TRIGGERS:
            op.execute(ddl)
        op.execute(PG_CASE_FUNCTION)
        op.execute(PG_CASE_TRIGGER)
    else:
        for ddl in (*SQLITE_TRIGGERS, SQLITE_CASE_TRIGGER):
            op.execute(ddl)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS heatmap_tasks_sync ON human_tasks")
        op.execute("DROP TRIGGER IF EXISTS heatmap_timers_sync ON timers")
        op.execute("DROP TRIGGER IF EXISTS heatmap_cases_move ON cases")
        op.execute("DROP FUNCTION IF EXISTS heatmap_cells_sync()")
        op.execute("DROP FUNCTION IF EXISTS heatmap_cases_move()")
    else:
        for name in ("tasks_insert", "tasks_update", "tasks_delete", "timers_insert", "timers_delete", "cases_move"):
            op.execute(f"DROP TRIGGER IF EXISTS heatmap_{name}")
    op.drop_index("ix_human_tasks_tier_done", table_name="human_tasks")
    op.drop_table("heatmap_timer_cells")
    op.drop_table("heatmap_cells")
