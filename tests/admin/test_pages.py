"""The admin pages render: process list, versions, a version with its diff, the migration dry run and bulk form,
rollback; CSP-clean (no inline scripts or styles)."""
import re

from app.config import ROOT
from app.extensions import db
from app.models import Case
from app.services import cases, processes, versions
from app.uow import unit_of_work
from tests.conftest import user
from tests.security.helpers import browser_login, csrf, fresh_client

BASIC = (ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes()
KEY = "basic_self_assessment"


def _admin(app):
    client = fresh_client(app)
    assert browser_login(client, "admin").status_code == 302
    return client


def test_pages_render_and_migrate(app):
    with unit_of_work():
        case_id = cases.create_case(user("acme"), "basic", 2026).id
    with unit_of_work():
        versions.deploy(user("admin"), KEY, BASIC.replace(b'value="P15D"', b'value="P10D"'), "shorter review")
    client = _admin(app)
    html = client.get("/admin/processes").get_data(as_text=True)
    assert KEY in html and "v2" in html
    html = client.get(f"/admin/processes/{KEY}").get_data(as_text=True)
    assert "shorter review" in html and "v1" in html
    page = client.get(f"/admin/processes/{KEY}/versions/2?diff=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "organizer_review" in html and "P15D" in html and "P10D" in html
    assert 'data-changed="organizer_review"' in html
    assert not re.search(r"<script>|style=", html)
    xml = client.get(f"/admin/processes/{KEY}/versions/2/diagram.bpmn")
    assert xml.headers["Content-Type"].startswith("application/xml") and b"P10D" in xml.data
    html = client.get(f"/admin/processes/{KEY}/migration?to=2").get_data(as_text=True)
    assert f'value="{case_id}" checked' in html
    plan = html[html.index('id="plan"'):]
    assert "填写基础级自评" in plan and "self_assessment" not in plan  # where it waits, by the diagram's name
    token = csrf(client, f"/admin/processes/{KEY}/migration?to=2")
    r = client.post(f"/admin/processes/{KEY}/migration", data={"csrf_token": token, "to": "2",
                                                                "case_id": [str(case_id)]})
    assert r.status_code == 302
    db.session.expire_all()
    assert processes.version_info(db.session.get(Case, case_id).process_version_id).version == 2
    r = client.post(f"/admin/processes/{KEY}/rollback", data={"csrf_token": token, "version": "1"})
    assert r.status_code == 302 and processes.latest_version(KEY).version == 3
    assert client.get("/admin/processes/new?key=Bad Key").status_code == 302
    r = client.get("/admin/processes/new?key=quality_check")
    assert r.headers["Location"].endswith("/admin/processes/quality_check/edit")
    src = client.get("/admin/processes/quality_check/source.json").get_json()
    assert src["origin"] == "new" and 'isExecutable="true"' in src["bpmn"]


def test_drafts_do_not_touch_versions(app):
    client = _admin(app)
    token = csrf(client, "/")
    before = processes.latest_version(KEY).version
    draft = BASIC.replace(b'value="P15D"', b'value="P20D"').decode()
    r = client.post(f"/admin/processes/{KEY}/draft", json={"bpmn": draft, "forms": {}},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 200
    src = client.get(f"/admin/processes/{KEY}/source.json").get_json()
    assert src["origin"] == "draft" and "P20D" in src["bpmn"]
    assert processes.latest_version(KEY).version == before
    r = client.post(f"/admin/processes/{KEY}/draft", json={"bpmn": "<not xml", "forms": {}},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 422
    r = client.post(f"/admin/processes/{KEY}/deploy", json={"bpmn": draft, "message": "from the draft"},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 201 and r.get_json()["version"] == before + 1
    assert client.get(f"/admin/processes/{KEY}/source.json").get_json()["origin"] == "version"
    for name in ("auditor", "zj-reviewer"):
        other = fresh_client(app)
        browser_login(other, name)
        assert other.get(f"/admin/processes/{KEY}/edit").status_code == 403
