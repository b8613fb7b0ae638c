"""`flask bpmn sync` and the demo: deploy what ships in BPMN_DIR — every diagram (`*.bpmn`) with the forms it uses
(`forms/*.json`), and every decision table (`*.dmn`) — through the same checks as any deployment.

Idempotent: a file whose content (with its forms) is the model's latest version deploys nothing; a changed file or
form becomes a new version (new cases use it; running cases stay on theirs). A shipped form wins over the form of
the same name in the latest version. The built-in diagrams are bound to their tier (`processes.BUILTIN`); any other
shipped diagram is a model bound to no tier. The actor is the system (actor id None): it runs on an empty database
right after `flask db upgrade`, before any user exists. What a sync deployed is recorded as one `bpmn.synced` event
on the system chain (nothing is written when nothing changed)."""
import json
from pathlib import Path

from app.errors import Invalid
from app.services import processes, quotas, system_events
from app.settings import settings
from workflows.parsing import check_dmn

MESSAGE = "shipped in bpmn/"


def shipped_forms(root: Path) -> dict:
    """file name -> JSON Schema of every form in `root/forms`."""
    forms = {}
    for path in sorted((root / "forms").glob("*.json")):
        try:
            forms[path.name] = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise Invalid(f"{path.name} is not JSON: {exc}", errors=[{"element": path.name,
                                                                     "message": f"not JSON: {exc}"}]) from None
    return forms


def sync(actor_id: int | None = None) -> list[dict]:
    """Deploy the shipped diagrams and decision tables; one item per model in file order:
    `{"kind": "process" | "decision_table", "key", "version", "deployed"}`. A refused file raises Invalid naming
    it (the caller's unit of work then writes nothing)."""
    root = Path(settings().bpmn_dir)
    forms = shipped_forms(root)
    out = []
    for path in sorted(root.glob("*.bpmn")):
        key = path.stem
        tier, name = processes.BUILTIN.get(key, (None, key))
        before = processes.latest_version(key)
        try:
            v = processes.deploy(key, path.read_bytes(), actor_id, MESSAGE, tier=tier, name=name, forms=forms)
        except Invalid as exc:
            raise Invalid(f"{path.name}: {exc.message}", errors=exc.errors) from None
        out.append({"kind": "process", "key": key, "version": v.version,
                    "deployed": before is None or v.id != before.id})
    for path in sorted(root.glob("*.dmn")):
        key, xml = path.stem, path.read_bytes()
        problems = check_dmn(xml)
        if problems:
            raise Invalid(f"{path.name}: the decision table was refused", errors=problems)
        before = quotas.latest_table(key)
        row = quotas.deploy(key, xml, actor_id, MESSAGE)
        out.append({"kind": "decision_table", "key": key, "version": row.version,
                    "deployed": before is None or row.id != before.id})
    from app.services import document_templates  # the official documents' templates (bpmn/documents/)

    document_templates.sync_shipped(actor_id)
    deployed = [{"kind": i["kind"], "key": i["key"], "version": i["version"]} for i in out if i["deployed"]]
    if deployed:
        system_events.append(actor_id, "bpmn.synced", str(root.name),
                             {"deployed": deployed, "unchanged": [i["key"] for i in out if not i["deployed"]]})
    return out


def line(item: dict) -> str:
    """The report line of one model: `basic_self_assessment: deployed as version 2` / `...: unchanged, version 1`."""
    state = "deployed as" if item["deployed"] else "unchanged,"
    return f"{item['key']}: {state} version {item['version']}"
