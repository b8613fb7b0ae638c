"""`flask deadlines extend ...`: a deadline moved for a campaign's tier, a province or one case, with its reason."""
import click

from app.cli.common import actor, service_errors
from app.services import deadlines
from app.uow import unit_of_work

group = click.Group("deadlines", help="Campaign deadlines.")


def _details(errors):
    for k, v in (errors or {}).items():
        click.echo(f"  {k}: {v}", err=True)


@group.command("extend")
@click.option("--campaign", "year", required=True, type=int)
@click.option("--tier", required=True)
@click.option("--application-deadline", default=None, help="new date, YYYY-MM-DD")
@click.option("--recommendation-deadline", default=None, help="new date, YYYY-MM-DD")
@click.option("--province", default=None, help="only this province (GB/T 2260 code)")
@click.option("--case", "case_id", default=None, type=int, help="only this case")
@click.option("--reason", required=True)
@click.option("--as", "username", default="admin", show_default=True, help="the administrator acting")
def extend(year, tier, application_deadline, recommendation_deadline, province, case_id, reason, username):
    """Extend a deadline for a campaign's tier, a province or one case; every affected case records why."""
    user = actor(username)
    with service_errors(_details), unit_of_work():
        out = deadlines.extend(user, year, tier, reason=reason, application_deadline=application_deadline,
                               recommendation_deadline=recommendation_deadline, province=province,
                               case_id=case_id)
    click.echo(f"extension {out['id']} ({out['scope']}): {len(out['affected'])} case(s) moved: "
               + (", ".join(map(str, out["affected"])) or "none"))


COMMANDS = (group,)
