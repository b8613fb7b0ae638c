"""Files fetched once by the user they were made for (models/downloads.py): a token in the URL, its SHA-256 in the
row. A password list is deleted by the download that serves it; every row is gone after its expiry."""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from app.errors import NotFound
from app.extensions import db
from app.models import User
from app.models.downloads import OneTimeFile
from app.services import clock

LIFETIME = timedelta(hours=24)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def purge_expired() -> None:
    db.session.execute(delete(OneTimeFile).where(OneTimeFile.expires_at <= clock.now()))


def store(actor: User, kind: str, filename: str, content: bytes) -> str:
    """Keep `content` for `actor`; the token to fetch it (only its hash is stored)."""
    purge_expired()
    token = secrets.token_urlsafe(24)
    now = clock.now()
    db.session.add(OneTimeFile(token_hash=_hash(token), kind=kind, user_id=actor.id, filename=filename[:200],
                               content=content, created_at=now, expires_at=now + LIFETIME))
    db.session.flush()
    return token


def peek(actor: User, kind: str, token: str) -> OneTimeFile:
    """The row, left in place; NotFound when unknown, expired, of another kind or another user's."""
    row = db.session.scalar(select(OneTimeFile).where(OneTimeFile.token_hash == _hash(token or ""),
                                                      OneTimeFile.kind == kind, OneTimeFile.user_id == actor.id,
                                                      OneTimeFile.expires_at > clock.now()))
    if row is None:
        raise NotFound("this file is gone: it was downloaded already, it expired, or it is not yours")
    return row


def take(actor: User, kind: str, token: str) -> tuple[str, bytes]:
    """(filename, content), deleting the row: a second call finds nothing."""
    row = peek(actor, kind, token)
    out = (row.filename, row.content)
    db.session.delete(row)
    db.session.flush()
    return out
