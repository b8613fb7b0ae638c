"""Drafts of process diagrams: what an administrator saves in the editor without deploying. A draft changes
nothing that runs: cases and new cases use deployed versions only. One draft per process model; deploying it
discards it."""
from sqlalchemy import delete, insert, select

from app.errors import Invalid
from app.extensions import db
from app.models import User
from app.models.processes import DRAFTS
from app.services import processes
from app.services.process_access import require_admin
from workflows.errors import DiagramError
from workflows.xml import load_xml

NEW_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
                  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="{key}">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def source(user: User, key: str) -> dict:
    """What the editor opens: the draft, else the latest version, else a new (executable) diagram."""
    require_admin(user)
    row = db.session.execute(select(DRAFTS).where(DRAFTS.c.key == key)).first()
    latest = processes.latest_version(key)
    base = {"key": key, "latest": latest.version if latest else None}
    if row is not None:
        return {**base, "origin": "draft", "bpmn": bytes(row.bpmn_xml).decode("utf-8"), "forms": row.forms,
                "updated_at": row.updated_at.isoformat()}
    if latest is not None:
        return {**base, "origin": "version", "bpmn": bytes(latest.bpmn_xml).decode("utf-8"),
                "forms": latest.forms or {}}
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in key) or "process"
    if not (safe[0].isalpha() or safe[0] == "_"):
        safe = "p_" + safe
    return {**base, "origin": "new", "bpmn": NEW_DIAGRAM.replace("{key}", safe), "forms": {}}


def save(user: User, key: str, xml: bytes, forms: dict, now) -> dict:
    """Keep the draft (well-formed, hardened XML only; it is checked fully on validate and deploy)."""
    require_admin(user)
    try:
        load_xml(xml)
    except DiagramError as exc:
        raise Invalid("the draft is not well-formed XML", errors=exc.errors) from None
    db.session.execute(delete(DRAFTS).where(DRAFTS.c.key == key))
    db.session.execute(insert(DRAFTS).values(key=key, bpmn_xml=xml, forms=forms or {}, author_id=user.id,
                                             updated_at=now.replace(tzinfo=None)))
    return {"key": key, "saved_at": now.isoformat()}


def discard(user: User, key: str) -> None:
    require_admin(user)
    clear(key)


def clear(key: str) -> None:
    """Forget the model's draft (`versions.deploy` calls this once the deployment passed its checks)."""
    db.session.execute(delete(DRAFTS).where(DRAFTS.c.key == key))
