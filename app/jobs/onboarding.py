"""Bulk onboarding as a job (`flask cases open-basic`, bench/bulk_create.py): the basic case of every enterprise that
has none, one committed transaction per batch (`services/onboarding.py` says what a batch writes). A crash loses the
open batch only; a re-run skips the enterprises that have their case."""
import time
from collections.abc import Callable

from app.models import User
from app.services import onboarding
from app.uow import unit_of_work


def open_basic(actor: User, campaign_year, province: str | None = None, credit_codes: list[str] | None = None,
               batch: int = onboarding.DEFAULT_BATCH, echo: Callable[[str], None] | None = None,
               before_commit: Callable[[onboarding.Result], None] | None = None) -> onboarding.Result:
    """Open the basic cases `batch` per committed transaction. Call it outside a transaction. `echo` gets a progress
    line after each commit; `before_commit` is called with the running totals once a batch's rows are written and
    before they commit (raising there abandons that batch, earlier ones stay)."""
    with unit_of_work():  # the checks read only; this ends their transaction, so a batch starts with its lock
        run = onboarding.prepare(actor, campaign_year, province=province, credit_codes=credit_codes, batch=batch)
    result = run.result
    while True:
        with unit_of_work():
            if not onboarding.open_batch(run):
                break
            if before_commit:
                before_commit(result)
        if echo:
            rate = result.created / max(time.perf_counter() - run.started, 1e-9)
            echo(f"batch {result.batches}: {result.created} case(s) opened so far ({rate:.0f} cases/s)")
    result.seconds = time.perf_counter() - run.started
    return result
