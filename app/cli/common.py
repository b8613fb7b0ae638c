"""What every command module shares: instants from the command line, the acting user, service errors as exit 1."""
from contextlib import contextmanager
from datetime import datetime, timezone

import click

from app.errors import ServiceError


def instant(text: str, hint: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter("not an ISO-8601 instant", param_hint=hint) from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def actor(username: str, hint: str = "--as"):
    from app.services import users

    user = users.by_username(username)
    if user is None:
        raise click.BadParameter(f"no user {username!r}", param_hint=hint)
    return user


@contextmanager
def service_errors(show_errors=None):
    """A ServiceError inside becomes `error: message` (and its details, by `show_errors`) on stderr and exit 1."""
    try:
        yield
    except ServiceError as exc:
        click.echo(f"error: {exc.message}", err=True)
        if show_errors:
            show_errors(exc.errors)
        raise SystemExit(1)
