"""Official documents over HTTP (issue 19 part 3): `POST /api/v1/lists/{id}/documents {"kind"}` answers
`201 {"attachment_id","sha256"}` with the PDF beside it, both downloadable; a recommendation list's summary table
and letter hold its cases in priority order; other roles get 403, other provinces 404 (the list is not theirs to
see), a bad kind 422; the browser form asks first and the list page lists every version."""
import hashlib
import io
from datetime import timedelta, timezone

import docx
from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, CaseList, CaseListEntry, Document
from app.services import attachments, events, instances, objections
from app.services.clock import SHANGHAI
from tests.api.test_list_amendment import approved_case, second_zhejiang_applicant
from tests.inbox.conftest import case_in_notice
from tests.security.helpers import browser_login, csrf, fresh_client


def published_list_id() -> int:
    case_id = case_in_notice()
    return db.session.scalar(select(CaseListEntry.list_id).where(CaseListEntry.case_id == case_id))


def browser(app, username: str):
    c = fresh_client(app)
    browser_login(c, username)
    return c


def docx_lines(data: bytes) -> list[str]:
    d = docx.Document(io.BytesIO(data))
    return [p.text for p in d.paragraphs] + [c.text for t in d.tables for row in t.rows for c in row.cells]


def test_generate_answers_201_with_both_files_downloadable(client, auth_headers):
    lid = published_list_id()
    h = auth_headers("sinopec-reviewer")
    r = client.post(f"/api/v1/lists/{lid}/documents", json={"kind": "announcement"}, headers=h)
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert set(out) >= {"attachment_id", "sha256", "pdf"} and len(out["sha256"]) == 64
    got = client.get(f"/api/v1/documents/{out['attachment_id']}", headers=h)
    assert got.status_code == 200 and hashlib.sha256(got.data).hexdigest() == out["sha256"]
    assert got.mimetype.endswith("wordprocessingml.document")
    pdf = client.get(f"/api/v1/documents/{out['pdf']['attachment_id']}", headers=h)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert hashlib.sha256(pdf.data).hexdigest() == out["pdf"]["sha256"]
    listed = client.get(f"/api/v1/lists/{lid}/documents", headers=h).get_json()
    assert [(g["kind"], g["version"]) for g in listed] == [("announcement", 1)]
    assert listed[0]["files"]["pdf"]["attachment_id"] == out["pdf"]["attachment_id"]
    # the national reviewer reads the list and its documents, but generates none of a province's
    miit = auth_headers("miit-1")
    assert client.get(f"/api/v1/documents/{out['attachment_id']}", headers=miit).status_code == 200
    assert client.post(f"/api/v1/lists/{lid}/documents", json={"kind": "announcement"},
                       headers=miit).status_code == 403


def test_hostile_callers_and_bad_kinds(client, auth_headers):
    lid = published_list_id()
    first = client.post(f"/api/v1/lists/{lid}/documents", json={"kind": "announcement"},
                        headers=auth_headers("admin")).get_json()
    other = auth_headers("zj-reviewer")  # another province's certifier
    assert client.post(f"/api/v1/lists/{lid}/documents", json={"kind": "announcement"},
                       headers=other).status_code == 404
    assert client.get(f"/api/v1/documents/{first['attachment_id']}", headers=other).status_code == 404
    assert client.get(f"/api/v1/lists/{lid}/documents", headers=other).status_code == 404
    assert client.post(f"/api/v1/lists/{lid}/documents", json={"kind": "announcement"},
                       headers=auth_headers("auditor")).status_code == 403
    assert client.get(f"/api/v1/documents/{first['attachment_id']}",
                      headers=auth_headers("acme")).status_code == 404
    admin = auth_headers("admin")
    for bad in ({"kind": "invitation"}, {"kind": None}, {}, {"kind": "letter"}, {"kind": ["announcement"]}):
        r = client.post(f"/api/v1/lists/{lid}/documents", json=bad, headers=admin)
        assert r.status_code == 422, (bad, r.get_json())
        assert r.get_json()["errors"].get("kind")
    r = client.post(f"/api/v1/lists/{lid}/documents", data="kind=announcement", headers=admin)
    assert r.status_code == 422
    assert client.post("/api/v1/lists/999999/documents", json={"kind": "announcement"},
                       headers=admin).status_code == 404
    assert client.post(f"/api/v1/lists/{lid}/documents", json={"kind": "announcement"}).status_code == 401
    assert db.session.scalar(select(Document.id).where(Document.version > 1)) is None  # nothing more written


