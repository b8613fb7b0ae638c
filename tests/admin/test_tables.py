"""Decision tables (quotas) edited in the browser: pages, validate, deploy a new version, refusals."""
from app.config import ROOT
from app.services import quotas
from tests.security.helpers import browser_login, csrf, fresh_client

QUOTA = (ROOT / "bpmn" / "excellent_quota.dmn").read_bytes()


def _admin(app):
    client = fresh_client(app)
    assert browser_login(client, "admin").status_code == 302
    return client, csrf(client, "/")


def test_edit_validate_deploy(app):
    client, token = _admin(app)
    html = client.get("/admin/decision-tables").get_data(as_text=True)
    assert "excellent_quota" in html and "lighthouse_quota" in html
    assert client.get("/admin/decision-tables/excellent_quota/edit").status_code == 200
    assert client.get("/admin/decision-tables/nope/edit").status_code == 404
    src = client.get("/admin/decision-tables/excellent_quota/source.dmn")
    assert src.data == QUOTA
    h = {"X-CSRFToken": token}
    r = client.post("/admin/decision-tables/excellent_quota/validate", json={"dmn": QUOTA.decode()}, headers=h)
    assert r.get_json() == {"ok": True, "errors": []}
    bad = QUOTA.replace(b'hitPolicy="UNIQUE"', b'hitPolicy="FIRST"').decode()
    r = client.post("/admin/decision-tables/excellent_quota/deploy", json={"dmn": bad}, headers=h)
    assert r.status_code == 422 and r.get_json()["errors"][0]["element"] == "excellent_quota_table"
    before = quotas.latest_table("excellent_quota").version
    r = client.post("/admin/decision-tables/excellent_quota/deploy", json={"dmn": QUOTA.decode()}, headers=h)
    assert r.status_code == 200 and r.get_json()["version"] == before  # the same content: nothing new
    auditor = fresh_client(app)
    browser_login(auditor, "auditor")
    assert auditor.get("/admin/decision-tables").status_code == 200
    assert auditor.get("/admin/decision-tables/excellent_quota/edit").status_code == 403
