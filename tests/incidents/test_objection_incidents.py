"""An objection delivered to a hostile diagram (issue 18 leftover): the objection path goes through
`messages.deliver_or_hold` like a published list. An enterprise lodges an objection against a case on the certified
list whose deployed version fails after the objection's catch event (a script that raises, or one the sandbox
stops): the objection is recorded, the objector gets the ordinary answer (201 / the notice page, never 500), the
case is held at its catch event with one incident naming the element, the other case on the list is untouched, and
the administrator's retry after a fix delivers the same objection message."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs import scheduler
from app.models import Case, CaseEvent, HumanTask, Incident, Objection, TimerRow
from app.services import clock, events, instances, lists, objections, replay, tasks, versions
from app.uow import unit_of_work
from tests.conftest import user
from tests.incidents.test_message_incidents import (
    ADVANCED,
    KEY,
    _actions,
    _approved,
    _deploy,
    _migrate,
    _second_member,
)
from tests.security.helpers import api_token, browser_login, csrf, fresh_client

CAUGHT = b'<bpmn:sequenceFlow id="f_objection" sourceRef="objection_received" targetRef="objection_review" />'
SCRIPTS = {
    # passes every deploy check; divides by zero when the script after the objection's catch event runs
    "a script that fails": "objections_seen = len(objection) // (len(objection) - len(objection))",
    # burns CPU inside builtins: the sandbox stops it at its limit (tests/security/test_sandbox_limits.py)
    "a script the sandbox stops": "objections_seen = sum(map(sum, [range(10**6)] * 10**6))",
}


def _hostile(script: str) -> bytes:
    """The advanced diagram with a script task between the objection's catch event and the objection review."""
    assert ADVANCED.count(CAUGHT) == 1
    xml = ADVANCED.replace(CAUGHT, (
        '<bpmn:sequenceFlow id="f_objection" sourceRef="objection_received" targetRef="count_objection" />'
        '<bpmn:scriptTask id="count_objection" name="登记异议"><bpmn:incoming>f_objection</bpmn:incoming>'
        f'<bpmn:outgoing>f_objection_counted</bpmn:outgoing><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'
        '<bpmn:sequenceFlow id="f_objection_counted" sourceRef="count_objection" targetRef="objection_review" />'
    ).encode())
    review_in = b"<bpmn:incoming>f_objection</bpmn:incoming>\n      <bpmn:outgoing>f_objection_done</bpmn:outgoing>"
    assert xml.count(review_in) == 1
    return xml.replace(review_in, review_in.replace(b"f_objection<", b"f_objection_counted<"))


@pytest.fixture(params=SCRIPTS, ids=["fails", "sandbox"])
def listed(request):
    """Two cases on one published certified list, both in their public notice; `bad` migrated to a version whose
    step after the objection's catch event fails."""
    good, bad = _approved("sinopec-ningbo"), _approved(_second_member())
    with unit_of_work():
        lists.publish_certified(user("sinopec-reviewer"), "advanced", 2026, [good, bad])
    hostile = _hostile(SCRIPTS[request.param])
    assert versions.validate(user("admin"), KEY, hostile) == []
    _migrate(bad, _deploy(hostile, "a step after the objection's catch event that fails"))
    db.session.expire_all()
    assert {db.session.get(Case, c).status for c in (good, bad)} == {"public_notice"}
    return good, bad, request.param


def _incident(case_id: int) -> Incident:
    (inc,) = db.session.scalars(select(Incident).where(Incident.case_id == case_id))
    return inc


def test_the_objection_stands_the_case_is_held_and_the_others_proceed(app, client, listed):
    good, bad, kind = listed
    before = _actions(bad)
    r = client.post(f"/api/v1/cases/{bad}/objections", headers=api_token(client, "acme"),
                    json={"reason": "该企业申报的产线于2025年已停产，材料与实际不符。"})
    assert r.status_code == 201, r.get_json()  # the objector's answer: the objection was taken
    body = r.get_json()
    assert body["state"] == "open" and body["case_id"] == bad
    db.session.expire_all()
    obj = db.session.get(Objection, body["id"])
    assert obj.lodged_by == user("acme").id and obj.reason.startswith("该企业申报的产线")
    # the case stays at its last good state, waiting at the objection's catch event, with one incident naming it
    assert db.session.get(Case, bad).status == "public_notice"
    inc = _incident(bad)
    assert (inc.kind, inc.element, inc.element_name, inc.state, inc.attempts) == (
        "message", "objection_received", "收到异议", "open", 1)
    assert inc.actor_id == user("acme").id
    assert inc.data == {"message": "objection_lodged",  # with the instant it counts from (the notice period)
                        "payload": {"objection_id": obj.id, "reason": obj.reason, "attachments": []},
                        "at": clock.now().isoformat()}
    assert "Traceback" not in inc.message and "count_objection" in inc.message, inc.message
    if kind == "a script the sandbox stops":
        assert "limit" in inc.message, inc.message
    assert _actions(bad)[len(before):] == ["incident.opened"]
    assert events.verify_case(bad)[0]
    # the other case on the list: untouched, and an objection to it goes its ordinary way
    assert db.session.get(Case, good).status == "public_notice"
    assert not db.session.scalars(select(Incident).where(Incident.case_id == good)).first()
    r = client.post(f"/api/v1/cases/{good}/objections", headers=api_token(client, "acme"),
                    json={"reason": "另一家企业的异议，正常受理。"})
    assert r.status_code == 201
    db.session.expire_all()
    assert db.session.get(Case, good).status == "objection_review"
    assert not db.session.scalars(select(Incident).where(Incident.case_id == good)).first()
    assert _incident(bad).attempts == 1  # nothing of the good case touched the held one


