"""`audit verify --replay` passes on every case after the step-data migration (issue 15, "Done when").

Cases are built the way they existed before migration 0018: they run on versions of the four shipped diagrams
without `outputs` (every form field process data) whose gateways read the shared `decision` again, and their
per-step rows (`case_steps`) are deleted. Then the commands an operator runs, through the Flask CLI:
`flask cases migrate-step-data` (the step rows rebuilt from history; running cases moved to the newest version
where `workflows.migration.plan` allows, the others kept on theirs with the reason) and `flask audit verify --replay`
(every chain, every step's digest): exit 0 on every case. The cases then go on, on the version each ended up on,
and replay still verifies."""
import re

import pytest
from sqlalchemy import delete, select
from sqlalchemy import text as sa_text

from app.extensions import db
from app.models import Case, CaseEvent, CaseStep, SystemEvent
from app.services import audit, clock, processes, steps
from app.uow import unit_of_work
from tests.api.test_advanced import DEPTS, complete, my_task, status
from tests.api.test_advanced import application as advanced_form
from tests.api.test_excellent import application as excellent_form
from tests.api.test_lighthouse import lighthouse_form
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT
from workflows.instance import Instance

KEYS = ("basic_self_assessment", "advanced_certification", "excellent_national_review", "lighthouse_cultivation")
_OUTPUTS = re.compile(rb'\s*<spiffworkflow:property name="outputs" value="[^"]*"\s*/>')
_NAMED = re.compile(rb"<bpmn:conditionExpression>\w+_decision ==")


def before_step_data(xml: bytes) -> bytes:
    """The diagram as shipped before per-step data: no task declares `outputs` (so every field of a form is process
    data, as it was) and every gateway condition reads the shared `decision` instead of the named variable."""
    old = _NAMED.sub(b"<bpmn:conditionExpression>decision ==", _OUTPUTS.sub(b"", xml))
    assert b'name="outputs"' not in old and b"_decision ==" not in old
    return old


def _events(case_id: int) -> list[str]:
    return list(db.session.scalars(select(CaseEvent.element).where(
        CaseEvent.case_id == case_id, CaseEvent.action == "task.completed").order_by(CaseEvent.seq)))


def _process_data(case_id: int) -> dict:
    case = db.session.get(Case, case_id)
    return Instance.load(case.state, processes.version_info(case.process_version_id).bundle).case_data()


def _version(case_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Case, case_id).process_version_id


def _start(client, h, tier) -> int:
    r = client.post("/api/v1/cases", json={"tier": tier, "campaign": 2026}, headers=h)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


