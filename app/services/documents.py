"""Official documents (issue 19 part 3): the public-notice announcement (公示公告) of a list, a recommendation
list's summary table (推荐汇总表) and recommendation letter (推荐函) in priority order, and the certification notice
(认定通知书) of a certified or accepted case — each as DOCX (to edit and stamp) and PDF (to file), from the latest
version of its template (services/document_templates.py), rendered by services/documents_render.py.

Each generation is a new version (the earlier kept): two `documents` rows (DOCX, PDF) with the SHA-256 of each file.
Into the chain: a list's documents are a `document.generated` event on the system chain (subject `list:<id>`,
with the list's content hash, the template version and both SHA-256) — one event, not one per listed case, as the
document is the list's; a case's notice is a case event `document.rendered` with both SHA-256 (its files are also
the case's attachments, each with its own `document.attached` event)."""
import hashlib
import io
import os
import re
from datetime import timedelta

from sqlalchemy import func, select

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Case, CaseList, Document, Enterprise, SystemEvent, User
from app.services import (
    attachments,
    cases,
    clock,
    document_templates,
    documents_render,
    events,
    exports,
    instances,
    lists,
    objections,
    system_events,
    workdays,
)
from app.services.clock import SHANGHAI
from app.services.document_templates import COLUMNS, TEMPLATE_NAMES, sample_rows, table  # noqa: F401
from app.services.documents_render import chinese_date
from app.services.lists import CERTIFIERS
from app.settings import settings
from workflows.instance import Instance

LIST_KINDS = ("announcement", "summary_table", "letter")
CASE_KINDS = ("certification_notice",)
CERTIFIED = ("certified", "accepted")
FILE_TITLES = {"announcement": "公示公告", "summary_table": "推荐汇总表", "letter": "推荐函",
               "certification_notice": "认定通知书"}
BLANK = "＿＿＿＿＿＿＿＿"


# -- who ----------------------------------------------------------------------------------------------------------
def _may_generate_list(actor: User, lst: CaseList) -> bool:
    return actor.role == "admin" or (actor.role in CERTIFIERS and actor.scope == lst.scope)


def _case_scope(case: Case) -> str:
    return f"soe:{case.soe_group_key}" if case.soe_group_key else f"province:{case.province_code}"


def _may_generate_case(actor: User, case: Case) -> bool:
    """The certifier: the ministry's reviewers for excellent and lighthouse, the province or SOE group for basic
    and advanced; administrators always."""
    if actor.role == "admin":
        return True
    if case.tier in ("basic", "advanced"):
        return actor.role in CERTIFIERS and actor.scope == _case_scope(case)
    return actor.role == "national_reviewer"


# -- what the templates read --------------------------------------------------------------------------------------
def _issuer(scope: str) -> str:
    name = exports.recommender_name(scope)
    return name if scope.startswith("soe:") else f"{name}工业和信息化主管部门"


def notice_period(lst: CaseList) -> dict:
    """The notice period of a list: from its publication (or freeze) day to the end its cases' diagrams computed
    (`notice_until`: 5 working days for a provincial advanced list, the campaign's `notice_period` — 7 days — for
    excellent and lighthouse); for cases not yet in their notice, the same rule computed here from the calendar."""
    start_at = lst.frozen_at or lst.created_at
    start = start_at.astimezone(SHANGHAI).date()
    periods = lst.campaign.notice_periods or {}
    if lst.tier == "advanced":
        n = int(periods.get("advanced_working_days", 5) or 5)
        length, computed = f"{n}个工作日", workdays.add_working_days(start, n)
    else:
        m = re.fullmatch(r"P(\d+)D", str(periods.get(lst.tier) or "P7D"))
        n = int(m.group(1)) if m else 7
        length, computed = f"{n}天", start + timedelta(days=n)
    ends = []
    for e in lst.entries:
        rec = instances.load(e.case_id)
        until = objections.notice_until(rec) if rec is not None else None
        if until is not None:
            ends.append((until - timedelta(microseconds=1)).astimezone(SHANGHAI).date())  # ends at 24:00
    end = max(ends) if ends else computed
    return {"start": start, "end": end, "length": length}


