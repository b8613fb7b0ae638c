"""The reference-data pages (系统管理) over HTTP: administrators only, CSRF on every form, bad input re-rendered
with what was typed and the error in Chinese, nothing written; a good form saved and shown."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Campaign, ExpertConflict, Region, SystemEvent
from tests.conftest import user
from tests.reference.conftest_helpers import restored_reference_data
from tests.security.helpers import browser_login, csrf, fresh_client


@pytest.fixture(autouse=True)
def _restore(db_context):
    with restored_reference_data():
        yield


def _client(app, name="admin"):
    client = fresh_client(app)
    assert browser_login(client, name).status_code == 302
    return client


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S))


PAGES = ("/reference/experts", "/reference/experts/new", "/reference/experts/expert-7", "/reference/campaigns",
         "/reference/campaigns/new", "/reference/campaigns/2026", "/reference/quotas",
         "/reference/quotas?edit=330000")


def test_only_administrators_see_the_pages(app):
    anonymous = fresh_client(app)
    assert anonymous.get("/reference/experts").status_code == 302
    for name in ("zj-reviewer", "auditor", "miit-1", "acme", "expert-7"):
        client = _client(app, name)
        for path in PAGES:
            assert client.get(path).status_code == 403, (name, path)
        r = client.post("/reference/quotas/330000", data={"csrf_token": csrf(client, "/"), "iva_rank_2024": "1",
                                                         "iva_rank_2024_source": "x"})
        assert r.status_code == 403
    db.session.expire_all()
    assert db.session.get(Region, "330000").iva_rank_2024_source is None


def test_pages_are_chinese_with_no_raw_values(app):
    client = _client(app)
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 200, path
        text = _visible(_text(r))
        assert 'lang="zh-CN"' in _text(r)
        for raw in ("petrochemicals", "non_ferrous_metals", "equipment", "iva_rank_2024", "excellent_2024",
                    "application_deadline", "None", "missing", "Save", "province"):
            assert raw not in text, (path, raw)
    assert "系统管理" in _text(client.get("/"))  # the menu entry


def test_forms_need_the_csrf_token(app):
    client = _client(app)
    for path, data in (("/reference/quotas/320000", {"iva_rank_2024": "3", "iva_rank_2024_source": "NBS"}),
                       ("/reference/campaigns/new", {"year": "2027", "name": "x"}),
                       ("/reference/experts/new", {"username": "expert-x", "home_region": "110000"}),
                       ("/reference/experts/expert-7/active", {"active": "0"})):
        assert client.post(path, data=data).status_code == 400, path
    db.session.expire_all()
    assert db.session.get(Region, "320000").iva_rank_2024 is None
    assert user("expert-7").active


def test_a_quota_figure_without_source_keeps_the_typed_text(app):
    client = _client(app)
    token = csrf(client, "/reference/quotas?edit=320000")
    r = client.post("/reference/quotas/320000", data={"csrf_token": token, "iva_rank_2024": "3",
                                                     "iva_rank_2024_source": "", "excellent_2024": "15",
                                                     "excellent_2024_source": "江苏省工信厅通报"})
    assert r.status_code == 422
    html = _text(r)
    assert 'value="3"' in html and 'value="江苏省工信厅通报"' in html and 'value="15"' in html
    assert "必须注明来源" in html and 'aria-invalid="true"' in html
    db.session.expire_all()
    assert db.session.get(Region, "320000").excellent_2024 is None  # nothing half-written
    r = client.post("/reference/quotas/320000", data={"csrf_token": token, "iva_rank_2024": "3",
                                                     "iva_rank_2024_source": "国家统计局 2024",
                                                     "excellent_2024": "15",
                                                     "excellent_2024_source": "江苏省工信厅通报"})
    assert r.status_code == 302
    html = _text(client.get("/reference/quotas"))
    row = re.search(r'<tr id="row-320000".*?</tr>', html, re.S).group(0)
    assert "国家统计局 2024" in row and "<strong>40</strong>" in row and "<strong>2</strong>" in row
    assert 'class="lacking"' not in row
    zj = re.search(r'<tr id="row-330000".*?</tr>', html, re.S).group(0)  # the demo's illustrative rank
    assert "未注明来源，不能作为事实" in zj and "依据未注明来源的数据" in zj and "<strong>40</strong>" not in zj
    ev = db.session.scalar(select(SystemEvent).where(SystemEvent.action == "quota_inputs.changed"))
    assert ev.actor_id == user("admin").id and ev.data["after"]["iva_rank_2024"] == 3


def test_a_bad_campaign_keeps_what_was_typed(app):
    client = _client(app)
    token = csrf(client, "/reference/campaigns/new")
    form = {"csrf_token": token, "year": "2027", "name": "2027年度批次", "notice_excellent": "7",
            "notice_lighthouse": "7", "notice_advanced_working_days": "5",
            "excellent_application_deadline": "2028-07-30", "excellent_recommendation_deadline": "2028-07-01",
            "branch_industries": ["petrochemicals"]}
    r = client.post("/reference/campaigns/new", data=form)
    assert r.status_code == 422
    html = _text(r)
    assert 'value="2028-07-30"' in html and 'value="2027年度批次"' in html
    assert "不得早于申报截止日期" in html
    assert db.session.scalar(select(Campaign).where(Campaign.year == 2027)) is None
    form["excellent_recommendation_deadline"] = "2028-08-13"
    r = client.post("/reference/campaigns/new", data=form)
    assert r.status_code == 302
    assert "2027年度批次" in _text(client.get("/reference/campaigns"))


def test_a_passed_deadline_needs_a_reason_on_the_page(app):
    client = _client(app)
    html = _text(client.get("/reference/campaigns/2025"))
    assert "已过" in html
    token = csrf(client, "/reference/campaigns/2025")
    form = {"csrf_token": token, "name": "2025年度智能工厂梯度培育", "notice_excellent": "7", "notice_lighthouse": "7",
            "notice_advanced_working_days": "5", "branch_industries": ["petrochemicals", "non_ferrous_metals"],
            "excellent_application_deadline": "2025-07-25", "excellent_recommendation_deadline": "2025-08-01",
            "lighthouse_application_deadline": "2025-07-18", "lighthouse_recommendation_deadline": "2025-08-01"}
    r = client.post("/reference/campaigns/2025", data=form)
    assert r.status_code == 422 and "请说明" in _text(r) and 'value="2025-07-25"' in _text(r)
    r = client.post("/reference/campaigns/2025", data=dict(form, reason="系统故障"))
    assert r.status_code == 302
    db.session.expire_all()
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2025))
    assert camp.deadline_for("excellent").application_deadline.isoformat() == "2025-07-25"


def test_experts_are_managed_on_the_page(app):
    client = _client(app)
    token = csrf(client, "/reference/experts/new")
    bad = {"csrf_token": token, "username": "expert-zj-2", "home_region": "330200", "expertise": ["spaceships"]}
    r = client.post("/reference/experts/new", data=bad)
    assert r.status_code == 422 and 'value="expert-zj-2"' in _text(r) and "未知行业" in _text(r)
    r = client.post("/reference/experts/new", data=dict(bad, expertise=["equipment", "automotive"]))
    assert r.status_code == 302
    page = _text(client.get(r.headers["Location"]))
    assert "一次性密码" in page and "宁波市" in page
    r = client.post("/reference/experts/expert-zj-2/conflicts", data={"csrf_token": token,
                                                                      "enterprise": "91330100MA2B000019"})
    assert r.status_code == 422 and 'value="91330100MA2B000019"' in _text(r)
    r = client.post("/reference/experts/expert-zj-2/conflicts", data={"csrf_token": token, "soe_group": "sinopec",
                                                                      "note": "曾任职"})
    assert r.status_code == 302
    assert db.session.scalar(select(ExpertConflict.soe_group_key)) == "sinopec"
    assert "中国石油化工集团有限公司" in _text(client.get("/reference/experts/expert-zj-2"))
    r = client.post("/reference/experts/expert-zj-2/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 302
    listing = _text(client.get("/reference/experts?active=0"))
    assert "expert-zj-2" in listing and "expert-7" not in listing
    assert "expert-zj-2" not in _text(client.get("/reference/experts?industry=electronics"))
    assert client.get("/reference/experts/acme").status_code == 404  # not an expert


def test_quota_inputs_and_campaigns_as_json(app):
    from tests.security.helpers import api_token

    client = fresh_client(app)
    admin = api_token(client, "admin")
    items = client.get("/api/v1/quota-inputs", headers=admin).get_json()["items"]
    assert len(items) == 32 and {i["code"] for i in items if "iva_rank_2024" in i["missing"]} >= {"320000"}
    r = client.put("/api/v1/quota-inputs/320000", headers=admin, json={"iva_rank_2024": 3})
    assert r.status_code == 422 and r.get_json()["errors"] == {
        "iva_rank_2024_source": "required: where the figure comes from"}
    r = client.put("/api/v1/quota-inputs/320000", headers=admin,
                   json={"iva_rank_2024": 3, "iva_rank_2024_source": "国家统计局 2024"})
    assert r.status_code == 200 and r.get_json()["excellent_quota"]["quota"] == 40
    r = client.put("/api/v1/quota-inputs/320000", headers=admin, json=["not", "an", "object"])
    assert r.status_code == 422
    assert client.put("/api/v1/quota-inputs/320000", headers=api_token(client, "zj-reviewer"),
                      json={"iva_rank_2024": 1, "iva_rank_2024_source": "x"}).status_code == 403
    camps = client.get("/api/v1/campaigns", headers=admin).get_json()["items"]
    assert [c["year"] for c in camps][:2] == [2026, 2025]
    assert client.get("/api/v1/campaigns", headers=api_token(client, "auditor")).status_code == 403
