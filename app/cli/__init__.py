"""Flask CLI commands, one small module per group (`flask --app wsgi GROUP COMMAND`); `db` comes from Flask-Migrate.

Commands are an entry floor like the blueprints: each opens the unit of work (`app.uow`) around the service calls it
makes and translates service errors into a message and exit status 1."""
from flask import Flask


def register_cli(app: Flask) -> None:
    from app.cli import audit, backup, bpmn, cases, deadlines, demo, load, scheduler, simulate, timers, users

    for module in (demo, load, timers, scheduler, deadlines, cases, simulate, audit, backup, bpmn, users):
        for command in module.COMMANDS:
            app.cli.add_command(command)
    from app.cli import outbox  # issue 18: the outbox's drain

    for command in outbox.COMMANDS:
        app.cli.add_command(command)