def _context(scope: str, tier: str, year: int, contact: str | None, site_url: str | None) -> dict:
    base = (settings().public_base_url or site_url or "").rstrip("/")
    return {"year": year, "tier_name": exports.status_zh(tier), "recommender": exports.recommender_name(scope),
            "issuer": _issuer(scope), "contact": contact or BLANK, "today": chinese_date(clock.now()
                                                                                         .astimezone(SHANGHAI).date()),
            "notice_url": f"{base}/notices"}


def list_context(lst: CaseList, rows: list[dict], contact=None, site_url=None) -> dict:
    period = notice_period(lst)
    return {**_context(lst.scope, lst.tier, lst.campaign.year, contact, site_url), "count": len(rows),
            "entries": rows, "notice_start": chinese_date(period["start"]), "notice_end": chinese_date(period["end"]),
            "notice_length": period["length"]}


def case_context(case: Case, contact=None, site_url=None) -> dict:
    ent = db.session.get(Enterprise, case.enterprise_id)
    rec = instances.load(case.id)
    from app.services import processes

    data = Instance.load(rec.state, processes.version_info(rec.process_version_id).bundle).case_data()
    scope = _case_scope(case)
    ctx = _context(scope, case.tier, case.campaign.year, contact, site_url)
    if case.tier not in ("basic", "advanced"):
        ctx["issuer"] = "工业和信息化部"
    decided = (case.closed_at or case.updated_at).astimezone(SHANGHAI).date()
    return {**ctx, "enterprise": ent.name, "credit_code": ent.credit_code,
            "project_name": data.get("project_name") or ent.name, "decided_on": chinese_date(decided),
            "case_id": case.id}


# -- making and keeping -----------------------------------------------------------------------------------------
def _render(kind: str, ctx: dict, rows: list[dict] | None) -> tuple:
    tmpl = document_templates.latest(kind)
    lay = documents_render.layout(documents_render.fill(tmpl.body, ctx))
    tab = table(kind, rows or [])
    return tmpl, documents_render.to_docx(lay, tab), documents_render.to_pdf(lay, tab)


def _keep(data: bytes) -> str:
    """The file in the attachment store (by SHA-256, written once); its hash."""
    sha = hashlib.sha256(data).hexdigest()
    dest = attachments.store_path(sha)
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".doc-{sha}-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    return sha


def _next_version(kind: str, **subject) -> int:
    col, value = next(iter(subject.items()))
    last = db.session.scalar(select(func.max(Document.version)).where(Document.kind == kind,
                                                                     getattr(Document, col) == value))
    return (last or 0) + 1


def _contact(contact) -> str | None:
    if contact is None or contact == "":
        return None
    if not isinstance(contact, str) or len(contact.strip()) > 200:
        raise Invalid("联系人及电话不超过200个字符", errors={"contact": "不超过200个字符"})
    return contact.strip() or None


def generate_for_list(actor: User, list_id: int, kind, contact=None, site_url: str | None = None) -> dict:
    """A new version of the list's document `kind` (DOCX and PDF); 404 outside the list's scope, 403 for a reader
    who is not its owner or an administrator, 422 for an unknown kind or one the list's kind has not."""
    lst = lists.get_list(actor, list_id)
    if not _may_generate_list(actor, lst):
        raise Forbidden("only the list's own department or an administrator generates its documents")
    if kind not in LIST_KINDS:
        raise Invalid("kind is announcement, summary_table or letter",
                      errors={"kind": "announcement, summary_table or letter"})
    if kind != "announcement" and lst.kind != "recommendation":
        raise Invalid("a summary table and a letter are for a recommendation list",
                      errors={"kind": "only for a recommendation list"})
    rows = exports.rows(lst)
    contact = _contact(contact)
    tmpl, docx, pdf = _render(kind, list_context(lst, rows, contact, site_url), rows)
    version = _next_version(kind, list_id=lst.id)
    stem = (f"{lst.campaign.year}年度{exports.status_zh(lst.tier)}{FILE_TITLES[kind]}-"
            f"{exports.recommender_name(lst.scope)}-第{version}版")
    now = clock.now()
    made = {}
    for fmt, data in (("docx", docx), ("pdf", pdf)):
        made[fmt] = Document(kind=kind, list_id=lst.id, version=version, format=fmt, template_id=tmpl.id,
                             filename=f"{stem}.{fmt}", sha256=_keep(data), size=len(data), created_by=actor.id,
                             created_at=now)
        db.session.add(made[fmt])
    db.session.flush()
    system_events.append(actor.id, "document.generated", f"list:{lst.id}", {
        "kind": kind, "version": version, "list_content_hash": lst.content_hash, "contact": contact,
        "template": {"key": tmpl.key, "version": tmpl.version, "content_hash": tmpl.content_hash},
        **{fmt: {"document": d.id, "sha256": d.sha256} for fmt, d in made.items()}}, at=now)
    return result(made)


