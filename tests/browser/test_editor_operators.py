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


# the text a person reads in the operator panel: visible text outside code (what is typed, e.g. `enterprise`) and
# outside elements marked translate="no", as tests/pages/walk.py reads pages, and the select's choices
READABLE = """() => {
  const out = [];
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) { out.push(child.textContent); continue; }
      if (child.nodeType !== Node.ELEMENT_NODE) { continue; }
      if (["CODE", "SCRIPT", "STYLE", "DATALIST"].includes(child.tagName) || child.getAttribute("translate") === "no"
          || child.hidden) { continue; }
      walk(child);
    }
  };
  walk(document.getElementById("prop-service"));
  return out.join(" ");
}"""
SMS = {"phone_field": {"type": "str", "required": True, "label": "手机号字段", "label_en": "Phone field",
                       "help": "填表单中手机号字段的名称，如 `contact_phone`"},
       "retries": {"type": "int", "required": False, "label": "重试次数", "label_en": "Retries"}}
Q = "&quot;"


def _service(el_id: str, y: int, operator: str | None, params: dict, target: str) -> tuple[str, str]:
    ext = ""
    if operator:
        ps = "".join(f'<spiffworkflow:parameter id="{k}" type="str" value="{v}"/>' for k, v in params.items())
        ext = (f'<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="{operator}"><spiffworkflow:parameters>'
               f'{ps}</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>')
    task = (f'<bpmn:serviceTask id="{el_id}" name="{el_id}">{ext}</bpmn:serviceTask>'
            f'<bpmn:sequenceFlow id="f_{el_id}" sourceRef="{el_id}" targetRef="{target}" />')
    shape = (f'<bpmndi:BPMNShape id="{el_id}_di" bpmnElement="{el_id}">'
             f'<dc:Bounds x="700" y="{y}" width="100" height="60" /></bpmndi:BPMNShape>')
    return task, shape


def _with_three_service_tasks() -> str:
    """The basic diagram with three service tasks before the certified end: one bare, one naming `notify` with a
    parameter `cc` notify does not have, one naming an operator nobody registered."""
    xml = BASIC.replace('sourceRef="review_decision" targetRef="end_certified"',
                        'sourceRef="review_decision" targetRef="bare_task"', 1)
    parts = [_service("bare_task", 60, None, {}, "cc_task"),
             _service("cc_task", 160, "notify", {"recipients": f"{Q}enterprise{Q}", "template": f"{Q}已通过{Q}",
                                                 "cc": f"{Q}provincial_reviewer{Q}"}, "fax_task"),
             _service("fax_task", 260, "send_fax", {"number": f"{Q}0571-1234{Q}"}, "end_certified")]
    xml = xml.replace("</bpmn:process>", "".join(t for t, _s in parts) + "</bpmn:process>", 1)
    return xml.replace("</bpmndi:BPMNPlane>", "".join(s for _t, s in parts) + "</bpmndi:BPMNPlane>", 1)


@pytest.fixture
def sms_operator():
    """An operator registered after the shipped ones, with labelled parameters (removed again afterwards)."""
    from app.services import operators

    saved = dict(operators.OPERATORS)
    operators.register("send_sms", "发送短信", "Send a text message", SMS)
    yield
    operators.OPERATORS.clear()
    operators.OPERATORS.update(saved)


def _chinese_only(page) -> str:
    from tests.pages.test_chinese_everywhere import RAW, english_words

    text = page.evaluate(READABLE)
    assert not english_words(text) and not RAW.findall(text), (english_words(text), RAW.findall(text), text)
    return text


