"""`flask bpmn validate FILE` and `flask bpmn deploy FILE`."""
from app.config import ROOT
from app.services import processes

BASIC = ROOT / "bpmn" / "basic_self_assessment.bpmn"


def test_validate_ok_and_problems(app, tmp_path):
    r = app.test_cli_runner().invoke(args=["bpmn", "validate", str(BASIC)])
    assert r.exit_code == 0 and "valid" in r.output
    bad = tmp_path / "basic_self_assessment.bpmn"
    bad.write_bytes(BASIC.read_bytes().replace(b'value="P15D"', b'value="fifteen days"'))
    r = app.test_cli_runner().invoke(args=["bpmn", "validate", str(bad)])
    assert r.exit_code == 1
    assert "organizer_review: due 'fifteen days' is not an ISO-8601 duration" in r.output


def test_deploy_new_version_then_unchanged(app, tmp_path):
    f = tmp_path / "cli_model.bpmn"
    f.write_bytes((ROOT / "tests" / "engine" / "data" / "timers.bpmn").read_bytes())
    r = app.test_cli_runner().invoke(args=["bpmn", "deploy", str(f), "--message", "from the CLI"])
    assert r.exit_code == 0, r.output
    assert "cli_model: deployed as version 1" in r.output
    assert processes.latest_version("cli_model").message == "from the CLI"
    r = app.test_cli_runner().invoke(args=["bpmn", "deploy", str(f)])
    assert "unchanged, still version 1" in r.output
    hostile = tmp_path / "x.bpmn"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    r = app.test_cli_runner().invoke(args=["bpmn", "deploy", str(hostile)])
    assert r.exit_code == 1 and "DTD" in r.output and "root:" not in r.output
