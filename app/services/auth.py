"""Passwords (scrypt through Werkzeug; the policy is in services.accounts) and bearer tokens (random, stored as
SHA-256, expiring, revocable)."""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import ServiceError, Unauthorized
from app.extensions import db
from app.models import ApiToken, User
from app.services import accounts, clock
from app.settings import settings

_DUMMY = generate_password_hash("timing-equaliser")


class PasswordChangeRequired(ServiceError):
    status, code = 403, "password_change_required"

    def __init__(self):
        super().__init__("change the one-time password first: POST /api/v1/me/password {\"current\", \"new\"}",
                         errors={"password": "must be changed"})


def hash_password(password: str, username: str | None = None) -> str:
    """Hash a new password after checking it against the policy (services.accounts): Invalid when it fails."""
    accounts.check_password(password, username)
    return generate_password_hash(password, method=settings().password_hash_method)


def authenticate(username: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.username == (username or "")))
    if user is None:
        check_password_hash(_DUMMY, password or "")  # same cost whether or not the user exists
        raise Unauthorized("wrong username or password")
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        raise Unauthorized("wrong username or password")
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> str:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(token), created_at=now,
                            expires_at=now + timedelta(hours=settings().api_token_hours)))
    return token


# the token and its user in one statement, built once (every API request runs it)
_TOKEN_USER = (select(User, ApiToken.revoked_at, ApiToken.expires_at).join(ApiToken, ApiToken.user_id == User.id)
               .where(ApiToken.token_hash == bindparam("digest")))


def user_for_token(token: str) -> User | None:
    row = db.session.execute(_TOKEN_USER, {"digest": _digest(token)}).first()
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        return None
    return row.User if row.User.active else None


def revoke_token(token: str) -> None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()
