"""`flask timers run [--now ISO-8601]`: one sweep at that instant."""
import click

from app.cli.common import instant
from app.services.clock import FixedClock, get_clock, set_clock

group = click.Group("timers", help="Timer events.")


@group.command("run")
@click.option("--now", "now_text", default=None, help="ISO-8601 instant (default: the clock's now)")
def run(now_text):
    """One sweep at that instant: claim the due timers, fire each case in its own transaction."""
    from app.jobs import scheduler

    now = instant(now_text, "--now") if now_text else get_clock().now()
    previous = get_clock()
    set_clock(FixedClock(now))
    try:
        res = scheduler.sweep(now, on_fired=lambda cid, els: [
            click.echo(f"{now.isoformat()} case {cid}: {el} fired") for el in els])
        for list_id in res.frozen_lists:
            click.echo(f"{now.isoformat()} recommendation list {list_id} frozen")
        for case_id, message in res.errors:
            click.echo(f"case {case_id}: {message}", err=True)
        click.echo(f"{res.count} timer(s) fired" + (f", {res.reminders} reminder(s)" if res.reminders else ""))
    finally:
        set_clock(previous)


COMMANDS = (group,)