@pytest.mark.browser
def test_the_panel_shows_every_parameter_by_its_chinese_label_and_marks_unknown_ones(page, sms_operator):
    with unit_of_work():
        drafts.save(user("admin"), KEY, _with_three_service_tasks().encode(), {}, clock.now())
    errors = watch_errors(page)
    sign_in(page, "admin")
    page.goto(f"/admin/processes/{KEY}/edit")
    page.wait_for_selector("#editor.ready")
    page.click("#canvas [data-element-id=bare_task]")
    expect(page.locator("#prop-service")).to_be_visible()
    options = page.locator("#f-operator option").all_inner_texts()
    assert options == ["请选择操作", "发送通知", "生成文书", "发送短信"], options  # the later one offered too
    for name, labels in (("send_sms", ["手机号字段 *", "重试次数"]), ("notify", ["接收人 *", "通知内容 *"]),
                         ("render_document", ["文书正文", "文件名", "文书模板"])):
        page.select_option("#f-operator", name)
        captions = page.locator("#f-op-params label > span:first-child").all_inner_texts()
        assert captions == labels, (name, captions)
        _chinese_only(page)
    page.select_option("#f-operator", "send_sms")
    text = _chinese_only(page)
    assert "phone_field" not in page.locator("#f-op-params").inner_text() and "手机号字段" in text
    assert page.locator("#f-op-params .hint code").first.inner_text() == "contact_phone"  # typed as code
    page.fill("#f-op-phone_field", "=contact_phone")
    page.press("#f-op-phone_field", "Tab")
    page.fill("#f-op-retries", "3")  # a number parameter: written as the number, not as a text
    page.press("#f-op-retries", "Tab")
    screenshot(page, "editor-operator-labels")

    # a parameter notify does not have: marked 未知参数 in Chinese beside its name (as code), its value kept
    page.click("#canvas [data-element-id=cc_task]")
    assert page.input_value("#f-operator") == "notify"
    unknown = page.locator("#f-op-params label.op-unknown")
    expect(unknown).to_have_count(1)
    assert unknown.locator("span").first.inner_text() == "未知参数 cc"
    assert unknown.locator("span code").inner_text() == "cc"
    assert page.input_value("#f-op-cc") == "provincial_reviewer"
    assert "部署检查会拒绝" in unknown.inner_text()
    _chinese_only(page)
    from tests.browser.test_accessibility import _axe

    assert _axe(page) == []  # the panel as drawn now: labelled fields, the unknown one included
    screenshot(page, "editor-operator-unknown-parameter")

    # the deploy check refuses it, naming the element; emptying the field removes it and the deploy goes through
    page.fill("#deploy-message", "notify and text the enterprise")
    page.click("#deploy")
    confirm(page)
    expect(page.locator("#problems li[data-element=cc_task]").first).to_contain_text("cc")
    # an operator nobody registered: kept as written, marked 未知操作, its parameters marked unknown
    page.click("#canvas [data-element-id=fax_task]")
    assert page.input_value("#f-operator") == "send_fax"
    assert page.locator("#f-operator option:checked").inner_text() == "未知操作 send_fax"
    assert page.locator("#f-op-params label.op-unknown span").first.inner_text() == "未知参数 number"
    assert "未注册" in page.locator("#f-op-hint").inner_text()
    page.select_option("#f-operator", "notify")  # replaced by a registered one: nothing unknown is carried over
    expect(page.locator("#f-op-params label.op-unknown")).to_have_count(0)
    page.fill("#f-op-recipients", "enterprise")
    page.fill("#f-op-template", "案件 {case_id} 已通过")
    page.press("#f-op-template", "Tab")
    page.click("#canvas [data-element-id=cc_task]")
    page.fill("#f-op-cc", "")
    page.press("#f-op-cc", "Tab")
    v1 = processes.latest_version(KEY).version
    page.click("#deploy")
    confirm(page)
    expect(page.locator("#origin")).to_have_text(f"v{v1 + 1}")
    db.session.rollback()
    xml = processes.latest_version(KEY).bpmn_xml.decode()
    assert 'id="send_sms"' in xml and 'id="cc"' not in xml and 'id="send_fax"' not in xml
    assert '<spiffworkflow:parameter id="phone_field" type="str" value="contact_phone"' in xml
    assert '<spiffworkflow:parameter id="retries" type="int" value="3"' in xml
    assert not [e for e in errors if "/validate" not in e and "/deploy" not in e], errors


@pytest.mark.browser
def test_in_english_the_panel_shows_the_english_labels(page, sms_operator):
    with unit_of_work():
        drafts.save(user("admin"), KEY, _with_three_service_tasks().encode(), {}, clock.now())
    sign_in(page, "admin")
    page.goto(f"/admin/processes/{KEY}/edit")
    with page.expect_navigation():
        page.click("header .lang form[action='/lang/en'] button[type=submit]")
    assert page.get_attribute("html", "lang") == "en"
    page.wait_for_selector("#editor.ready")
    page.click("#canvas [data-element-id=bare_task]")
    page.select_option("#f-operator", "send_sms")
    assert page.locator("#f-operator option:checked").inner_text() == "Send a text message"
    assert page.locator("#f-op-params label > span:first-child").all_inner_texts() == ["Phone field *", "Retries"]
    page.select_option("#f-operator", "notify")
    assert "the case's enterprise" in page.locator("#f-op-params").inner_text()  # help_en
    page.click("#canvas [data-element-id=cc_task]")
    assert page.locator("#f-op-params label.op-unknown span").first.inner_text() == "Unknown parameter cc"
