import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, HumanTask
from app.services import attachments, cases, lists, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT, maturity_evidence

ZJ_ENTERPRISES = ("acme", "ningbo-parts", "hz-precision")  # Zhejiang, not SOE members: the zj-reviewer's queue


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


def case_in_notice() -> int:
    """A Sinopec member's advanced case, approved by its group and on its published certified list."""
    with unit_of_work():
        case = cases.create_case(user("sinopec-ningbo"), "advanced", 2026)
    with unit_of_work():
        att = attachments.upload(user("sinopec-ningbo"), case.id, "申报书.pdf", io.BytesIO(b"%PDF-1.4 materials"))
        (task,) = cases.open_tasks(case)
        tasks.complete(user("sinopec-ningbo"), task.id, _application(att.id))
    with unit_of_work():
        (review,) = cases.open_tasks(case)
        tasks.complete(user("sinopec-reviewer"), review.id, {"decision": "approve"})
    with unit_of_work():
        lists.publish_certified(user("sinopec-reviewer"), "advanced", 2026, [case.id])
    return case.id


def _application(att_id):
    text = "建设内容说明：已完成生产线数字化改造与网络化协同。"
    return {"project_name": "宁波石化智能工厂", "contact_name": "张三", "contact_phone": "0574-12345678",
            **maturity_evidence(att_id, 3), "outcomes": "生产效率提升25%，形成区域标杆。" * 2, "materials": [att_id],
            "accept_responsibility": True,
            "construction": {k: text for k in ("factory_construction", "rd_design", "production_operations",
                                               "production_management", "operations_management")}}
