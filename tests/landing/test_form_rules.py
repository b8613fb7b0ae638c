"""Task forms state their rules before anything is typed (lengths, the phone format, how many files, the upload's
types and size) and name the broken rule specifically after a submission (issue 15)."""
import re

import pytest

from app.services import form_rules
from tests.security.helpers import PASSWORDS, csrf, fresh_client


@pytest.fixture
def application_page(app):
    """ningbo-parts' advanced application task, as its page shows it."""
    web = fresh_client(app)
    web.post("/login", data={"username": "ningbo-parts", "password": PASSWORDS["ningbo-parts"],
                             "csrf_token": csrf(web)})
    r = web.post("/cases", data={"tier": "advanced", "campaign": "2026", "csrf_token": csrf(web, "/")})
    assert r.status_code == 302 and "/tasks/" in r.headers["Location"], r.headers.get("Location")
    return web, r.headers["Location"]


def rules_of(html: str, field: str) -> str:
    m = re.search(rf'<p class="help rules" id="f_{field}_rules">(.*?)</p>', html, re.S)
    assert m, field
    return m.group(1)


def test_rules_are_stated_up_front(application_page):
    web, url = application_page
    html = web.get(url).get_data(as_text=True)
    assert "电话号码：7至20位数字" in rules_of(html, "contact_phone")
    assert "4至200个字" in rules_of(html, "project_name")
    assert "至少1个文件" in rules_of(html, "materials") and "最多30个文件" in rules_of(html, "materials")
    assert "20至6000个字" in rules_of(html, "construction__rd_design")
    assert re.search(r'id="f_contact_phone"[^>]*aria-describedby="f_contact_phone_rules"', html)
    limits = re.search(r'<p class="help" id="upload-limits">(.*?)</p>', html).group(1)
    assert "PDF" in limits and "DOCX" in limits and "20 MB" in limits
    assert 'accept=".pdf,.png,.jpg,.jpeg,.xlsx,.docx"' in html
    # the diagram of the case with this step marked
    assert re.search(r'id="case-diagram-section"[^>]*data-current="application"', html), html


def test_broken_rules_get_specific_messages(application_page):
    web, url = application_page
    r = web.post(url, data={"action": "submit", "csrf_token": csrf(web, url), "project_name": "宁波示范智能工厂",
                            "contact_phone": "call me", "contact_name": "王五"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    phone = re.search(r'<p class="error" id="f_contact_phone_err" role="alert">(.*?)</p>', html).group(1)
    assert phone.startswith("不是有效的电话号码"), phone
    files = re.search(r'<p class="error" id="f_materials_err" role="alert">(.*?)</p>', html).group(1)
    assert "请至少附上1个文件" in files, files
    assert 'value="call me"' in html  # what was typed is kept


def test_every_pattern_of_the_shipped_forms_is_stated_in_words():
    import json
    from pathlib import Path

    patterns = set()
    for f in Path("bpmn/forms").glob("*.json"):
        patterns |= set(re.findall(r'"pattern":\s*("(?:[^"\\]|\\.)*")', f.read_text(encoding="utf-8")))
    assert {json.loads(p) for p in patterns} <= set(form_rules.PATTERN_HINTS)
