"""Service tasks (issue 18 part 2): operators from the registry, checked at deploy naming the element; run after
the commit through the outbox: `notify` (in-app notices to the case's enterprise), `render_document` (a DOCX
attached to the case, its SHA-256 in the chain); each request carried out once."""
import zipfile
from io import BytesIO

import pytest
from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.jobs import outbox as outbox_job
from app.models import Attachment, Case, CaseEvent, Notification, OutboxItem
from app.services import attachments, clock, events, operators, tasks, versions
from app.uow import unit_of_work
from tests.conftest import user
from tests.incidents.helpers import BASIC, KEY, REVIEW, case_waiting_for_review

Q = "&quot;"


def _service(el_id, operator, params, target):
    ps = "".join(f'<spiffworkflow:parameter id="{k}" type="{t}" value="{v}"/>' for k, (t, v) in params.items())
    return (f'<bpmn:serviceTask id="{el_id}" name="{el_id}"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id="{operator}"><spiffworkflow:parameters>{ps}'
            f'</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>'
            f'</bpmn:serviceTask><bpmn:sequenceFlow id="f_{el_id}" sourceRef="{el_id}" targetRef="{target}" />')


def _with_services(notify_params=None, render_params=None, operator="notify") -> bytes:
    notify_params = notify_params or {"recipients": ("str", f"{Q}enterprise{Q}"),
                                      "template": ("str", f"{Q}案件 {{case_id}} 已通过基础级自评{Q}")}
    render_params = render_params or {"template": ("str", f"{Q}{{enterprise}}：基础级自评结果通知{Q}"),
                                      "filename": ("str", f"{Q}result.docx{Q}")}
    xml = BASIC.replace(b'sourceRef="review_decision" targetRef="end_certified"',
                        b'sourceRef="review_decision" targetRef="notify_ent"')
    extra = _service("notify_ent", operator, notify_params, "render_cert") + \
        _service("render_cert", "render_document", render_params, "end_certified")
    return xml.replace(b"</bpmn:process>", extra.encode() + b"</bpmn:process>", 1)


def test_deploy_refuses_unknown_operators_and_mismatched_parameters_naming_the_element():
    admin = user("admin")
    problems = versions.validate(admin, KEY, _with_services(operator="send_fax"))
    assert any(p["element"] == "notify_ent" and "'send_fax' is not registered" in p["message"] for p in problems)
    problems = versions.validate(admin, KEY, _with_services(notify_params={"recipients": ("int", "1")}))
    msgs = [p["message"] for p in problems if p["element"] == "notify_ent"]
    assert any("type str, not int" in m for m in msgs) and any("needs parameter 'template'" in m for m in msgs)
    problems = versions.validate(admin, KEY, _with_services(
        notify_params={"recipients": ("str", f"{Q}enterprise{Q}"), "template": ("str", "open('/etc/passwd')")}))
    assert any(p["element"] == "notify_ent" for p in problems)
    with pytest.raises(Invalid):
        with unit_of_work():
            versions.deploy(admin, KEY, _with_services(operator="send_fax"), "unknown operator", None)
    assert versions.validate(admin, KEY, _with_services()) == []
    assert {o["name"] for o in operators.catalogue()} == {"notify", "render_document"}


def test_service_tasks_run_after_the_commit_once():
    with unit_of_work():
        versions.deploy(user("admin"), KEY, _with_services(), "notify and render on approval", None)
    case_id, task_id = case_waiting_for_review()
    with unit_of_work():
        tasks.complete(user("zj-reviewer"), task_id, REVIEW)
    db.session.expire_all()
    assert db.session.get(Case, case_id).status == "certified"
    items = list(db.session.scalars(select(OutboxItem).where(OutboxItem.case_id == case_id)))
    assert sorted(i.payload["operator"] for i in items) == ["notify", "render_document"]
    assert all(i.sent_at is None for i in items)  # nothing happened inside the step's transaction
    before = db.session.scalar(select(Notification.id).where(Notification.case_id == case_id))
    assert before is None
    outbox_job.drain(clock.now())
    outbox_job.drain(clock.now())  # a second drain carries out nothing again
    db.session.expire_all()
    notes = list(db.session.scalars(select(Notification).where(Notification.case_id == case_id)))
    assert [n.user_id for n in notes] == [user("acme").id]
    assert notes[0].title == f"案件 {case_id} 已通过基础级自评"
    (att,) = db.session.scalars(select(Attachment).where(Attachment.case_id == case_id,
                                                         Attachment.filename == "result.docx"))
    body = zipfile.ZipFile(BytesIO(attachments.store_path(att.sha256).read_bytes())).read("word/document.xml")
    assert "杭州示范智能装备有限公司：基础级自评结果通知".encode() in body
    (ev,) = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                      CaseEvent.action == "document.rendered"))
    assert ev.data["sha256"] == att.sha256 and ev.element == "render_cert"
    assert events.verify_case(case_id)[0]
