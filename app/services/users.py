"""Looking people up: by username, and the names to show for a set of user ids."""
from sqlalchemy import select

from app.extensions import db
from app.models import User


def by_username(username: str | None) -> User | None:
    return db.session.scalar(select(User).where(User.username == (username or "")))


def usernames(ids) -> dict[int, str]:
    """id → username for the given ids (None and repeats ignored)."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def get(user_id) -> User | None:
    """The user with this id (the login session's user loader), or None for an unknown or malformed id."""
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
