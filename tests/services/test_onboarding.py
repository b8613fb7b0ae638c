"""Bulk onboarding (services/onboarding.py): basic cases opened in batches are the cases create_case opens."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from app.errors import Forbidden, Ineligible
from app.extensions import db
from app.jobs import onboarding as bulk
from app.models import Campaign, CampaignDeadline, Case, CaseEvent, Enterprise, HumanTask
from app.services import audit, cases, events, onboarding, tasks
from app.services.credit_code import with_check_char
from app.uow import unit_of_work
from tests.conftest import START, allow_event_writes, user
from tests.factories import GOOD_ASSESSMENT

ZJ = "330000"


@pytest.fixture
def factories():
    """Five more Zhejiang factories (Hangzhou, equipment, legal persons), removed again with their cases."""
    made = []
    with unit_of_work():
        for i in range(5):
            e = Enterprise(credit_code=with_check_char(f"91330100MC{i:07d}"), name=f"onboarding test {i}",
                           industry="equipment", province_code=ZJ, city_code="330100", legal_person=True,
                           declarations={})
            db.session.add(e)
            made.append(e)
    ids = [e.id for e in made]
    yield made
    db.session.rollback()
    allow_event_writes()
    mine = select(Case.id).where(Case.enterprise_id.in_(ids))
    db.session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(mine)))
    db.session.execute(delete(HumanTask).where(HumanTask.case_id.in_(mine)))
    db.session.execute(delete(Case).where(Case.enterprise_id.in_(ids)))
    db.session.execute(delete(Enterprise).where(Enterprise.id.in_(ids)))
    db.session.execute(db.text("DELETE FROM audit_maintenance"))
    db.session.commit()


def zhejiang_codes(soe: bool = True) -> list[str]:
    q = select(Enterprise.credit_code).where(Enterprise.province_code == ZJ)
    if not soe:
        q = q.where(Enterprise.soe_group_key.is_(None))
    return list(db.session.scalars(q.order_by(Enterprise.id)))


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Case, HumanTask, CaseEvent))


def basic_case_of(enterprise_id: int) -> Case:
    return db.session.scalar(select(Case).where(Case.enterprise_id == enterprise_id, Case.tier == "basic"))


def normalized(state: str, case_id_as: int) -> dict:
    """The instance without what differs by construction: the case id in the start data, the random task UUIDs and
    the wall-clock times (the digest's normalization: UUIDs by tree position)."""
    dct = json.loads(state)
    dct["tasks"][dct["root"]]["data"]["case_id"] = case_id_as
    return events.digest_of(dct)


def test_bulk_case_is_the_case_create_case_opens(app, factories):
    one, two = factories[0], factories[1]
    admin = user("admin")
    with unit_of_work():
        made = cases.create_case(admin, "basic", 2026, enterprise_id=one.id)
    res = bulk.open_basic(admin, 2026, credit_codes=[two.credit_code])
    assert (res.created, res.rows_written) == (1, 3)
    a, b = db.session.get(Case, made.id), basic_case_of(two.id)
    same = ("tier", "status", "province_code", "city_code", "soe_group_key", "process_version_id", "revisions",
            "event_seq", "lock_version", "next_timer_at", "created_by", "created_at", "updated_at", "closed_at",
            "campaign_id")
    assert {k: getattr(b, k) for k in same} == {k: getattr(a, k) for k in same}
    assert (b.status, b.lock_version, b.event_seq) == ("draft", 2, 1)
    # the same instance: equal after the case id and the random task UUIDs are set aside
    assert normalized(b.state, a.id) == normalized(a.state, a.id)
    assert json.loads(b.state)["tasks"][json.loads(b.state)["root"]]["data"]["case_id"] == b.id
    assert not set(json.loads(a.state)["tasks"]) & set(json.loads(b.state)["tasks"])  # fresh UUIDs per case
    # the same inbox row, in the enterprise's scope
    (ta,), (tb,) = cases.open_tasks(a), cases.open_tasks(b)
    cols = ("element", "title", "title_en", "form", "role", "state", "tier", "province_code", "city_code", "due_at",
            "created_at", "claimed_by", "draft")
    assert {k: getattr(tb, k) for k in cols} == {k: getattr(ta, k) for k in cols}
    assert (tb.scope, ta.scope) == (f"enterprise:{two.id}", f"enterprise:{one.id}")
    assert tb.task_uuid in json.loads(b.state)["tasks"]
    # the same event, chained, with the digest and the replay op events.append writes
    (ea,) = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == a.id))
    (eb,) = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == b.id))
    assert (eb.action, eb.seq, eb.actor_id, eb.prev_hash) == (ea.action, 1, ea.actor_id, events.GENESIS)
    assert eb.data == {**ea.data, "enterprise": two.credit_code}
    assert eb.state_hash == events.state_hash(b.state) and eb.digest == events.state_digest(b.state)
    assert eb.replay == {"op": "start", "data": {**ea.replay["data"], "case_id": b.id}}
    assert b.last_hash == eb.hash
    assert events.verify_case(b.id) == (True, None, None)
    assert audit.replay_all(b.id) == (True, None, None)
    db.session.remove()
    out = app.test_cli_runner().invoke(args=["audit", "verify", "--replay"])
    assert out.exit_code == 0, out.output
    assert "0 broken" in out.output


