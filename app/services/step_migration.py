"""`flask cases migrate-step-data`: bring existing cases to per-step data (issue 15).

1. The step rows of every case that has none yet, from its history (`steps.backfill`; migration 0018 did the same
   once for the cases present when it ran).
2. Every running case of a built-in process that is not on the newest version moves to it where
   `workflows.migration.plan` allows (`case_migrations.migrate_case`, a `case.migrated` event each, one transaction
   per case); a case that cannot move stays on its version (its diagram reads the old shared `decision`, which its
   tasks still write: a version without `outputs` keeps every field as process data) and the reason is recorded.
3. One `cases.step_data_migrated` system event lists what was written, moved and kept, with the reasons.
Idempotent: a second run writes no step and moves nothing new.
"""
from app.errors import Conflict, Invalid, NotFound
from app.models import User
from app.services import case_migrations, processes, steps, system_events, versions


def migrate_step_data(actor: User, now, transaction) -> dict:
    """Each part in its own `transaction()` (the caller's unit of work), one case per transaction."""
    versions.require_admin(actor)
    with transaction():
        written = steps.backfill()
    moved, kept = [], []
    for key in processes.BUILTIN:
        latest = processes.latest_version(key)
        if latest is None:
            continue
        with transaction():
            plan = case_migrations.dry_run(actor, key, latest.version)
        for item in plan["items"]:
            if item["version"] == latest.version:
                continue
            if not item["ok"]:
                kept.append({"case_id": item["case_id"], "key": key, "version": item["version"],
                             "reasons": item["reasons"]})
                continue
            try:
                with transaction():
                    moved.append(case_migrations.migrate_case(actor, item["case_id"], key, latest.version, now))
            except (Invalid, Conflict, NotFound) as exc:
                kept.append({"case_id": item["case_id"], "key": key, "version": item["version"],
                             "reasons": [exc.message]})
    result = {"steps": written, "moved": moved, "kept": kept}
    with transaction():
        system_events.append(actor.id, "cases.step_data_migrated", "cases", result, at=now)
    return result