def test_the_summary_table_and_letter_hold_the_cases_in_priority_order(app, client, auth_headers):
    prov = auth_headers("zj-reviewer")
    first = approved_case(client, auth_headers("hz-precision"), prov)
    later = approved_case(client, second_zhejiang_applicant(client), prov)
    r = client.post("/api/v1/lists", json={"kind": "recommendation", "tier": "excellent", "campaign": 2026,
                                           "case_ids": [later, first], "final": True}, headers=prov)
    assert r.status_code == 201, r.get_json()
    lid = r.get_json()["id"]
    names = {c: client.get(f"/api/v1/cases/{c}", headers=prov).get_json()["enterprise"]["name"]
             for c in (first, later)}
    for kind in ("summary_table", "letter"):
        r = client.post(f"/api/v1/lists/{lid}/documents", json={"kind": kind, "contact": "王五 0571-1"}, headers=prov)
        assert r.status_code == 201, r.get_json()
        lines = docx_lines(client.get(f"/api/v1/documents/{r.get_json()['attachment_id']}", headers=prov).data)
        rows = [i for i, t in enumerate(lines) if t in names.values()]
        assert [lines[i] for i in rows][:2] == [names[later], names[first]], kind  # priority order
        assert any("王五 0571-1" in t for t in lines)
    r = client.post(f"/api/v1/lists/{lid}/documents", json={"kind": "announcement"}, headers=prov)
    assert r.status_code == 201
    # an excellent list's notice: 7 days from the day it was finalised (its cases are not in their notice yet)
    lst = db.session.get(CaseList, lid)
    start = lst.frozen_at.astimezone(SHANGHAI).date()
    end = start + timedelta(days=7)
    text = "".join(docx_lines(client.get(f"/api/v1/documents/{r.get_json()['attachment_id']}", headers=prov).data))
    assert f"公示期：{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日（7天）" in text
    assert all(n in text for n in names.values())
    # the list page: the generate buttons ask first, every version is listed with its downloads
    c = browser(app, "zj-reviewer")
    page = c.get(f"/lists/{lid}").get_data(as_text=True)
    assert 'id="documents-form"' in page and "data-confirm=" in page
    assert page.count('class="download-docx"') == 3 and page.count('class="download-pdf"') == 3
    assert 'id="generate-letter"' in page


def test_the_browser_form_generates_and_keeps_each_version(app):
    lid = published_list_id()
    c = browser(app, "sinopec-reviewer")
    page = c.get(f"/lists/{lid}").get_data(as_text=True)
    assert 'id="no-documents"' in page and 'id="generate-letter"' not in page  # a certified list: no letter
    for _ in range(2):
        r = c.post(f"/lists/{lid}/documents", data={"kind": "announcement", "contact": "",
                                                    "csrf_token": csrf(c, f"/lists/{lid}")})
        assert r.status_code == 302
    page = c.get(f"/lists/{lid}").get_data(as_text=True)
    assert page.count('class="download-pdf"') == 2 and "第2版" in page and "第1版" in page
    doc_id = db.session.scalar(select(Document.id).where(Document.list_id == lid, Document.format == "pdf"))
    r = c.get(f"/documents/{doc_id}/download")
    assert r.status_code == 200 and r.data.startswith(b"%PDF-")
    # the certification notices: a certified case of the list has its button for the certifier; not yet here
    assert 'id="certification-notices"' not in page
    # a reader who may not generate sees the versions, not the form
    miit = browser(app, "miit-1")
    page = miit.get(f"/lists/{lid}").get_data(as_text=True)
    assert 'id="documents-form"' not in page and page.count('class="download-pdf"') == 2
    # a letter for a certified list is refused in Chinese, nothing written
    bad = c.post(f"/lists/{lid}/documents", data={"kind": "letter", "csrf_token": csrf(c, f"/lists/{lid}")},
                 follow_redirects=True)
    assert bad.status_code == 200 and 'class="flash error"' in bad.get_data(as_text=True)
    assert db.session.scalar(select(Document.id).where(Document.kind == "letter")) is None


