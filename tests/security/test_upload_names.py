"""Upload names (issue 17 item 11): a dangerous inner extension (`x.exe.pdf`) answers 415, as docs/SECURITY.md says;
bidi and other control characters never reach a stored name."""
import io

import pytest

from app.services.attachments import DANGEROUS_INNER, _safe_name

PDF = b"%PDF-1.4 materials"


@pytest.fixture
def case(client, auth_headers):
    h = auth_headers("sinopec-ningbo")
    cid = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=h).get_json()["id"]
    return cid, h


def _upload(client, case, name, data=PDF):
    cid, h = case
    return client.post(f"/api/v1/cases/{cid}/attachments", headers=h, data={"file": (io.BytesIO(data), name)})


@pytest.mark.parametrize("name", ["x.exe.pdf", "申报书.EXE.pdf", "a.bat.pdf", "b.js.png", "c.html.pdf", "d.svg.pdf",
                                  "e.scr.jpg", "f.ps1.docx", "g.exe .pdf", "x\u202efdp.exe", "h.exe\u200b.pdf"])
def test_dangerous_inner_extension_is_refused(client, case, name):
    r = _upload(client, case, name)
    assert r.status_code == 415, (name, r.status_code, r.get_json())


@pytest.mark.parametrize("name", ["2026.12.04 申报书.pdf", "v1.2.pdf", "张三.申报书.pdf", "report.final.pdf"])
def test_ordinary_dotted_names_are_kept(client, case, name):
    r = _upload(client, case, name)
    assert r.status_code == 201, (name, r.get_json())
    assert r.get_json()["filename"] == name


@pytest.mark.parametrize("raw,stored", [
    ("申报书\u202egpj.pdf", "申报书gpj.pdf"), ("\u2066报告\u2069.pdf", "报告.pdf"), ("a\u200e\u200fb.pdf", "ab.pdf"),
    ("a\u202a\u202b\u202c\u202db.pdf", "ab.pdf"), ("a\u2067\u2068b.pdf", "ab.pdf"), ("a\x85\x9fb\x07.pdf", "ab.pdf"),
    ("a\x00b\x1f\x7f.pdf", "ab.pdf"), ("\ufeffa.pdf", "a.pdf"),
])
def test_bidi_and_control_characters_are_stripped_from_stored_names(client, case, raw, stored):
    assert _safe_name(raw) == stored
    r = _upload(client, case, raw)
    assert r.status_code == 201 and r.get_json()["filename"] == stored, r.get_json()


def test_the_dangerous_list_is_the_documented_one():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md").read_text()
    for ext in ("exe", "bat", "js", "html", "svg"):
        assert ext in DANGEROUS_INNER
    assert "`x.exe.pdf`" in doc and "U+202E" in doc
