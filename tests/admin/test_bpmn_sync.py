"""`flask bpmn sync` (services/bpmn_sync.py) on a fresh database made here (migrated, nothing else: no user at
all): the shipped diagrams, forms and decision tables deployed by the system, once; a changed form or diagram file
in BPMN_DIR becomes a new version while a running case stays on its own; a refused file writes nothing."""
import json
import shutil

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import ROOT
from app.extensions import db
from app.models import Case, ProcessVersion, SystemEvent, User
from app.services import bpmn_sync, cases, demo, processes
from app.uow import unit_of_work
from workflows.parsing import SPEC_CACHE


def _forget_caches():
    """Version ids of the fresh database repeat those of the shared one: the per-id caches are emptied around."""
    SPEC_CACHE.clear()
    processes._infos.clear()
    processes._validators.clear()


@pytest.fixture
def fresh(tmp_path):
    from flask_migrate import upgrade

    shipped = tmp_path / "bpmn"
    shutil.copytree(ROOT / "bpmn", shipped)
    application = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
                              "TESTING": True, "SECRET_KEY": "x", "BPMN_DIR": str(shipped),
                              "UPLOAD_DIR": str(tmp_path / "uploads"), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    _forget_caches()
    with application.app_context():
        upgrade(revision="heads")
        db.session.remove()
    yield application, shipped
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    _forget_caches()


def _sync() -> dict:
    with unit_of_work():
        return {i["key"]: i for i in bpmn_sync.sync()}


def _events() -> list[SystemEvent]:
    return list(db.session.scalars(select(SystemEvent).order_by(SystemEvent.seq)))


def test_sync_on_an_empty_database_then_again_then_changed_files(fresh):
    application, shipped = fresh
    with application.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        first = _sync()
        assert set(first) == {"basic_self_assessment", "advanced_certification", "excellent_national_review",
                              "lighthouse_cultivation", "excellent_quota", "lighthouse_quota"}
        assert all(i["deployed"] and i["version"] == 1 for i in first.values())
        assert processes.version_for_tier("basic").model_key == "basic_self_assessment"
        synced = [e for e in _events() if e.action == "bpmn.synced"]
        assert len(synced) == 1 and synced[0].actor_id is None
        assert sorted(d["key"] for d in synced[0].data["deployed"]) == sorted(first)
        count = len(_events())

        again = _sync()
        assert not any(i["deployed"] for i in again.values())
        assert len(_events()) == count  # nothing deployed, nothing written
        assert db.session.scalar(select(func.count()).select_from(ProcessVersion)) == 4

        # the demo world on top (users, enterprises, campaigns): `flask demo` syncs the same way, deploying nothing
        with unit_of_work():
            demo.load_demo()
        assert db.session.scalar(select(func.count()).select_from(ProcessVersion)) == 4
        acme = db.session.scalar(select(User).where(User.username == "acme"))
        with unit_of_work():
            running = cases.create_case(acme, "basic", 2026).id
        v1 = processes.latest_version("basic_self_assessment")

        form = shipped / "forms" / "basic_self_assessment.json"
        schema = json.loads(form.read_text(encoding="utf-8"))
        schema["title"] = "基础级自评（2027年版）"
        form.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
        changed = _sync()
        assert changed["basic_self_assessment"] == {"kind": "process", "key": "basic_self_assessment",
                                                    "version": 2, "deployed": True}
        assert [k for k, i in changed.items() if i["deployed"]] == ["basic_self_assessment"]
        v2 = processes.latest_version("basic_self_assessment")
        assert v2.forms["basic_self_assessment.json"]["title"] == "基础级自评（2027年版）"
        assert bytes(v2.bpmn_xml) == bytes(v1.bpmn_xml)

        diagram = shipped / "basic_self_assessment.bpmn"
        diagram.write_bytes(diagram.read_bytes().replace(b'value="P15D"', b'value="P10D"'))
        (shipped / "lighthouse_quota.dmn").write_bytes((shipped / "lighthouse_quota.dmn").read_bytes() + b"\n")
        changed = _sync()
        assert {k: i["version"] for k, i in changed.items() if i["deployed"]} == {
            "basic_self_assessment": 3, "lighthouse_quota": 2}
        assert b"P10D" in bytes(processes.latest_version("basic_self_assessment").bpmn_xml)
        assert db.session.get(Case, running).process_version_id == v1.id  # the running case stays on its version
        last = _events()[-1]
        assert last.action == "bpmn.synced" and last.actor_id is None
        assert {d["key"]: d["version"] for d in last.data["deployed"]} == {"basic_self_assessment": 3,
                                                                           "lighthouse_quota": 2}


def test_cli_sync_reports_each_model_and_refuses_a_bad_file_whole(fresh):
    application, shipped = fresh
    runner = application.test_cli_runner()

    def invoke():  # the fresh application's context (this directory's fixtures hold the shared one open)
        with application.app_context():
            return runner.invoke(args=["bpmn", "sync"])

    out = invoke()
    assert out.exit_code == 0, out.output
    assert "basic_self_assessment: deployed as version 1" in out.output
    assert "excellent_quota: deployed as version 1" in out.output
    assert len(out.output.strip().splitlines()) == 6
    out = invoke()
    assert out.exit_code == 0 and "basic_self_assessment: unchanged, version 1" in out.output
    assert "deployed" not in out.output

    good = (shipped / "advanced_certification.bpmn").read_bytes()
    (shipped / "advanced_certification.bpmn").write_bytes(good.replace(b'value="P15D"', b'value="P9D"', 1)
                                                          if b'value="P15D"' in good else good + b"\n")
    (shipped / "basic_self_assessment.bpmn").write_bytes(
        (shipped / "basic_self_assessment.bpmn").read_bytes().replace(b'value="P15D"', b'value="fifteen days"'))
    out = invoke()
    assert out.exit_code == 1
    assert "basic_self_assessment.bpmn" in out.output and "fifteen days" in out.output
    with application.app_context():  # all or nothing: the changed advanced diagram was not deployed either
        assert processes.latest_version("advanced_certification").version == 1
        assert processes.latest_version("basic_self_assessment").version == 1
        assert [e.action for e in _events()].count("bpmn.synced") == 1
