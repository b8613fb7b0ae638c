"""Online backup and restore of the whole database.

SQLite: the backup API copies a consistent snapshot page by page while the application keeps serving (readers and
writers carry on; a write during the copy makes SQLite restart the copy, so the file is one instant's state).
Restore copies the snapshot back into the live database with the same API, inside one lock.
PostgreSQL: `pg_dump -Fc` (one transaction, so one instant's state) and `pg_restore --clean --if-exists
--single-transaction`. The binaries come from PATH, else from `PG_BIN` (default /usr/lib/postgresql/15/bin).

Files written by upload (UPLOAD_DIR) are content-addressed and never changed: copy the directory alongside (rsync);
a snapshot only needs the files whose SHA-256 it names, and `verify_attachments` lists any that are missing.
"""
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from app.errors import Invalid, Unavailable
from app.settings import settings

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def _url():
    return make_url(settings().database_url)


def _sqlite_path() -> str:
    path = _url().database
    if not path or path == ":memory:":
        raise Invalid("an in-memory database cannot be backed up")
    return path


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidate = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")) / name
    if candidate.exists():
        return str(candidate)
    raise Unavailable(f"{name} not found on PATH or in PG_BIN")


def _pg_args() -> tuple[list[str], dict]:
    url = _url()
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    return args, env


def backup(dest: str | Path) -> dict:
    """Write a consistent snapshot of the live database to `dest`; returns {"kind", "path", "bytes"}."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        tmp.unlink()
    backend = _url().get_backend_name()
    if backend == "sqlite":
        src = sqlite3.connect(_sqlite_path(), timeout=30)
        try:
            out = sqlite3.connect(str(tmp))
            try:
                with out:
                    src.backup(out, pages=1024)
                ok = out.execute("PRAGMA integrity_check").fetchone()[0]
                out.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            finally:
                out.close()
        finally:
            src.close()
        if ok != "ok":
            tmp.unlink(missing_ok=True)
            raise Unavailable(f"the snapshot failed its integrity check: {ok}")
    elif backend == "postgresql":
        args, env = _pg_args()
        r = subprocess.run([_pg_tool("pg_dump"), "-Fc", "--no-owner", "--file", str(tmp), *args], env=env,
                           capture_output=True, text=True, timeout=3600)
        if r.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise Unavailable("pg_dump failed: " + r.stderr.strip()[:500])
    else:
        raise Invalid(f"backups of {backend} databases are not supported")
    os.replace(tmp, dest)  # a backup file is either complete or absent
    return {"kind": backend, "path": str(dest), "bytes": dest.stat().st_size}


def restore(src: str | Path) -> dict:
    """Replace the live database's contents with the snapshot in `src` (written by `backup`)."""
    src = Path(src)
    if not src.is_file():
        raise Invalid(f"{src} is not a file")
    head = src.read_bytes()[:16]
    backend = _url().get_backend_name()
    if backend == "sqlite":
        if head != SQLITE_MAGIC:
            raise Invalid(f"{src} is not an SQLite backup")
        snap = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            ok = snap.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise Invalid(f"{src} failed its integrity check: {ok}")
            live = sqlite3.connect(_sqlite_path(), timeout=30)
            try:
                snap.backup(live)
            finally:
                live.close()
        finally:
            snap.close()
    elif backend == "postgresql":
        if not head.startswith(PGDUMP_MAGIC):
            raise Invalid(f"{src} is not a pg_dump custom-format file")
        args, env = _pg_args()
        r = subprocess.run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                            "--exit-on-error", *args, str(src)], env=env, capture_output=True, text=True,
                           timeout=3600)
        if r.returncode != 0:
            raise Unavailable("pg_restore failed (nothing was changed): " + r.stderr.strip()[:500])
    else:
        raise Invalid(f"restores of {backend} databases are not supported")
    return {"kind": backend, "path": str(src)}


def missing_attachments() -> list[str]:
    """SHA-256 of attachment rows whose file is not in UPLOAD_DIR (after restoring on another machine)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Attachment
    from app.services.attachments import store_path

    return sorted({sha for sha in db.session.scalars(select(Attachment.sha256)) if not store_path(sha).exists()})
