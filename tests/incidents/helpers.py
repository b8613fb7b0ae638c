"""A basic-tier diagram whose approval condition fails at run time, its fix, and a case waiting for review."""
from app.config import ROOT
from app.extensions import db
from app.models import Case
from app.services import case_migrations, cases, tasks, versions
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT

BASIC = (ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes()
KEY = "basic_self_assessment"
GOOD_CONDITION = b'organizer_decision == "approve"</bpmn:conditionExpression>'
# passes every deploy check; divides by zero when the gateway evaluates it
BROKEN = BASIC.replace(GOOD_CONDITION, b'organizer_decision == "approve" and 1 // (len(organizer_decision) - 7) == 0'
                                      b'</bpmn:conditionExpression>', 1)
REVIEW = {"decision": "approve", "review_comment": "材料齐全，同意。"}


def deploy(xml: bytes, message: str) -> int:
    with unit_of_work():
        return versions.deploy(user("admin"), KEY, xml, message, None).version


def case_waiting_for_review() -> tuple[int, int]:
    """(case id, review task id) on the newest version."""
    with unit_of_work():
        case = cases.create_case(user("acme"), "basic", 2026)
    (t,) = cases.open_tasks(db.session.get(Case, case.id))
    with unit_of_work():
        tasks.complete(user("acme"), t.id, GOOD_ASSESSMENT)
    (review,) = cases.open_tasks(db.session.get(Case, case.id))
    return case.id, review.id


def fix_and_migrate(case_id: int) -> int:
    number = deploy(BASIC, "fix the approval condition")
    with unit_of_work():
        case_migrations.migrate_case(user("admin"), case_id, KEY, number, _now())
    return number


def _now():
    from app.services import clock

    return clock.now()
