"""Every main page, as each role sees it, in both languages: every form field has a label, every button a name,
every POST form its CSRF token, ids are unique, and the page says which language it is in. Parsed with lxml."""
import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from app.extensions import db
from app.models import Case, HumanTask, ProcessModel
from app.services import cases
from app.uow import unit_of_work
from tests.conftest import user
from tests.inbox.conftest import submitted_basic
from tests.security.helpers import PASSWORDS, csrf, fresh_client

UNLABELLED_OK = {"hidden", "submit", "button", "reset", "image"}
FIELDS = {"n": 0}  # how many fields were checked: the test fails if the pages had none to check


def _problems(text: str) -> list[str]:
    doc = lxml_html.fromstring(text)
    out = []
    ids = [e.get("id") for e in doc.iter() if isinstance(e.tag, str) and e.get("id")]
    out += [f"duplicate id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    labelled = {lab.get("for") for lab in doc.iter("label") if lab.get("for")}
    for el in doc.iter("input", "select", "textarea"):
        if el.tag == "input" and (el.get("type") or "text").lower() in UNLABELLED_OK:
            continue
        FIELDS["n"] += 1
        named = (el.get("id") in labelled or el.get("aria-label") or el.get("title")
                 or any(a.tag == "label" for a in el.iterancestors()))
        by = el.get("aria-labelledby")
        if by:
            named = named or all(doc.get_element_by_id(x, None) is not None for x in by.split())
        if not named:
            out.append(f"<{el.tag} name={el.get('name')!r} id={el.get('id')!r}> has no label")
    for b in doc.iter("button"):
        if not (b.text_content().strip() or b.get("aria-label") or b.get("title")):
            out.append(f"<button id={b.get('id')!r}> has no accessible name")
    for form in doc.iter("form"):
        if (form.get("method") or "get").lower() == "post":
            token = form.xpath(".//input[@name='csrf_token']/@value")
            if not token or not token[0]:
                out.append(f"POST form to {form.get('action')!r} without a CSRF token")
    return out


@pytest.fixture
def world():
    review = submitted_basic("acme")
    with unit_of_work():
        draft_case = cases.create_case(user("ningbo-parts"), "basic", 2026)
    draft_task = db.session.scalar(select(HumanTask.id).where(HumanTask.case_id == draft_case.id,
                                                              HumanTask.state == "open"))
    case = db.session.get(Case, review.case_id)
    model = db.session.scalar(select(ProcessModel).where(ProcessModel.key == "basic_self_assessment"))
    return {"review": review.id, "case": case.id, "enterprise": case.enterprise_id, "draft": draft_task,
            "ningbo_case": draft_case.id, "model": model.key}


def _pages(w) -> dict[str, list[str]]:
    return {
        "ningbo-parts": ["/", f"/tasks/{w['draft']}", f"/cases/{w['ningbo_case']}"],
        "acme": ["/", f"/cases/{w['case']}", f"/enterprises/{w['enterprise']}"],
        "zj-reviewer": ["/", "/inbox", "/inbox?state=completed", f"/tasks/{w['review']}", f"/cases/{w['case']}",
                        "/dashboard", "/lists/"],
        "admin": ["/admin/processes", f"/admin/processes/{w['model']}", f"/admin/processes/{w['model']}/edit",
                  f"/admin/processes/{w['model']}/migration", f"/admin/processes/{w['model']}/versions/1",
                  "/admin/processes/new?key=brand_new", "/admin/decision-tables",
                  "/admin/users/", "/admin/users/new", f"/admin/users/{user('zj-reviewer').id}", "/account"],
        "auditor": ["/audit/", "/audit/anchors", f"/audit/cases/{w['case']}", f"/audit/cases/{w['case']}/report"],
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_main_page_is_labelled_and_protected(app, world, lang):
    FIELDS["n"] = 0
    anonymous = fresh_client(app)
    anonymous.post(f"/lang/{lang}", data={"csrf_token": csrf(anonymous)})
    found = {}
    page = anonymous.get("/login").get_data(as_text=True)
    found["/login"] = _problems(page)
    checked = 1
    for username, paths in _pages(world).items():
        client = fresh_client(app)
        token = csrf(client)
        client.post(f"/lang/{lang}", data={"csrf_token": token})
        r = client.post("/login", data={"username": username, "password": PASSWORDS[username],
                                        "csrf_token": csrf(client)})
        assert r.status_code == 302, username
        for path in paths:
            r = client.get(path, follow_redirects=True)
            assert r.status_code == 200, (username, path, r.status_code)
            text = r.get_data(as_text=True)
            doc_lang = lxml_html.fromstring(text).get("lang") or ""
            assert doc_lang.startswith(lang), (username, path, doc_lang)
            found[f"{username} {path}"] = _problems(text)
            checked += 1
    bad = {k: v for k, v in found.items() if v}
    assert not bad, bad
    assert checked == 1 + sum(len(p) for p in _pages(world).values())
    assert FIELDS["n"] > 100, FIELDS  # the forms of the task pages, the inbox filters, the editors...


def test_the_checker_finds_what_it_looks_for():
    page = ('<html lang="zh"><body><form method="post"><input name="a" id="x"><select name="b"></select>'
            '<button></button><span id="x"></span></form></body></html>')
    found = _problems(page)
    assert "duplicate id 'x'" in found
    assert any("<input name='a'" in p for p in found) and any("<select name='b'" in p for p in found)
    assert any("no accessible name" in p for p in found)
    assert any("without a CSRF token" in p for p in found)
    ok = ('<html lang="zh"><body><form method="post"><input type="hidden" name="csrf_token" value="t">'
          '<label for="a">A</label><input id="a" name="a"><label>B <select name="b"></select></label>'
          '<button aria-label="go"></button></form></body></html>')
    assert _problems(ok) == []
