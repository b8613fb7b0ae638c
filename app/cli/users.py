"""`flask users create-admin USERNAME [--password-stdin]`: the first administrator, on an empty database too."""
import sys

import click

from app.cli.common import service_errors
from app.services import people
from app.uow import unit_of_work

group = click.Group("users", help="Accounts.")


def _show(errors):
    for k, v in (errors or {}).items():
        click.echo(f"  {k}: {v}", err=True)


@group.command("create-admin")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of standard input")
def create_admin(username, password_stdin):
    """Create an administrator; the password is asked twice (hidden), or read from stdin with --password-stdin.
    The password policy applies; an existing username is refused (exit 1)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with service_errors(_show), unit_of_work():
        user = people.create_admin(username, password)
        name = user.username
    click.echo(f"administrator {name} created")


COMMANDS = (group,)
