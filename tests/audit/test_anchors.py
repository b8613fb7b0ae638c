"""Anchors: the heads of every chain appended to a separate log; a chain rewritten afterwards (hashes recomputed,
so the chain alone verifies) disagrees with the anchor, and an edited anchor log is found too."""
import json

import pytest

from app.services import anchors
from tests.audit.helpers import basic_case, complete, rechain


@pytest.fixture
def anchor_file(app, tmp_path):
    before = app.config["AUDIT_ANCHOR_FILE"]
    app.config["AUDIT_ANCHOR_FILE"] = str(tmp_path / "anchors.log")
    yield tmp_path / "anchors.log"
    app.config["AUDIT_ANCHOR_FILE"] = before


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["audit", *[str(a) for a in args]])


def test_anchor_lines_record_moved_heads_and_chain_to_each_other(app, anchor_file):
    a = basic_case(rounds=0, finish=None)
    r = cli(app, "anchor")
    assert r.exit_code == 0 and "anchored 1 moved chain(s) of 1" in r.output
    b = basic_case(rounds=0, finish=None, other=True)
    complete("zj-reviewer", a, {"decision": "approve", "review_comment": "符合"})
    cli(app, "anchor")
    cli(app, "anchor")  # nothing moved: an empty line still records the moment and the root
    lines = [json.loads(x) for x in anchor_file.read_text().splitlines()]
    assert [sorted(x["heads"]) for x in lines] == [[str(a)], sorted([str(a), str(b)]), []]
    assert lines[1]["heads"][str(a)][0] == 4 and lines[2]["count"] == 2
    assert lines[2]["root"] == lines[1]["root"] and lines[0]["prev"] == "0" * 64
    r = cli(app, "verify")
    assert r.exit_code == 0, r.output
    assert "3 anchor(s) checked, 0 disagreement(s)" in r.output


def test_a_rewritten_chain_disagrees_with_an_earlier_anchor(app, anchor_file):
    case_id = basic_case(rounds=1)
    assert cli(app, "anchor").exit_code == 0
    rechain(case_id, lambda rows: rows[3].update(data={"decision": "return", "review_comment": "改写"}))
    r = cli(app, "verify", case_id)
    assert r.exit_code == 1
    assert "1 chain(s) checked, 0 broken" in r.output  # the chain alone cannot tell
    assert f"anchor line 1: case {case_id} event 7 no longer has the anchored hash" in r.output


def test_a_truncated_chain_disagrees_with_an_earlier_anchor(app, anchor_file):
    case_id = basic_case(rounds=1)
    cli(app, "anchor")
    rechain(case_id, lambda rows: rows.pop())
    r = cli(app, "verify")
    assert r.exit_code == 1 and f"anchor line 1: case {case_id} event 7 was anchored and is gone" in r.output


def test_an_edited_anchor_log_is_found(app, anchor_file):
    basic_case(rounds=0, finish=None)
    cli(app, "anchor")
    cli(app, "anchor")
    lines = anchor_file.read_text().splitlines()
    first = json.loads(lines[0])
    first["at"] = "2020-01-01T00:00:00+00:00"
    lines[0] = json.dumps(first, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    anchor_file.write_text("\n".join(lines) + "\n")
    problems = anchors.verify()
    assert problems == ["anchor line 2: does not follow the line before it (the log was edited)"]
    r = cli(app, "verify")
    assert r.exit_code == 1 and "anchor line 2: does not follow" in r.output
