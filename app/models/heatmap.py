"""The process heatmap's summary tables (migration 0023): `heatmap_cells` is kept by triggers from `human_tasks` and
`timers` (and `message_waits`, `heatmap_range_cells` by day and month: 0025); `heatmap_timer_cells` by
services/heatmap.note_fired when timers and message catch events fire."""
from sqlalchemy import BigInteger, Column, Integer, String, Table

from app.extensions import db


def _key() -> list[Column]:
    return [Column("model_key", String(64), primary_key=True), Column("element", String(128), primary_key=True),
            Column("bucket_s", BigInteger, primary_key=True), Column("campaign_id", Integer, primary_key=True),
            Column("province_code", String(6), primary_key=True), Column("soe_group_key", String(64), primary_key=True)]


HEATMAP_CELLS = Table("heatmap_cells", db.metadata, *_key(), Column("waiting", Integer, nullable=False),
                      Column("passed", Integer, nullable=False), Column("late", Integer, nullable=False),
                      sqlite_with_rowid=False)
# a fired timer: `day` (Asia/Shanghai, ISO date) so that a date range can be asked of it; bucket_s as heatmap_cells
HEATMAP_TIMER_CELLS = Table("heatmap_timer_cells", db.metadata, *_key(), Column("day", String(10), primary_key=True),
                            Column("passed", Integer, nullable=False), sqlite_with_rowid=False)
# completed inbox rows per Asia/Shanghai day (grain 'd', period 'YYYY-MM-DD') and month ('m', 'YYYY-MM'), per
# scope: '*' everyone, 'p:<province>' a province's own cases, 'q:<province>' its SOE group members' cases,
# 's:<group>' an SOE group's (migration 0025, kept by triggers): a date range reads whole months and the days at
# its ends, never the inbox rows
HEATMAP_RANGE_CELLS = Table(
    "heatmap_range_cells", db.metadata, Column("model_key", String(64), primary_key=True),
    Column("grain", String(1), primary_key=True), Column("scope", String(80), primary_key=True),
    Column("period", String(10), primary_key=True), Column("campaign_id", Integer, primary_key=True),
    Column("element", String(128), primary_key=True), Column("bucket_s", BigInteger, primary_key=True),
    Column("passed", Integer, nullable=False), Column("late", Integer, nullable=False), sqlite_with_rowid=False)
