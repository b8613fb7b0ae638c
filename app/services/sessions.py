"""Browser sessions and API tokens as rows, so that each can be listed and ended at once.

A browser login opens a `user_sessions` row; the signed cookie carries the random session id, the row only its
SHA-256. `user_for_session` is the user loader's one statement: user and session row together, refused when the
row is revoked or expired or the user inactive. Ending a session or a token sets `revoked_at`; nothing is deleted.
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select, update

from app.errors import NotFound
from app.extensions import db
from app.models import ApiToken, User, UserSession
from app.services import clock, system_events


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(user: User, lifetime_seconds: float, address: str = "", user_agent: str = "") -> str:
    """A new session for a user who has just logged in; returns the secret id for the cookie."""
    sid = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(UserSession(user_id=user.id, sid_hash=digest(sid), created_at=now,
                               expires_at=now + timedelta(seconds=lifetime_seconds),
                               address=(address or "")[:64], user_agent=(user_agent or "")[:200]))
    db.session.flush()
    return sid


_SESSION_USER = (select(User, UserSession.id, UserSession.revoked_at, UserSession.expires_at)
                 .join(UserSession, UserSession.user_id == User.id)
                 .where(UserSession.sid_hash == bindparam("digest")))


def user_for_session(user_id: int, sid: str | None) -> User | None:
    """The user of a live session (every browser request runs this one statement), else None."""
    if not sid:
        return None
    row = db.session.execute(_SESSION_USER, {"digest": digest(sid)}).first()
    if row is None or row.User.id != user_id or row.revoked_at is not None or row.expires_at <= clock.now():
        return None
    return row.User if row.User.active else None


def session_id(sid: str | None) -> int | None:
    if not sid:
        return None
    return db.session.scalar(select(UserSession.id).where(UserSession.sid_hash == digest(sid)))


def token_id(token: str | None) -> int | None:
    if not token:
        return None
    return db.session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest(token)))


def end_session(sid: str | None) -> None:
    """Logout: the session's row is revoked (a copied cookie no longer works either)."""
    if sid:
        db.session.execute(update(UserSession).where(UserSession.sid_hash == digest(sid),
                                                     UserSession.revoked_at.is_(None))
                           .values(revoked_at=clock.now()))


def active_sessions(user: User) -> list[UserSession]:
    return list(db.session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.expires_at > clock.now())
        .order_by(UserSession.created_at.desc())))


def active_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > clock.now())
        .order_by(ApiToken.created_at.desc())))


def revoke_session(actor: User, session_id_: int) -> None:
    """The user ends one of its own sessions (another user's session does not exist for it)."""
    row = db.session.get(UserSession, session_id_)
    if row is None or row.user_id != actor.id:
        raise NotFound("no such session")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        system_events.append(actor.id, "user.session_revoked", actor.username, {"session": row.id})


def revoke_token(actor: User, token_id_: int) -> None:
    row = db.session.get(ApiToken, token_id_)
    if row is None or row.user_id != actor.id:
        raise NotFound("no such token")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        system_events.append(actor.id, "user.token_revoked", actor.username, {"token": row.id})


def revoke_all(user: User, keep_session: int | None = None, keep_token: int | None = None) -> int:
    """End every session and token of the user but the ones named; returns how many were ended."""
    now = clock.now()
    n = db.session.execute(update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.id != (keep_session or 0))
        .values(revoked_at=now)).rowcount
    n += db.session.execute(update(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.id != (keep_token or 0))
        .values(revoked_at=now)).rowcount
    return n
