"""A service task right after the start event (issue 18 part 4): creating the case queues its request in the
outbox, once, and the drain carries it out after the commit."""
from sqlalchemy import select

from app.extensions import db
from app.jobs import outbox as outbox_job
from app.models import Case, Notification, OutboxItem
from app.services import cases, clock, versions
from app.uow import unit_of_work
from tests.conftest import user
from tests.incidents.helpers import BASIC, KEY

Q = "&quot;"
WELCOME = (
    '<bpmn:serviceTask id="welcome" name="受理通知"><bpmn:extensionElements>'
    '<spiffworkflow:serviceTaskOperator id="notify"><spiffworkflow:parameters>'
    f'<spiffworkflow:parameter id="recipients" type="str" value="{Q}enterprise{Q}"/>'
    f'<spiffworkflow:parameter id="template" type="str" value="{Q}案件 {{case_id}} 已受理{Q}"/>'
    '</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>'
    '<bpmn:sequenceFlow id="f_welcome" sourceRef="welcome" targetRef="self_assessment" />')


def _with_welcome() -> bytes:
    xml = BASIC.replace(b'sourceRef="start" targetRef="self_assessment"', b'sourceRef="start" targetRef="welcome"')
    assert xml != BASIC
    return xml.replace(b"</bpmn:process>", WELCOME.encode() + b"</bpmn:process>", 1)


def test_a_service_task_after_the_start_event_is_queued_at_creation_and_runs_once():
    admin = user("admin")
    assert versions.validate(admin, KEY, _with_welcome()) == []
    with unit_of_work():
        versions.deploy(admin, KEY, _with_welcome(), "a notice when the case starts", None)
    with unit_of_work():
        case_id = cases.create_case(user("acme"), "basic", 2026).id
    db.session.expire_all()
    (item,) = db.session.scalars(select(OutboxItem).where(OutboxItem.case_id == case_id))
    assert item.payload["operator"] == "notify" and item.payload["element"] == "welcome"
    assert item.sent_at is None  # nothing happened inside the creating transaction
    assert [t.element for t in cases.open_tasks(db.session.get(Case, case_id))] == ["self_assessment"]
    outbox_job.drain(clock.now())
    outbox_job.drain(clock.now())
    db.session.expire_all()
    notes = list(db.session.scalars(select(Notification).where(Notification.case_id == case_id)))
    assert [(n.user_id, n.title) for n in notes] == [(user("acme").id, f"案件 {case_id} 已受理")]
