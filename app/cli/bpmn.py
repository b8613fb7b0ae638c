"""`flask bpmn validate FILE` and `flask bpmn deploy FILE [--key K] [--message M] [--as USER]`: the checks and the
deployment of the editor and the API, from the command line. Problems are printed one a line as `element: message`;
the exit status is 1 when the diagram is refused."""
from pathlib import Path

import click

from app.cli.common import actor
from app.errors import ServiceError
from app.extensions import db
from app.services import processes, versions
from app.uow import unit_of_work


def _problems(items) -> None:
    for e in items:
        click.echo(f"  {e.get('element') or '-'}: {e.get('message')}", err=True)


group = click.Group("bpmn", help="Process diagrams: validate and deploy.")

@group.command("validate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", default=None, help="the process model (default: the file name); its tier decides "
                                          "whether the case rules (roles, forms, data) apply")
def validate_cmd(path, key):
    """Check FILE as deploying it would; print each problem by element."""
    key = key or Path(path).stem
    xml = Path(path).read_bytes()
    latest = processes.latest_version(key)
    _b, _f, problems = processes.diagram_problems(xml, dict(latest.forms) if latest else None,
                                                  case_rules=processes.runs_as_case(key))
    db.session.rollback()
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
    """Deploy FILE as a new immutable version of KEY (nothing new if the content is the latest's)."""
    key = key or Path(path).stem
    user = actor(username)
    try:
        with unit_of_work():
            before = versions.latest_number(key)
            v = versions.deploy(user, key, Path(path).read_bytes(), message)
            number, digest = v.version, v.content_hash
    except ServiceError as exc:
        click.echo(f"error: {exc.message}", err=True)
        if isinstance(exc.errors, list):
            _problems(exc.errors)
        raise SystemExit(1)
    state = "unchanged, still" if number == before else "deployed as"
    click.echo(f"{key}: {state} version {number} ({digest[:12]})")


COMMANDS = (group,)
