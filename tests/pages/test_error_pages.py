"""Issue 15 defect 6 at the HTTP level: error pages (404/403/405/413), service errors, upload errors and the
login-required message are Chinese first, English second; under /api/ errors stay JSON."""
import io

import pytest

from app.i18n import duration_zh
from tests.pages.walk import load_sample_cases
from tests.security.helpers import browser_login, csrf, fresh_client


@pytest.fixture
def acme(app):
    c = fresh_client(app)
    assert browser_login(c, "acme").status_code == 302
    return c


def _text(r) -> str:
    return r.get_data(as_text=True)


def test_a_page_that_does_not_exist_is_a_chinese_404(app):
    r = fresh_client(app).get("/no/such/page")
    assert r.status_code == 404
    assert "找不到页面" in _text(r) and "Not Found" not in _text(r)


def test_a_case_that_does_not_exist_says_so_in_chinese(acme):
    r = acme.get("/cases/999999")
    assert r.status_code == 404
    assert "找不到该申报" in _text(r) and "no such case" not in _text(r)


def test_a_forbidden_page_names_who_may_use_it_in_chinese(acme):
    r = acme.get("/admin/processes")
    assert r.status_code == 403
    assert "流程版本仅供" in _text(r) and "administrators" not in _text(r)


def test_an_unknown_method_is_a_chinese_405(acme):
    r = acme.delete("/notices")
    assert r.status_code == 405 and "此页面不支持这种操作方式" in _text(r)


def test_a_too_large_upload_is_a_chinese_413_page(app, acme):
    token = csrf(acme, "/")
    big = io.BytesIO(b"0" * (app.config["MAX_CONTENT_LENGTH"] + 1024))
    r = acme.post("/notices/1", data={"csrf_token": token, "reason": "理由足够长", "evidence": (big, "big.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 413
    assert "文件太大" in _text(r) and "Request Entity Too Large" not in _text(r)


def test_under_the_api_errors_stay_json(app):
    r = fresh_client(app).get("/api/v1/no-such-call")
    assert r.status_code == 404 and r.is_json


def test_the_login_required_message_is_chinese(app):
    c = fresh_client(app)
    r = c.get("/inbox")
    assert r.status_code == 302
    assert "请先登录后再查看此页面。" in _text(c.get(r.headers["Location"]))


def test_the_same_pages_in_english_stay_english(app, acme):
    token = csrf(acme, "/")
    acme.post("/lang/en", data={"csrf_token": token, "next": "/"})
    r = acme.get("/cases/999999")
    assert "no such case" in _text(r) and "找不到该申报" not in _text(r)


def test_an_upload_of_a_refused_type_names_the_type_in_chinese(app):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Case, Enterprise, HumanTask

    load_sample_cases()
    task = db.session.scalars(select(HumanTask).join(Case, Case.id == HumanTask.case_id)
                              .join(Enterprise, Enterprise.id == Case.enterprise_id)
                              .where(HumanTask.state == "open", HumanTask.role == "enterprise")).first()
    owner = {"91330100MA2B00003E": "sinopec-plant", "91370200MA3C000040": "qingdao-home"}
    code = db.session.get(Enterprise, db.session.get(Case, task.case_id).enterprise_id).credit_code
    c = fresh_client(app)
    assert browser_login(c, owner[code]).status_code == 302
    token = csrf(c, f"/tasks/{task.id}")
    r = c.post(f"/tasks/{task.id}", data={"csrf_token": token, "action": "upload",
                                          "file": (io.BytesIO(b"MZ\x90\x00"), "tool.exe")},
               content_type="multipart/form-data", follow_redirects=True)
    html = _text(r)
    assert "不允许上传“exe”类型的文件" in html, html[-3000:]
    assert "is not allowed" not in html


@pytest.mark.parametrize("iso,zh", [("P15D", "15天"), ("PT2H", "2小时"), ("P1M", "1个月"), ("P1Y2M", "1年2个月"),
                                    ("soon", "soon"), ("", "")])
def test_durations_read_as_words(app, iso, zh):
    with app.test_request_context():
        assert duration_zh(iso) == zh
