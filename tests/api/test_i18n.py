"""The browser UI speaks Chinese first and English second: catalogs, the language switch, data values, dates."""
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from app.config import ROOT

CATALOGS = ROOT / "app" / "translations"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class _FreshContextClient(FlaskClient):
    """Each request in its own app context, as in production. The autouse database fixture keeps one app context
    open for the whole test, and a request reuses an open context of its app, so `g` (where Flask-Babel caches the
    locale and Flask-WTF the CSRF token) would otherwise outlive the request and hide a language switch."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    return _FreshContextClient(app, app.response_class, use_cookies=True)


def _csrf(client, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200
    m = TOKEN.search(page.get_data(as_text=True))
    assert m, f"no csrf_token on {path}"
    return m.group(1)


def _login(client, username: str = "acme", password: str = "acme-demo-2026") -> None:
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": _csrf(client)})
    assert r.status_code == 302, r.get_data(as_text=True)


def _catalog(lang: str):
    with open(CATALOGS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def test_login_page_is_chinese_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    assert "登录" in html
    assert "用户名" in html and "密码" in html
    assert "Log in" not in html


def test_language_switch_to_english_and_back(client):
    r = client.post("/lang/en", data={"csrf_token": _csrf(client), "next": "/login"})
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/login")
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in html
    assert "Log in" in html and "Username" in html
    assert "登录" not in html

    client.post("/lang/zh", data={"csrf_token": _csrf(client)})
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "登录" in html


def test_unknown_language_is_ignored(client):
    client.post("/lang/fr", data={"csrf_token": _csrf(client)})
    assert 'lang="zh-CN"' in client.get("/login").get_data(as_text=True)


def test_wrong_password_message_is_chinese(client):
    r = client.post("/login", data={"username": "acme", "password": "nope", "csrf_token": _csrf(client)})
    assert r.status_code == 401
    assert "用户名或密码错误" in r.get_data(as_text=True)


def test_home_shows_terms_in_chinese(client):
    _login(client)
    html = client.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    select = re.search(r'<select id="tier" name="tier">(.*?)</select>', html, re.DOTALL)
    assert select, html
    options = dict(re.findall(r'<option value="(\w+)">([^<]+)</option>', select.group(1)))
    assert options == {"basic": "基础级", "advanced": "先进级", "excellent": "卓越级", "lighthouse": "领航级"}
    assert "申报主体" in html  # acme's role in the header
    assert "我的申报" in html and "统一社会信用代码" in html  # an enterprise's home: its applications
    assert "enterprise" not in re.sub(r"<[^>]+>", "", html)  # no raw data value leaks into the text


def test_home_shows_terms_in_english(client):
    _login(client)
    client.post("/lang/en", data={"csrf_token": _csrf(client, "/")})
    html = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in html
    assert '<option value="basic">Basic</option>' in html
    assert '<option value="lighthouse">Lighthouse</option>' in html
    assert "My applications" in html


def _start_basic_case(client) -> int:
    r = client.post("/cases", data={"tier": "basic", "campaign": "2026", "csrf_token": _csrf(client, "/")})
    assert r.status_code == 302
    target = r.headers["Location"]
    m = re.search(r"/cases/(\d+)", target)
    if m:
        return int(m.group(1))
    assert "/tasks/" in target, target
    page = client.get(target).get_data(as_text=True)
    m = re.search(r'href="/cases/(\d+)"', page)
    assert m, page
    return int(m.group(1))


def test_case_page_in_chinese(client):
    _login(client)
    case_id = _start_basic_case(client)
    r = client.get(f"/cases/{case_id}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", html), html
    assert "基础级" in html
    assert "创建申报" in html  # the case.created event
    status = re.search(r'<dd id="case-status"[^>]*>([^<]+)</dd>', html)
    assert status and status.group(1) not in ("", "new", "draft", "in_review", "in_progress")
    assert "办理记录" in html


def test_case_page_in_english(client):
    _login(client)
    case_id = _start_basic_case(client)
    client.post("/lang/en", data={"csrf_token": _csrf(client, "/")})
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", html), html
    assert not re.search(r"\d{4}年", html)
    assert "Case created" in html and "Basic" in html


def test_every_chinese_message_is_translated():
    catalog = _catalog("zh")
    ids = [m.id for m in catalog if m.id]
    assert len(ids) > 50
    missing = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    assert missing == []
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert fuzzy == []


def test_catalogs_match_the_template():
    with open(CATALOGS / "messages.pot", "rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    for lang in ("zh", "en"):
        assert {m.id for m in _catalog(lang) if m.id} == template, lang


def test_placeholders_survive_translation():
    for lang in ("zh", "en"):
        for m in _catalog(lang):
            if m.id and m.string:
                assert sorted(re.findall(r"%\(\w+\)s", m.id)) == sorted(re.findall(r"%\(\w+\)s", m.string)), m.id
                assert "%" not in re.sub(r"%\(\w+\)s", "", m.string), m.id


def test_data_values_have_translations():
    zh = {m.id: m.string for m in _catalog("zh") if m.id}
    en = {m.id: m.string for m in _catalog("en") if m.id}
    values = (
        "enterprise", "provincial_reviewer", "co_department_reviewer", "soe_reviewer", "national_reviewer",
        "sasac_reviewer", "expert", "admin", "auditor",
        "basic", "advanced", "excellent", "lighthouse",
        "new", "draft", "in_review", "returned", "in_progress", "certified", "rejected", "withdrawn", "expired",
        "accepted", "closed", "cultivating",
        "open", "completed", "cancelled", "self_assessment", "imported",
        "case.created", "task.completed", "task.claimed", "task.released", "case.closed", "timer.fired",
        "attachment.uploaded", "system",
    )
    for v in values:
        assert zh.get(v), v
        if v != "system":
            assert en.get(v), v
    assert zh["provincial_reviewer"] == "省级工业和信息化主管部门"
    assert zh["in_review"] == "审核中"
    assert en["in_review"] == "In review"
    assert en["case.created"] == "Case created"


def test_every_status_a_diagram_sets_and_every_event_action_is_translated():
    """Derived from the shipped diagrams (the `status` property, wait_<status> events, end_<status> ends) and from
    the services' event actions, so a new status or action without a translation fails here."""
    root = Path(__file__).resolve().parents[2]
    statuses = set()
    for f in (root / "bpmn").glob("*.bpmn"):
        text = f.read_text(encoding="utf-8")
        statuses |= set(re.findall(r'name="status" value="([a-z_]+)"', text))
        statuses |= {s.removesuffix("_di") for s in re.findall(r'id="wait_([a-z_]+)"', text)}
        statuses |= set(re.findall(r'id="end_([a-z]+)', text))
    statuses -= {"progress", "reports"}  # end_progress_noted / end_reports_scheduled end side loops, not the case
    actions = set()
    for f in (root / "app" / "services").glob("*.py"):
        actions |= set(re.findall(r'"((?:task|case|timer|message|objection|attachment|expert|deadline|process|'
                                  r'decision_table)\.[a-z_]+)"', f.read_text(encoding="utf-8")))
    zh = {m.id: m.string for m in _catalog("zh") if m.id}
    assert len(statuses) > 15 and len(actions) > 10
    assert sorted(v for v in statuses | actions if not zh.get(v)) == []


def test_catalogs_exist_next_to_the_app():
    assert Path(CATALOGS / "zh" / "LC_MESSAGES" / "messages.po").is_file()
    assert Path(CATALOGS / "en" / "LC_MESSAGES" / "messages.po").is_file()
