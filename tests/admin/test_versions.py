"""Versions and migration of running cases through the services and the API (issue 5)."""

from datetime import timedelta

from sqlalchemy import select

from app.config import ROOT
from app.errors import ServiceError
from app.extensions import db
from app.models import Case, CaseEvent, HumanTask
from app.services import case_migrations, cases, clock, processes, replay, tasks, versions
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT

BASIC = (ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes()
KEY = "basic_self_assessment"


def _deploy(xml: bytes, message="test", forms=None):
    with unit_of_work():
        v = versions.deploy(user("admin"), KEY, xml, message, forms)
        return v.version


def _case_waiting_for_review():
    with unit_of_work():
        case = cases.create_case(user("acme"), "basic", 2026)
    (t,) = cases.open_tasks(db.session.get(Case, case.id))
    with unit_of_work():
        tasks.complete(user("acme"), t.id, GOOD_ASSESSMENT)
    (review,) = cases.open_tasks(db.session.get(Case, case.id))
    return case.id, review


def test_api_validate_returns_problems_by_element(client, auth_headers):
    admin = auth_headers("admin")
    bad = BASIC.replace(b'<spiffworkflow:property name="due" value="P15D" />',
                        b'<spiffworkflow:property name="due" value="15 days" />')
    bad = bad.replace(b'value="basic_review.json"', b'value="nope.json"')
    r = client.post(f"/api/v1/process-models/{KEY}/validate", data=bad, headers=admin,
                    content_type="application/xml")
    assert r.status_code == 200
    errors = r.get_json()["errors"]
    assert "organizer_review" in {e["element"] for e in errors}  # and the gateway reading its missing fields
    assert any("nope.json" in e["message"] for e in errors) and any("ISO-8601" in e["message"] for e in errors)
    ok = client.post(f"/api/v1/process-models/{KEY}/validate", json={"bpmn": BASIC.decode()}, headers=admin)
    assert ok.get_json() == {"ok": True, "errors": []}
    assert client.post(f"/api/v1/process-models/{KEY}/validate", data=BASIC,
                       headers=auth_headers("auditor")).status_code == 403


def test_condition_must_read_provided_data():
    xml = BASIC.replace(b'decision == "approve"', b'verdict == "approve"')
    assert xml != BASIC
    problems = versions.validate(user("admin"), KEY, xml)
    assert any("verdict" in p["message"] and p["element"] for p in problems), problems


def test_api_deploy_refuses_unsupported_element_naming_it(client, auth_headers):
    xml = BASIC.replace(b'<bpmn:endEvent id="end_certified"', b'<bpmn:endEvent id="end_certified"', 1)
    link = b'<bpmn:intermediateThrowEvent id="jump"><bpmn:linkEventDefinition name="x" /></bpmn:intermediateThrowEvent>'
    xml = xml.replace(b"</bpmn:process>", link + b"</bpmn:process>", 1)
    r = client.post(f"/api/v1/process-models/{KEY}/versions", data=xml, headers=auth_headers("admin"),
                    content_type="application/xml")
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["element"] == "jump"
    assert "bpmn:intermediateThrowEvent jump: link events" in r.get_json()["errors"][0]["message"]


def test_list_get_diff_rollback(client, auth_headers):
    v2 = _deploy(BASIC.replace(b'value="P15D"', b'value="P10D"'), "shorter review",
                 forms={"basic_review.json": {**processes.latest_version(KEY).forms["basic_review.json"],
                                              "properties": {
                                                  **processes.latest_version(KEY).forms["basic_review.json"]
                                                  ["properties"], "extra_note": {"type": "string"}}}})
    assert v2 == 2
    h = auth_headers("auditor")
    models = client.get("/api/v1/process-models", headers=h).get_json()["items"]
    basic = next(m for m in models if m["key"] == KEY)
    assert basic["latest"]["version"] == 2 and basic["latest"]["author"] == "admin"
    listed = client.get(f"/api/v1/process-models/{KEY}/versions", headers=h).get_json()
    assert [i["version"] for i in listed["items"]] == [2, 1]
    assert listed["items"][0]["message"] == "shorter review"
    one = client.get(f"/api/v1/process-models/{KEY}/versions/1", headers=h).get_json()
    assert one["bpmn_xml"].startswith("<?xml") and "basic_review.json" in one["forms"]
    d = client.get(f"/api/v1/process-models/{KEY}/diff?from=1&to=2", headers=h).get_json()
    (changed,) = d["elements"]["changed"]
    assert changed["id"] == "organizer_review" and changed["type"] == "bpmn:userTask"
    assert changed["changes"] == {"property due": {"from": "P15D", "to": "P10D"}}
    assert d["forms"]["changed"]["basic_review.json"]["added"] == ["extra_note"]
    assert client.get(f"/api/v1/process-models/{KEY}/versions/9", headers=h).status_code == 404
    assert client.get(f"/api/v1/process-models/{KEY}/versions", headers=auth_headers("acme")).status_code == 403
    # rollback: version 1's content as version 3
    assert client.post(f"/api/v1/process-models/{KEY}/rollback", json={"version": 1}, headers=h).status_code == 403
    r = client.post(f"/api/v1/process-models/{KEY}/rollback", json={"version": 1}, headers=auth_headers("admin"))
    assert r.status_code == 201
    assert r.get_json()["version"] == 3
    assert r.get_json()["content_hash"] == one["content_hash"]
    again = client.post(f"/api/v1/process-models/{KEY}/rollback", json={"version": 1},
                        headers=auth_headers("admin"))
    assert again.status_code == 200 and again.get_json()["version"] == 3
    assert processes.version_for_tier("basic").version == 3  # new cases use the newest


def test_migration_dry_run_moves_and_back_keeping_draft_and_due():
    case_id, review = _case_waiting_for_review()
    with unit_of_work():
        tasks.save_draft(user("zj-reviewer"), review.id, {"review_comment": "half written"})
    due_before = review.due_at
    clock.get_clock().advance(days=3)
    renamed = BASIC.replace(b'value="P15D"', b'value="P10D"').replace("组织单位审核".encode(), "组织单位复核".encode())
    v2 = _deploy(renamed)
    plan = case_migrations.dry_run(user("admin"), KEY, v2)
    item = next(i for i in plan["items"] if i["case_id"] == case_id)
    assert item["ok"] and item["version"] == 1 and item["waiting"] == ["organizer_review"]
    out = case_migrations.migrate_bulk(user("admin"), KEY, v2, [case_id], clock.now(), unit_of_work)
    assert out["failed"] == [] and out["migrated"][0]["to"] == 2
    case = db.session.get(Case, case_id)
    db.session.refresh(case)
    assert processes.version_info(case.process_version_id).version == 2
    (row,) = cases.open_tasks(case)
    assert row.draft == {"review_comment": "half written"} and row.due_at == due_before
    assert row.title == "组织单位审核" or row.id == review.id  # the inbox row was kept
    ev = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                            .order_by(CaseEvent.seq.desc())).first()
    assert ev.action == "case.migrated" and ev.data["from"]["version"] == 1 and ev.data["to"]["version"] == 2
    # reversible
    back = case_migrations.migrate_bulk(user("admin"), KEY, 1, [case_id], clock.now(), unit_of_work)
    assert back["failed"] == [] and back["migrated"][0]["to"] == 1
    db.session.refresh(case)
    assert processes.version_info(case.process_version_id).version == 1
    # the case goes on and finishes on its version
    (row,) = cases.open_tasks(case)
    assert row.draft == {"review_comment": "half written"}
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), row.id, {"decision": "approve", "review_comment": "ok"})
    db.session.refresh(case)
    assert case.status == "certified"


