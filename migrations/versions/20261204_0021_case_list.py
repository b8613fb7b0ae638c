"""case list and 已办: indexes for the filters and the completed tasks, name search on two-character pieces

The table of every two-character piece of every enterprise name is kept by triggers.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04

The case list (services/case_list.py) filters the cases in scope by tier, status, region and campaign, newest first
(`ORDER BY id DESC LIMIT 50`). SQLite appends the rowid to every index, so an index whose columns are all pinned by
equality also serves the order: `ix_cases_status` (status alone, the national list), `ix_cases_tier_status`
(tier alone or tier and status), `ix_cases_city` (a city); `ix_cases_province_list` holds every column of a
province's scope rule (`province_code = ? AND (soe_group_key IS NULL OR tier = 'lighthouse')`) and of every filter
(city, campaign, the searched enterprises), so a provincial reviewer's count and ids are read from the index alone
(no row lookups); `ix_cases_enterprise_list` does the same for the cases of the enterprises a name search found. The other filters already have theirs
(`ix_cases_scope`, `ix_cases_soe`, `ix_cases_campaign`, `ix_cases_enterprise_id`). The 已办 view reads
`completed_by = ? ORDER BY completed_at DESC`: `ix_human_tasks_done`.

Name search: `name LIKE '%宁波示范%'` scans every enterprise (~70 ms for 250,000 names on SQLite, measured), so
`enterprise_name_grams` holds every two-character piece of every name (ASCII lower-cased) with the enterprise id,
kept by triggers on `enterprises` (insert, rename, delete; Core bulk inserts included); the search takes the
enterprises holding the query's rarest piece and checks the whole text on those (services/case_list.py). The
same table and triggers on SQLite and PostgreSQL (a PL/pgSQL function there), one query for both.
`gram_positions` holds 1..200, which the SQLite triggers walk a name with (no CTE inside a SQLite trigger).
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

MAX_NAME = 200  # enterprises.name is String(200)

SQLITE_GRAMS = ("INSERT OR IGNORE INTO enterprise_name_grams (gram, enterprise_id) "
                "SELECT lower(substr(NEW.name, n, 2)), NEW.id FROM gram_positions WHERE n < length(NEW.name);")
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER enterprise_name_grams_insert AFTER INSERT ON enterprises BEGIN {SQLITE_GRAMS} END",
    "CREATE TRIGGER enterprise_name_grams_rename AFTER UPDATE OF name ON enterprises BEGIN "
    f"DELETE FROM enterprise_name_grams WHERE enterprise_id = OLD.id; {SQLITE_GRAMS} END",
    "CREATE TRIGGER enterprise_name_grams_delete AFTER DELETE ON enterprises BEGIN "
    "DELETE FROM enterprise_name_grams WHERE enterprise_id = OLD.id; END",
)
PG_FUNCTION = """
CREATE FUNCTION enterprise_name_grams_sync() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM enterprise_name_grams WHERE enterprise_id = OLD.id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO enterprise_name_grams (gram, enterprise_id)
      SELECT DISTINCT lower(substr(NEW.name, n, 2)), NEW.id FROM gram_positions WHERE n < length(NEW.name)
      ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def upgrade():
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_index("ix_cases_tier_status", "cases", ["tier", "status"])
    op.create_index("ix_cases_city", "cases", ["city_code"])
    op.create_index("ix_cases_province_list", "cases", ["province_code", "tier", "status", "soe_group_key",
                                                        "city_code", "campaign_id", "enterprise_id"])
    op.create_index("ix_cases_enterprise_list", "cases", ["enterprise_id", "province_code", "soe_group_key", "tier",
                                                          "status", "city_code", "campaign_id"])
    op.create_index("ix_human_tasks_done", "human_tasks", ["completed_by", "completed_at"])
    positions = op.create_table("gram_positions", sa.Column("n", sa.Integer(), nullable=False),
                                sa.PrimaryKeyConstraint("n", name=op.f("pk_gram_positions")))
    op.bulk_insert(positions, [{"n": n} for n in range(1, MAX_NAME + 1)])
    op.create_table(
        "enterprise_name_grams",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("gram", "enterprise_id", name=op.f("pk_enterprise_name_grams")),
    )
    op.create_index("ix_enterprise_name_grams_enterprise", "enterprise_name_grams", ["enterprise_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER enterprise_name_grams_sync AFTER INSERT OR DELETE OR UPDATE OF name "
                   "ON enterprises FOR EACH ROW EXECUTE FUNCTION enterprise_name_grams_sync()")
    else:
        for ddl in SQLITE_TRIGGERS:
            op.execute(ddl)
    op.execute("INSERT INTO enterprise_name_grams (gram, enterprise_id) "
               "SELECT DISTINCT lower(substr(e.name, p.n, 2)), e.id FROM enterprises e "
               "JOIN gram_positions p ON p.n < length(e.name)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS enterprise_name_grams_sync ON enterprises")
        op.execute("DROP FUNCTION IF EXISTS enterprise_name_grams_sync()")
    else:
        for name in ("insert", "rename", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS enterprise_name_grams_{name}")
    op.drop_index("ix_enterprise_name_grams_enterprise", table_name="enterprise_name_grams")
    op.drop_table("enterprise_name_grams")
    op.drop_table("gram_positions")
    op.drop_index("ix_human_tasks_done", table_name="human_tasks")
    op.drop_index("ix_cases_enterprise_list", table_name="cases")
    op.drop_index("ix_cases_province_list", table_name="cases")
    op.drop_index("ix_cases_city", table_name="cases")
    op.drop_index("ix_cases_tier_status", table_name="cases")
    op.drop_index("ix_cases_status", table_name="cases")
