"""One scope rule for every path (issue 17 item 6): each case-reading path agrees with `scope.can_view_case`.

Two cases (an SOE group member's advanced case in its public notice, with a file; a provincial enterprise's open
basic case, with a file) are read by every demo user through every path that shows a case or part of one: the case
(API and page), its events, objections, replay, attachments (API and page), the audit pages, the case list, the
enterprise's page and API (its case history), and an objection posted to it. A case the user may not view answers
404 everywhere (or 403 where the user's role may not use the path at all) and appears in no list; a case the user
may view is never 404."""
import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Case, User
from app.services.scope import can_view_case
from tests.api.test_advanced import application as advanced_application
from tests.api.test_advanced import complete, my_task
from tests.security.helpers import PASSWORDS, browser_login, csrf, fresh_client


def _token(username):
    from app.services import auth
    from tests.conftest import user

    tok = auth.issue_token(user(username))
    db.session.commit()
    return {"Authorization": f"Bearer {tok}"}


@pytest.fixture
def world(app, client, auth_headers):
    soe_ent, soe = auth_headers("sinopec-ningbo"), auth_headers("sinopec-reviewer")
    a = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=soe_ent).get_json()["id"]
    complete(client, soe_ent, my_task(client, soe_ent, a)["id"], advanced_application(client, soe_ent, a))
    complete(client, soe, my_task(client, soe, a)["id"], {"decision": "approve"})
    web = fresh_client(app)
    browser_login(web, "sinopec-reviewer")
    r = web.post("/lists/", data={"csrf_token": csrf(web, "/lists/"), "kind": "certified", "tier": "advanced",
                                  "campaign": "2026", "case": str(a)})
    assert r.status_code == 302
    acme = auth_headers("acme")
    r = client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026}, headers=acme)
    assert r.status_code == 201, r.get_json()
    b = r.get_json()["id"]
    up = client.post(f"/api/v1/cases/{b}/attachments", headers=acme,
                     data={"file": (io.BytesIO(b"%PDF-1.4 b"), "b.pdf")})
    assert up.status_code == 201
    return a, b


def _visible(username, case_id):
    u = db.session.scalar(select(User).where(User.username == username))
    return can_view_case(u, db.session.get(Case, case_id))


def test_every_case_path_agrees_with_can_view_case(app, world):
    a, b = world
    with app.app_context():
        info = {c: (db.session.get(Case, c).enterprise_id, db.session.get(Case, c).status,
                    db.session.scalars(select(Attachment.id).where(Attachment.case_id == c)).all()) for c in (a, b)}
        users = sorted(PASSWORDS)
        visible = {(u, c): _visible(u, c) for u in users for c in (a, b)}
    # the demo covers both answers for both cases (else the test proves nothing)
    assert {visible[(u, a)] for u in users} == {True, False} and {visible[(u, b)] for u in users} == {True, False}
    assert visible[("sinopec-reviewer", a)] and not visible[("zj-reviewer", a)] and visible[("zj-reviewer", b)]
    problems = []
    for username in users:
        with app.app_context():
            h = _token(username)
        web = fresh_client(app)
        browser_login(web, username)
        api = fresh_client(app)
        listed = {row["id"] for row in api.get("/api/v1/cases?per_page=100", headers=h).get_json()["items"]}
        for case_id in (a, b):
            ent_id, status, files = info[case_id]
            seen = visible[(username, case_id)]
            paths = [("api", f"/api/v1/cases/{case_id}"), ("api", f"/api/v1/cases/{case_id}/events"),
                     ("api", f"/api/v1/cases/{case_id}/objections"), ("api", f"/api/v1/cases/{case_id}/replay?at=1"),
                     ("web", f"/cases/{case_id}"), ("web", f"/cases/{case_id}/diagram.bpmn"),
                     ("web", f"/audit/cases/{case_id}"), ("web", f"/audit/cases/{case_id}/report"),
                     ("web", f"/audit/cases/{case_id}/export.json")]
            paths += [("api", f"/api/v1/attachments/{f}") for f in files] + [("web", f"/attachments/{f}")
                                                                               for f in files]
            for kind, path in paths:
                r = api.get(path, headers=h) if kind == "api" else web.get(path)
                if seen and r.status_code == 404:
                    problems.append((username, path, "visible but 404"))
                if not seen and r.status_code not in (403, 404):
                    problems.append((username, path, f"not visible but {r.status_code}"))
                if not seen and r.status_code == 403 and path.startswith(("/api/v1/cases", "/cases", "/api/v1/att",
                                                                            "/attachments")):
                    problems.append((username, path, "not visible: 404 expected, got 403"))
            if (case_id in listed) != seen:
                problems.append((username, "/api/v1/cases", f"case {case_id} listed={case_id in listed}"))
            for kind, path in (("api", f"/api/v1/enterprises/{ent_id}"), ("web", f"/enterprises/{ent_id}")):
                r = api.get(path, headers=h) if kind == "api" else web.get(path)
                if r.status_code == 200:
                    shown = ({c["id"] for c in r.get_json()["cases"]} | {t["case_id"] for t in r.get_json()["tiers"]}
                             if kind == "api" else {case_id} if f"/cases/{case_id}\"" in r.get_data(as_text=True)
                             else set())
                    if (case_id in shown) and not seen:
                        problems.append((username, path, f"shows case {case_id} it may not view"))
                elif r.status_code not in (403, 404):
                    problems.append((username, path, r.status_code))
            if status not in ("public_notice", "objection_review"):  # a case in its notice is public
                r = api.post(f"/api/v1/cases/{case_id}/objections", headers=h, json={"reason": "公示异议：材料不实。"})
                if not seen and r.status_code != 404:
                    problems.append((username, f"POST objection {case_id}", f"not visible but {r.status_code}"))
                if not seen and case_id and status in r.get_data(as_text=True):
                    problems.append((username, f"POST objection {case_id}", "the status leaks"))
    assert not problems, "\n".join(map(str, problems))
    # a case in its public notice is public: anyone logged in (but the auditor) may object, even outside its scope
    assert info[a][1] == "public_notice" and not visible[("sd-reviewer", a)]
    with app.app_context():
        h = _token("sd-reviewer")
    r = fresh_client(app).post(f"/api/v1/cases/{a}/objections", headers=h, json={"reason": "公示异议：材料不实。"})
    assert r.status_code == 201, r.get_json()