def test_migration_refused_when_the_waiting_task_is_gone():
    case_id, _review = _case_waiting_for_review()
    xml = BASIC.replace(b'"organizer_review"', b'"organizer_check"').replace(b">organizer_review<",
                                                                             b">organizer_check<")
    v2 = _deploy(xml)
    plan = case_migrations.dry_run(user("admin"), KEY, v2)
    item = next(i for i in plan["items"] if i["case_id"] == case_id)
    assert not item["ok"]
    assert any("organizer_review is waiting and does not exist" in r for r in item["reasons"]), item
    out = case_migrations.migrate_bulk(user("admin"), KEY, v2, [case_id], clock.now(), unit_of_work)
    assert out["migrated"] == [] and out["failed"][0]["case_id"] == case_id
    assert db.session.get(Case, case_id).process_version_id == versions.get(KEY, 1).id


def test_replay_of_a_migrated_case_is_right_or_stops_clearly():
    case_id, _review = _case_waiting_for_review()
    v2 = _deploy(BASIC.replace(b'value="P15D"', b'value="P10D"'))
    case_migrations.migrate_bulk(user("admin"), KEY, v2, [case_id], clock.now(), unit_of_work)
    case = db.session.get(Case, case_id)
    try:
        out, rows = replay.replay_case(case, None, check_all=True)
    except ServiceError as exc:
        assert exc.status == 409 and "case.migrated" in exc.message
    else:
        assert rows[-1].action == "case.migrated" and out.inst is not None


def test_only_admin_writes_readers_read(client, auth_headers):
    for name, status in (("auditor", 200), ("miit-1", 200), ("zj-reviewer", 403), ("acme", 403)):
        assert client.get("/api/v1/process-models", headers=auth_headers(name)).status_code == status
    r = client.get(f"/api/v1/process-models/{KEY}/migration?to=1", headers=auth_headers("auditor"))
    assert r.status_code == 403
    r = client.post(f"/api/v1/process-models/{KEY}/migration", json={"to": 1}, headers=auth_headers("auditor"))
    assert r.status_code == 403
    assert db.session.scalar(select(HumanTask).limit(1)) is None