def generate_for_case(actor: User, case_id: int, kind="certification_notice", contact=None,
                      site_url: str | None = None) -> dict:
    """A certified or accepted case's certification notice (a new version each time)."""
    case = cases.get_case(actor, case_id)  # 404 outside scope
    if not _may_generate_case(actor, case):
        raise Forbidden("only the certifier or an administrator generates a case's certification notice")
    if kind not in CASE_KINDS:
        raise Invalid("kind is certification_notice", errors={"kind": "certification_notice"})
    if case.status not in CERTIFIED:
        raise Invalid("the case is not certified or accepted", errors={"case": "not certified or accepted"})
    return render_case(actor, case, kind, kind, _contact(contact), site_url)


def generate_notices(actor: User, list_id: int, contact=None, site_url: str | None = None) -> list[dict]:
    """The certification notice of every certified or accepted entry of the list whose notice this user may
    generate, in the list's order (each a new version); 422 when there is none."""
    lst = lists.get_list(actor, list_id)
    contact = _contact(contact)
    ids = list_section(actor, lst)["notice_cases"]
    if not ids:
        raise Invalid("no certified or accepted entry of this list is yours to notify",
                      errors={"list": "no certified entry"})
    return [render_case(actor, db.session.get(Case, cid), "certification_notice", "certification_notice",
                        contact, site_url) for cid in ids]


def render_case(actor: User | None, case: Case, kind: str, template_key: str, contact=None, site_url=None,
                element: str | None = None) -> dict:
    """Render the case's document from the template `template_key`, attach both files to the case and record
    `document.rendered` in its chain (also what the `render_document` operator does with a `template_key`)."""
    if template_key not in document_templates.KEYS:
        raise Invalid(f"no document template {template_key}", errors={"template_key": "unknown"})
    ctx = case_context(case, contact, site_url)
    rows = [{"priority": 1, **{k: ctx.get(k, "") for k in ("enterprise", "credit_code", "project_name")}}]
    tmpl, docx, pdf = _render(template_key, ctx, rows)
    version = _next_version(kind, case_id=case.id)
    stem = f"{FILE_TITLES.get(kind, kind)}-{ctx['enterprise']}-第{version}版"
    now = clock.now()
    made = {}
    for fmt, data in (("docx", docx), ("pdf", pdf)):
        att = attachments.store(actor, case, f"{stem}.{fmt}", io.BytesIO(data), action="document.attached")
        made[fmt] = Document(kind=kind, case_id=case.id, version=version, format=fmt, template_id=tmpl.id,
                             filename=att.filename, sha256=att.sha256, size=att.size, attachment_id=att.id,
                             created_by=actor.id if actor else None, created_at=now)
        db.session.add(made[fmt])
    db.session.flush()
    rec = instances.load(case.id)
    events.append(rec, "document.rendered", actor.id if actor else None, now, element=element, data={
        "kind": kind, "version": version, "template": {"key": tmpl.key, "version": tmpl.version,
                                                       "content_hash": tmpl.content_hash},
        **{fmt: {"attachment": d.attachment_id, "sha256": d.sha256, "filename": d.filename}
           for fmt, d in made.items()}})
    instances.commit_case(rec)
    return result(made)


def attachment_ids(case_id: int) -> set[int]:
    """The case's attachments that are generated documents (the case page lists them with their versions)."""
    return set(db.session.scalars(select(Document.attachment_id).where(Document.case_id == case_id,
                                                                       Document.attachment_id.is_not(None))))