def test_rerun_is_idempotent_and_the_province_reviewer_opens_its_scope(factories):
    reviewer = user("zj-reviewer")
    first = bulk.open_basic(reviewer, 2026, province=ZJ, batch=3)
    plain = zhejiang_codes(soe=False)
    assert first.created == len(plain) and first.outside_scope == len(zhejiang_codes()) - len(plain) == 2
    assert first.batches == -(-len(zhejiang_codes()) // 3)
    before = counts()
    again = bulk.open_basic(reviewer, 2026, province=ZJ, batch=3)
    assert (again.created, again.skipped_existing, again.rows_written) == (0, len(plain), 0)
    assert counts() == before
    # the administrator opens the SOE group members' cases too, and skips what exists
    third = bulk.open_basic(user("admin"), 2026, province=ZJ)
    assert (third.created, third.skipped_existing) == (2, len(plain))
    assert {c.province_code for c in db.session.scalars(select(Case))} == {ZJ}
    assert db.session.scalar(select(func.count()).select_from(Case)) == len(zhejiang_codes())


def test_refused_for_a_reviewer_of_another_province(factories):
    sd = user("sd-reviewer")
    with pytest.raises(Forbidden):
        bulk.open_basic(sd, 2026, province=ZJ)
    with pytest.raises(Forbidden):  # a list naming another province's enterprises
        bulk.open_basic(sd, 2026, credit_codes=[factories[0].credit_code])
    with pytest.raises(Forbidden):
        bulk.open_basic(user("acme"), 2026, province=ZJ)
    assert counts() == (0, 0, 0)


def test_refused_after_the_application_deadline(factories):
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    with unit_of_work():
        db.session.add(CampaignDeadline(campaign_id=camp.id, tier="basic",
                                        application_deadline=(START - timedelta(days=2)).date()))
    try:
        with pytest.raises(Ineligible) as exc:
            bulk.open_basic(user("admin"), 2026, province=ZJ)
        assert exc.value.errors["rules"][0]["rule"] == "application_deadline"
        with pytest.raises(Ineligible):  # create_case applies the same rule
            cases.create_case(user("admin"), "basic", 2026, enterprise_id=factories[0].id)
        db.session.rollback()
        assert counts() == (0, 0, 0)
    finally:
        db.session.rollback()
        db.session.execute(delete(CampaignDeadline).where(CampaignDeadline.campaign_id == camp.id,
                                                          CampaignDeadline.tier == "basic"))
        db.session.commit()


def test_a_crash_in_the_second_batch_keeps_the_first_whole(factories):
    class Crash(Exception):
        pass

    def crash(result):
        if result.batches == 2:
            assert result.created == 8  # the second batch's rows are written, not committed
            raise Crash()

    with pytest.raises(Crash):
        bulk.open_basic(user("admin"), 2026, province=ZJ, batch=4, before_commit=crash)
    db.session.remove()
    assert counts() == (4, 4, 4)
    for case in db.session.scalars(select(Case)):
        assert len(cases.open_tasks(case)) == 1 and case.event_seq == 1
        assert events.verify_case(case.id) == (True, None, None)
    first_four = list(db.session.scalars(select(Enterprise.id).where(Enterprise.province_code == ZJ)
                                         .order_by(Enterprise.id).limit(4)))
    assert sorted(c.enterprise_id for c in db.session.scalars(select(Case))) == first_four
    # the re-run finishes the job
    res = bulk.open_basic(user("admin"), 2026, province=ZJ, batch=4)
    assert (res.created, res.skipped_existing) == (len(zhejiang_codes()) - 4, 4)


def test_the_enterprise_sees_and_completes_its_bulk_opened_self_assessment():
    acme = user("acme")
    bulk.open_basic(user("zj-reviewer"), 2026, credit_codes=[acme.enterprise.credit_code])
    rows, total = tasks.inbox(acme)
    assert total == 1 and rows[0].element == "self_assessment"
    with unit_of_work():
        tasks.complete(acme, rows[0].id, GOOD_ASSESSMENT)
    case = basic_case_of(acme.enterprise_id)
    assert case.status == "in_review"
    (review,) = cases.open_tasks(case)
    assert (review.role, review.scope) == ("provincial_reviewer", "province:330000")
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), review.id, {"decision": "approve", "review_comment": "符合"})
    case = db.session.get(Case, case.id)
    assert case.status == "certified"
    assert events.verify_case(case.id) == (True, None, None)
    assert audit.replay_all(case.id) == (True, None, None)