def test_the_objection_form_answers_the_objector_and_keeps_the_evidence(app, listed):
    _good, bad, _kind = listed
    web = fresh_client(app)
    assert browser_login(web, "acme").status_code == 302
    r = web.post(f"/notices/{bad}", data={
        "csrf_token": csrf(web, f"/notices/{bad}"), "reason": "该企业申报的产线于2025年已停产，材料与实际不符。",
        "evidence": [(io.BytesIO(b"%PDF-1.4 evidence"), "停产证明.pdf")]}, content_type="multipart/form-data")
    assert r.status_code == 302 and r.headers["Location"].endswith("/notices")
    page = web.get("/notices").get_data(as_text=True)
    assert "异议已提交" in page, page[:3000]  # the flash, in Chinese
    db.session.expire_all()
    (obj,) = db.session.scalars(select(Objection).where(Objection.case_id == bad))
    assert obj.state == "open" and len(obj.attachments) == 1
    assert _incident(bad).data["payload"]["attachments"] == obj.attachments
    assert db.session.get(Case, bad).status == "public_notice"


def test_the_retry_after_a_fix_delivers_the_same_objection(client, listed):
    _good, bad, _kind = listed
    r = client.post(f"/api/v1/cases/{bad}/objections", headers=api_token(client, "acme"),
                    json={"reason": "该企业申报的产线于2025年已停产，材料与实际不符。"})
    assert r.status_code == 201
    objection = r.get_json()
    db.session.expire_all()
    inc_id = _incident(bad).id
    admin = api_token(client, "admin")
    r = client.post(f"/api/v1/incidents/{inc_id}/retry", headers=admin)  # not fixed yet: held again, an attempt
    assert r.status_code == 409 and r.get_json()["error"] == "held", r.get_json()
    db.session.expire_all()
    assert (db.session.get(Incident, inc_id).state, db.session.get(Incident, inc_id).attempts) == ("open", 2)
    assert db.session.get(Case, bad).status == "public_notice"

    _migrate(bad, _deploy(ADVANCED, "the objection's step fixed"))
    r = client.post(f"/api/v1/incidents/{inc_id}/retry", headers=admin)
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    assert db.session.get(Incident, inc_id).state == "resolved"
    assert db.session.get(Case, bad).status == "objection_review"
    (received,) = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == bad,
                                                            CaseEvent.action == "message.received",
                                                            CaseEvent.element == "objection_lodged"))
    assert received.data == {"objection_id": objection["id"], "reason": objection["reason"], "attachments": []}
    assert received.actor_id == user("acme").id  # delivered as the objector's message, not the administrator's
    assert _actions(bad)[-2:] == ["message.received", "incident.resolved"]
    (review,) = db.session.scalars(select(HumanTask).where(HumanTask.case_id == bad, HumanTask.state == "open"))
    assert review.element == "objection_review"
    assert db.session.get(Objection, objection["id"]).state == "open"  # until the national reviewer decides
    assert events.verify_case(bad)[0]


def test_a_second_objection_while_held_is_recorded_and_the_retry_delivers_the_first(client, listed):
    """A second objection while the first one's delivery is held is not sent into the failing step again: it is
    recorded in the case's chain like one lodged during the review (the decision covers every open objection); the
    incident keeps the first objection, which the retry delivers."""
    _good, bad, _kind = listed
    lodged = []
    for reason in ("第一份异议：材料与实际不符。", "第二份异议：产线已停产。"):
        r = client.post(f"/api/v1/cases/{bad}/objections", headers=api_token(client, "acme"), json={"reason": reason})
        assert r.status_code == 201, r.get_json()
        lodged.append(r.get_json())
    db.session.expire_all()
    inc = _incident(bad)
    assert (inc.attempts, inc.state) == (1, "open")
    assert inc.data["payload"]["objection_id"] == lodged[0]["id"]
    assert _actions(bad)[-2:] == ["incident.opened", "objection.lodged"]
    (second,) = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == bad,
                                                          CaseEvent.action == "objection.lodged"))
    assert second.data["objection_id"] == lodged[1]["id"]
    assert db.session.get(Case, bad).status == "public_notice"

    _migrate(bad, _deploy(ADVANCED, "the objection's step fixed"))
    r = client.post(f"/api/v1/incidents/{inc.id}/retry", headers=api_token(client, "admin"))
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    assert db.session.get(Case, bad).status == "objection_review"
    (received,) = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == bad,
                                                            CaseEvent.action == "message.received",
                                                            CaseEvent.element == "objection_lodged"))
    assert received.data["objection_id"] == lodged[0]["id"]
    assert {o.state for o in db.session.scalars(select(Objection).where(Objection.case_id == bad))} == {"open"}
    assert events.verify_case(bad)[0]