def result(made: dict) -> dict:
    """The API's answer: the DOCX as `attachment_id`/`sha256` (the contract), the PDF beside it."""
    d, p = made["docx"], made["pdf"]
    return {"attachment_id": d.id, "sha256": d.sha256, "kind": d.kind, "version": d.version,
            "pdf": {"attachment_id": p.id, "sha256": p.sha256}}


# -- reading ------------------------------------------------------------------------------------------------------
def _grouped(rows) -> list[dict]:
    out: dict[tuple, dict] = {}
    for d in rows:
        g = out.setdefault((d.kind, d.version), {"kind": d.kind, "title": FILE_TITLES.get(d.kind, d.kind),
                                                  "version": d.version, "created_at": d.created_at,
                                                  "created_by": d.created_by, "files": {}})
        g["files"][d.format] = d
    return sorted(out.values(), key=lambda g: (g["kind"], -g["version"]))


def of_list(actor: User, list_id: int) -> list[dict]:
    """Every generated version of the list's documents, grouped per kind, newest first."""
    lst = lists.get_list(actor, list_id)
    return _grouped(db.session.scalars(select(Document).where(Document.list_id == lst.id).order_by(Document.id)))


def list_section(actor: User, lst: CaseList) -> dict:
    """The list page's documents part, in four statements whatever the list's length: may this reader generate,
    the contact printed last time, the list's documents by version, the certified or accepted entries whose notice
    it may generate, and their notices."""
    ids = [e.case_id for e in lst.entries]
    certified = [c for c in db.session.scalars(select(Case).where(Case.id.in_(ids), Case.status.in_(CERTIFIED)))
                 if _may_generate_case(actor, c)] if ids else []
    case_docs: dict[int, list] = {}
    if certified:
        for d in db.session.scalars(select(Document).where(Document.case_id.in_([c.id for c in certified]))
                                    .order_by(Document.id)):
            case_docs.setdefault(d.case_id, []).append(d)
    order = {cid: i for i, cid in enumerate(ids)}
    last = db.session.scalar(select(SystemEvent.data).where(SystemEvent.action == "document.generated",
                                                            SystemEvent.subject == f"list:{lst.id}")
                             .order_by(SystemEvent.seq.desc()).limit(1))
    return {"may_generate": _may_generate_list(actor, lst), "contact": (last or {}).get("contact") or "",
            "doc_groups": _grouped(db.session.scalars(select(Document).where(Document.list_id == lst.id)
                                                      .order_by(Document.id))),
            "notice_cases": sorted((c.id for c in certified), key=order.get),
            "case_docs": {cid: _grouped(rows) for cid, rows in case_docs.items()}}


def case_section(actor: User, case: Case) -> dict:
    """The case page's certification notices: may this reader generate one now (a certified or accepted case and
    the reader its certifier or an administrator: `generate_for_case`'s rule), and the versions generated so far,
    newest first, whose files the reader may open (the files are the case's attachments). One statement when the
    case has no document."""
    from app.services import visibility

    rows = list(db.session.scalars(select(Document).where(Document.case_id == case.id).order_by(Document.id)))
    if rows:
        seen = visibility.for_case(actor, case)
        rows = [d for d in rows if d.attachment_id is None or seen.attachment(d.attachment_id)]
    groups = _grouped(rows)
    for i, g in enumerate(groups):
        g["latest"] = i == 0 or groups[i - 1]["kind"] != g["kind"]
    return {"may_generate": case.status in CERTIFIED and _may_generate_case(actor, case), "groups": groups}


def get_file(actor: User, document_id: int):
    """(the document row, its path) for whoever may see its list or case; 404 otherwise."""
    d = db.session.get(Document, document_id)
    if d is None:
        raise NotFound("no such document")
    if d.list_id is not None:
        lists.get_list(actor, d.list_id)
    else:
        attachments.get(actor, d.attachment_id)
    return d, attachments.store_path(d.sha256)


def to_json(g: dict) -> dict:
    return {"kind": g["kind"], "version": g["version"], "created_at": g["created_at"].isoformat(),
            "created_by": g["created_by"],
            "files": {fmt: {"attachment_id": d.id, "sha256": d.sha256, "filename": d.filename, "size": d.size}
                      for fmt, d in g["files"].items()}}
