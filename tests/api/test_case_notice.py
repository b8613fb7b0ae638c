"""The certification notice from the case page (issue 19 part 3): a certified case's certifier or an administrator
sees "生成认定通知书" (asked first), each click a new version kept beside the earlier ones with its Beijing time and
DOCX and PDF links; readers who may not generate see the versions their files allow and no button; a case that is
not certified has no button and a forged post writes nothing; other scopes get 404, other roles 403."""
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, Document
from app.services import events, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.incidents.helpers import case_waiting_for_review
from tests.security.helpers import browser_login, csrf, fresh_client

APPROVE = {"decision": "approve", "comment": "符合基础级要求"}


def certified_basic_case() -> int:
    """acme's basic self-assessment, approved by the Zhejiang organizer: certified (self-rated basic)."""
    case_id, review_id = case_waiting_for_review()
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), review_id, APPROVE)
    assert db.session.get(Case, case_id).status == "certified"
    return case_id


def browser(app, username: str):
    c = fresh_client(app)
    assert browser_login(c, username).status_code == 302
    return c


def versions(case_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Document).where(Document.case_id == case_id))


def test_the_certifier_and_the_administrator_generate_from_the_case_page(app):
    case_id = certified_basic_case()
    url = f"/cases/{case_id}"
    for name in ("admin", "zj-reviewer"):
        page = browser(app, name).get(url).get_data(as_text=True)
        assert 'id="generate-notice"' in page and 'id="no-notice"' in page, name
        name_zh = db.session.get(Case, case_id).enterprise.name
        assert f'data-confirm="现在生成{name_zh}的认定通知书？"' in page  # asked first (confirm.js)
        assert "生成认定通知书" in page
    for name in ("miit-1", "auditor", "acme", "zj-ndrc"):  # may not generate a basic case's notice: nothing shown
        page = browser(app, name).get(url).get_data(as_text=True)
        assert 'id="generate-notice"' not in page and 'id="documents"' not in page, name

    admin = browser(app, "admin")
    for _ in range(2):
        r = admin.post(f"{url}/documents", data={"csrf_token": csrf(admin, url)})
        assert r.status_code == 302 and r.headers["Location"].endswith(f"{url}#documents")
    assert versions(case_id) == 4  # two versions, DOCX and PDF each
    page = admin.get(url).get_data(as_text=True)
    assert "已生成：认定通知书 第2版（DOCX 和 PDF）。" in page
    section = page.split('id="documents"')[1].split("</section>")[0]
    assert section.index("第2版 · 最新版本") < section.index("第1版 · 较早版本")
    assert section.count('class="download-pdf"') == 2 and section.count('class="download-docx"') == 2
    made = db.session.scalar(select(Document.created_at).where(Document.case_id == case_id)).replace(tzinfo=None)
    local = made + timedelta(hours=8)  # stored UTC, shown in Beijing time
    assert f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（北京时间）" in section
    pdf = db.session.scalar(select(Document.id).where(Document.case_id == case_id, Document.format == "pdf",
                                                      Document.version == 2))
    r = admin.get(f"/documents/{pdf}/download")
    assert r.status_code == 200 and r.data.startswith(b"%PDF-")
    assert events.verify_case(case_id)[0]
    # generated, not uploaded: not among the application materials, and the history says so
    assert "认定通知书-" not in page.split('id="documents"')[0]  # (the materials come before the documents)
    assert "附上生成的文书" in page and "上传材料" not in page

    # readers who may not generate see the versions their files allow, never the button
    for name in ("miit-1", "acme", "auditor"):
        page = browser(app, name).get(url).get_data(as_text=True)
        assert 'id="notice-versions"' in page and 'id="generate-notice"' not in page, name


def test_hostile_posts_write_nothing(app):
    case_id = certified_basic_case()
    url = f"/cases/{case_id}"
    for name, status in (("miit-1", 403), ("auditor", 403), ("acme", 403), ("zj-ndrc", 403), ("sd-reviewer", 404),
                         ("sinopec-reviewer", 404)):
        c = browser(app, name)
        assert c.post(f"{url}/documents", data={"csrf_token": csrf(c, "/")}).status_code == status, name
    anonymous = fresh_client(app)
    assert anonymous.post(f"{url}/documents").status_code in (302, 400)
    assert versions(case_id) == 0
    # no CSRF token: refused, nothing written
    admin = browser(app, "admin")
    assert admin.post(f"{url}/documents").status_code == 400
    assert versions(case_id) == 0


def test_a_case_that_is_not_certified_has_no_button_and_refuses_a_forged_post(app):
    case_id, _review = case_waiting_for_review()
    url = f"/cases/{case_id}"
    admin = browser(app, "admin")
    page = admin.get(url).get_data(as_text=True)
    assert 'id="generate-notice"' not in page and 'id="documents"' not in page
    r = admin.post(f"{url}/documents", data={"csrf_token": csrf(admin, url)}, follow_redirects=True)
    assert r.status_code == 200 and 'class="flash error"' in r.get_data(as_text=True)
    assert versions(case_id) == 0
