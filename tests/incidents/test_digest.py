"""In-app notifications from the digest each sweep runs: new tasks batched per recipient, returns for revision,
decisions on one's own case (issue 18 part 3)."""
from sqlalchemy import select

from app.extensions import db
from app.models import Case, Notification
from app.services import cases, clock, notification_digest, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT


def _digest():
    with unit_of_work():
        return notification_digest.digest(clock.now())


def _titles(username):
    return [n.title for n in db.session.scalars(select(Notification).where(
        Notification.user_id == user(username).id).order_by(Notification.id))]


def _submit(username):
    with unit_of_work():
        case = cases.create_case(user(username), "basic", 2026)
    (t,) = cases.open_tasks(db.session.get(Case, case.id))
    with unit_of_work():
        tasks.complete(user(username), t.id, GOOD_ASSESSMENT)
    (review,) = cases.open_tasks(db.session.get(Case, case.id))
    return case.id, review.id


def test_new_tasks_are_batched_per_recipient_and_returns_and_decisions_are_told():
    assert _digest() == 0  # the first digest only sets its marks
    a, review_a = _submit("acme")
    b, review_b = _submit("ningbo-parts")
    assert _digest() >= 1
    assert _titles("zj-reviewer") == ["您有 2 项新任务"]  # two new tasks, one notice
    assert _digest() == 0  # nothing new
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), review_a, {"decision": "return", "review_comment": "请补充材料"})
        tasks.complete(user("zj-reviewer"), review_b, {"decision": "approve"})
    _digest()
    acme, ningbo = _titles("acme"), _titles("ningbo-parts")
    assert any(t.startswith(f"案件 {a} 已退回修改") for t in acme)
    assert f"案件 {b} 已办结：已通过" in ningbo
