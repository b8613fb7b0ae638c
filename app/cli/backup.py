"""`flask backup PATH` / `flask restore PATH`: a consistent online snapshot and its restore."""
import click

from app.cli.common import service_errors
from app.extensions import db
from app.services import backup as backup_service


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def backup_cmd(path):
    """Write a consistent online snapshot of the database to PATH (SQLite backup API, or pg_dump -Fc)."""
    with service_errors():
        out = backup_service.backup(path)
    click.echo(f"backup of the {out['kind']} database written to {out['path']} ({out['bytes']} bytes)")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def restore_cmd(path):
    """Replace the database's contents with the snapshot in PATH (written by `flask backup`)."""
    db.session.remove()
    db.engine.dispose()  # no pooled connection keeps a view of the old contents
    with service_errors():
        out = backup_service.restore(path)
    db.engine.dispose()
    missing = backup_service.missing_attachments()
    click.echo(f"{out['kind']} database restored from {out['path']}")
    if missing:
        click.echo(f"warning: {len(missing)} attachment file(s) are not in UPLOAD_DIR; copy them from the "
                   f"backup of that directory (first: {missing[0]})", err=True)


COMMANDS = (backup_cmd, restore_cmd)