@pytest.fixture
def pre_0018_cases(client, auth_headers):
    """Cases on the pre-step-data diagrams at every kind of point a running case can be at, plus closed ones,
    with their step rows gone. Returns {name: case_id} and the old and shipped versions per diagram."""
    shipped = {key: processes.latest_version(key) for key in KEYS}
    with unit_of_work():
        old = {key: processes.deploy(key, before_step_data(shipped[key].bpmn_xml), None,
                                     message="the diagram before per-step data") for key in KEYS}
    assert all(old[k].id != shipped[k].id for k in KEYS)
    h = auth_headers
    prov, sd = h("zj-reviewer"), h("sd-reviewer")
    c: dict[str, int] = {}
    # basic: a draft; one waiting for its review; one returned and waiting for the factory again; one certified
    c["basic_draft"] = _start(client, h("acme"), "basic")
    c["basic_review"] = _start(client, h("hz-precision"), "basic")
    complete(client, h("hz-precision"), my_task(client, h("hz-precision"), c["basic_review"])["id"], GOOD_ASSESSMENT)
    c["basic_returned"] = _start(client, h("qingdao-home"), "basic")
    complete(client, h("qingdao-home"), my_task(client, h("qingdao-home"), c["basic_returned"])["id"],
             GOOD_ASSESSMENT)
    complete(client, sd, my_task(client, sd, c["basic_returned"])["id"],
             {"decision": "return", "review_comment": "请补充佐证材料"})
    c["basic_certified"] = _start(client, h("ningbo-parts"), "basic")
    complete(client, h("ningbo-parts"), my_task(client, h("ningbo-parts"), c["basic_certified"])["id"],
             GOOD_ASSESSMENT)
    complete(client, prov, my_task(client, prov, c["basic_certified"])["id"],
             {"decision": "approve", "review_comment": "同意"})
    # basic, rewound: the review's "return" taken back by an administrator, the review waits again
    sp, sp_rev = h("sinopec-plant"), h("sinopec-reviewer")
    c["basic_rewound"] = _start(client, sp, "basic")
    complete(client, sp, my_task(client, sp, c["basic_rewound"])["id"], GOOD_ASSESSMENT)
    complete(client, sp_rev, my_task(client, sp_rev, c["basic_rewound"])["id"],
             {"decision": "return", "review_comment": "误退回"})
    review_seq = db.session.scalar(select(CaseEvent.seq).where(
        CaseEvent.case_id == c["basic_rewound"], CaseEvent.element == "organizer_review"))
    with unit_of_work():
        audit.rewind(user("admin"), c["basic_rewound"], review_seq, "审核意见填错，重新审核", clock.now())
    # advanced: one waiting for its preliminary review, one in 联审 with two departments' opinions in
    sinopec = h("sinopec-ningbo")
    c["advanced_review"] = _start(client, sinopec, "advanced")
    complete(client, sinopec, my_task(client, sinopec, c["advanced_review"])["id"],
             advanced_form(client, sinopec, c["advanced_review"]))
    ent = h("ningbo-parts")
    c["advanced_joint"] = _start(client, ent, "advanced")
    complete(client, ent, my_task(client, ent, c["advanced_joint"])["id"], advanced_form(client, ent,
                                                                                        c["advanced_joint"]))
    complete(client, prov, my_task(client, prov, c["advanced_joint"])["id"],
             {"decision": "approve", "review_comment": "材料齐全"})
    for dept in ("ndrc", "data"):
        dh = h(DEPTS[dept])
        complete(client, dh, my_task(client, dh, c["advanced_joint"])["id"],
                 {"decision": "reject" if dept == "data" else "approve", "comment": f"{dept} 意见"})
    # excellent: waiting for the recommender; lighthouse: an application in draft, its form saved
    hz = h("hz-precision")
    c["excellent_recommender"] = _start(client, hz, "excellent")
    complete(client, hz, my_task(client, hz, c["excellent_recommender"])["id"],
             excellent_form(client, hz, c["excellent_recommender"]))
    qd = h("qingdao-home")
    c["lighthouse_draft"] = _start(client, qd, "lighthouse")
    lighthouse_form(client, qd, c["lighthouse_draft"])  # its evidence uploaded, nothing submitted
    assert status(client, sd, c["lighthouse_draft"]) == "draft"

    for name, cid in c.items():
        assert _version(cid) == old[processes_key(name)].id, name
    # the old way: every field of a form is process data, and the gateway read the shared `decision`
    assert status(client, prov, c["basic_certified"]) == "certified"
    data = _process_data(c["basic_certified"])
    assert data["decision"] == "approve" and data["review_comment"] == "同意" and "organizer_decision" not in data
    ids = list(c.values())
    with unit_of_work():  # as before migration 0018: no step rows
        db.session.execute(delete(CaseStep).where(CaseStep.case_id.in_(ids)))
    assert not db.session.scalars(select(CaseStep.id).where(CaseStep.case_id.in_(ids))).first()
    return c, old, shipped


def processes_key(name: str) -> str:
    return {"basic": KEYS[0], "advanced": KEYS[1], "excellent": KEYS[2], "lighthouse": KEYS[3]}[name.split("_")[0]]


