"""`flask audit verify [CASE] [--replay]` and `flask audit anchor`."""
import click

from app.services import anchors, audit
from app.services.clock import get_clock

group = click.Group("audit", help="History verification, replay and anchors.")


@group.command("verify")
@click.argument("case_id", required=False, type=int)
@click.option("--replay", "with_replay", is_flag=True,
              help="also replay every chain and compare the state recorded at every step")
def verify(case_id, with_replay):
    """Recompute every hash chain and check the anchor log; non-zero exit naming the first broken event."""
    out = audit.verify_all(case_id, with_replay)
    for cid, seq, why in out["broken"]:
        click.echo(f"case {cid}: broken at event {seq}: {why}", err=True)
    for p in out["problems"]:
        click.echo(p, err=True)
    click.echo(f"{out['checked']} chain(s) checked, {len(out['broken'])} broken; {out['anchors']} anchor(s) checked, "
               f"{len(out['problems'])} disagreement(s)")
    if out["broken"] or out["problems"]:
        raise SystemExit(1)


@group.command("anchor")
def anchor():
    """Append the head hashes of all chains to the anchor log (AUDIT_ANCHOR_FILE)."""
    line = anchors.write(get_clock().now())
    click.echo(f"anchored {len(line['heads'])} moved chain(s) of {line['count']} at {line['at']}: "
               f"root {line['root']} in {anchors.path()}")


COMMANDS = (group,)
