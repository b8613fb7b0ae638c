"""The reminders of a sweep are written in the caller's transaction (services/reminders.record_due flushes only):
rolled back, they are written again by the next sweep; committed, once."""
from datetime import timedelta

from app.services import reminders
from app.uow import unit_of_work
from tests.timers.test_reminders import DUE, review_task


class Abandon(Exception):
    pass


def test_reminders_rolled_back_by_the_caller_are_written_again(clock):
    _case_id, task_id = review_task()
    at = DUE - timedelta(days=7) + timedelta(seconds=1)
    try:
        with unit_of_work():
            assert [(r["kind"], r["task_id"]) for r in reminders.record_due(at)] == [("before_7d", task_id)]
            raise Abandon()
    except Abandon:
        pass
    with unit_of_work():
        assert [(r["kind"], r["task_id"]) for r in reminders.record_due(at)] == [("before_7d", task_id)]
    with unit_of_work():
        assert reminders.record_due(at + timedelta(hours=1)) == []  # once