def test_a_start_that_depends_on_more_than_the_data_stops_the_bulk_path(app):
    """The template is checked against a real start: a script deriving a value from the data at start (here in a
    diagram parsed in memory, not deployed) makes the rendered state differ, and bulk creation refuses."""
    from pathlib import Path
    from types import SimpleNamespace

    from app.errors import Invalid
    from app.services.instances import CaseRecord
    from workflows.parsing import parse_bpmn

    xml = (Path(app.config["BPMN_DIR"]) / "basic_self_assessment.bpmn").read_text(encoding="utf-8")
    xml = xml.replace('<bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="self_assessment" />',
                      '<bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="derive" />'
                      '<bpmn:sequenceFlow id="flow_derive" sourceRef="derive" targetRef="self_assessment" />'
                      '<bpmn:scriptTask id="derive"><bpmn:incoming>flow_start</bpmn:incoming>'
                      '<bpmn:outgoing>flow_derive</bpmn:outgoing>'
                      '<bpmn:script>label = industry + " factory"</bpmn:script></bpmn:scriptTask>')
    xml = xml.replace("<bpmn:incoming>flow_start</bpmn:incoming>\n      <bpmn:incoming>flow_return",
                      "<bpmn:incoming>flow_derive</bpmn:incoming>\n      <bpmn:incoming>flow_return")
    info = SimpleNamespace(bundle=parse_bpmn(xml.encode()))
    rec = CaseRecord(id=7, enterprise_id=1, campaign_id=1, tier="basic", status="new", province_code=ZJ,
                     city_code=None, soe_group_key=None, process_version_id=1, state="", revisions=0, lock_version=1,
                     event_seq=0, last_hash=events.GENESIS, next_timer_at=None, created_by=None, created_at=START,
                     updated_at=START, closed_at=None)
    data = {"tier": "basic", "case_id": 7, "industry": "equipment"}
    template = onboarding._Template(info, list(data), rec, START)
    with pytest.raises(Invalid):
        template.check(rec, data, START)
    # the diagram as shipped passes the same check
    xml_ok = (Path(app.config["BPMN_DIR"]) / "basic_self_assessment.bpmn").read_bytes()
    info_ok = SimpleNamespace(bundle=parse_bpmn(xml_ok))
    onboarding._Template(info_ok, list(data), rec, START).check(rec, data, START)


def test_two_simultaneous_runs_open_each_case_once(app, factories):
    import threading

    barrier = threading.Barrier(2)
    created: list[int] = []

    def worker():
        with app.app_context():
            admin = user("admin")
            db.session.rollback()
            barrier.wait()
            try:
                created.append(bulk.open_basic(admin, 2026, province=ZJ, batch=2).created)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    db.session.expire_all()
    n = len(zhejiang_codes())
    assert len(created) == 2 and sum(created) == n
    per_enterprise = db.session.execute(select(Case.enterprise_id, func.count()).group_by(Case.enterprise_id)).all()
    assert len(per_enterprise) == n and {c for _e, c in per_enterprise} == {1}
    assert counts() == (n, n, n)


def test_cli_opens_and_prints_counts_and_rate(app, factories):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["cases", "open-basic", "--campaign", "2026", "--province", ZJ, "--batch", "4",
                              "--as", "zj-reviewer"])
    assert out.exit_code == 0, out.output
    n = len(zhejiang_codes(soe=False))
    batches = -(-len(zhejiang_codes()) // 4)  # SOE group members are read, then left to their group's reviewer
    assert f"opened {n} basic case(s) in campaign 2026 in {batches} batch(es)" in out.output
    assert "2 outside scope" in out.output and "cases/s" in out.output and f"{3 * n} rows" in out.output
    again = runner.invoke(args=["cases", "open-basic", "--campaign", "2026", "--as", "zj-reviewer"])
    assert again.exit_code == 0 and "opened 0 basic case(s)" in again.output
    refused = runner.invoke(args=["cases", "open-basic", "--campaign", "2026", "--province", ZJ, "--as", "sd-reviewer"])
    assert refused.exit_code == 1 and "own province" in refused.output
