"""`flask demo [--with-cases]`: the demo world (idempotent) and its logins."""
import click

from app.services import demo as demo_service
from app.uow import unit_of_work


@click.command("demo")
@click.option("--with-cases", is_flag=True,
              help="also open a few sample cases (a basic review, an advanced joint review, a public notice, a "
                   "lighthouse application, an excellent draft) when the database has no case yet")
def demo_cmd(with_cases):
    """Load the demo world (idempotent) and print the demo logins."""
    with unit_of_work():
        logins = demo_service.load_demo()
    if with_cases:
        with unit_of_work():
            for line in demo_service.load_sample_cases():
                click.echo(line)
    click.echo("Demo logins (username / password / role):")
    for u in logins:
        click.echo(f"  {u['username']:<18} {u['password']:<20} {u['role']}")


COMMANDS = (demo_cmd,)
