"""Campaign deadlines: batch expiry at the application deadline through one sweep; extensions for a tier, a
province or one case, which move the case data, the waiting timers and their rows, with the reason recorded."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from app.extensions import db
from app.jobs import scheduler
from app.models import CaseEvent
from app.services import cases
from app.uow import unit_of_work
from tests.api.test_advanced import complete, my_task, status
from tests.api.test_excellent import application
from tests.conftest import user
from tests.timers.helpers import case_status, count_events, timer_rows

# campaign 2026 (demo): applications until 2027-07-16, recommendations until 2027-07-30 (24:00 Asia/Shanghai)
APP_DEADLINE = datetime(2027, 7, 16, 16, 0, tzinfo=timezone.utc)
REC_DEADLINE = datetime(2027, 7, 30, 16, 0, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)


def excellent(username) -> int:
    with unit_of_work():
        return cases.create_case(user(username), "excellent", 2026).id


def submitted(client, auth_headers, username="hz-precision") -> int:
    h = auth_headers(username)
    r = client.post("/api/v1/cases", json={"tier": "excellent", "campaign": 2026}, headers=h)
    assert r.status_code == 201, r.get_json()
    cid = r.get_json()["id"]
    complete(client, h, my_task(client, h, cid)["id"], application(client, h, cid))
    return cid


def test_application_deadline_expires_every_unsubmitted_application_in_one_sweep(client, auth_headers):
    late = [excellent("hz-precision"), excellent("sinopec-plant")]
    with unit_of_work():
        other_tier = cases.create_case(user("qingdao-home"), "lighthouse", 2026).id
    for cid in late:
        assert timer_rows(cid) == [("application_deadline", APP_DEADLINE)]
    assert scheduler.sweep(APP_DEADLINE).count == 0  # 24:00 Shanghai itself is still the deadline day
    res = scheduler.sweep(APP_DEADLINE + SECOND)
    assert sorted(res.fired) == sorted([(cid, ["application_deadline"]) for cid in late + [other_tier]])
    for cid in late:
        assert case_status(cid) == "expired"
        assert count_events(cid, "timer.fired") == 1 and count_events(cid, "case.closed") == 1
    assert scheduler.sweep(APP_DEADLINE + 2 * SECOND).count == 0


def test_event_gateway_deadline_ends_a_case_left_off_the_list_as_not_recommended(client, auth_headers):
    """The recommendation deadline binds the recommender: a case it left off its frozen list is not recommended
    (rejected), never `expired` as if the enterprise had missed something (issue 16.2)."""
    cid = submitted(client, auth_headers)
    prov = auth_headers("zj-reviewer")
    complete(client, prov, my_task(client, prov, cid)["id"], {"decision": "approve"})
    assert timer_rows(cid) == [("list_deadline", REC_DEADLINE)]  # the timer branch of the event-based gateway
    res = scheduler.sweep(REC_DEADLINE + SECOND)
    assert res.fired == [(cid, ["list_deadline"])] and case_status(cid) == "rejected"


def extend(client, h, body, year=2026):
    return client.post(f"/api/v1/campaigns/{year}/deadlines/extend", json=body, headers=h)


def test_tier_wide_extension_moves_every_open_case_and_new_ones(api_client, api_headers):
    client, auth_headers = api_client, api_headers
    ids = [excellent("hz-precision"), excellent("sinopec-plant")]
    admin = auth_headers("admin")
    body = {"tier": "excellent", "application_deadline": "2027-07-23", "reason": "平台维护，申报顺延一周"}
    assert extend(client, auth_headers("zj-reviewer"), body).status_code == 403
    assert extend(client, admin, dict(body, application_deadline="2027-07-10")).status_code == 422  # earlier
    assert extend(client, admin, dict(body, reason=" ")).status_code == 422
    assert extend(client, admin, dict(body, application_deadline="2027-08-20")).status_code == 422  # after rec.
    r = extend(client, admin, body)
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["scope"] == "campaign" and out["affected"] == ids
    moved = APP_DEADLINE + timedelta(days=7)
    for cid in ids:
        assert timer_rows(cid) == [("application_deadline", moved)]
        ev = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == cid,
                                                       CaseEvent.action == "deadline.extended"))
        assert ev.data["reason"] == "平台维护，申报顺延一周" and ev.actor_id == user("admin").id
        assert ev.data["to"]["application_deadline_at"] == "2027-07-24T00:00:00+08:00"
    with unit_of_work():  # a case started after the extension runs on the new date
        late = cases.create_case(user("qingdao-home"), "lighthouse", 2026).id
    assert timer_rows(late) == [("application_deadline", APP_DEADLINE)]  # another tier: not extended
    assert scheduler.sweep(APP_DEADLINE + SECOND).fired == [(late, ["application_deadline"])]
    res = scheduler.sweep(moved + SECOND)
    assert sorted(c for c, _e in res.fired) == ids
    r = client.get(f"/api/v1/cases/{ids[0]}/events", headers=admin)
    assert [e["action"] for e in r.get_json()["events"]][-3:] == ["deadline.extended", "timer.fired", "case.closed"]


def test_province_extension_moves_only_that_province(api_client, api_headers):
    client, auth_headers = api_client, api_headers
    zj, sd = excellent("hz-precision"), excellent("sinopec-plant")
    db.session.execute(text("UPDATE cases SET province_code = '370000' WHERE id = :c"), {"c": sd})
    db.session.commit()  # the demo has one province with excellent candidates: this case stands for Shandong's
    r = extend(client, auth_headers("admin"), {"tier": "excellent", "province": "370000",
                                               "application_deadline": "2027-07-20",
                                               "recommendation_deadline": "2027-08-06", "reason": "山东暴雨"})
    assert r.status_code == 201 and r.get_json()["affected"] == [sd]
    assert timer_rows(zj) == [("application_deadline", APP_DEADLINE)]
    assert timer_rows(sd) == [("application_deadline", APP_DEADLINE + timedelta(days=4))]
    res = scheduler.sweep(APP_DEADLINE + SECOND)
    assert res.fired == [(zj, ["application_deadline"])]
    assert status(client, auth_headers("admin"), sd) == "draft"
    assert scheduler.sweep(APP_DEADLINE + timedelta(days=4, seconds=1)).fired == [(sd, ["application_deadline"])]


def test_case_extension_from_the_command_line(app, client, auth_headers):
    one, other = excellent("hz-precision"), excellent("sinopec-plant")
    runner = app.test_cli_runner()
    r = runner.invoke(args=["deadlines", "extend", "--campaign", "2026", "--tier", "excellent", "--case", str(one),
                            "--application-deadline", "2027-07-18", "--reason", "系统故障导致无法上传附件"])
    assert r.exit_code == 0, r.output
    assert f"(case): 1 case(s) moved: {one}" in r.output
    assert timer_rows(one) == [("application_deadline", APP_DEADLINE + timedelta(days=2))]
    assert timer_rows(other) == [("application_deadline", APP_DEADLINE)]
    bad = runner.invoke(args=["deadlines", "extend", "--campaign", "2026", "--tier", "excellent", "--case", str(one),
                              "--application-deadline", "2027-07-17", "--reason", "x", "--as", "zj-reviewer"])
    assert bad.exit_code == 1 and "administrator" in bad.output
    db.session.rollback()
    assert count_events(one, "deadline.extended") == 1 and count_events(other, "deadline.extended") == 0
