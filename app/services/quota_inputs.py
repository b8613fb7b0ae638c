"""Quota inputs in the browser: each province's 2024 rank by industrial value added (工业增加值) and its number of
2024 excellent-tier (卓越级) factories, each entered with its source, and the quota each figure yields.

The figures live on `regions` (as `flask load` key `regions` writes them); the quotas are the deployed DMN tables
(services/quotas.py), never computed here. A figure without a source is refused; a province without a figure shows
as missing, never as a guessed number. The XPCC needs no figure (its excellent quota is fixed; its lighthouse
applications go through its province), and plan-listed cities count within their province.
"""
from sqlalchemy import select

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Region, User
from app.services import quotas, system_events

FIGURES = {"iva_rank_2024": "excellent", "excellent_2024": "lighthouse"}  # figure -> the tier whose quota it feeds
MAX_SOURCE = 500
PROVINCES = 31  # a rank is among the 31 provinces (GB/T 2260)


def _admin(actor: User) -> None:
    if actor is None or actor.role != "admin":
        raise Forbidden("only an administrator manages the quota inputs")


def _quota(tier: str, code: str) -> dict:
    """{"quota": int or None, "reason": None | "missing" | "no_table", "version": table version or None}"""
    try:
        quota, basis = quotas.quota_for(tier, f"province:{code}")
    except Invalid as exc:
        basis = (exc.errors or {}).get("quota")
        reason = "missing" if isinstance(basis, dict) else "no_table"
        return {"quota": None, "reason": reason, "version": basis.get("version") if isinstance(basis, dict) else None}
    return {"quota": quota, "reason": None, "version": basis["version"]}


def row(region: Region) -> dict:
    xpcc = region.kind == "xpcc"
    out = {"code": region.code, "name_zh": region.name_zh, "name_en": region.name_en, "kind": region.kind,
           "needs_figures": not xpcc, "missing": [], "unsourced": []}
    for figure, tier in FIGURES.items():
        value = getattr(region, figure)
        out[figure] = value
        out[f"{figure}_source"] = getattr(region, f"{figure}_source")
        if not xpcc and (value is None or not out[f"{figure}_source"]):
            out["missing"].append(figure)
        if not xpcc and value is not None and not out[f"{figure}_source"]:
            out.setdefault("unsourced", []).append(figure)  # e.g. a demo's illustrative figure: not a fact
        out[f"{tier}_quota"] = _quota(tier, region.code) if not xpcc or tier == "excellent" else \
            {"quota": None, "reason": "via_province", "version": None}
    return out


def table(actor: User) -> list[dict]:
    """The 31 provinces and the XPCC in GB/T 2260 order, with their figures, sources and quotas."""
    _admin(actor)
    regions = db.session.scalars(select(Region).where(Region.kind.in_(("province", "xpcc"))).order_by(Region.code))
    return [row(r) for r in regions]


def _figure(value, figure: str, errors: dict) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors[figure] = "a whole number"
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        errors[figure] = "a whole number"
        return None
    if figure == "iva_rank_2024" and not 1 <= number <= PROVINCES:
        errors[figure] = "a rank from 1 to 31"
    elif figure == "excellent_2024" and not 0 <= number <= 10000:
        errors[figure] = "a count from 0 to 10000"
    return number


def set_inputs(actor: User, code: str, values: dict) -> dict:
    """Set a province's figures: `values` holds `iva_rank_2024`, `iva_rank_2024_source`, `excellent_2024`,
    `excellent_2024_source` (a key left out keeps its value; a figure given blank is cleared with its source).
    Every figure needs its source; a rank is held by one province only. All or nothing; one system event."""
    _admin(actor)
    region = db.session.get(Region, str(code or ""))
    if region is None or region.kind not in ("province", "xpcc"):
        raise NotFound(f"no province {code!r}")
    if region.kind == "xpcc":
        raise Invalid("the XPCC's quotas need no figures", errors={"code": "the XPCC needs no figures"})
    errors: dict[str, str] = {}
    new: dict = {}
    for figure in FIGURES:
        if figure not in values and f"{figure}_source" not in values:
            continue
        number = _figure(values.get(figure, getattr(region, figure)), figure, errors)
        source = values.get(f"{figure}_source", getattr(region, f"{figure}_source"))
        source = source.strip() if isinstance(source, str) else None
        if number is not None and not source:
            errors[f"{figure}_source"] = "required: where the figure comes from"
        elif source and len(source) > MAX_SOURCE:
            errors[f"{figure}_source"] = "at most 500 characters"
        elif number is None and source and figure not in errors:
            errors[figure] = "a source was given without a figure"
        new[figure], new[f"{figure}_source"] = number, (source or None) if number is not None else None
    rank = new.get("iva_rank_2024")
    if rank is not None and "iva_rank_2024" not in errors:
        holder = db.session.scalar(select(Region).where(Region.iva_rank_2024 == rank, Region.code != region.code,
                                                        Region.kind == "province"))
        if holder is not None:
            errors["iva_rank_2024"] = "this rank is already held by another province"
    if errors:
        raise Invalid("the quota inputs were not saved", errors=errors)
    before = {k: getattr(region, k) for k in new}
    changed = {k: v for k, v in new.items() if before[k] != v}
    if not changed:
        return row(region)
    for k, v in changed.items():
        setattr(region, k, v)
    db.session.flush()
    system_events.append(actor.id, "quota_inputs.changed", region.code,
                         {"before": {k: before[k] for k in changed}, "after": changed})
    return row(region)
