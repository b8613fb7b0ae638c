"""Issue 15 defect 5 at the HTML level: on every page of every role (tests/pages/walk.py), each form that posts to
an irreversible endpoint asks first: the form or its submitting button carries data-confirm (confirm.js), and the
editors' Deploy buttons do too. The browser test (tests/browser/test_issue15_ui.py) shows the dialog itself."""

import re
from html.parser import HTMLParser

from tests.pages.walk import load_sample_cases, pages

# form actions that cannot be taken back (and the task form's submit, which has no action attribute)
IRREVERSIBLE = re.compile(
    r"/rollback$|/migration$|/rewind$|/admin/users/\d+/(active|reset-password)$|/revoke$"
    r"|^/inbox/bulk$|^/notices/\d+$|/import/commit$|/experts/[^/]+/active$|/conflicts/\d+/delete$"
    r"|/incidents/\d+/skip$"
)


class _Forms(HTMLParser):
    """Forms with their action, own data-confirm and their buttons' (value, data-confirm); loose buttons by id."""

    def __init__(self):
        super().__init__()
        self.forms, self.buttons, self._form = [], {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {
                "action": a.get("action"),
                "id": a.get("id"),
                "method": (a.get("method") or "get").lower(),
                "confirm": a.get("data-confirm"),
                "buttons": [],
            }
            self.forms.append(self._form)
        elif tag == "button":
            if self._form is not None and a.get("type", "submit") == "submit":
                self._form["buttons"].append((a.get("value"), a.get("data-confirm"), a.get("id")))
            if a.get("id"):
                self.buttons[a["id"]] = a

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def test_every_irreversible_form_asks_first(app):
    load_sample_cases()
    missing, seen = [], set()
    for who, url, _status, html in pages(app):
        p = _Forms()
        p.feed(html)
        for f in p.forms:
            if f["method"] != "post":
                continue
            path = re.sub(r"^https?://[^/]+", "", f["action"] or url.split("?")[0])
            if f["id"] == "task-form":
                asks = [c for v, c, _i in f["buttons"] if v == "submit"]
                if asks:
                    seen.add("task submit")
                    if not all(asks):
                        missing.append(f"{who} {url}: the task's submit button")
                continue
            if IRREVERSIBLE.search(path):
                seen.add(re.sub(r"\d+", "N", path))
                unasked = [i for v, c, i in f["buttons"] if not c] if not f["confirm"] else []
                # a reactivation is the reversal itself and needs no question
                unasked = [i for i in unasked if i not in ("reactivate",) and not _reactivates(html, f)]
                if unasked:
                    missing.append(f"{who} {url}: {path} {unasked}")
        for deploy in ("deploy", "dmn-deploy"):
            if deploy in p.buttons:
                seen.add(deploy)
                if not p.buttons[deploy].get("data-confirm"):
                    missing.append(f"{who} {url}: #{deploy}")
    assert not missing, "\n".join(missing)
    # the walk met each kind (a test that cannot fail is no test)
    for kind in (
        "task submit",
        "deploy",
        "dmn-deploy",
        "/audit/cases/N/rewind",
        "/admin/users/N/active",
        "/admin/users/N/reset-password",
        "/inbox/bulk",
        "/notices/N",
    ):
        assert kind in seen, (kind, sorted(seen))


def _reactivates(html: str, form: dict) -> bool:
    return (
        form["action"] is not None
        and form["action"].endswith("/active")
        and any(
            i in ("reactivate",) or (i == "toggle-active" and 'name="active" value="1"' in html)
            for _v, _c, i in form["buttons"]
        )
    )


def test_publishing_a_certified_list_asks_first(
        app, client, auth_headers):
    from tests.api.test_advanced import DEPTS, application, complete, my_task
    from tests.security.helpers import browser_login, fresh_client

    ent, prov = auth_headers("ningbo-parts"), auth_headers("zj-reviewer")  # a case waiting for the certified list
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent).get_json()["id"]
    complete(client, ent, my_task(client, ent, cid)["id"], application(client, ent, cid))
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    for u in DEPTS.values():
        complete(client, auth_headers(u), my_task(client, auth_headers(u), cid)["id"],
                 {"decision": "approve", "comment": "同意"})
    complete(client, prov, my_task(client, prov, cid, "certifier_decision")["id"],
             {"decision": "approve", "decision_comment": "认定"})
    web = fresh_client(app)
    browser_login(web, "zj-reviewer")
    p = _Forms()
    p.feed(web.get("/lists/?kind=certified&tier=advanced").get_data(as_text=True))
    (form,) = [f for f in p.forms if f["method"] == "post" and (f["action"] or "").endswith("/lists/")]
    assert [c for _v, c, _i in form["buttons"]] and all(c for _v, c, _i in form["buttons"]), form
    # (a recommendation list is confirmed on its own page first: tests/api/test_lists_web.py)
