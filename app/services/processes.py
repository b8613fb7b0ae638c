"""Process models and their immutable versions; the spec of a version is parsed once per process."""
import hashlib
import json
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.exceptions import NoSuchResource
from sqlalchemy import func, select

from app.errors import Invalid, NotFound
from app.extensions import db
from app.models import ProcessModel, ProcessVersion
from app.services import clock, operators, system_events
from app.services.scope import KNOWN_LANES
from app.settings import settings
from workflows.errors import DiagramError
from workflows.parsing import SPEC_CACHE, SpecBundle, check_bundle, is_human, parse_bpmn, task_properties

# the built-in diagrams: file stem -> (tier, name)
BUILTIN = {
    "basic_self_assessment": ("basic", "基础级自评自建 Basic self-assessment"),
    "advanced_certification": ("advanced", "先进级认定 Advanced certification"),
    "excellent_national_review": ("excellent", "卓越级国家评审 Excellent national review"),
    "lighthouse_cultivation": ("lighthouse", "领航级遴选、培育与验收 Lighthouse selection, cultivation and acceptance"),
}
_validators: dict = {}


def _never_retrieve(uri: str):
    """Form schemas resolve only references inside themselves: nothing is fetched over the network or from disk."""
    raise NoSuchResource(ref=uri)


NO_RETRIEVAL = Registry(retrieve=_never_retrieve)
_REF_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")


def nonlocal_refs(schema, path: str = "#") -> list[tuple[str, str]]:
    """(where, ref) of every reference that does not point inside the schema itself ('#' or '#/...')."""
    out = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in _REF_KEYS and not (isinstance(value, str) and (value == "#" or value.startswith("#/"))):
                out.append((path, str(value)))
            elif isinstance(value, (dict, list)):
                out += nonlocal_refs(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            out += nonlocal_refs(item, f"{path}/{i}")
    return out


def forms_dir() -> Path:
    return Path(settings().bpmn_dir) / "forms"


def _referenced_forms(bundle: SpecBundle) -> set[str]:
    return {task_properties(ts).get("form") for ts in bundle.all_task_specs() if is_human(ts)} - {None}


def _collect_forms(names: set[str], fallback: dict) -> dict:
    forms = {}
    for name in names:
        path = forms_dir() / name
        if name in fallback:
            forms[name] = fallback[name]
        elif "/" not in name and path.is_file():
            forms[name] = json.loads(path.read_text(encoding="utf-8"))
    return forms


# what a new case's instance knows at its start (`cases.start_data`): conditions may read these
START_DATA = {"tier", "campaign_year", "case_id", "is_soe", "legal_person", "industry", "notice_period",
              "application_deadline_at", "recommendation_deadline_at", "panel_min_mean", "panel_min_approval_pct"}


def diagram_problems(bpmn_xml: bytes, forms: dict | None = None, case_rules: bool = True
                     ) -> tuple[SpecBundle | None, dict, list[dict]]:
    """(bundle or None, the forms it uses, every problem as {element, message}).

    `case_rules`: the diagram runs as a case (its model is bound to a tier), so lanes must name roles, user tasks
    need forms, and conditions may only read data that a form, a script or the start data provides. A model not
    bound to a tier is only checked for what the engine itself needs."""
    try:
        bundle = parse_bpmn(bpmn_xml, max_bytes=settings().max_diagram_bytes,
                            max_elements=settings().max_diagram_elements)
    except DiagramError as exc:
        return None, {}, exc.errors
    forms = _collect_forms(_referenced_forms(bundle), forms or {})
    problems = check_bundle(bundle, known_roles=KNOWN_LANES if case_rules else None, forms=forms,
                            start_data=START_DATA, operators=operators.spec())
    for name, schema in forms.items():
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as exc:
            problems.append({"element": name, "message": f"form is not a valid JSON Schema: "
                             f"{str(exc).splitlines()[0]}"})
        for where, ref in nonlocal_refs(schema):
            problems.append({"element": name, "message": f"form {name!r}: the reference {ref!r} at {where} is "
                             "refused; only references inside the form ('#/...') are allowed"})
    return bundle, forms, problems


def validate_diagram(bpmn_xml: bytes, forms: dict | None = None, case_rules: bool = True
                     ) -> tuple[SpecBundle, dict]:
    """Parse and check a diagram; raise Invalid with [{element, message}] on any problem."""
    bundle, forms, problems = diagram_problems(bpmn_xml, forms, case_rules)
    if problems:
        raise Invalid("the diagram was refused", errors=problems)
    return bundle, forms


def runs_as_case(key: str, tier: str | None = None) -> bool:
    model = db.session.get(ProcessModel, key)
    return bool(tier or (model is not None and model.tier))


def deploy(key: str, bpmn_xml: bytes, author_id: int | None, message: str | None = None,
           tier: str | None = None, name: str | None = None, forms: dict | None = None) -> ProcessVersion:
    """A new immutable version, unless the content is identical to the latest (then that one is returned).
    `forms` (file name -> JSON Schema) replace the latest version's and the shipped forms of the same name."""
    model = db.session.get(ProcessModel, key)
    latest = latest_version(key) if model else None
    given = dict(latest.forms) if latest else {}
    given.update(forms or {})
    bundle, forms = validate_diagram(bpmn_xml, given, case_rules=runs_as_case(key, tier))
    digest = hashlib.sha256(bpmn_xml + json.dumps(forms, sort_keys=True).encode()).hexdigest()
    if latest is not None and latest.content_hash == digest:
        return latest
    if model is None:
        model = ProcessModel(key=key, name=name or key, tier=tier)
        db.session.add(model)
    number = (db.session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.model_key == key))
              or 0) + 1
    version = ProcessVersion(model_key=key, version=number, process_id=bundle.process_id, content_hash=digest,
                             bpmn_xml=bpmn_xml, spec_json=bundle.to_json(), forms=forms, author_id=author_id,
                             message=message, created_at=clock.now())
    db.session.add(version)
    db.session.flush()
    system_events.append(author_id, "process.deployed", f"{key} v{number}",
                         {"content_hash": digest, "message": message, "process_id": bundle.process_id})
    return version


