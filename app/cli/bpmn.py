"""`flask bpmn validate FILE`, `flask bpmn deploy FILE [--key K] [--message M] [--as USER]` and `flask bpmn sync`:
the checks and the one deployment of the editor and the API (`versions.deploy`), from the command line, and the
deployment of everything shipped in BPMN_DIR (`bpmn_sync.sync`, also what `flask demo` runs). Problems are printed one
a line as `element: message`; the exit status is 1 when a diagram is refused."""
from pathlib import Path

import click

from app.cli.common import actor, service_errors
from app.services import bpmn_sync, versions
from app.uow import unit_of_work


def _problems(items) -> None:
    for e in items if isinstance(items, list) else ():
        click.echo(f"  {e.get('element') or '-'}: {e.get('message')}", err=True)


group = click.Group("bpmn", help="Process diagrams: validate, deploy, sync the shipped ones.")


@group.command("validate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", default=None, help="the process model (default: the file name); its tier decides "
                                          "whether the case rules (roles, forms, data) apply")
def validate_cmd(path, key):
    """Check FILE as deploying it would; print each problem by element."""
    with unit_of_work():
        problems = versions.problems(key or Path(path).stem, Path(path).read_bytes())
    if problems:
        click.echo(f"{path}: {len(problems)} problem(s)", err=True)
        _problems(problems)
        raise SystemExit(1)
    click.echo(f"{path}: valid")


@group.command("deploy")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", default=None, help="the process model (default: the file name)")
@click.option("--message", default=None, help="what changed")
@click.option("--as", "username", default="admin", show_default=True, help="the administrator deploying")
def deploy_cmd(path, key, message, username):
    """Deploy FILE as a new immutable version of KEY (nothing new if the content is the latest's); the editor's
    draft of KEY is discarded, as when the editor deploys."""
    key = key or Path(path).stem
    user = actor(username)
    with service_errors(_problems), unit_of_work():
        before = versions.latest_number(key)
        v = versions.deploy(user, key, Path(path).read_bytes(), message)
        number, digest = v.version, v.content_hash
    state = "unchanged, still" if number == before else "deployed as"
    click.echo(f"{key}: {state} version {number} ({digest[:12]})")


@group.command("sync")
def sync_cmd():
    """Deploy the diagrams, forms and decision tables shipped in BPMN_DIR (idempotent: an unchanged file deploys
    nothing); one line per model. Needs no user: the system deploys."""
    with service_errors(_problems), unit_of_work():
        items = bpmn_sync.sync()
    for item in items:
        click.echo(bpmn_sync.line(item))


COMMANDS = (group,)
