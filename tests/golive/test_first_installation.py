"""Going live without the demo: the README's "Going live" commands, run exactly as written, on an empty database
(SQLite, and PostgreSQL when TEST_POSTGRES_URL is set), leave a working installation with no demo row anywhere;
then a province's people and enterprises are created through the API and a basic and an advanced case reach
`certified`."""
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
