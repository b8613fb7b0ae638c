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


def _engine(tier: str):
    key = TABLES.get(tier)
    table = latest_table(key) if key else None
    if table is None:
        raise Invalid(f"no quota table is deployed for {tier}", errors={"quota": "no decision table"})
    engine = _engines.get(table.id)
    if engine is None:
        engine = _engines[table.id] = load_decision(table.dmn_xml, key)
    return key, table, engine


def _inputs(scope: str, campaign) -> dict:
    """The recommender's figures and the campaign's rules the tables read (whether the XPCC recommends lighthouse;
    not without a campaign)."""
    inputs = recommender_inputs(scope)
    inputs["xpcc_recommends_lighthouse"] = bool(getattr(campaign, "xpcc_recommends_lighthouse", False))
    return inputs


def _decide(engine, inputs: dict) -> dict:
    try:
        return decide(engine, inputs)
    except EngineError as exc:
        raise Invalid(str(exc), errors={"quota": str(exc)}) from None


def table_inputs(engine) -> list[str]:
    """The names the deployed table reads (its input expressions), in its column order."""
    return [str(getattr(i, "expression", "")).strip() for i in engine.decision_table.inputs]


def unknown_inputs(engine, inputs: dict) -> list[str]:
    """The inputs the table reads that stop it deciding: the ones without a value, else (no rule matches a value
    present, e.g. a rank of 0) every figure it reads; the recommender's kind is never the figure at fault."""
    read = [k for k in table_inputs(engine) if k in inputs and k != "recommender_kind"]
    return [k for k in read if inputs[k] is None] or read


# the values a missing figure could take: a rank or a count of factories (the tables' rules cover 0 and up)
PROBES = range(0, 201)


def quota_for(tier: str, scope: str, campaign=None) -> tuple[int, dict]:
    """(quota, {table, version, inputs}); Invalid naming the figure the table lacks when it cannot decide.
    `campaign`: its rules that are table inputs (services/quotas._inputs)."""
    key, table, engine = _engine(tier)
    inputs = _inputs(scope, campaign)
    result = _decide(engine, inputs)
    basis = {"table": key, "version": table.version, "inputs": inputs, "sources": recommender_sources(scope)}
    if "quota" not in result:
        missing = unknown_inputs(engine, inputs)
        shown = ", ".join(f"{k}={inputs[k]}" if inputs[k] is not None else k for k in missing) or "no rule matches"
        raise Invalid(f"the {tier} quota of {scope} cannot be computed (missing: {shown}); an administrator must "
                      "load the figures first", errors={"quota": {**basis, "missing": missing}})
    if tier == "lighthouse" and inputs["recommender_kind"] == "xpcc" and int(result["quota"]) == 0:
        raise Invalid(XPCC_LIGHTHOUSE, errors={"quota": XPCC_LIGHTHOUSE})
    return int(result["quota"]), basis


def quota_floor(tier: str, scope: str, campaign=None) -> tuple[int | None, list[str]]:
    """When the quota cannot be computed: the smallest quota the table gives this recommender whatever the missing
    figures turn out to be (None if some value gives no quota), and the figures missing."""
    _key, _table, engine = _engine(tier)
    inputs = _inputs(scope, campaign)
    missing = unknown_inputs(engine, inputs)
    if len(missing) != 1:  # one unknown figure is probed; more would multiply the probes
        return None, missing
    found = set()
    for value in PROBES:
        result = _decide(engine, {**inputs, missing[0]: value})
        if "quota" not in result:
            continue  # a value no rule covers (a rank of 0): not a value the figure can take
        found.add(int(result["quota"]))
    return (min(found) if found else None), missing


def check_list(tier: str, scope: str, size: int, campaign=None) -> dict:
    """The quota a list of `size` cases is held to: {"quota", table, version, inputs} when it can be computed; when
    a figure is missing, a list within the smallest quota any value of that figure gives is accepted
    ({"quota": None, "quota_floor", "missing"}); anything else is refused (Invalid) naming the quota or the figure."""
    try:
        quota, basis = quota_for(tier, scope, campaign)
    except Invalid as exc:
        if exc.errors.get("quota") == XPCC_LIGHTHOUSE:
            raise
        floor, missing = quota_floor(tier, scope, campaign)
        if floor is None or size > floor:
            raise Invalid(f"{size} case(s): {exc.message}" + (f" (a list of at most {floor} fits every value)"
                                                             if floor is not None else ""),
                          errors={"case_ids": {"quota": None, "quota_floor": floor, "missing": missing}}) from None
        return {"quota": None, "quota_floor": floor, "missing": missing, **exc.errors["quota"]}
    if size > quota:
        raise Invalid(f"{size} cases exceed the quota of {quota} ({basis['table']} v{basis['version']}, "
                      f"inputs {basis['inputs']})", errors={"case_ids": {"quota": quota, **basis}})
    return {"quota": quota, **basis}
