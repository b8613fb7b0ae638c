"""An event's instant is hashed as the UTC instant it is stored as, whatever zone the caller's clock gave it in.
An operator's `flask timers run --now 2027-07-17T00:00:01+08:00` (Beijing time, as the README's examples write it)
and the campaign simulation (days in Asia/Shanghai) wrote events whose hash covered "…+08:00" while the row holds
the same instant in UTC: `audit verify` then found every such chain broken."""
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import CaseEvent
from app.services import system_events
from app.services.clock import SHANGHAI
from app.uow import unit_of_work
from tests.api.test_excellent import start


def test_a_timer_fired_at_a_beijing_instant_leaves_a_verifiable_chain(app, client, auth_headers):
    cid = start(client, auth_headers("sinopec-plant"))
    runner = app.test_cli_runner()
    out = runner.invoke(args=["timers", "run", "--now", "2027-07-17T00:00:01+08:00"])
    assert f"case {cid}: application_deadline fired" in out.output, out.output
    fired = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.action == "timer.fired"))
    assert fired.at.utcoffset().total_seconds() == 0 and fired.at.hour == 16  # stored as the UTC instant
    verify = runner.invoke(args=["audit", "verify", str(cid), "--replay"])
    assert verify.exit_code == 0, verify.output


def test_a_system_event_at_a_beijing_instant_verifies(app):
    with unit_of_work():
        system_events.append(None, "test.instant", "zone", {"n": 1}, at=datetime(2027, 1, 1, 8, 0, tzinfo=SHANGHAI))
    verify = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output


def test_a_step_run_at_a_beijing_instant_replays(app, client, auth_headers, clock):
    """The lighthouse targets' decision computes the two-year deadline on the engine's clock (`deadline_after`): run
    at a Beijing-time instant it kept "…+08:00" in the state, while replay (at the stored UTC instant) computes
    "…+00:00": the simulation's lighthouse and excellent cases failed `audit verify --replay` that way."""
    from tests.api.test_lighthouse import to_cultivation

    clock.at = clock.at.astimezone(SHANGHAI)
    cid = to_cultivation(client, auth_headers)
    verify = app.test_cli_runner().invoke(args=["audit", "verify", str(cid), "--replay"])
    assert verify.exit_code == 0, verify.output
