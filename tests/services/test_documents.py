"""Official documents (issue 19 part 3), on the real database: the announcement of a published list holds every
listed enterprise and the notice period computed from the working-day calendar, in DOCX (read back with
python-docx) and PDF (text read back with pypdf; the Chinese font embedded, or the standard CID font where none is
installed); each generation a new version in the chain; templates versioned, checked, editable only by
administrators; the `render_document` operator renders a certification notice from a template key."""
import hashlib
import io
import re

import docx
import pypdf
import pytest
from sqlalchemy import select

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.jobs import outbox as outbox_job
from app.models import Attachment, Case, CaseEvent, CaseList, CaseListEntry, Document, DocumentTemplate, SystemEvent
from app.services import (
    attachments,
    bpmn_sync,
    clock,
    document_templates,
    documents,
    documents_render,
    events,
    instances,
    objections,
    tasks,
    versions,
    workdays,
)
from app.services.clock import SHANGHAI
from app.uow import unit_of_work
from tests.conftest import user
from tests.inbox.conftest import case_in_notice


def docx_text(data: bytes) -> str:
    d = docx.Document(io.BytesIO(data))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


def pdf_text(data: bytes) -> str:
    """The PDF's text without layout whitespace (pypdf reads fpdf2's two-byte codes one byte at a time, so NULs
    are dropped too)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"[\s\x00]", "", "".join(p.extract_text() for p in reader.pages))


def published_list() -> CaseList:
    case_id = case_in_notice()
    return db.session.scalar(select(CaseList).join(CaseListEntry).where(CaseListEntry.case_id == case_id))


def file_of(doc_id: int) -> bytes:
    return attachments.store_path(db.session.get(Document, doc_id).sha256).read_bytes()


def zh(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def test_the_announcement_of_a_published_list_holds_its_enterprises_and_the_computed_period():
    lst = published_list()
    (entry,) = lst.entries
    ent = db.session.get(Case, entry.case_id).enterprise
    with unit_of_work():
        out = documents.generate_for_list(user("sinopec-reviewer"), lst.id, "announcement", contact="王五 010-1234")
    # the period: publication day to the 5th working day after it, as the diagram computed (notice_until) ...
    start = lst.created_at.astimezone(SHANGHAI).date()
    end = workdays.add_working_days(start, 5)
    until = objections.notice_until(instances.load(entry.case_id))
    assert until.astimezone(SHANGHAI).date() == end.fromordinal(end.toordinal() + 1)  # 24:00 of the last day
    body = docx_text(file_of(out["attachment_id"]))
    assert ent.name in body and ent.credit_code in body and "宁波石化智能工厂" in body
    assert f"公示期：{zh(start)}至{zh(end)}（5个工作日）" in body
    assert "/notices" in body and "提出异议" in body and "王五 010-1234" in body
    text = pdf_text(file_of(out["pdf"]["attachment_id"]))
    assert ent.name in text and f"{zh(start)}至{zh(end)}" in text and ent.credit_code in text
    # the chain: one system event with both files' SHA-256 and the list's content hash
    for fmt in ("docx", "pdf"):
        d = db.session.get(Document, out["attachment_id"] if fmt == "docx" else out["pdf"]["attachment_id"])
        assert hashlib.sha256(file_of(d.id)).hexdigest() == d.sha256
    ev = db.session.scalar(select(SystemEvent).where(SystemEvent.action == "document.generated")
                           .order_by(SystemEvent.seq.desc()))
    assert ev.subject == f"list:{lst.id}" and ev.data["docx"]["sha256"] == out["sha256"]
    assert ev.data["pdf"]["sha256"] == out["pdf"]["sha256"] and ev.data["list_content_hash"] == lst.content_hash
    # regenerating is a new version, the first kept
    with unit_of_work():
        again = documents.generate_for_list(user("admin"), lst.id, "announcement")
    assert again["version"] == 2 and out["version"] == 1
    groups = documents.of_list(user("admin"), lst.id)
    assert [(g["kind"], g["version"]) for g in groups] == [("announcement", 2), ("announcement", 1)]
    assert set(groups[1]["files"]) == {"docx", "pdf"}
    assert "＿" in docx_text(file_of(again["attachment_id"]))  # no contact given: a blank to fill in


def test_who_generates_and_what():
    lst = published_list()
    with pytest.raises(NotFound):  # another province does not see the list
        documents.generate_for_list(user("zj-reviewer"), lst.id, "announcement")
    with pytest.raises(Forbidden):  # a national reviewer reads the list; it is not its document
        documents.generate_for_list(user("miit-1"), lst.id, "announcement")
    with pytest.raises(Forbidden):  # an auditor reads every list; it writes none
        documents.generate_for_list(user("auditor"), lst.id, "announcement")
    with pytest.raises(NotFound):  # lists are for reviewers: an enterprise does not see it
        documents.generate_for_list(user("acme"), lst.id, "announcement")
    with pytest.raises(Invalid) as exc:
        documents.generate_for_list(user("admin"), lst.id, "invitation")
    assert exc.value.errors == {"kind": "announcement, summary_table or letter"}
    with pytest.raises(Invalid):  # a certified list has no recommendation letter
        documents.generate_for_list(user("admin"), lst.id, "letter")
    with pytest.raises(Invalid):
        documents.generate_for_list(user("admin"), lst.id, "announcement", contact="x" * 201)
    d = db.session.scalar(select(Document.id))
    assert d is None  # nothing was written by the refusals


def test_a_pdf_without_an_installed_font_uses_the_standard_cid_font():
    lay = documents_render.layout("# 名单公示\n公示期：2025年8月1日至2025年8月7日\n[[名单]]")
    tab = documents.table("announcement", documents.sample_rows())
    cid = documents_render.to_pdf(lay, tab, font=None)
    page = pypdf.PdfReader(io.BytesIO(cid)).pages[0]
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    assert any(f["/BaseFont"] == "/STSong-Light" for f in fonts)
    assert "2025年8月1日至2025年8月7日" in pdf_text(cid) and "某某智能装备有限公司" in pdf_text(cid)
    if documents_render.cjk_font() is None:
        pytest.skip("no Chinese font installed here: the embedded variant is not exercised")
    embedded = documents_render.to_pdf(lay, tab)
    page = pypdf.PdfReader(io.BytesIO(embedded)).pages[0]
    (font,) = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert any(k in desc for k in ("/FontFile2", "/FontFile3"))  # the glyphs travel with the file
    assert "某某智能装备有限公司" in pdf_text(embedded)


def test_templates_are_versioned_checked_and_only_administrators_edit_them():
    first = document_templates.latest("announcement")
    assert first.version == 1 and first.author_id is None  # shipped, loaded by bpmn sync (the demo ran it)
    with pytest.raises(Forbidden):
        document_templates.save(user("zj-reviewer"), "announcement", first.body + "\n附加一行")
    with pytest.raises(Invalid) as exc:  # an unknown name is refused, its line named
        document_templates.save(user("admin"), "announcement", first.body + "\n{{ secret_key }}")
    assert "secret_key" in exc.value.errors["body"] and "第" in exc.value.errors["body"]
    with pytest.raises(Invalid):  # the sandbox: no way into Python from a template
        document_templates.save(user("admin"), "announcement", "{{ ''.__class__.__mro__ }}")
    with pytest.raises(Invalid):
        document_templates.save(user("admin"), "announcement", first.body)  # unchanged
    with pytest.raises(NotFound):
        document_templates.save(user("admin"), "invitation", "正文")
    with unit_of_work():
        second = document_templates.save(user("admin"), "announcement", first.body + "\n特此公告。")
    assert second.version == 2 and document_templates.latest("announcement").id == second.id
    assert [v.version for v in document_templates.versions("announcement")] == [2, 1]
    assert "特此公告。" in document_templates.preview(user("admin"), "announcement", second.body)
    # bpmn sync: the shipped file is unchanged and an administrator's edit is newer: nothing is written
    with unit_of_work():
        bpmn_sync.sync()
    assert document_templates.latest("announcement").id == second.id
    lst = published_list()
    with unit_of_work():
        out = documents.generate_for_list(user("admin"), lst.id, "announcement")
    assert "特此公告。" in docx_text(file_of(out["attachment_id"]))
    assert db.session.get(Document, out["attachment_id"]).template_id == second.id


def test_sync_loads_a_changed_shipped_template_as_a_new_version(monkeypatch):
    before = db.session.scalar(select(DocumentTemplate.id).order_by(DocumentTemplate.id.desc()))
    with unit_of_work():
        assert not any(i["deployed"] for i in document_templates.sync_shipped())
    assert db.session.scalar(select(DocumentTemplate.id).order_by(DocumentTemplate.id.desc())) == before
    read = document_templates._shipped_body
    monkeypatch.setattr(document_templates, "_shipped_body",
                        lambda key: read(key) + "\n此函。" if key == "letter" else read(key))
    with unit_of_work():
        out = {i["key"]: i for i in document_templates.sync_shipped()}
    assert out["letter"]["deployed"] and out["letter"]["version"] == 2
    assert not out["announcement"]["deployed"]
    assert document_templates.latest("letter").body.endswith("此函。")


def test_the_render_document_operator_renders_a_certification_notice_from_a_template_key():
    from tests.incidents.helpers import BASIC, KEY, REVIEW, case_waiting_for_review
    from tests.incidents.test_operators import Q, _service

    xml = BASIC.replace(b'sourceRef="review_decision" targetRef="end_certified"',
                        b'sourceRef="review_decision" targetRef="render_notice"')
    xml = xml.replace(b"</bpmn:process>", _service("render_notice", "render_document", {
        "template_key": ("str", f"{Q}certification_notice{Q}")}, "end_certified").encode() + b"</bpmn:process>", 1)
    assert versions.validate(user("admin"), KEY, xml) == []
    with unit_of_work():
        versions.deploy(user("admin"), KEY, xml, "certification notice on approval", None)
    case_id, task_id = case_waiting_for_review()
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), task_id, REVIEW)
    outbox_job.drain(clock.now())
    db.session.expire_all()
    rows = list(db.session.scalars(select(Document).where(Document.case_id == case_id)))
    assert sorted(d.format for d in rows) == ["docx", "pdf"] and all(d.attachment_id for d in rows)
    docx_row = next(d for d in rows if d.format == "docx")
    att = db.session.get(Attachment, docx_row.attachment_id)
    text = docx_text(attachments.store_path(att.sha256).read_bytes())
    assert "杭州示范智能装备有限公司" in text and "认定通知书" in text
    (ev,) = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                      CaseEvent.action == "document.rendered"))
    assert ev.data["docx"]["sha256"] == docx_row.sha256 and ev.element == "render_notice"
    assert events.verify_case(case_id)[0]
    # by hand: the certifier (the province for basic) regenerates it; an enterprise may not
    with pytest.raises(Forbidden):
        documents.generate_for_case(user("acme"), case_id)
    with unit_of_work():
        again = documents.generate_for_case(user("zj-reviewer"), case_id, contact="赵六 0571-1")
    assert again["version"] == 2
    assert "赵六0571-1" in pdf_text(file_of(again["pdf"]["attachment_id"]))
    assert events.verify_case(case_id)[0]


def test_a_case_that_is_not_certified_gets_no_certification_notice():
    from tests.incidents.helpers import case_waiting_for_review

    case_id, _task = case_waiting_for_review()
    with pytest.raises(Invalid):
        documents.generate_for_case(user("admin"), case_id)
    with pytest.raises(NotFound):  # another province's reviewer does not see the case
        documents.generate_for_case(user("sinopec-reviewer"), case_id)


def test_pdf_lines_follow_chinese_line_breaking():
    """A closing mark never starts a line (it hangs at the end of the line before); an opening mark never ends
    one."""
    assert documents_render.wrap(len, "甲乙丙丁，戊己", 4) == ["甲乙丙丁，", "戊己"]
    assert documents_render.wrap(len, "甲乙丙（丁戊）己", 4) == ["甲乙丙", "（丁戊）", "己"]
    assert documents_render.wrap(len, "", 4) == [""]
    assert documents_render.wrap(len, "甲乙丙丁。”戊", 4) == ["甲乙丙丁。”", "戊"]
    assert documents_render.wrap(len, "甲乙2025年", 5) == ["甲乙", "2025年"]  # a number stays whole
