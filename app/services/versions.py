"""Versions of process models as administrators and auditors see them: lists, one version with its XML and forms,
the difference between two versions (elements added, removed, changed; form fields), and rollback (an older
version's content deployed again as the newest). Writes are the administrator's; reads are for administrators,
auditors and national reviewers."""
import json

from lxml import etree
from sqlalchemy import func, select

from app.errors import NotFound
from app.extensions import db
from app.models import Case, ProcessModel, ProcessVersion, User
from app.services import drafts, processes, users
from app.services.process_access import READERS, require_admin, require_reader  # noqa: F401 (the API of versions)
from workflows.errors import DiagramError
from workflows.parsing import BPMN_NS
from workflows.xml import load_xml

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _model(key: str) -> ProcessModel:
    model = db.session.get(ProcessModel, key)
    if model is None:
        raise NotFound(f"no process model {key!r}")
    return model


def get(key: str, number: int) -> ProcessVersion:
    v = db.session.scalar(select(ProcessVersion).where(ProcessVersion.model_key == key,
                                                       ProcessVersion.version == number))
    if v is None:
        raise NotFound(f"process {key!r} has no version {number}")
    return v


def version_json(v: ProcessVersion, authors: dict | None = None, full: bool = False) -> dict:
    authors = authors if authors is not None else users.usernames([v.author_id])
    out = {"key": v.model_key, "version": v.version, "id": v.id, "process_id": v.process_id,
           "content_hash": v.content_hash, "author": authors.get(v.author_id), "message": v.message,
           "created_at": v.created_at.isoformat(), "forms": sorted(v.forms or {})}
    if full:
        out["bpmn_xml"] = bytes(v.bpmn_xml).decode("utf-8")
        out["forms"] = v.forms or {}
    return out


def _running_by_version() -> dict[int, int]:
    rows = db.session.execute(select(Case.process_version_id, func.count()).where(Case.closed_at.is_(None))
                              .group_by(Case.process_version_id)).all()
    return dict(rows)


def list_models(user: User) -> list[dict]:
    require_reader(user)
    running = _running_by_version()
    out = []
    for model in db.session.scalars(select(ProcessModel).order_by(ProcessModel.key)):
        latest = processes.latest_version(model.key)
        ids = db.session.scalars(select(ProcessVersion.id).where(ProcessVersion.model_key == model.key)).all()
        out.append({"key": model.key, "name": model.name, "tier": model.tier, "versions": len(ids),
                    "latest": version_json(latest) if latest else None,
                    "running_cases": sum(running.get(i, 0) for i in ids)})
    return out


def list_versions(user: User, key: str) -> dict:
    require_reader(user)
    model = _model(key)
    rows = list(db.session.scalars(select(ProcessVersion).where(ProcessVersion.model_key == key)
                                   .order_by(ProcessVersion.version.desc())))
    authors = users.usernames(r.author_id for r in rows)
    running = _running_by_version()
    items = []
    for r in rows:
        item = version_json(r, authors)
        item["running_cases"] = running.get(r.id, 0)
        items.append(item)
    return {"key": model.key, "name": model.name, "tier": model.tier, "items": items}


def get_version(user: User, key: str, number: int) -> dict:
    require_reader(user)
    _model(key)
    return version_json(get(key, number), full=True)


# -- diff ----------------------------------------------------------------------------------------------------------
def _local(el) -> str:
    return etree.QName(el).localname


def _flatten(el, prefix: str, out: dict) -> None:
    for child in el:
        if not isinstance(child.tag, str) or (child.get("id") and child.tag.startswith(f"{{{BPMN_NS}}}")):
            continue  # comments; elements with their own id are compared on their own
        if child.tag == f"{{{SPIFF_NS}}}property":
            out[f"property {child.get('name')}"] = child.get("value")
            continue
        path = f"{prefix}{_local(child)}"
        for name, value in child.attrib.items():
            if name != "id":
                out[f"{path}@{etree.QName(name).localname}"] = value
        text = (child.text or "").strip()
        if text:
            out[path] = f"{out[path]}, {text}" if path in out else text
        _flatten(child, path + "/", out)