def test_a_certified_entry_gets_its_certification_notice_from_the_list_page(app):
    lid = published_list_id()
    (entry,) = db.session.get(CaseList, lid).entries
    until = objections.notice_until(instances.load(entry.case_id))
    after = (until + timedelta(seconds=1)).astimezone(timezone.utc).isoformat()  # UTC: see the note in the report
    app.test_cli_runner().invoke(args=["timers", "run", "--now", after])
    db.session.expire_all()
    assert db.session.get(Case, entry.case_id).status == "certified"
    c = browser(app, "sinopec-reviewer")
    page = c.get(f"/lists/{lid}").get_data(as_text=True)
    assert f'id="generate-notice-{entry.case_id}"' in page and "data-confirm=" in page
    r = c.post(f"/lists/{lid}/cases/{entry.case_id}/documents", data={"csrf_token": csrf(c, f"/lists/{lid}")})
    assert r.status_code == 302
    rows = list(db.session.scalars(select(Document).where(Document.case_id == entry.case_id)))
    assert sorted(d.format for d in rows) == ["docx", "pdf"] and all(d.attachment_id for d in rows)
    text = "".join(docx_lines(attachments.store_path(rows[0].sha256).read_bytes()))
    assert "认定通知书" in text and "中国石化示范化工宁波分公司" in text
    assert events.verify_case(entry.case_id)[0]
    # every certified entry at once (a new version each); a reader with no notice of its own to give is told so
    r = c.post(f"/lists/{lid}/notices", data={"contact": "孙七", "csrf_token": csrf(c, f"/lists/{lid}")})
    assert r.status_code == 302
    assert db.session.scalar(select(func.max(Document.version)).where(Document.case_id == entry.case_id)) == 2
    auditor = browser(app, "auditor")
    r = auditor.post(f"/lists/{lid}/notices", data={"csrf_token": csrf(auditor, f"/lists/{lid}")},
                     follow_redirects=True)
    assert 'class="flash error"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.max(Document.version)).where(Document.case_id == entry.case_id)) == 2
    assert events.verify_case(entry.case_id)[0]
    # the national reviewer certifies excellent and lighthouse, not a group's advanced factory; the enterprise
    # reads its notice among its case's files
    miit = browser(app, "miit-1")
    assert f'id="generate-notice-{entry.case_id}"' not in miit.get(f"/lists/{lid}").get_data(as_text=True)
    assert miit.post(f"/lists/{lid}/cases/{entry.case_id}/documents",
                     data={"csrf_token": csrf(miit, f"/lists/{lid}")}).status_code == 403
    owner = browser(app, "sinopec-ningbo")
    assert owner.get(f"/documents/{rows[0].id}/download").status_code == 200


def test_the_template_page_keeps_what_was_typed_and_says_what_is_wrong(app, client, auth_headers):
    c = browser(app, "admin")
    path = "/admin/document-templates/letter"
    typed = "# 推荐函\n{{ nope }}\n第三行"
    r = c.post(path, data={"body": typed, "action": "save", "csrf_token": csrf(c, path)})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "第2行" in page and "nope" in page
    assert "{{ nope }}" in page and "第三行" in page  # the text as typed
    r = c.post(path, data={"body": "# 推荐函\n{% if %}", "action": "preview", "csrf_token": csrf(c, path)})
    assert r.status_code == 422 and 'id="body-error"' in r.get_data(as_text=True)
    assert [v["version"] for v in client.get("/api/v1/document-templates/letter",
                                             headers=auth_headers("admin")).get_json()] == [1]  # nothing saved
    # the API saves a version and refuses the others
    r = client.post("/api/v1/document-templates/letter", json={"body": "# 推荐函\n{{ issuer }}"},
                    headers=auth_headers("admin"))
    assert r.status_code == 201 and r.get_json()["version"] == 2
    for who in ("zj-reviewer", "miit-1", "auditor"):
        assert client.post("/api/v1/document-templates/letter", json={"body": "x"},
                           headers=auth_headers(who)).status_code == 403
        assert browser(app, who).get(path).status_code == 403
