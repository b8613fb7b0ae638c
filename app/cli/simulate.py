"""`flask simulate ...`: a whole campaign on the injectable clock with synthetic actors."""
import click
from flask.cli import with_appcontext

from app.cli.common import service_errors
from app.services.clock import get_clock, set_clock


@click.command("simulate")
@click.option("--campaign", "year", default=2026, show_default=True, type=int)
@click.option("--enterprises", "count", default=10, show_default=True, type=int)
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--database", default=None,
              help="simulate in a new database at this URL (migrated, demo loaded), not the app's")
@click.option("--quiet", is_flag=True, help="only the summary")
@with_appcontext  # a fresh database's application comes from the factory that made this one
def simulate_cmd(year, count, seed, database, quiet):
    """A campaign on the injectable clock with synthetic enterprises, reviewers and experts, through advanced
    certified lists and lighthouse cultivation and acceptance: runs until nothing is left to do; cases still open
    are named with why."""
    from app.jobs import simulate as simulation

    previous = get_clock()
    echo = None if quiet else click.echo
    try:
        with service_errors():
            if database:
                summary = simulation.run_fresh(database, year, count, seed, echo=echo)
            else:
                summary = simulation.run(year, count, seed, echo=echo)
    finally:
        set_clock(previous)
    click.echo("summary: " + ", ".join(f"{k} {v}" for k, v in summary.items()))


COMMANDS = (simulate_cmd,)
