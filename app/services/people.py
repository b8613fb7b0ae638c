"""Accounts for people (minimal; the people branch replaces it): enterprise accounts made by an enterprise import."""
import secrets

from sqlalchemy import insert, select
from werkzeug.security import generate_password_hash

from app.errors import Forbidden
from app.extensions import db
from app.models import Enterprise, User
from app.models.types import utcnow
from app.settings import settings

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"  # no 0/O, 1/l/I: read aloud, typed by hand


def _one_time_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(12))


def create_enterprise_accounts(actor: User, enterprise_ids) -> list[tuple[str, str]]:
    """One account (role `enterprise`, username = the credit code) per enterprise that has none yet, each with a
    random one-time password; returns (username, password) for the accounts made. Existing usernames are skipped.

    Minimal; the people branch replaces it (it adds "must change at next login" and the province check of a
    provincial administrator's own scope)."""
    if actor.role not in ("admin", "provincial_admin"):
        raise Forbidden("only an administrator or a provincial administrator creates accounts")
    ids = list(dict.fromkeys(enterprise_ids))
    ents = db.session.execute(select(Enterprise.id, Enterprise.credit_code).where(Enterprise.id.in_(ids))).all() \
        if ids else []
    taken = set(db.session.scalars(select(User.username).where(User.username.in_([c for _, c in ents])))) \
        if ents else set()
    out, rows, method, now = [], [], settings().password_hash_method, utcnow()
    for ent_id, code in ents:
        if code in taken:
            continue
        password = _one_time_password()
        out.append((code, password))
        rows.append({"username": code, "password_hash": generate_password_hash(password, method=method),
                     "role": "enterprise", "enterprise_id": ent_id, "expertise": [], "active": True,
                     "created_at": now})
    if rows:
        db.session.execute(insert(User.__table__), rows)
    return out
