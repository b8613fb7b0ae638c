"""Issue 15 defect 9: the public notice (公示) opens without a login — the enterprises in notice, their region by
name, the period in Beijing time and how to object — while lodging an objection still needs one."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Objection
from tests.inbox.conftest import case_in_notice
from tests.security.helpers import csrf, fresh_client


def test_anyone_reads_the_public_notice_without_logging_in(app):
    case_id = case_in_notice()
    client = fresh_client(app)
    r = client.get("/notices")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'data-case="{case_id}"' in html
    assert "中国石化示范化工宁波分公司" in html and "浙江省" in html  # the region by name, never 330000
    assert "（北京时间）" in html  # the period's end, with its zone
    assert 'id="how-title"' in html and "如何提出异议" in html
    assert 'id="nav-login"' in html  # the way to log in, to object


def test_objecting_still_needs_a_login(app):
    case_id = case_in_notice()
    client = fresh_client(app)
    form = client.get(f"/notices/{case_id}")
    assert form.status_code == 302 and "/login" in form.headers["Location"]
    token = csrf(client, "/notices")
    before = db.session.scalar(select(func.count()).select_from(Objection))
    r = client.post(f"/notices/{case_id}", data={"csrf_token": token, "reason": "匿名提出的异议理由，应被拒绝。"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Objection)) == before
    login = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "请先登录后再查看此页面。" in login  # the login-required message, in Chinese
