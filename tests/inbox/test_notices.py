"""Public notices in the browser (Flask client): every logged-in user sees the cases in their notice and lodges an
objection with reasons and evidence; bad input keeps what was typed and stores nothing."""
import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Objection
from app.services import cases
from app.uow import unit_of_work
from tests.conftest import user
from tests.inbox.conftest import case_in_notice
from tests.security.helpers import PASSWORDS, csrf, fresh_client


@pytest.fixture
def in_notice():
    return case_in_notice()


def _login(app, username):
    client = fresh_client(app)
    r = client.post("/login", data={"username": username, "password": PASSWORDS[username],
                                    "csrf_token": csrf(client)})
    assert r.status_code == 302
    return client


def test_the_notice_list_and_an_objection_with_evidence(app, in_notice):
    web = _login(app, "acme")  # another factory, another province: the notice is public
    html = web.get("/notices").get_data(as_text=True)
    assert f'data-case="{in_notice}"' in html
    assert 'id="nav-notices"' in html
    form = web.get(f"/notices/{in_notice}")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.get_data(as_text=True)).group(1)
    r = web.post(f"/notices/{in_notice}", data={
        "csrf_token": token, "reason": "该企业申报的产线于2025年已停产，材料与实际不符。",
        "evidence": [(io.BytesIO(b"%PDF-1.4 evidence"), "停产证明.pdf")]}, content_type="multipart/form-data")
    assert r.status_code == 302 and r.headers["Location"].endswith("/notices")
    (obj,) = db.session.scalars(select(Objection).where(Objection.case_id == in_notice))
    assert obj.state == "open" and obj.lodged_by == user("acme").id and len(obj.attachments) == 1
    assert cases.get_case(user("sinopec-reviewer"), in_notice).status == "objection_review"
    assert "objection_review" in web.get("/notices").get_data(as_text=True)


def test_bad_input_keeps_the_text_and_stores_nothing(app, in_notice):
    web = _login(app, "acme")
    token = csrf(web, f"/notices/{in_notice}")
    files_before = db.session.scalar(select(func.count()).select_from(Attachment))
    r = web.post(f"/notices/{in_notice}", data={"csrf_token": token, "reason": "短"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and ">短</textarea>" in html
    r = web.post(f"/notices/{in_notice}", data={
        "csrf_token": token, "reason": "理由充分的异议说明文字。",
        "evidence": [(io.BytesIO(b"MZ\x90\x00 not a document"), "tool.exe")]}, content_type="multipart/form-data")
    assert r.status_code == 415
    assert "理由充分的异议说明文字。" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Objection)) == 0
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == files_before
    assert cases.get_case(user("sinopec-reviewer"), in_notice).status == "public_notice"


def test_a_case_not_in_notice_and_the_auditor(app, in_notice):
    with unit_of_work():
        draft = cases.create_case(user("acme"), "basic", 2026).id
    web = _login(app, "ningbo-parts")
    r = web.get(f"/notices/{draft}")
    assert r.status_code == 302
    auditor = _login(app, "auditor")
    r = auditor.post(f"/notices/{in_notice}", data={"csrf_token": csrf(auditor, "/notices"),
                                                    "reason": "审计人员不应提出异议。"})
    assert r.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Objection)) == 0
