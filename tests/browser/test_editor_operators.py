"""The diagram editor's properties panel offers the registered service-task operators (issue 18): the administrator
selects a service task, chooses 发送通知 (notify), fills its parameters; a wrong parameter is refused at deploy
naming the element; the deployed version carries the operator and its parameters as the engine reads them."""
import re

import pytest
from playwright.sync_api import expect

from app.config import ROOT
from app.extensions import db
from app.services import clock, drafts, processes
from app.uow import unit_of_work
from tests.browser.helpers import confirm, screenshot, sign_in, watch_errors
from tests.conftest import user

KEY = "basic_self_assessment"
BASIC = (ROOT / "bpmn" / "basic_self_assessment.bpmn").read_text(encoding="utf-8")


def _with_bare_service_task() -> str:
    """The basic diagram with a service task (no operator yet) between the approval and the certified end."""
    xml = BASIC.replace('sourceRef="review_decision" targetRef="end_certified"',
                        'sourceRef="review_decision" targetRef="notify_ent"', 1)
    xml = xml.replace("<bpmn:incoming>flow_approve</bpmn:incoming>\n    </bpmn:endEvent>",
                      "<bpmn:incoming>f_notify_ent</bpmn:incoming>\n    </bpmn:endEvent>", 1)
    xml = xml.replace("</bpmn:process>",
                      '<bpmn:serviceTask id="notify_ent" name="通知企业"><bpmn:incoming>flow_approve</bpmn:incoming>'
                      '<bpmn:outgoing>f_notify_ent</bpmn:outgoing></bpmn:serviceTask>'
                      '<bpmn:sequenceFlow id="f_notify_ent" sourceRef="notify_ent" targetRef="end_certified" />'
                      "</bpmn:process>", 1)
    xml = xml.replace("</bpmndi:BPMNPlane>",
                      '<bpmndi:BPMNShape id="notify_ent_di" bpmnElement="notify_ent">'
                      '<dc:Bounds x="540" y="190" width="100" height="60" /></bpmndi:BPMNShape>'
                      "</bpmndi:BPMNPlane>", 1)
    assert xml.count("notify_ent") >= 5
    return xml


@pytest.mark.browser
def test_admin_picks_an_operator_for_a_service_task_and_deploys_it(page):
    with unit_of_work():
        drafts.save(user("admin"), KEY, _with_bare_service_task().encode(), {}, clock.now())
    v1 = processes.latest_version(KEY).version
    errors = watch_errors(page)
    sign_in(page, "admin")
    page.goto(f"/admin/processes/{KEY}/edit")
    page.wait_for_selector("#editor.ready")
    expect(page.locator("#prop-service")).to_be_hidden()
    page.click("#canvas [data-element-id=organizer_review]")  # a user task: no operator part
    expect(page.locator("#prop-service")).to_be_hidden()
    page.click("#canvas [data-element-id=notify_ent]")
    expect(page.locator("#prop-service")).to_be_visible()
    options = page.locator("#f-operator option").all_inner_texts()
    assert options == ["请选择操作", "发送通知", "生成文书"], options
    page.select_option("#f-operator", "render_document")  # every parameter labelled in Chinese, none by its name
    params = page.locator("#f-op-params").inner_text()
    assert "文书模板" in params and "template_key" not in params and "filename" not in params, params
    page.select_option("#f-operator", "notify")
    expect(page.locator("#f-op-recipients")).to_be_visible()
    assert "接收人" in page.locator("#f-op-params").inner_text()
    page.fill("#f-op-recipients", "enterprise")
    page.press("#f-op-recipients", "Tab")
    screenshot(page, "editor-service-operator")

    # the template left empty: the deploy check refuses the step, naming it, and nothing is deployed
    page.fill("#deploy-message", "notify the enterprise on approval")
    page.click("#deploy")
    confirm(page)
    problem = page.locator("#problems li[data-element=notify_ent]").first
    expect(problem).to_contain_text("template")
    assert page.locator("#canvas [data-element-id=notify_ent].has-problem").count() == 1
    db.session.rollback()
    assert processes.latest_version(KEY).version == v1

    screenshot(page, "editor-service-operator-refused")
    problem.click()  # selects the element with the problem
    expect(page.locator("#prop-service")).to_be_visible()
    page.fill("#f-op-template", "案件 {case_id} 已通过基础级自评")
    page.press("#f-op-template", "Tab")
    page.click("#deploy")
    confirm(page)
    expect(page.locator("#origin")).to_have_text(f"v{v1 + 1}")

    db.session.rollback()
    latest = processes.latest_version(KEY)
    assert latest.version == v1 + 1
    xml = latest.bpmn_xml.decode()
    op = re.search(r'<spiffworkflow:serviceTaskOperator id="notify">.*?</spiffworkflow:serviceTaskOperator>',
                   xml, re.S)
    assert op, xml[:2000]
    assert re.search(r'<spiffworkflow:parameter id="recipients" type="str" value="&#34;enterprise&#34;"|'
                     r'<spiffworkflow:parameter id="recipients" type="str" value="&quot;enterprise&quot;"', op.group(0))
    assert "案件 {case_id} 已通过基础级自评" in op.group(0)
    # the reopened editor shows what was written, as typed
    page.goto(f"/admin/processes/{KEY}/edit")
    page.wait_for_selector("#editor.ready")
    page.click("#canvas [data-element-id=notify_ent]")
    assert page.input_value("#f-operator") == "notify"
    assert page.input_value("#f-op-recipients") == "enterprise"
    assert page.input_value("#f-op-template") == "案件 {case_id} 已通过基础级自评"
    assert not [e for e in errors if "/validate" not in e and "/deploy" not in e], errors