def test_replay_verifies_every_case_after_the_step_data_migration(app, client, auth_headers, pre_0018_cases):
    c, old, _shipped = pre_0018_cases
    runner = app.test_cli_runner()
    sync = runner.invoke(args=["bpmn", "sync"])  # the shipped diagrams (`outputs`, named decisions) are the newest
    assert sync.exit_code == 0, sync.output
    newest = {key: processes.latest_version(key) for key in KEYS}
    assert all(newest[k].id != old[k].id and b'name="outputs"' in newest[k].bpmn_xml for k in KEYS)

    out = runner.invoke(args=["cases", "migrate-step-data"])
    assert out.exit_code == 0, out.output
    text = out.output
    # every completed step of every case is its own row again
    for name, cid in c.items():
        assert [s.element for s in steps.for_case(cid)] == _events(cid), name
    moved = {int(m) for m in re.findall(r"^case (\d+): moved from version", text, re.M)}
    kept = dict((int(m), why) for m, why in re.findall(r"^case (\d+): stays on version \d+: (.+)$", text, re.M))
    # running cases that had not passed a decision gateway move to the newest version ...
    # (a rewound review's step is kept, marked as the abandoned branch)
    assert [s.abandoned for s in steps.for_case(c["basic_rewound"])] == [False, True]
    for name in ("basic_draft", "basic_review", "basic_rewound", "advanced_review", "excellent_recommender",
                 "lighthouse_draft"):
        assert c[name] in moved, (name, text)
        assert _version(c[name]) == newest[processes_key(name)].id, name
    # ... those past one stay on theirs, the reason said; a closed case is not touched
    for name in ("basic_returned", "advanced_joint"):
        assert c[name] in kept and kept[c[name]].strip(), (name, text)
        assert _version(c[name]) == old[processes_key(name)].id, name
    assert c["basic_certified"] not in moved | set(kept)
    assert _version(c["basic_certified"]) == old[KEYS[0]].id
    event = db.session.scalar(select(SystemEvent).where(SystemEvent.action == "cases.step_data_migrated")
                              .order_by(SystemEvent.seq.desc()))
    assert {m["case_id"] for m in event.data["moved"]} == moved
    assert {k["case_id"] for k in event.data["kept"]} == set(kept)

    verify = runner.invoke(args=["audit", "verify", "--replay"])
    assert verify.exit_code == 0, verify.output
    total = db.session.scalar(select(db.func.count(Case.id)))
    assert f"{total} chain(s) checked, 0 broken" in verify.output, verify.output

    # the cases go on: a moved one routes on its named output, a kept one on the old shared `decision`
    h, prov, sd = auth_headers, auth_headers("zj-reviewer"), auth_headers("sd-reviewer")
    complete(client, prov, my_task(client, prov, c["basic_review"])["id"],
             {"decision": "approve", "review_comment": "同意"})
    assert status(client, prov, c["basic_review"]) == "certified"
    complete(client, sp_rev := h("sinopec-reviewer"), my_task(client, sp_rev, c["basic_rewound"])["id"],
             {"decision": "approve", "review_comment": "重新审核，同意"})
    assert status(client, sp_rev, c["basic_rewound"]) == "certified"
    qd = h("qingdao-home")
    complete(client, qd, my_task(client, qd, c["basic_returned"])["id"], GOOD_ASSESSMENT)
    complete(client, sd, my_task(client, sd, c["basic_returned"])["id"],
             {"decision": "approve", "review_comment": "补充后同意"})
    assert status(client, sd, c["basic_returned"]) == "certified"
    rev = h("sinopec-reviewer")
    complete(client, rev, my_task(client, rev, c["advanced_review"])["id"], {"decision": "approve"})
    assert status(client, rev, c["advanced_review"]) == "approved"
    for dept in ("finance", "sasac", "samr"):
        dh = h(DEPTS[dept])
        complete(client, dh, my_task(client, dh, c["advanced_joint"])["id"],
                 {"decision": "approve", "comment": f"{dept} 同意"})
    complete(client, prov, my_task(client, prov, c["advanced_joint"], "certifier_decision")["id"],
             {"decision": "reject", "decision_comment": "数据管理部门意见未整改"})
    assert status(client, prov, c["advanced_joint"]) == "rejected"
    for name in ("basic_review", "basic_returned", "basic_rewound", "advanced_review", "advanced_joint"):
        assert [s.element for s in steps.for_case(c[name])] == _events(c[name]), name
        again = runner.invoke(args=["audit", "verify", str(c[name]), "--replay"])
        assert again.exit_code == 0, (name, again.output)
    # a second run writes and moves nothing
    again = runner.invoke(args=["cases", "migrate-step-data"])
    assert again.exit_code == 0 and "0 step record(s) written" in again.output, again.output
    assert "0 case(s) moved" in again.output, again.output
    assert _version(c["basic_returned"]) == old[KEYS[0]].id
    # and the moved basic case routed on its named output: the old shared name is not in its data
    data = _process_data(c["basic_review"])
    assert data["organizer_decision"] == "approve" and "review_comment" not in data


def test_an_existing_database_upgrades_through_the_step_data_migration(tmp_path):
    """`flask db upgrade` from before migration 0018 on a database that holds data: migration 0020 copied
    `campaigns` in SQLite batch mode and its DROP TABLE failed on the deadlines referring to it (foreign keys on)."""
    from flask_migrate import upgrade

    from app import create_app
    from tests.admin.test_bpmn_sync import _forget_caches

    application = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}", "TESTING": True,
                              "SECRET_KEY": "x", "UPLOAD_DIR": str(tmp_path / "uploads")})
    _forget_caches()
    try:
        with application.app_context():
            upgrade(revision="0016")
            db.session.execute(sa_text("INSERT INTO campaigns (id, year, name, branch_industries) "
                                       "VALUES (1, 2026, '2026年度', '[]')"))
            db.session.execute(sa_text("INSERT INTO campaign_deadlines (id, campaign_id, tier, application_deadline) "
                                       "VALUES (1, 1, 'excellent', '2027-07-16')"))
            db.session.commit()
            upgrade(revision="heads")
            row = db.session.execute(sa_text("SELECT panel_min_mean, panel_min_approval_pct, "
                                             "xpcc_recommends_lighthouse FROM campaigns WHERE id = 1")).one()
            assert tuple(row) == (60, 60, 0)  # the defaults of the campaign rules
            assert db.session.execute(sa_text("SELECT count(*) FROM campaign_deadlines")).scalar() == 1
            db.session.remove()
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
        _forget_caches()
