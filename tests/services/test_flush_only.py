"""Services flush; the entry floor commits (issue 13): no service opens, commits or rolls back a transaction, so a
caller that rolls back loses everything the service wrote (here a bulk onboarding batch; tests/timers: reminders)."""
import re
from pathlib import Path

from app.jobs import onboarding as bulk
from app.services import onboarding
from app.uow import unit_of_work
from tests.conftest import user
from tests.services.test_onboarding import ZJ, counts, factories  # noqa: F401  (factories: a fixture)

SERVICES = Path(__file__).resolve().parents[2] / "app" / "services"


def test_no_service_opens_commits_or_rolls_back_a_transaction():
    found = [f"{path.name}:{n}: {line.strip()}" for path in sorted(SERVICES.glob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"unit_of_work|\bcommit\(\)|\brollback\(\)", line)]
    assert found == []


class Abandon(Exception):
    pass


def test_a_batch_its_caller_rolls_back_leaves_nothing(factories):  # noqa: F811
    run = None
    try:
        with unit_of_work():
            run = onboarding.prepare(user("admin"), 2026, province=ZJ, batch=3)
            assert onboarding.open_batch(run)
            assert run.result.created == 3 and counts() == (3, 3, 3)  # written and flushed, not committed
            raise Abandon()
    except Abandon:
        pass
    assert counts() == (0, 0, 0)
    # the job commits what the service wrote, batch by batch
    res = bulk.open_basic(user("admin"), 2026, province=ZJ, batch=3)
    assert res.created == counts()[0] > 3 and res.batches >= 2


def test_the_command_commits_each_batch_and_says_so(app, factories):  # noqa: F811
    out = app.test_cli_runner().invoke(args=["cases", "open-basic", "--campaign", "2026", "--province", ZJ,
                                             "--batch", "4"])
    assert out.exit_code == 0, out.output
    made = counts()[0]
    assert made > 4
    assert out.output.startswith("batch 1: 4 case(s) opened so far (")
    assert f"opened {made} basic case(s) in campaign 2026 in {-(-made // 4)} batch(es)" in out.output
    again = app.test_cli_runner().invoke(args=["cases", "open-basic", "--campaign", "2026", "--province", ZJ])
    assert again.exit_code == 0 and "opened 0 basic case(s)" in again.output
    assert f"skipped: {made} with a case already" in again.output
    refused = app.test_cli_runner().invoke(args=["cases", "open-basic", "--campaign", "2026", "--province", ZJ,
                                                 "--as", "sd-reviewer"])
    assert refused.exit_code == 1 and refused.output.startswith("error: ")
