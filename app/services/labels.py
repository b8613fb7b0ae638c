"""Names people read in place of codes: regions (GB/T 2260 codes, `province:330000`), SOE groups (`soe:sinopec`)."""
from functools import lru_cache

from sqlalchemy import select

from app.extensions import db
from app.models import Region, SoeGroup


@lru_cache(maxsize=1)
def _regions() -> dict[str, tuple[str, str]]:
    return {r.code: (r.name_zh, r.name_en) for r in db.session.scalars(select(Region))}


def region_name(code: str | None, lang: str = "zh") -> str | None:
    """The region's name for a six-digit code, or None when the code is unknown."""
    names = _regions().get(str(code or ""))
    return None if names is None else names[0 if lang == "zh" else 1]


def provinces(lang: str = "zh") -> list[tuple[str, str]]:
    """(code, name) of every province-level region (the XPCC included), by code."""
    rows = db.session.execute(select(Region.code, Region.name_zh, Region.name_en)
                              .where(Region.kind.in_(("province", "xpcc"))).order_by(Region.code))
    return [(r.code, r.name_zh if lang == "zh" else r.name_en) for r in rows]


def soe_group_name(key: str | None) -> str | None:
    return db.session.scalar(select(SoeGroup.name).where(SoeGroup.key == key)) if key else None


def scope_name(scope: str | None, lang: str = "zh") -> str:
    """`province:330000` → 浙江省, `city:330200` → 宁波市, `soe:sinopec` → the group's name, `national` → 全国;
    anything unknown is given back unchanged."""
    if not scope:
        return ""
    kind, _, value = str(scope).partition(":")
    if kind in ("province", "city", "region") and value:
        return region_name(value, lang) or scope
    if kind == "soe" and value:
        return soe_group_name(value) or scope
    if kind == "national" or scope == "national":
        return "全国" if lang == "zh" else "National"
    if str(scope).isdigit():
        return region_name(scope, lang) or scope
    return scope
