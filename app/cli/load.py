"""`flask load FILE.yaml`: bulk onboarding, all or nothing."""
import click

from app.cli.common import service_errors
from app.services import loading
from app.uow import unit_of_work


def _rows(errors):
    for row in (errors or {}).get("rows", []):
        click.echo(f"  {row}", err=True)


@click.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def load_cmd(path):
    """Bulk onboarding from YAML: all or nothing."""
    with open(path, "rb") as fh:
        text = fh.read()
    with service_errors(_rows), unit_of_work():
        counts = loading.load(text)
    click.echo("loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


COMMANDS = (load_cmd,)