def test_form_only_change_migrates():
    case_id, _review = _case_waiting_for_review()
    form = dict(processes.latest_version(KEY).forms["basic_review.json"])
    form["properties"] = {**form["properties"], "site_visit": {"type": "boolean"}}
    v2 = _deploy(BASIC, "form only", forms={"basic_review.json": form})
    assert versions.diff(user("admin"), KEY, 1, v2)["elements"] == {"added": [], "removed": [], "changed": []}
    item = next(i for i in case_migrations.dry_run(user("admin"), KEY, v2)["items"] if i["case_id"] == case_id)
    assert item["ok"] and item["changed"] == []
    out = case_migrations.migrate_bulk(user("admin"), KEY, v2, [case_id], clock.now(), unit_of_work)
    assert out["failed"] == []
    case = db.session.get(Case, case_id)
    db.session.refresh(case)
    assert "site_visit" in processes.version_info(case.process_version_id).forms["basic_review.json"]["properties"]


def test_hostile_uploads_change_nothing(client, auth_headers):
    admin = auth_headers("admin")
    before = len(versions.list_versions(user("admin"), KEY)["items"])
    big = b"<a>" + b" " * (50 * 1024 * 1024) + b"</a>"
    for url in (f"/api/v1/process-models/{KEY}/versions", f"/api/v1/process-models/{KEY}/validate"):
        r = client.post(url, data=big, headers=admin, content_type="application/xml")
        assert r.status_code in (413, 422), r.status_code
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b"<definitions>&lol2;</definitions>")
    r = client.post(f"/api/v1/process-models/{KEY}/versions", data=bomb, headers=admin,
                    content_type="application/xml")
    assert r.status_code == 422 and "DTD" in r.get_json()["errors"][0]["message"]
    script = BASIC.replace(b'decision == "approve"', b'().__class__.__base__.__subclasses__()')
    r = client.post(f"/api/v1/process-models/{KEY}/versions", data=script, headers=admin,
                    content_type="application/xml")
    assert r.status_code == 422 and r.get_json()["errors"][0]["element"]
    assert len(versions.list_versions(user("admin"), KEY)["items"]) == before


def test_editor_validate_warns_about_case_rules_for_a_model_without_tier(app):
    from tests.security.helpers import browser_login, csrf, fresh_client

    client = fresh_client(app)
    assert browser_login(client, "admin").status_code == 302
    token = csrf(client, "/")
    xml = (ROOT / "tests" / "engine" / "data" / "timers.bpmn").read_bytes()
    r = client.post("/admin/processes/brand_new/validate", json={"bpmn": xml.decode()},
                    headers={"X-CSRFToken": token})
    out = r.get_json()
    assert r.status_code == 200 and out["ok"] is True, r.get_data(as_text=True)[:300]
    assert any(w["element"] == "report" and "form" in w["message"] for w in out["warnings"]), out
    r = client.post(f"/admin/processes/{KEY}/validate", json={"bpmn": BASIC.decode()}, headers={"X-CSRFToken": token})
    assert r.get_json() == {"ok": True, "errors": [], "warnings": []}


def test_timer_due_time_survives_a_service_migration(monkeypatch):
    from app.models import TimerRow

    xml = (ROOT / "tests" / "engine" / "data" / "timers.bpmn").read_bytes()
    xml = xml.replace(b'"2026-12-01T00:00:00+08:00"', b'"2026-01-01T00:00:00+08:00"')  # passed: straight to report
    with unit_of_work():
        processes.deploy("timer_case", xml, None, "v1")
    monkeypatch.setattr(processes, "version_for_tier", lambda tier: processes.latest_version("timer_case"))
    with unit_of_work():
        case_id = cases.create_case(user("acme"), "basic", 2026).id
    (row,) = db.session.scalars(select(TimerRow).where(TimerRow.case_id == case_id)).all()
    due = row.due_at
    assert row.element == "report_deadline" and due == clock.now() + timedelta(days=30)
    clock.get_clock().advance(days=10)  # the engine would restart the 30 days from here
    with unit_of_work():
        v2 = processes.deploy("timer_case", xml.replace(b'name="Report"', b'name="Report, revised"'), None, "v2")
        v2 = v2.version
    out = case_migrations.migrate_bulk(user("admin"), "timer_case", v2, [case_id], clock.now(), unit_of_work)
    assert out["failed"] == [], out
    db.session.expire_all()
    (row,) = db.session.scalars(select(TimerRow).where(TimerRow.case_id == case_id)).all()
    assert row.due_at == due and db.session.get(Case, case_id).next_timer_at == due
    (task,) = cases.open_tasks(db.session.get(Case, case_id))
    assert task.element == "report"
