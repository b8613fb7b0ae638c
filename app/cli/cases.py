"""`flask cases open-basic ...`: the basic self-assessment case of every enterprise that has none, in batches;
`flask cases migrate-step-data`: per-step data for existing cases, running cases to the newest diagrams;
`flask cases mirror-waits`: where cases saved before migration 0025 wait for a message."""
import click

from app.cli.common import actor, service_errors
from app.jobs import onboarding
from app.services import clock, instances, step_migration
from app.uow import unit_of_work

group = click.Group("cases", help="Cases in bulk.")


@group.command("open-basic")
@click.option("--campaign", "year", required=True, type=int)
@click.option("--province", default=None, help="only this province (GB/T 2260 code)")
@click.option("--codes", "codes_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="only the enterprises whose credit codes this file lists, one a line")
@click.option("--batch", default=5000, show_default=True, type=int, help="cases per committed transaction")
@click.option("--as", "username", default="admin", show_default=True,
              help="the administrator or provincial reviewer acting")
def open_basic(year, province, codes_file, batch, username):
    """Open the basic self-assessment case for every enterprise (of the province) that has none yet."""
    user = actor(username)
    codes = None
    if codes_file:
        with open(codes_file, encoding="utf-8") as fh:
            codes = [line.strip() for line in fh if line.strip()]
    with service_errors():
        res = onboarding.open_basic(user, year, province=province, credit_codes=codes, batch=batch, echo=click.echo)
    click.echo(f"opened {res.created} basic case(s) in campaign {res.campaign} in {res.batches} batch(es); "
               f"skipped: {res.skipped_existing} with a case already, {res.ineligible} ineligible, "
               f"{res.outside_scope} outside scope, {res.deadline_passed} past the deadline")
    secs = max(res.seconds, 1e-9)
    click.echo(f"{res.seconds:.1f} s: {res.created / secs:.0f} cases/s, {res.rows_written} rows "
               f"({res.rows_written / secs:.0f} rows/s)")


@group.command("migrate-step-data")
@click.option("--as", "username", default="admin", show_default=True, help="the administrator acting")
def migrate_step_data(username):
    """Build the per-step records of existing cases from their history and move running cases to the newest
    version of their diagram where the migration plan allows (else they stay, the reason printed and recorded)."""
    user = actor(username)
    with service_errors():
        res = step_migration.migrate_step_data(user, clock.now(), unit_of_work)
    click.echo(f"{res['steps']} step record(s) written")
    for m in res["moved"]:
        click.echo(f"case {m['case_id']}: moved from version {m['from']} to {m['to']}")
    for k in res["kept"]:
        click.echo(f"case {k['case_id']}: stays on version {k['version']}: {'; '.join(k['reasons'])}")
    click.echo(f"{len(res['moved'])} case(s) moved, {len(res['kept'])} kept on their version")

@group.command("mirror-waits")
@click.option("--batch", default=2000, show_default=True, type=int, help="cases per committed transaction")
def mirror_waits(batch):
    """Record where running cases wait for a message (the process heatmap counts them there): needed once for the
    cases saved before migration 0025; idempotent."""
    after, total = 0, 0
    while after is not None:
        with unit_of_work():
            written, after = instances.mirror_waits_batch(after, batch)
        total += written
    click.echo(f"{total} case(s) waiting for a message recorded")


COMMANDS = (group,)