def elements(xml: bytes) -> dict[str, dict]:
    """id -> {"type", "name", "fields"} of every semantic BPMN element (the diagram's layout is left out)."""
    try:
        root = load_xml(xml)
    except DiagramError:
        return {}
    out = {}
    for el in root.iter(f"{{{BPMN_NS}}}*"):
        el_id = el.get("id")
        if not el_id or el is root:
            continue
        fields = {f"@{etree.QName(k).localname}": v for k, v in el.attrib.items() if k != "id"}
        _flatten(el, "", fields)
        out[el_id] = {"type": f"bpmn:{_local(el)}", "name": el.get("name"), "fields": fields}
    return out


def _dict_diff(a: dict, b: dict) -> dict:
    return {k: {"from": a.get(k), "to": b.get(k)} for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def form_diff(a: dict, b: dict) -> dict:
    out = {"added": sorted(set(b) - set(a)), "removed": sorted(set(a) - set(b)), "changed": {}}
    for name in sorted(set(a) & set(b)):
        pa, pb = (a[name] or {}).get("properties") or {}, (b[name] or {}).get("properties") or {}
        fields = {
            "added": sorted(set(pb) - set(pa)), "removed": sorted(set(pa) - set(pb)),
            "changed": sorted(f for f in set(pa) & set(pb)
                              if json.dumps(pa[f], sort_keys=True) != json.dumps(pb[f], sort_keys=True)),
        }
        ra, rb = set((a[name] or {}).get("required") or []), set((b[name] or {}).get("required") or [])
        if ra != rb:
            fields["required"] = {"from": sorted(ra), "to": sorted(rb)}
        rest = {k: v for k, v in a[name].items() if k not in ("properties", "required")} != \
            {k: v for k, v in b[name].items() if k not in ("properties", "required")}
        if any(fields[k] for k in ("added", "removed", "changed")) or "required" in fields or rest:
            fields["other"] = rest
            out["changed"][name] = fields
    return out


def diff_xml(xml_a: bytes, xml_b: bytes, forms_a: dict, forms_b: dict) -> dict:
    ea, eb = elements(xml_a), elements(xml_b)
    brief = lambda i, e: {"id": i, "type": e["type"], "name": e["name"]}  # noqa: E731
    changed = []
    for i in sorted(set(ea) & set(eb)):
        d = _dict_diff(ea[i]["fields"], eb[i]["fields"])
        if d or ea[i]["type"] != eb[i]["type"]:
            item = brief(i, eb[i])
            item["changes"] = d
            if ea[i]["type"] != eb[i]["type"]:
                item["changes"]["type"] = {"from": ea[i]["type"], "to": eb[i]["type"]}
            changed.append(item)
    return {
        "elements": {"added": [brief(i, eb[i]) for i in sorted(set(eb) - set(ea))],
                     "removed": [brief(i, ea[i]) for i in sorted(set(ea) - set(eb))],
                     "changed": changed},
        "forms": form_diff(forms_a or {}, forms_b or {}),
    }


def diff(user: User, key: str, a: int, b: int) -> dict:
    require_reader(user)
    va, vb = get(key, a), get(key, b)
    out = diff_xml(bytes(va.bpmn_xml), bytes(vb.bpmn_xml), va.forms or {}, vb.forms or {})
    out.update({"key": key, "from": a, "to": b})
    return out


# -- writes --------------------------------------------------------------------------------------------------------
def deploy(user: User, key: str, bpmn_xml: bytes, message: str | None = None, forms: dict | None = None
           ) -> ProcessVersion:
    """The one deploy operation of the editor page, the API and `flask bpmn deploy`: an administrator's, with the
    checks of `processes.deploy` (a tier's model also under the case rules); a new immutable version and its
    `process.deployed` event on the system chain, or the latest version when the content is the same. The editor's
    draft of the model is discarded either way: what is deployed is what the editor opens next."""
    require_admin(user)
    version = processes.deploy(key, bpmn_xml, user.id, message, forms=forms)
    drafts.clear(key)
    return version


def rollback(user: User, key: str, number: int, message: str | None = None) -> ProcessVersion:
    """Deploy version `number`'s diagram and forms again as the newest version (running cases stay where they
    are; migrate them separately)."""
    require_admin(user)
    old = get(key, number)
    latest = processes.latest_version(key)
    if latest is not None and latest.content_hash == old.content_hash:
        return latest
    return processes.deploy(key, bytes(old.bpmn_xml), user.id, message or f"rollback to version {number}",
                            forms=dict(old.forms or {}))


def validate(user: User, key: str | None, bpmn_xml: bytes, forms: dict | None = None) -> list[dict]:
    """The problems deploying would report, without deploying ([] when it would deploy)."""
    require_admin(user)
    return problems(key, bpmn_xml, forms)


def problems(key: str | None, bpmn_xml: bytes, forms: dict | None = None) -> list[dict]:
    """What deploying `bpmn_xml` as `key` would refuse (the latest version's forms, then `forms`, then the shipped
    ones; the case rules when the model is bound to a tier); reads only (`flask bpmn validate` has no actor)."""
    base = {}
    if key:
        latest = processes.latest_version(key)
        base = dict(latest.forms) if latest else {}
    base.update(forms or {})
    _bundle, _forms, found = processes.diagram_problems(bpmn_xml, base, case_rules=processes.runs_as_case(key or ""))
    return found


def warnings(user: User, key: str | None, bpmn_xml: bytes, forms: dict | None = None) -> list[dict]:
    """For a model bound to no tier (its diagram does not run as a case yet): what the case rules (lanes naming
    roles, forms, the data conditions read) would refuse once it is bound to one. Empty for a tier's model, whose
    deploy enforces them."""
    require_admin(user)
    if processes.runs_as_case(key or ""):
        return []
    base = {}
    latest = processes.latest_version(key) if key else None
    if latest:
        base = dict(latest.forms)
    base.update(forms or {})
    _b, _f, strict = processes.diagram_problems(bpmn_xml, base, case_rules=True)
    _b, _f, loose = processes.diagram_problems(bpmn_xml, base, case_rules=False)
    return [p for p in strict if p not in loose]


def latest_number(key: str) -> int | None:
    v = processes.latest_version(key)
    return v.version if v else None


def known_roles() -> set[str]:
    from app.services.scope import KNOWN_LANES

    return set(KNOWN_LANES)


def form_names() -> list[str]:
    return sorted(p.name for p in processes.forms_dir().glob("*.json"))


def validate_decision_table(user: User, dmn_xml: bytes) -> list[dict]:
    """The problems of a DMN decision table ([] when it is well-formed, complete and runs here)."""
    require_admin(user)
    from workflows.parsing import check_dmn

    return check_dmn(dmn_xml)


# -- DMN decision tables (the quotas): edited in the browser, checked, deployed as a new version ----------------------
def decision_tables(user: User) -> list[dict]:
    require_reader(user)
    from app.models import DecisionTable

    keys = db.session.scalars(select(DecisionTable.key).distinct().order_by(DecisionTable.key)).all()
    out = []
    for key in keys:
        latest = _latest_table(key)
        out.append({"key": key, "version": latest.version, "message": latest.message,
                    "created_at": latest.created_at.isoformat(), "author": users.usernames([latest.author_id])
                    .get(latest.author_id)})
    return out


def _latest_table(key: str):
    from app.services import quotas

    row = quotas.latest_table(key)
    if row is None:
        raise NotFound(f"no decision table {key!r}")
    return row


def decision_table_xml(user: User, key: str) -> str:
    require_admin(user)
    return bytes(_latest_table(key).dmn_xml).decode("utf-8")


def deploy_decision_table(user: User, key: str, dmn_xml: bytes, message: str | None = None):
    """A new version of an existing decision table, after `check_dmn` (the quota service's own parse runs too)."""
    require_admin(user)
    from app.errors import Invalid
    from app.services import quotas
    from workflows.parsing import check_dmn

    latest = _latest_table(key)
    problems = check_dmn(dmn_xml)
    if problems:
        raise Invalid("the decision table was refused", errors=problems)
    row = quotas.deploy(key, dmn_xml, user.id, message)
    return {"key": key, "version": row.version, "new": row.id != latest.id}
