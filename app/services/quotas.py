"""Recommendation quotas: DMN decision tables (deployed versions, editable by an administrator) fed with the
recommender's inputs from the regions table. A quota that cannot be computed is refused, never guessed."""
import hashlib
from pathlib import Path

from sqlalchemy import func, select

from app.errors import Invalid
from app.extensions import db
from app.models import DecisionTable, Region
from app.services import clock, system_events
from app.settings import settings
from workflows.decisions import decide, load_decision
from workflows.errors import DiagramError, EngineError

TABLES = {"excellent": "excellent_quota", "lighthouse": "lighthouse_quota"}
_engines: dict = {}


def deploy(key: str, dmn_xml: bytes, author_id: int | None, message: str | None = None) -> DecisionTable:
    try:
        load_decision(dmn_xml, key)
    except DiagramError as exc:
        raise Invalid("the decision table was refused", errors=exc.errors) from None
    digest = hashlib.sha256(dmn_xml).hexdigest()
    latest = latest_table(key)
    if latest is not None and latest.content_hash == digest:
        return latest
    number = (db.session.scalar(select(func.max(DecisionTable.version)).where(DecisionTable.key == key)) or 0) + 1
    row = DecisionTable(key=key, version=number, content_hash=digest, dmn_xml=dmn_xml, author_id=author_id,
                        message=message, created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    system_events.append(author_id, "decision_table.deployed", f"{key} v{number}",
                         {"content_hash": digest, "message": message})
    return row


def sync_builtin() -> None:
    for key in TABLES.values():
        deploy(key, (Path(settings().bpmn_dir) / f"{key}.dmn").read_bytes(), None, "built-in table")


def latest_table(key: str) -> DecisionTable | None:
    return db.session.scalar(select(DecisionTable).where(DecisionTable.key == key)
                             .order_by(DecisionTable.version.desc()).limit(1))


def recommender_inputs(scope: str) -> dict:
    """scope: province:<code> (a province or the XPCC) or soe:<group>."""
    if scope.startswith("soe:"):
        return {"recommender_kind": "soe", "iva_rank_2024": None, "excellent_2024": None}
    region = db.session.get(Region, scope.split(":")[1])
    kind = "xpcc" if region is not None and region.kind == "xpcc" else "province"
    return {"recommender_kind": kind, "iva_rank_2024": region.iva_rank_2024 if region else None,
            "excellent_2024": region.excellent_2024 if region else None}


def recommender_sources(scope: str) -> dict:
    """Where each input of `recommender_inputs` comes from (services/quota_inputs.py requires a source)."""
    region = db.session.get(Region, scope.split(":")[1]) if scope.startswith("province:") else None
    return {k: getattr(region, f"{k}_source", None) if region else None for k in ("iva_rank_2024", "excellent_2024")}


XPCC_LIGHTHOUSE = ("the notice's lighthouse quota names provinces only: the XPCC recommends lighthouse factories "
                   "only in a campaign that allows it")


def quota_for(tier: str, scope: str, campaign=None) -> tuple[int, dict]:
    """(quota, {table, version, inputs}); Invalid when no table applies or an input is missing. `campaign`: its
    rules that are table inputs (whether the XPCC recommends lighthouse; not without one)."""
    key = TABLES.get(tier)
    table = latest_table(key) if key else None
    if table is None:
        raise Invalid(f"no quota table is deployed for {tier}", errors={"quota": "no decision table"})
    engine = _engines.get(table.id)
    if engine is None:
        engine = _engines[table.id] = load_decision(table.dmn_xml, key)
    inputs = recommender_inputs(scope)
    inputs["xpcc_recommends_lighthouse"] = bool(getattr(campaign, "xpcc_recommends_lighthouse", False))
    try:
        result = decide(engine, inputs)
    except EngineError as exc:
        raise Invalid(str(exc), errors={"quota": str(exc)}) from None
    basis = {"table": key, "version": table.version, "inputs": inputs, "sources": recommender_sources(scope)}
    if "quota" not in result:
        missing = [k for k, v in inputs.items() if v is None and k != "recommender_kind"]
        raise Invalid(f"the {tier} quota of {scope} cannot be computed from {inputs} (missing: "
                      f"{', '.join(missing) or 'no rule matches'}); an administrator must load the figures first",
                      errors={"quota": basis})
    if tier == "lighthouse" and inputs["recommender_kind"] == "xpcc" and int(result["quota"]) == 0:
        raise Invalid(XPCC_LIGHTHOUSE, errors={"quota": XPCC_LIGHTHOUSE})
    return int(result["quota"]), basis
