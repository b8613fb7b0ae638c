"""Carrying out a queued service-task request (services/operators.py) inside the drain's transaction, so the effect
and the item's `sent` mark commit together (exactly once): `notify` writes in-app notices (their e-mail is queued
again in the outbox), `render_document` makes a DOCX from the template, attaches it to the case and records its
SHA-256 in the case's chain (`document.rendered`)."""
import io
import zipfile
from datetime import datetime
from xml.sax.saxutils import escape

from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.models import Case, Enterprise, User
from app.services import attachments, events, instances, notifications


class OperatorFailed(Exception):
    """The request cannot be carried out (counted as a failed attempt; an incident after repeated failures)."""


def _fill(template: str, case: Case) -> str:
    ent = db.session.get(Enterprise, case.enterprise_id)
    values = {"case_id": case.id, "enterprise": ent.name if ent else "", "tier": case.tier}
    out = str(template or "")
    for k, v in values.items():
        out = out.replace("{" + k + "}", str(v))
    return out


def run(item: dict, now: datetime) -> None:
    p = item["payload"]
    case = db.session.get(Case, item["case_id"])
    if case is None:
        raise OperatorFailed("the case no longer exists")
    if p["operator"] == "notify":
        _notify(case, p, now)
    elif p["operator"] == "render_document":
        _render(case, p, now)
    else:
        raise OperatorFailed(f"operator {p['operator']!r} is not registered")


def _notify(case: Case, p: dict, now: datetime) -> None:
    who = str(p["params"].get("recipients") or "")
    q = select(User.id).where(User.active.is_(True))
    if who == "enterprise":
        q = q.where(User.role == "enterprise", User.enterprise_id == case.enterprise_id)
    elif who in ("provincial_reviewer", "co_department_reviewer"):
        q = q.where(User.role == who, User.province_code == case.province_code)
    elif who == "soe_reviewer":
        q = q.where(User.role == who, User.soe_group_key == case.soe_group_key)
    else:
        q = q.where(User.role == who)
    ids = list(db.session.scalars(q))
    text = _fill(p["params"].get("template"), case)
    notifications.send(ids, "operator", text[:200], text, link=f"/cases/{case.id}", case_id=case.id, at=now)


def docx(text: str) -> bytes:
    """A minimal Word document (Office Open XML) with one paragraph per line."""
    paras = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(line)}</w:t></w:r></w:p>"
                    for line in text.splitlines() or [""])
    ns = "http://schemas.openxmlformats.org"
    files = {
        "[Content_Types].xml": f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{ns}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
        'Target="word/document.xml"/></Relationships>',
        "word/document.xml": f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{ns}/wordprocessingml/2006/'
        f'main"><w:body>{paras}</w:body></w:document>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), content)  # fixed dates: same text, same hash
    return buf.getvalue()


def _render(case: Case, p: dict, now: datetime) -> None:
    actor = db.session.get(User, p.get("actor_id")) if p.get("actor_id") else None
    if actor is None:
        actor = db.session.scalar(select(User).where(User.role == "admin").order_by(User.id).limit(1))
    key = p["params"].get("template_key")
    if key:  # an official document from its template (services/documents.py): DOCX and PDF, in the chain
        from app.services import documents

        try:
            documents.render_case(actor, case, str(key), str(key), element=p.get("element"))
        except Invalid as exc:
            raise OperatorFailed(exc.message) from None
        return
    if not p["params"].get("template"):
        raise OperatorFailed("render_document needs a template text or a template_key")
    name = str(p["params"].get("filename") or "document.docx")
    if not name.lower().endswith(".docx"):
        name += ".docx"
    att = attachments.store(actor, case, name, io.BytesIO(docx(_fill(p["params"].get("template"), case))))
    db.session.flush()
    rec = instances.load(case.id)
    events.append(rec, "document.rendered", actor.id if actor else None, now, element=p.get("element"),
                  data={"attachment": att.id, "sha256": att.sha256, "filename": att.filename})
    instances.commit_case(rec)
