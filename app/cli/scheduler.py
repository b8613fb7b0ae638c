"""`flask scheduler run` / `flask scheduler status`: the scheduler as its own process."""
import click
from flask import current_app

group = click.Group("scheduler", help="The timer and reminder scheduler.")


@group.command("run")
def run():
    """Run the scheduler in this process (a deployment's own process): a sweep every
    SCHEDULER_INTERVAL_SECONDS while this process holds the lease; Ctrl+C stops it and gives the lease back."""
    from app.jobs import scheduler as jobs

    jobs.stop_beside_server()
    runner = jobs.Runner(current_app._get_current_object(), blocking=True, echo=click.echo)
    click.echo(f"scheduler {runner.holder}: a sweep every {runner.interval} s while holding the lease")
    try:
        runner.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        runner.shutdown()


@group.command("status")
def status():
    """Who holds the scheduler lease, and until when."""
    from app.services import scheduler

    held = scheduler.lease_holder()
    click.echo(f"lease held by {held[0]} until {held[1].isoformat()}" if held else "no scheduler has run")


COMMANDS = (group,)
