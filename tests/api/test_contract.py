"""The public contract of DESIGN.md through the Flask client: a client that knows only that document."""
import io

from sqlalchemy import select

from app.extensions import db
from app.models import Case
from tests.factories import GOOD_ASSESSMENT


def test_token_and_me(client, auth_headers):
    assert client.post("/api/v1/auth/token", json={"username": "acme", "password": "nope"}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "ghost", "password": "x"}).status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer forged"}).status_code == 401
    me = client.get("/api/v1/me", headers=auth_headers("zj-reviewer")).get_json()
    assert me["role"] == "provincial_reviewer" and me["scope"] == "province:330000" and me["roles"]


def test_revoked_token_stops_working(client, auth_headers):
    h = auth_headers("acme")
    assert client.post("/api/v1/auth/revoke", headers=h).status_code == 200
    assert client.get("/api/v1/me", headers=h).status_code == 401


def test_expired_token_stops_working(client, auth_headers, clock):
    from datetime import timedelta

    h = auth_headers("acme")
    clock.at = clock.at + timedelta(hours=13)
    r = client.get("/api/v1/me", headers=h)
    assert r.status_code == 401 and r.get_json()["error"] == "unauthorized"


def test_basic_tier_through_the_api(client, auth_headers):
    ent, rev = auth_headers("acme"), auth_headers("zj-reviewer")
    r = client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026}, headers=ent)
    assert r.status_code == 201, r.get_json()
    case = r.get_json()
    assert case["process"] == {"key": "basic_self_assessment", "version": 1} and case["status"] == "draft"
    task_id = case["open_tasks"][0]["id"]

    inbox = client.get("/api/v1/tasks", headers=ent).get_json()
    assert [t["id"] for t in inbox["items"]] == [task_id]
    assert set(inbox["items"][0]) >= {"id", "case_id", "name", "title", "role", "due_at", "claimed_by"}
    task = client.get(f"/api/v1/tasks/{task_id}", headers=ent).get_json()
    assert task["form"]["properties"]["maturity_level"]["minimum"] == 2

    up = client.post(f"/api/v1/cases/{case['id']}/attachments", headers=ent,
                     data={"file": (io.BytesIO(b"%PDF-1.4 evidence"), "../../etc/证明.pdf")},
                     content_type="multipart/form-data")
    assert up.status_code == 201, up.get_json()
    att = up.get_json()
    assert len(att["sha256"]) == 64 and att["size"] == 17 and att["filename"] == "证明.pdf"

    bad = client.post(f"/api/v1/tasks/{task_id}/complete", headers=ent,
                      json={"data": dict(GOOD_ASSESSMENT, maturity_level=1, evidence=[att["id"] + 999])})
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"maturity_level", "evidence"}

    ok = client.post(f"/api/v1/tasks/{task_id}/complete", headers=ent,
                     json={"data": dict(GOOD_ASSESSMENT, evidence=[att["id"]])})
    assert ok.status_code == 200, ok.get_json()
    assert client.post(f"/api/v1/tasks/{task_id}/complete", headers=ent,
                       json={"data": GOOD_ASSESSMENT}).status_code == 409

    review = client.get("/api/v1/tasks", headers=rev).get_json()["items"][0]
    assert review["case_id"] == case["id"] and review["due_at"]
    assert client.post(f"/api/v1/tasks/{review['id']}/claim", headers=rev).status_code == 200
    assert client.post(f"/api/v1/tasks/{review['id']}/complete", headers=rev,
                       json={"data": {"decision": "approve"}}).status_code == 200
    final = client.get(f"/api/v1/cases/{case['id']}", headers=ent).get_json()
    assert final["status"] == "certified" and final["open_tasks"] == []

    history = client.get(f"/api/v1/cases/{case['id']}/events", headers=ent).get_json()["events"]
    assert [e["action"] for e in history] == ["case.created", "attachment.uploaded", "task.completed",
                                              "task.claimed", "task.completed", "case.closed"]
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(history, history[1:], strict=False))

    dl = client.get(f"/api/v1/attachments/{att['id']}", headers=rev)
    assert dl.status_code == 200 and dl.data == b"%PDF-1.4 evidence"


