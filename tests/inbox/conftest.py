import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, HumanTask
from app.services import cases, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT

ZJ_ENTERPRISES = ("acme", "ningbo-parts", "hz-precision")  # Zhejiang, not SOE members: the zj-reviewer's queue


@pytest.fixture(autouse=True)
def _db(db_context):
    yield


def submitted_basic(owner: str) -> HumanTask:
    """A basic case of `owner` whose self-assessment is submitted: its open task is the organizer's review."""
    with unit_of_work():
        case = cases.create_case(user(owner), "basic", 2026)
        first = cases.open_tasks(case)[0]
        tasks.complete(user(owner), first.id, GOOD_ASSESSMENT)
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open"))


@pytest.fixture
def review_tasks():
    """Three basic review tasks waiting in the Zhejiang reviewer's queue (acme, ningbo-parts, hz-precision)."""
    return [submitted_basic(o) for o in ZJ_ENTERPRISES]


def case_of(task: HumanTask) -> Case:
    return db.session.get(Case, task.case_id)
