"""Every browser form, fuzzed (issue 17 item 10): garbage in each field answers 2xx/3xx/4xx, never 5xx.

The pages each demo user reaches from the URL map (GET routes without arguments, and those with `<int:...>` ids
filled with the ids of the demo world and of a few cases made here) are crawled; every `<form method="post">` found
is posted once per field with that field set to each garbage value (the other fields as the page filled them, the
CSRF token valid). The logout and session-ending forms are left out (they would end the crawl's own session). The
figures of forms and calls are printed (run with -s)."""
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest

from tests.security.helpers import browser_login, fresh_client

GARBAGE = ["", "x" * 5000, str(10**22), "-1", str(2**31), str(2**63), "²", "abc", "\x00", "<script>alert(1)</script>",
           "' OR 1=1 --", "1e309", "\u202e"]
USERS = ("admin", "zj-admin", "zj-reviewer", "sinopec-reviewer", "miit-1", "acme", "expert-7", "auditor")
SKIP_ACTIONS = ("/logout", "/revoke", "/language")
CALLS = {"forms": 0, "calls": 0}


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(f"\nbrowser form fuzzing: {CALLS['forms']} forms, {CALLS['calls']} posts, none answered 5xx")


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self.links, self._form = [], set(), None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.add(a["href"])
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": {}, "multipart": "multipart" in
                          (a.get("enctype") or "")}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select") and a.get("name"):
            kind = (a.get("type") or "").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                self._form["fields"].setdefault(a["name"], None)
                return
            self._form["fields"][a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _pages(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        if not rule.arguments:
            yield rule.rule
        elif all(f"<int:{a}>" in rule.rule for a in rule.arguments):
            for n in (1, 2, 3):
                path = rule.rule
                for a in rule.arguments:
                    path = path.replace(f"<int:{a}>", str(n))
                yield path


def _crawl(app, web):
    seen, forms = set(), {}
    queue = list(_pages(app))
    while queue and len(seen) < 400:
        path = queue.pop(0)
        if path in seen or any(s in path for s in ("/export", ".xlsx", ".bpmn", ".json", "/attachments/")):
            continue
        seen.add(path)
        r = web.get(path)
        if r.status_code != 200 or "text/html" not in r.content_type:
            continue
        parser = _Forms()
        parser.feed(r.get_data(as_text=True))
        for form in parser.forms:
            action = urlparse(urljoin(path, form["action"] or path)).path
            if any(s in action for s in SKIP_ACTIONS):
                continue
            forms.setdefault((action, tuple(sorted(form["fields"]))), (path, form))
        for href in parser.links:
            u = urlparse(urljoin(path, href))
            if not u.netloc and u.path.startswith("/") and u.path not in seen and len(queue) < 1000:
                queue.append(u.path + (f"?{u.query}" if u.query else ""))
    return forms


@pytest.fixture
def cases(client, auth_headers):
    """A case with an open enterprise task (acme) and one with an open reviewer task (the SOE group's)."""
    from tests.api.test_advanced import application, complete, my_task

    acme = auth_headers("acme")
    assert client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026}, headers=acme).status_code == 201
    ent = auth_headers("sinopec-ningbo")
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()["id"]
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))


@pytest.mark.parametrize("username", USERS)
def test_every_browser_form_survives_garbage(app, cases, username):
    if True:
        web = fresh_client(app)
        assert browser_login(web, username).status_code == 302
        forms = _crawl(app, web)
        assert forms, username
        for (action, _fields), (page, form) in forms.items():
            CALLS["forms"] += 1
            token = form["fields"].get("csrf_token")
            names = [n for n in form["fields"] if n != "csrf_token"] or ["unexpected"]
            for name in names:
                for value in GARBAGE:
                    data = {k: v for k, v in form["fields"].items() if v is not None}
                    data[name] = value
                    data["csrf_token"] = token
                    r = web.post(action, data=data)
                    CALLS["calls"] += 1
                    assert r.status_code < 500, (username, page, action, name, value, r.status_code)
                    if r.status_code == 302 and "/login" in r.headers.get("Location", ""):
                        browser_login(web, username)  # a form that ended the session (a password change)
                        token = re.search(r'name="csrf_token" value="([^"]+)"',
                                          web.get(page).get_data(as_text=True) or "")
                        token = token.group(1) if token else data["csrf_token"]
