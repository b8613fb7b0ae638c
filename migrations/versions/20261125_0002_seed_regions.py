"""seed regions: provinces, plan-listed cities, XPCC

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

"""
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

REGIONS = Path(__file__).resolve().parents[2] / "app" / "data" / "regions.yaml"


def upgrade():
    data = yaml.safe_load(REGIONS.read_text(encoding="utf-8"))
    regions = sa.table(
        "regions", sa.column("code", sa.String), sa.column("name_zh", sa.String), sa.column("name_en", sa.String),
        sa.column("kind", sa.String), sa.column("province_code", sa.String), sa.column("excellent_2024", sa.Integer),
    )
    rows = [{"code": p["code"], "name_zh": p["zh"], "name_en": p["en"], "kind": "province", "province_code": None,
             "excellent_2024": p.get("excellent_2024")} for p in data["provinces"]]
    rows += [{"code": x["code"], "name_zh": x["zh"], "name_en": x["en"], "kind": "xpcc", "province_code": None,
              "excellent_2024": None} for x in data["xpcc"]]
    rows += [{"code": c["code"], "name_zh": c["zh"], "name_en": c["en"], "kind": "plan_city",
              "province_code": c["province"], "excellent_2024": None} for c in data["plan_listed_cities"]]
    op.bulk_insert(regions, rows)


def downgrade():
    op.execute("DELETE FROM regions")