def latest_version(key: str) -> ProcessVersion | None:
    return db.session.scalar(select(ProcessVersion).where(ProcessVersion.model_key == key)
                             .order_by(ProcessVersion.version.desc()).limit(1))


def version_for_tier(tier: str) -> ProcessVersion:
    model = db.session.scalar(select(ProcessModel).where(ProcessModel.tier == tier).limit(1))
    version = latest_version(model.key) if model else None
    if version is None:
        raise Invalid(f"no process is deployed for tier {tier!r}", errors={"tier": "no deployed process"})
    return version


def bundle(version: ProcessVersion) -> SpecBundle:
    return SPEC_CACHE.get(version.id, lambda: SpecBundle.from_json(version.spec_json))


def form_validator(version, form: str) -> Draft202012Validator:
    key = (version.id, form)
    v = _validators.get(key)
    if v is None:
        schema = version.forms.get(form)
        if schema is None:
            raise NotFound(f"form {form!r} is not part of version {version.version}")
        v = _validators[key] = Draft202012Validator(schema, registry=NO_RETRIEVAL)
    return v


class VersionInfo:
    """What a request needs of an immutable version, cached per process (rows never change once written)."""

    __slots__ = ("id", "model_key", "version", "forms", "bundle", "properties")

    def __init__(self, row: ProcessVersion):
        self.id, self.model_key, self.version, self.forms = row.id, row.model_key, row.version, dict(row.forms)
        self.bundle = bundle(row)
        # element id -> spiffworkflow:properties of each human task
        self.properties = {(ts.bpmn_id or ts.name): task_properties(ts) for ts in self.bundle.all_task_specs()
                           if is_human(ts)}


_infos: dict[int, VersionInfo] = {}


def version_info(version_id: int) -> VersionInfo:
    info = _infos.get(version_id)
    if info is None:
        row = db.session.get(ProcessVersion, version_id)
        if row is None:
            raise NotFound(f"process version {version_id} does not exist")
        info = _infos[version_id] = VersionInfo(row)
    return info
