"""`flask outbox drain [--now ISO-8601]`: carry out the due outbox items (e-mail) once (the scheduler's sweep does
this by itself every tick)."""
import click

from app.cli.common import instant
from app.services.clock import get_clock

group = click.Group("outbox", help="Effects carried out after the commit (e-mail).")


@group.command("drain")
@click.option("--now", "now_text", default=None, help="ISO-8601 instant (default: the clock's now)")
def drain(now_text):
    """Send what is due; a failure is retried later, an incident after repeated failures."""
    from app.jobs import outbox

    now = instant(now_text, "--now") if now_text else get_clock().now()
    res = outbox.drain(now)
    click.echo(f"{res['sent']} sent, {res['failed']} failed")


COMMANDS = (group,)
