"""Flask CLI: demo, load, timers run, scheduler run, deadlines extend, simulate, audit verify (db upgrade comes from
Flask-Migrate)."""
from datetime import datetime, timezone

import click
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.services import demo, events, loading
from app.services.clock import FixedClock, get_clock, set_clock
from app.services.errors import ServiceError
from app.uow import unit_of_work


def _instant(text: str, hint: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter("not an ISO-8601 instant", param_hint=hint) from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def register_cli(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option("--with-cases", is_flag=True,
                  help="also open a few sample cases (a basic review, an advanced joint review, a public notice, a "
                       "lighthouse application, an excellent draft) when the database has no case yet")
    def demo_cmd(with_cases):
        """Load the demo world (idempotent) and print the demo logins."""
        with unit_of_work():
            logins = demo.load_demo()
        if with_cases:
            with unit_of_work():
                for line in demo.load_sample_cases():
                    click.echo(line)
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
        """One sweep at that instant: claim the due timers, fire each case in its own transaction."""
        from app.services import scheduler

        now = _instant(now_text, "--now") if now_text else get_clock().now()
        previous = get_clock()
        set_clock(FixedClock(now))
        try:
            res = scheduler.sweep(now, on_fired=lambda cid, els: [
                click.echo(f"{now.isoformat()} case {cid}: {el} fired") for el in els])
            for case_id, message in res.errors:
                click.echo(f"case {case_id}: {message}", err=True)
            click.echo(f"{res.count} timer(s) fired" + (f", {res.reminders} reminder(s)" if res.reminders else ""))
        finally:
            set_clock(previous)

    scheduler_group = click.Group("scheduler", help="The timer and reminder scheduler.")
    app.cli.add_command(scheduler_group)

    @scheduler_group.command("run")
    def scheduler_run():
        """Run the scheduler in this process (a deployment's own process): a sweep every
        SCHEDULER_INTERVAL_SECONDS while this process holds the lease; Ctrl+C stops it and gives the lease back."""
        from app.services import scheduler

        scheduler.stop_beside_server()
        runner = scheduler.Runner(app, blocking=True, echo=click.echo)
        click.echo(f"scheduler {runner.holder}: a sweep every {runner.interval} s while holding the lease")
        try:
            runner.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            runner.shutdown()

    @scheduler_group.command("status")
    def scheduler_status():
        """Who holds the scheduler lease, and until when."""
        from app.services import scheduler

        held = scheduler.lease_holder()
        click.echo(f"lease held by {held[0]} until {held[1].isoformat()}" if held else "no scheduler has run")

    deadlines_group = click.Group("deadlines", help="Campaign deadlines.")
    app.cli.add_command(deadlines_group)

    @deadlines_group.command("extend")
    @click.option("--campaign", "year", required=True, type=int)
    @click.option("--tier", required=True)
    @click.option("--application-deadline", default=None, help="new date, YYYY-MM-DD")
    @click.option("--recommendation-deadline", default=None, help="new date, YYYY-MM-DD")
    @click.option("--province", default=None, help="only this province (GB/T 2260 code)")
    @click.option("--case", "case_id", default=None, type=int, help="only this case")
    @click.option("--reason", required=True)
    @click.option("--as", "username", default="admin", show_default=True, help="the administrator acting")
    def deadlines_extend(year, tier, application_deadline, recommendation_deadline, province, case_id, reason,
                         username):
        """Extend a deadline for a campaign's tier, a province or one case; every affected case records why."""
        from app.models import User
        from app.services import deadlines

        actor = db.session.scalar(select(User).where(User.username == username))
        if actor is None:
            raise click.BadParameter("no such user", param_hint="--as")
        try:
            with unit_of_work():
                out = deadlines.extend(actor, year, tier, reason=reason, application_deadline=application_deadline,
                                       recommendation_deadline=recommendation_deadline, province=province,
                                       case_id=case_id)
        except ServiceError as exc:
            click.echo(f"error: {exc.message}", err=True)
            for k, v in (exc.errors or {}).items():
                click.echo(f"  {k}: {v}", err=True)
            raise SystemExit(1)
        click.echo(f"extension {out['id']} ({out['scope']}): {len(out['affected'])} case(s) moved: "
                   + (", ".join(map(str, out["affected"])) or "none"))

    cases_group = click.Group("cases", help="Cases in bulk.")
    app.cli.add_command(cases_group)

    @cases_group.command("open-basic")
    @click.option("--campaign", "year", required=True, type=int)
    @click.option("--province", default=None, help="only this province (GB/T 2260 code)")
    @click.option("--codes", "codes_file", default=None, type=click.Path(exists=True, dir_okay=False),
                  help="only the enterprises whose credit codes this file lists, one a line")
    @click.option("--batch", default=5000, show_default=True, type=int, help="cases per committed transaction")
    @click.option("--as", "username", default="admin", show_default=True,
                  help="the administrator or provincial reviewer acting")
    def cases_open_basic(year, province, codes_file, batch, username):
        """Open the basic self-assessment case for every enterprise (of the province) that has none yet."""
        from app.models import User
        from app.services import onboarding

        actor = db.session.scalar(select(User).where(User.username == username))
        if actor is None:
            raise click.BadParameter("no such user", param_hint="--as")
        codes = None
        if codes_file:
            with open(codes_file, encoding="utf-8") as fh:
                codes = [line.strip() for line in fh if line.strip()]
        try:
            res = onboarding.open_basic(actor, year, province=province, credit_codes=codes, batch=batch,
                                        echo=click.echo)
        except ServiceError as exc:
            click.echo(f"error: {exc.message}", err=True)
            raise SystemExit(1)
        click.echo(f"opened {res.created} basic case(s) in campaign {res.campaign} in {res.batches} batch(es); "
                   f"skipped: {res.skipped_existing} with a case already, {res.ineligible} ineligible, "
                   f"{res.outside_scope} outside scope, {res.deadline_passed} past the deadline")
        secs = max(res.seconds, 1e-9)
        click.echo(f"{res.seconds:.1f} s: {res.created / secs:.0f} cases/s, {res.rows_written} rows "
                   f"({res.rows_written / secs:.0f} rows/s)")

    @app.cli.command("simulate")
    @click.option("--campaign", "year", default=2026, show_default=True, type=int)
    @click.option("--enterprises", "count", default=10, show_default=True, type=int)
    @click.option("--seed", default=1, show_default=True, type=int)
    @click.option("--database", default=None,
                  help="simulate in a new database at this URL (migrated, demo loaded), not the app's")
    @click.option("--quiet", is_flag=True, help="only the summary")
    def simulate_cmd(year, count, seed, database, quiet):
        """A campaign on the injectable clock with synthetic enterprises, reviewers and experts, through advanced
        certified lists and lighthouse cultivation and acceptance: runs until nothing is left to do; cases still open
        are named with why."""
        from app.services import simulation

        previous = get_clock()
        echo = None if quiet else click.echo
        try:
            if database:
                summary = simulation.run_fresh(database, year, count, seed, echo=echo)
            else:
                summary = simulation.run(year, count, seed, echo=echo)
        except ServiceError as exc:
            click.echo(f"error: {exc.message}", err=True)
            raise SystemExit(1)
        finally:
            set_clock(previous)
        click.echo("summary: " + ", ".join(f"{k} {v}" for k, v in summary.items()))

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
        if not case_id:  # the system chain: deployments, user and role changes
            from app.services import system_events

            ok, seq, why = system_events.verify()
            if not ok:
                problems.append(f"system chain: broken at event {seq}: {why}")
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
    from app.cli_bpmn import register as register_bpmn  # bpmn validate / deploy (issue 5)
    register_bpmn(app)
