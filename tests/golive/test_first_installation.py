"""Going live without the demo: the README's "Going live" commands, run exactly as written, on an empty database
(SQLite, and PostgreSQL when TEST_POSTGRES_URL is set), leave a working installation with no demo row anywhere;
then a province's people and enterprises are created through the API and a basic and an advanced case reach
`certified`."""
import io
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "Qx7-first-admin-2026"
MARKER = "<!-- going-live:first-installation"


def readme_commands() -> list[str]:
    """The commands of the README's first-installation block, one a line, exactly as written there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(MARKER)
    block = re.search(r"```sh\n(.*?)```", readme[start:], re.S)
    assert block, "the README's first-installation block is missing"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def run_readme(url: str, instance: Path) -> list[subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "FLASK_"))}
    env.update(DATABASE_URL=url, TIERFLOW_INSTANCE=str(instance), UPLOAD_DIR=str(instance / "attachments"),
               SECRET_KEY="going-live-test", PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")
    out = []
    for line in readme_commands():
        # the first administrator's password, asked twice, as an operator types it
        stdin = f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n" if "create-admin" in line else ""
        res = subprocess.run(["bash", "-c", line], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True,
                             timeout=900)
        assert res.returncode == 0, f"{line}\n{res.stdout}\n{res.stderr}"
        out.append(res)
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.sqlite3'}"
        return
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        pytest.skip("TEST_POSTGRES_URL is not set")
    name = f"golive_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_readme_first_installation_then_a_province_goes_live(empty_database, tmp_path):
    results = run_readme(empty_database, tmp_path / "instance")
    sync = next(r for line, r in zip(readme_commands(), results, strict=True) if "bpmn sync" in line)
    assert "basic_self_assessment" in sync.stdout and "advanced_certification" in sync.stdout

    eng = create_engine(empty_database)
    with eng.connect() as conn:
        users = conn.execute(text("SELECT username, role FROM users")).all()
        assert users == [("admin", "admin")]
        for table in ("enterprises", "campaigns", "cases", "soe_groups", "tier_records"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table  # noqa: S608
        keys = {k for (k,) in conn.execute(text("SELECT key FROM process_models"))}
        assert {"basic_self_assessment", "advanced_certification", "excellent_national_review",
                "lighthouse_cultivation"} <= keys
    eng.dispose()

    # running the same commands again changes nothing and refuses a second `admin`
    again = subprocess.run(["bash", "-c", ".venv/bin/flask --app wsgi bpmn sync"], cwd=ROOT, capture_output=True,
                           text=True, env={**os.environ, "DATABASE_URL": empty_database,
                                           "TIERFLOW_INSTANCE": str(tmp_path / "instance")}, timeout=600)
    assert again.returncode == 0 and "deployed as" not in again.stdout, again.stdout + again.stderr

    _a_province_goes_live(empty_database, tmp_path)


# --- part 2: a province's people and enterprises through the pages and the API, then two cases to certified --------
def _a_province_goes_live(url: str, tmp_path: Path) -> None:
    from app import create_app
    from tests.api.test_advanced import DEPTS, NOTICE_OVER, application, complete, my_task, status
    from tests.api.test_contract import GOOD_ASSESSMENT
    from tests.enterprises.helpers import as_csv, code, row
    from tests.security.helpers import csrf, fresh_client

    live = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "going-live-test",
                       "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "UPLOAD_DIR": str(tmp_path / "uploads")})
    client = fresh_client(live)

    def token(username, password):
        r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert r.status_code == 200, r.get_json()
        return {"Authorization": f"Bearer {r.get_json()['token']}"}

    def new_account(by, body, password):
        """An account created by `by`; its holder signs in with the one-time password and chooses its own."""
        r = client.post("/api/v1/users", json=body, headers=by)
        assert r.status_code == 201, r.get_json()
        h = token(body["username"], r.get_json()["one_time_password"])
        assert client.get("/api/v1/tasks", headers=h).status_code == 403  # must change it first
        r = client.post("/api/v1/me/password", json={"current": r.get_json()["one_time_password"], "new": password},
                        headers=h)
        assert r.status_code == 204, r.get_json()
        return h

    # the administrator, in the browser: the 2026 campaign's dates (系统管理 › 培育活动)
    r = client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": csrf(client)})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    form = {"csrf_token": csrf(client, "/reference/campaigns/new"), "year": "2026", "name": "2026年度智能工厂梯度培育",
            "notice_excellent": "7", "notice_lighthouse": "7", "notice_advanced_working_days": "5",
            "branch_industries": ["petrochemicals", "non_ferrous_metals"]}
    for tier in ("basic", "advanced"):
        form[f"{tier}_application_deadline"] = "2026-12-31"
    r = client.post("/reference/campaigns/new", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]

    # the administrator's API: Zhejiang's provincial administrator; it imports the province's enterprises and makes
    # the reviewers and the enterprise's account
    admin = token("admin", ADMIN_PASSWORD)
    zj_admin = new_account(admin, {"username": "zj-admin", "role": "provincial_admin", "province": "330000"},
                           "Zj-admin-live-2026")
    sheet = as_csv([row(1, name="浙江示范智能装备有限公司"), row(2, name="宁波示范零部件有限公司", city="330200")])
    dry = client.post("/api/v1/enterprises/import?commit=0", headers=zj_admin,
                      data={"file": (io.BytesIO(sheet), "企业名单.csv")}, content_type="multipart/form-data")
    assert dry.status_code == 200 and dry.get_json()["create"] == 2 and dry.get_json()["errors"] == [], dry.get_json()
    done = client.post("/api/v1/enterprises/import?commit=1", headers=zj_admin,
                       data={"file": (io.BytesIO(sheet), "企业名单.csv")}, content_type="multipart/form-data")
    assert done.status_code == 200 and done.get_json()["create"] == 2, done.get_json()
    listed = client.get("/api/v1/enterprises?q=浙江示范", headers=zj_admin).get_json()
    assert [e["credit_code"] for e in listed["items"]] == [code(1)]

    reviewer = new_account(zj_admin, {"username": "zj-rev", "role": "provincial_reviewer", "province": "330000"},
                           "Zj-review-live-2026")
    departments = {d: new_account(zj_admin, {"username": f"zj-{d}-live", "role": "co_department_reviewer",
                                             "province": "330000", "department": d}, f"Zj-{d}-live-2026")
                   for d in DEPTS}
    ent = new_account(zj_admin, {"username": code(1), "role": "enterprise", "enterprise": code(1)},
                      "Enterprise-live-2026")

    # basic: self-assessment, the provincial review, certified
    case = client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026}, headers=ent)
    assert case.status_code == 201, case.get_json()
    basic = case.get_json()["id"]
    complete(client, ent, my_task(client, ent, basic)["id"], GOOD_ASSESSMENT)
    complete(client, reviewer, my_task(client, reviewer, basic)["id"], {"decision": "approve"})
    assert status(client, ent, basic) == "certified"

    # advanced: application, provincial review, the five co-departments, the decision, the published list and its
    # 5-working-day public notice
    case = client.post("/api/v1/cases", json={"tier": "advanced", "campaign": 2026}, headers=ent)
    assert case.status_code == 201, case.get_json()
    adv = case.get_json()["id"]
    complete(client, ent, my_task(client, ent, adv)["id"], application(client, ent, adv))
    complete(client, reviewer, my_task(client, reviewer, adv)["id"], {"decision": "approve"})
    for d, h in departments.items():
        complete(client, h, my_task(client, h, adv)["id"], {"decision": "approve", "comment": f"{d} 同意"})
    complete(client, reviewer, my_task(client, reviewer, adv, "certifier_decision")["id"],
             {"decision": "approve", "decision_comment": "认定"})
    r = client.post("/api/v1/lists", json={"tier": "advanced", "campaign": 2026, "case_ids": [adv]}, headers=reviewer)
    assert r.status_code == 201, r.get_json()
    with live.app_context():  # the command runs on the live installation's database, not the test session's
        out = live.test_cli_runner().invoke(args=["timers", "run", "--now", NOTICE_OVER])
    assert out.exit_code == 0, out.output
    assert status(client, ent, adv) == "certified", out.output
    with live.app_context():
        from app.services import audit

        checked = audit.verify_all(None, with_replay=True)
    assert checked["broken"] == [] and checked["problems"] == [] and checked["checked"] == 2
    from app.extensions import db

    with live.app_context():
        db.engine.dispose()