def test_the_notice_period_does_not_end_the_case_while_its_objection_is_held(client, listed):
    """The objection came in time: a sweep after the notice period must not certify the held case past it (the
    other case's period ends as usual); the retry after the fix still delivers the objection."""
    good, bad, _kind = listed
    r = client.post(f"/api/v1/cases/{bad}/objections", headers=api_token(client, "acme"),
                    json={"reason": "该企业申报的产线于2025年已停产，材料与实际不符。"})
    assert r.status_code == 201
    db.session.expire_all()
    until = objections.notice_until(instances.load(bad))
    assert until == objections.notice_until(instances.load(good)) and until > clock.now()
    result = scheduler.sweep(until + timedelta(hours=1))
    db.session.expire_all()
    assert [c for c, _els in result.fired] == [good] and result.errors == []
    assert db.session.get(Case, good).status == "certified"
    assert db.session.get(Case, bad).status == "public_notice"  # held where it was, its timer too
    assert _incident(bad).state == "open"
    assert scheduler.sweep(until + timedelta(days=3)).fired == []  # no later sweep picks it up either

    _migrate(bad, _deploy(ADVANCED, "the objection's step fixed"))
    r = client.post(f"/api/v1/incidents/{_incident(bad).id}/retry", headers=api_token(client, "admin"))
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    assert db.session.get(Case, bad).status == "objection_review"
    assert not db.session.scalars(select(TimerRow).where(TimerRow.case_id == bad, TimerRow.incident_id.is_not(None))
                                  ).first()


def test_a_fix_after_the_notice_period_still_delivers_the_timely_objection(client, listed):
    """The administrator deploys the fix a day after the notice period ended: the migration does not certify the
    held case (the engine moves it at the objection's instant and its timers stay held), the retry delivers the
    objection as lodged in time, and replay re-runs every step to the recorded states."""
    _good, bad, _kind = listed
    r = client.post(f"/api/v1/cases/{bad}/objections", headers=api_token(client, "acme"),
                    json={"reason": "该企业申报的产线于2025年已停产，材料与实际不符。"})
    assert r.status_code == 201
    db.session.expire_all()
    lodged_at = _incident(bad).created_at
    until = objections.notice_until(instances.load(bad))
    before = clock.get_clock()
    clock.set_clock(clock.FixedClock(until + timedelta(days=1)))  # the administrator fixes it a day too late
    try:
        _migrate(bad, _deploy(ADVANCED, "the objection's step fixed"))
        db.session.expire_all()
        assert db.session.get(Case, bad).status == "public_notice"
        swept = scheduler.sweep(until + timedelta(days=1))  # the other case's notice ends; this one stays held
        assert [c for c, _e in swept.fired] == [_good] and swept.errors == []
        (migrated,) = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == bad,
                                                                CaseEvent.action == "case.migrated"
                                                                ).order_by(CaseEvent.seq.desc()).limit(1))
        assert migrated.replay["at"] == lodged_at.isoformat()
        r = client.post(f"/api/v1/incidents/{_incident(bad).id}/retry", headers=api_token(client, "admin"))
        assert r.status_code == 200, r.get_json()
        db.session.expire_all()
        assert db.session.get(Case, bad).status == "objection_review"
        (received,) = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == bad,
                                                                CaseEvent.action == "message.received",
                                                                CaseEvent.element == "objection_lodged"))
        assert received.at == until + timedelta(days=1) and received.replay["at"] == lodged_at.isoformat()
        assert not db.session.scalars(select(TimerRow).where(TimerRow.case_id == bad,
                                                             TimerRow.incident_id.is_not(None))).first()
        # dismissed: back in its notice, whose period is over by now: certified with the decision
        (review,) = db.session.scalars(select(HumanTask).where(HumanTask.case_id == bad, HumanTask.state == "open"))
        with unit_of_work():
            tasks.complete(user("miit-1"), review.id,
                           {"decision": "approve", "resolution": "经核查，异议不成立。"})
        db.session.expire_all()
        assert db.session.get(Case, bad).status == "certified"
        assert {o.state for o in db.session.scalars(select(Objection).where(Objection.case_id == bad))} == {
            "dismissed"}
    finally:
        clock.set_clock(before)
    assert events.verify_case(bad)[0]
    replayed, rows = replay.replay_case(db.session.get(Case, bad), None, check_all=True)
    assert replayed.verified >= len([r for r in rows if r.digest is not None]) and replayed.inst.completed
