"""Issue 17 item 1 through the product's door: an administrator deploys a diagram whose gateway condition burns CPU
inside builtins (or allocates through a method called on its type); the reviewer's completion answers 422 naming
the element within the limit, nothing is written, the server keeps answering and the task can still be completed
once a harmless version is deployed."""
import time

import pytest
from sqlalchemy import select

from app.config import ROOT
from app.extensions import db
from app.models import Case, CaseEvent, Incident
from tests.incidents.helpers import case_waiting_for_review

BASIC = (ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes()
KEY = "basic_self_assessment"
HOSTILE = {
    "cpu inside builtins": b"sum(map(sum, [range(10**6)] * 10**6)) == 0 and organizer_decision == &quot;approve&quot;",
    "memory through a type": b"len(str.ljust('', 10**10)) == 0 and organizer_decision == &quot;approve&quot;",
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_condition_is_stopped_within_the_limit_and_holds_the_case(client, auth_headers, kind):
    admin = auth_headers("admin")
    hostile = BASIC.replace(b'organizer_decision == "approve"', HOSTILE[kind])
    r = client.post(f"/api/v1/process-models/{KEY}/versions", data=hostile, headers=admin,
                    content_type="application/xml")
    assert r.status_code == 201, r.get_json()
    case_id, review_id = case_waiting_for_review()
    events = db.session.scalar(select(CaseEvent.id).where(CaseEvent.case_id == case_id).order_by(
        CaseEvent.id.desc()).limit(1))
    reviewer = auth_headers("zj-reviewer")
    start = time.monotonic()
    r = client.post(f"/api/v1/tasks/{review_id}/complete", json={"data": {"decision": "approve", "comment": "ok"}},
                    headers=reviewer)
    elapsed = time.monotonic() - start
    # the case is held at its last good state and an incident names the limit (issue 18): nothing of the step
    assert r.status_code == 409 and r.get_json()["error"] == "held", (r.status_code, r.get_json())
    assert elapsed < 2.0 + 1.5
    db.session.rollback()
    incident = db.session.get(Incident, r.get_json()["errors"]["incident"])
    assert incident.case_id == case_id and incident.element == "organizer_review", incident.message
    assert "review_decision" in incident.message or "flow_approve" in incident.message, incident.message
    assert "limit" in incident.message or "memory" in incident.message, incident.message
    written = db.session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id,
                                                                CaseEvent.id > events)).all()
    assert written == ["incident.opened"]  # the step itself wrote nothing
    assert db.session.get(Case, case_id).status == "in_review"  # where it was before the step
    # the server (this worker) still answers, and an ordinary request completes
    assert client.get("/api/v1/me", headers=reviewer).status_code == 200
    r = client.post(f"/api/v1/process-models/{KEY}/versions", data=BASIC, headers=admin,
                    content_type="application/xml")
    assert r.status_code == 201


def test_huge_diagram_refused_quickly_with_the_setting_named(client, auth_headers, app):
    from bench.validation import chained_gateways

    xml = chained_gateways(8000)  # 24,005 elements, 3.4 MB (under the 5 MB body limit)
    start = time.monotonic()
    r = client.post(f"/api/v1/process-models/{KEY}/validate", data=xml, headers=auth_headers("admin"),
                    content_type="application/xml")
    elapsed = time.monotonic() - start
    assert r.status_code in (200, 422), r.status_code
    body = r.get_json()
    problems = body.get("errors") or body.get("problems") or []
    assert any("MAX_DIAGRAM_ELEMENTS" in p["message"] for p in problems), body
    assert elapsed < 5
    old = app.config.get("MAX_DIAGRAM_ELEMENTS")
    app.config["MAX_DIAGRAM_ELEMENTS"] = 30_000
    try:
        r = client.post(f"/api/v1/process-models/{KEY}/versions", data=xml, headers=auth_headers("admin"),
                        content_type="application/xml")
        assert r.status_code == 422 and "too deep" in str(r.get_json()), r.get_json()
    finally:
        app.config["MAX_DIAGRAM_ELEMENTS"] = old