def test_scope_is_enforced(client, auth_headers):
    case = client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026},
                       headers=auth_headers("acme")).get_json()
    task_id = case["open_tasks"][0]["id"]
    other = auth_headers("sd-reviewer")
    assert client.get(f"/api/v1/cases/{case['id']}", headers=other).status_code == 404
    assert client.get(f"/api/v1/tasks/{task_id}", headers=other).status_code == 404
    assert client.post(f"/api/v1/tasks/{task_id}/complete", headers=other,
                       json={"data": GOOD_ASSESSMENT}).status_code == 404
    assert client.get("/api/v1/tasks", headers=other).get_json()["total"] == 0
    assert client.get("/api/v1/cases", headers=other).get_json()["total"] == 0
    same_province = auth_headers("zj-reviewer")
    assert client.get(f"/api/v1/cases/{case['id']}", headers=same_province).status_code == 200
    r = client.post(f"/api/v1/tasks/{task_id}/complete", headers=same_province, json={"data": GOOD_ASSESSMENT})
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    assert client.get(f"/api/v1/cases/{case['id']}", headers=auth_headers("miit-1")).status_code == 200
    assert client.get(f"/api/v1/cases/{case['id']}", headers=auth_headers("qingdao-home")).status_code == 404


def test_bad_requests_get_json_errors(client, auth_headers):
    ent = auth_headers("acme")
    r = client.post("/api/v1/cases", json={"tier": "gold", "campaign": 2026}, headers=ent)
    assert r.status_code == 422 and set(r.get_json()) >= {"error", "message", "errors"}
    r = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent)
    assert r.status_code == 422 and r.get_json()["errors"]["rules"][0]["rule"] == "requires_basic"
    assert client.post("/api/v1/cases", data="not json", headers=ent).status_code == 422
    assert client.get("/api/v1/cases/999999", headers=ent).status_code == 404
    assert client.get("/api/v1/nothing-here", headers=ent).status_code == 404
    assert db.session.scalar(select(Case.id)) is None


def test_uploads_refuse_wrong_types_and_size(client, auth_headers, app):
    ent = auth_headers("acme")
    case = client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026}, headers=ent).get_json()
    url = f"/api/v1/cases/{case['id']}/attachments"
    r = client.post(url, headers=ent, data={"file": (io.BytesIO(b"MZ\x90\x00"), "tool.exe")})
    assert r.status_code == 415
    r = client.post(url, headers=ent, data={"file": (io.BytesIO(b"<html>"), "fake.pdf")})
    assert r.status_code == 415
    app.config["MAX_UPLOAD_MB"] = 1
    try:
        r = client.post(url, headers=ent, data={"file": (io.BytesIO(b"%PDF-" + b"0" * (1024 * 1024)), "big.pdf")})
        assert r.status_code == 413
    finally:
        app.config["MAX_UPLOAD_MB"] = 20


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in ("/auth/token", "/me", "/cases", "/cases/{id}", "/tasks", "/tasks/{id}", "/tasks/{id}/claim",
                 "/tasks/{id}/complete", "/cases/{id}/events", "/cases/{id}/attachments",
                 "/process-models/{key}/versions"):
        assert path in doc["paths"], path


def test_every_api_route_is_in_the_openapi_document(app, client):
    """A new endpoint without its entry fails here (the fuzzing in tests/security reads the same document)."""
    import re

    doc = client.get("/api/v1/openapi.json").get_json()

    def norm(path):
        return re.sub(r"\{\w+\}", "{}", path)

    documented = {(norm(p), m.upper()) for p, ops in doc["paths"].items() for m in ops}
    routes = {(norm(re.sub(r"<(?:\w+:)?\w+>", "{}", r.rule.removeprefix("/api/v1"))), m)
              for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")
              for m in r.methods - {"HEAD", "OPTIONS"}}
    missing = routes - documented - {("/openapi.json", "GET")}
    assert not missing, sorted(missing)
    assert not documented - routes, sorted(documented - routes)  # nothing documented that does not exist


def test_deploy_is_admin_only_and_names_bad_elements(client, auth_headers):
    xml = b"""<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
      id="d" targetNamespace="x"><bpmn:process id="p" isExecutable="true">
      <bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>
      <bpmn:scriptTask id="evil"><bpmn:incoming>f</bpmn:incoming><bpmn:outgoing>g</bpmn:outgoing>
        <bpmn:script>import os</bpmn:script></bpmn:scriptTask>
      <bpmn:endEvent id="e"><bpmn:incoming>g</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="evil"/>
      <bpmn:sequenceFlow id="g" sourceRef="evil" targetRef="e"/>
      </bpmn:process></bpmn:definitions>"""
    assert client.post("/api/v1/process-models/x/versions", data=xml,
                       headers=auth_headers("zj-reviewer")).status_code == 403
    r = client.post("/api/v1/process-models/x/versions", data=xml, headers=auth_headers("admin"))
    assert r.status_code == 422
    assert [e["element"] for e in r.get_json()["errors"]] == ["evil"]
