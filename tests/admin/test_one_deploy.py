"""One deploy operation (`versions.deploy`) behind the editor page, the API and `flask bpmn deploy`: the same checks,
the editor's draft discarded, the same `process.deployed` event on the system chain; refused the same way."""
from sqlalchemy import func, select

from app.config import ROOT
from app.extensions import db
from app.models import ProcessVersion, SystemEvent
from app.services import clock, drafts, processes
from app.uow import unit_of_work
from tests.conftest import user
from tests.security.helpers import api_token, browser_login, csrf, fresh_client

KEY = "basic_self_assessment"
BASIC = (ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes()


def _variant(days: int) -> bytes:
    return BASIC.replace(b'value="P15D"', f'value="P{days}D"'.encode())


def _save_draft(days: int) -> None:
    with unit_of_work():
        drafts.save(user("admin"), KEY, _variant(days), {}, clock.now())


def _has_draft() -> bool:
    with unit_of_work():
        return drafts.source(user("admin"), KEY)["origin"] == "draft"


def _last_event() -> SystemEvent:
    db.session.rollback()
    return db.session.scalar(select(SystemEvent).order_by(SystemEvent.seq.desc()).limit(1))


def _events() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(SystemEvent))


def _versions() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ProcessVersion).where(ProcessVersion.model_key == KEY))


def _shape(ev: SystemEvent, number: int) -> tuple:
    return ev.action, ev.actor_id, ev.subject == f"{KEY} v{number}", sorted(ev.data)


def _via_page(app, xml: bytes):
    client = fresh_client(app)
    browser_login(client, "admin")
    return client.post(f"/admin/processes/{KEY}/deploy", json={"bpmn": xml.decode(), "message": "page"},
                       headers={"X-CSRFToken": csrf(client, "/")})


def test_page_api_and_cli_discard_the_draft_and_write_the_same_event(app, client, tmp_path):
    admin_id = user("admin").id
    shapes = []
    _save_draft(20)
    r = _via_page(app, _variant(11))
    assert r.status_code == 201, r.get_json()
    assert not _has_draft()
    shapes.append(_shape(_last_event(), r.get_json()["version"]))

    _save_draft(20)
    r = client.post(f"/api/v1/process-models/{KEY}/versions?message=api", data=_variant(12),
                    headers={**api_token(client, "admin"), "Content-Type": "application/xml"})
    assert r.status_code == 201, r.get_json()
    assert not _has_draft()
    shapes.append(_shape(_last_event(), r.get_json()["version"]))

    _save_draft(20)
    f = tmp_path / f"{KEY}.bpmn"
    f.write_bytes(_variant(13))
    out = app.test_cli_runner().invoke(args=["bpmn", "deploy", str(f), "--message", "cli"])
    assert out.exit_code == 0, out.output
    assert not _has_draft()
    number = processes.latest_version(KEY).version
    assert f"{KEY}: deployed as version {number}" in out.output
    shapes.append(_shape(_last_event(), number))

    assert shapes[0] == shapes[1] == shapes[2] == ("process.deployed", admin_id, True,
                                                    ["content_hash", "message", "process_id"])


def test_refused_everywhere_alike_and_the_draft_is_kept(app, client, tmp_path):
    """Another role, or a diagram the case rules refuse: nothing deployed, no event, the draft stays."""
    _save_draft(20)
    before, events = _versions(), _events()
    broken = BASIC.replace(b'value="P15D"', b'value="fifteen days"')
    r = client.post(f"/api/v1/process-models/{KEY}/versions", data=_variant(14),
                    headers={**api_token(client, "zj-reviewer"), "Content-Type": "application/xml"})
    assert r.status_code == 403
    r = client.post(f"/api/v1/process-models/{KEY}/versions", data=broken,
                    headers={**api_token(client, "admin"), "Content-Type": "application/xml"})
    assert r.status_code == 422 and r.get_json()["errors"]
    page = fresh_client(app)
    browser_login(page, "zj-reviewer")
    r = page.post(f"/admin/processes/{KEY}/deploy", json={"bpmn": _variant(14).decode()},
                  headers={"X-CSRFToken": csrf(page, "/")})
    assert r.status_code == 403
    r = _via_page(app, broken)
    assert r.status_code == 422
    f = tmp_path / f"{KEY}.bpmn"
    f.write_bytes(_variant(14))
    out = app.test_cli_runner().invoke(args=["bpmn", "deploy", str(f), "--as", "zj-reviewer"])
    assert out.exit_code == 1 and "administrator" in out.output
    f.write_bytes(broken)
    out = app.test_cli_runner().invoke(args=["bpmn", "deploy", str(f)])
    assert out.exit_code == 1 and "refused" in out.output
    assert _versions() == before and _events() == events
    assert _has_draft()
