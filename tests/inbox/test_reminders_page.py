"""The inbox page lists the reviewer's reminders for open tasks."""
from datetime import timedelta

from app.services import cases, reminders, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT
from tests.security.helpers import browser_login, fresh_client


def test_reminder_shown_on_the_inbox(app, clock):
    with unit_of_work():
        case = cases.create_case(user("acme"), "basic", 2026)
        (t,) = cases.open_tasks(case)
    with unit_of_work():
        tasks.complete(user("acme"), t.id, GOOD_ASSESSMENT)
    with unit_of_work():
        (review,) = cases.open_tasks(cases.get_case(user("zj-reviewer"), case.id))
        due = review.due_at
    clock.at = due - timedelta(days=7) + timedelta(minutes=1)
    with unit_of_work():
        assert len(reminders.record_due(clock.at)) >= 1
    web = fresh_client(app)
    browser_login(web, "zj-reviewer")
    page = web.get("/inbox").get_data(as_text=True)
    assert 'class="reminder-before_7d"' in page and f"/tasks/{review.id}" in page
