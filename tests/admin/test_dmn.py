"""DMN decision tables checked before they are used: well-formed, complete, supported, sandboxed."""
from app.config import ROOT
from workflows.parsing import check_dmn

QUOTA = (ROOT / "bpmn" / "excellent_quota.dmn").read_bytes()


def test_shipped_tables_pass():
    for name in ("excellent_quota.dmn", "lighthouse_quota.dmn"):
        assert check_dmn((ROOT / "bpmn" / name).read_bytes()) == [], name


def test_problems_name_the_table_and_rule():
    bad = (QUOTA.replace(b'hitPolicy="UNIQUE"', b'hitPolicy="FIRST"')
           .replace(b'<outputEntry id="r1_out"><text>5</text></outputEntry>', b"")
           .replace(b"? is not None and 1 &lt;= ? &lt;= 10", b"[1..10]")
           .replace(b"<text>40</text>", b'<text>__import__("os")</text>'))
    problems = check_dmn(bad)
    assert any(p["element"] == "excellent_quota_table" and "hit policy FIRST" in p["message"] for p in problems)
    assert any(p["element"] == "rule_xpcc" and "0 output cells" in p["message"] for p in problems)
    assert any(p["element"] == "rule_top10" and "FEEL ranges" in p["message"] for p in problems)
    assert any(p["element"] == "rule_top10" and "__import__" in p["message"] for p in problems)


def test_hostile_and_empty():
    assert "DTD" in check_dmn(b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>')[0]["message"]
    assert check_dmn(b"<definitions/>")[0]["message"] == "no dmn:decision in the file"


def test_api(client, auth_headers):
    r = client.post("/api/v1/decision-tables/excellent_quota/validate", data=QUOTA, headers=auth_headers("admin"))
    assert r.get_json() == {"ok": True, "errors": []}
    r = client.post("/api/v1/decision-tables/excellent_quota/validate", data=QUOTA,
                    headers=auth_headers("auditor"))
    assert r.status_code == 403
