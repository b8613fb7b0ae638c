"""industries checked against the product's list, enterprises.industry_division, one_time_files

Also `one_time_files`: a staged import, a one-time password list.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

`enterprises.industry` holds a key of app/data/industries.yaml from now on (the load, the import, the form and the
API resolve a key, its Chinese name or a GB/T 4754-2017 division code to it); `industry_division` keeps the division
code when one was given (C34), else NULL.

`one_time_files`: a file its user fetches once (an import staged between dry run and commit; the one-time passwords
of the accounts an import created, deleted when downloaded); only a SHA-256 of the token is stored.

Existing rows: a key stays; a key's Chinese name or a division code (in any letter case, with stray spaces) is
mapped to its key (the division kept). Anything else stops the migration, naming every such row (id, credit code,
value), and changes nothing: an industry decides eligibility (the campaign's branch industries), so guessing one
could let a branch apply or refuse an applicant without anyone having decided it. Fix those rows by hand
(`UPDATE enterprises SET industry = '<key>' WHERE id = ...`, keys in app/data/industries.yaml) and run the upgrade
again. The list is read from the data file at upgrade time: a key added later is accepted by this check too.
"""
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

DATA = Path(__file__).resolve().parents[2] / "app" / "data" / "industries.yaml"


def _lookup() -> dict:
    doc = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    out = {}
    for key, item in doc["industries"].items():
        out[key.lower()] = (key, None)
        out[item["zh"]] = (key, None)
        for division in item["divisions"]:
            out[division.lower()] = (key, division)
    return out


def upgrade():
    conn = op.get_bind()
    lookup = _lookup()
    ents = sa.table("enterprises", sa.column("id", sa.Integer), sa.column("credit_code", sa.String),
                    sa.column("industry", sa.String), sa.column("industry_division", sa.String))
    rows = conn.execute(sa.select(ents.c.id, ents.c.credit_code, ents.c.industry).order_by(ents.c.id)).all()
    unknown, changes = [], []
    for row in rows:
        value = (row.industry or "").strip()
        hit = lookup.get(value) or lookup.get(value.lower())
        if hit is None:
            unknown.append(f"id {row.id} ({row.credit_code}): {row.industry!r}")
        elif hit != (row.industry, None):
            changes.append({"rid": row.id, "industry": hit[0], "division": hit[1]})
    if unknown:
        raise RuntimeError(
            f"{len(unknown)} enterprise(s) name an industry outside app/data/industries.yaml; set each to a key "
            "of that list by hand and upgrade again (nothing was changed): " + "; ".join(unknown[:50]))
    # checked before any change: SQLite runs DDL outside the migration's transaction
    with op.batch_alter_table("enterprises") as batch:
        batch.add_column(sa.Column("industry_division", sa.String(length=3), nullable=True))
    if changes:
        conn.execute(ents.update().where(ents.c.id == sa.bindparam("rid"))
                     .values(industry=sa.bindparam("industry"), industry_division=sa.bindparam("division")), changes)
    op.create_table(
        "one_time_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_one_time_files_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_files")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_one_time_files_token_hash")),
    )
    op.create_index(op.f("ix_one_time_files_user_id"), "one_time_files", ["user_id"])
    op.create_index(op.f("ix_one_time_files_expires_at"), "one_time_files", ["expires_at"])


def downgrade():
    op.drop_table("one_time_files")
    with op.batch_alter_table("enterprises") as batch:
        batch.drop_column("industry_division")
