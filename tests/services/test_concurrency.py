"""Two people completing one task at the same instant: exactly one wins, the other gets 409, nothing is doubled."""
import threading

from sqlalchemy import func, select

from app.errors import Conflict
from app.extensions import db
from app.models import CaseEvent, HumanTask
from app.services import cases, events, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT


def _race(app, user_id: int, task_id: int, n: int = 2) -> list[str]:
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker():
        with app.app_context():
            from app.models import User

            actor = db.session.get(User, user_id)
            barrier.wait()
            try:
                with unit_of_work():
                    tasks.complete(actor, task_id, GOOD_ASSESSMENT)
                result = "ok"
            except Conflict:
                result = "conflict"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(outcomes)


def test_simultaneous_completions_one_wins(app):
    for _ in range(5):
        with unit_of_work():
            case = cases.create_case(user("acme"), "basic", 2026)
            (task,) = cases.open_tasks(case)
            case_id, task_id = case.id, task.id
        assert _race(app, user("acme").id, task_id, n=3) == ["conflict", "conflict", "ok"]
        db.session.expire_all()
        n_events = db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))
        assert n_events == 2  # created + one completion
        open_rows = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                               HumanTask.state == "open")).all()
        assert [t.element for t in open_rows] == ["organizer_review"]
        assert events.verify_case(case_id)[0]
        # the next case for the same enterprise needs the last one closed: reject it
        with unit_of_work():
            tasks.complete(user("zj-reviewer"), open_rows[0].id, {"decision": "reject", "review_comment": "测试用"})
