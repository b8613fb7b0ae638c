"""Flask CLI: demo, load, timers run, audit verify (db upgrade comes from Flask-Migrate)."""
from datetime import datetime, timezone

import click
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.services import demo, events, loading, timers
from app.services.clock import FixedClock, get_clock, set_clock
from app.services.errors import ServiceError
from app.uow import unit_of_work


def register_cli(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_cmd():
        """Load the demo world (idempotent) and print the demo logins."""
        with unit_of_work():
            logins = demo.load_demo()
        click.echo("Demo logins (username / password / role):")
        for u in logins:
            click.echo(f"  {u['username']:<18} {u['password']:<20} {u['role']}")

    @app.cli.command("load")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def load_cmd(path):
        """Bulk onboarding from YAML: all or nothing."""
        with open(path, "rb") as fh:
            text = fh.read()
        try:
            with unit_of_work():
                counts = loading.load(text)
        except ServiceError as exc:
            click.echo(f"error: {exc.message}", err=True)
            for row in (exc.errors or {}).get("rows", []):
                click.echo(f"  {row}", err=True)
            raise SystemExit(1)
        click.echo("loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    timers_group = click.Group("timers", help="Timer events.")
    app.cli.add_command(timers_group)

    @timers_group.command("run")
    @click.option("--now", "now_text", default=None, help="ISO-8601 instant (default: the clock's now)")
    def timers_run(now_text):
        """Fire every timer due at that instant, one case per transaction."""
        now = get_clock().now()
        if now_text:
            try:
                now = datetime.fromisoformat(now_text)
            except ValueError:
                raise click.BadParameter("not an ISO-8601 instant", param_hint="--now") from None
            if now.tzinfo is None:
                now = now.replace(tzinfo=timezone.utc)
        previous = get_clock()
        set_clock(FixedClock(now))
        try:
            fired = 0
            for case_id in timers.due_cases(now):
                try:
                    with unit_of_work():
                        elements = timers.fire_case(case_id, now)
                except ServiceError as exc:
                    click.echo(f"case {case_id}: {exc.message}", err=True)
                    continue
                for el in elements:
                    click.echo(f"{now.isoformat()} case {case_id}: {el} fired")
                    fired += 1
            click.echo(f"{fired} timer(s) fired")
        finally:
            set_clock(previous)

    audit_group = click.Group("audit", help="History verification, replay and anchors.")
    app.cli.add_command(audit_group)

    @audit_group.command("verify")
    @click.argument("case_id", required=False, type=int)
    @click.option("--replay", "with_replay", is_flag=True,
                  help="also replay every chain and compare the state recorded at every step")
    def audit_verify(case_id, with_replay):
        """Recompute every hash chain and check the anchor log; non-zero exit naming the first broken event."""
        from app.services import anchors, audit

        ids = [case_id] if case_id else list(db.session.scalars(select(Case.id).order_by(Case.id)))
        broken = 0
        for cid in ids:
            ok, seq, why = events.verify_case(cid)
            if ok and with_replay:
                ok, seq, why = audit.replay_all(cid)
            if not ok:
                broken += 1
                click.echo(f"case {cid}: broken at event {seq}: {why}", err=True)
        problems = anchors.verify(case_id)
        for p in problems:
            click.echo(p, err=True)
        click.echo(f"{len(ids)} chain(s) checked, {broken} broken; {len(anchors.read())} anchor(s) checked, "
                   f"{len(problems)} disagreement(s)")
        if broken or problems:
            raise SystemExit(1)

    @audit_group.command("anchor")
    def audit_anchor():
        """Append the head hashes of all chains to the anchor log (AUDIT_ANCHOR_FILE)."""
        from app.services import anchors

        line = anchors.write(get_clock().now())
        click.echo(f"anchored {len(line['heads'])} moved chain(s) of {line['count']} at {line['at']}: "
                   f"root {line['root']} in {anchors.path()}")

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False))
    def backup_cmd(path):
        """Write a consistent online snapshot of the database to PATH (SQLite backup API, or pg_dump -Fc)."""
        from app.services import backup

        try:
            out = backup.backup(path)
        except ServiceError as exc:
            click.echo(f"error: {exc.message}", err=True)
            raise SystemExit(1)
        click.echo(f"backup of the {out['kind']} database written to {out['path']} ({out['bytes']} bytes)")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def restore_cmd(path):
        """Replace the database's contents with the snapshot in PATH (written by `flask backup`)."""
        from app.services import backup

        db.session.remove()
        db.engine.dispose()  # no pooled connection keeps a view of the old contents
        try:
            out = backup.restore(path)
        except ServiceError as exc:
            click.echo(f"error: {exc.message}", err=True)
            raise SystemExit(1)
        db.engine.dispose()
        missing = backup.missing_attachments()
        click.echo(f"{out['kind']} database restored from {out['path']}")
        if missing:
            click.echo(f"warning: {len(missing)} attachment file(s) are not in UPLOAD_DIR; copy them from the "
                       f"backup of that directory (first: {missing[0]})", err=True)
