"""Registering a service-task operator (issue 18 leftover): every parameter carries its label in Chinese and in
English, or the registration is refused with an error naming the operator and the parameter, and nothing is
registered; the editor's catalogue and the API give the labels; a diagram naming a parameter the operator does not
have is refused at deploy, naming the element and the parameter."""
import pytest

from app.errors import Invalid
from app.services import operators, processes, versions
from app.uow import unit_of_work
from tests.conftest import user
from tests.incidents.helpers import BASIC, KEY

Q = "&quot;"
GOOD = {"phone_field": {"type": "str", "required": True, "label": "手机号字段", "label_en": "Phone field",
                        "help": "填表单中手机号字段的名称，如 `contact_phone`"},
        "retries": {"type": "int", "required": False, "label": "重试次数", "label_en": "Retries"}}


@pytest.fixture
def registry():
    """The registry as it was, back after the test (a registration is process-wide)."""
    saved = dict(operators.OPERATORS)
    yield operators
    operators.OPERATORS.clear()
    operators.OPERATORS.update(saved)


def _without(param: str, key: str) -> dict:
    params = {p: dict(i) for p, i in GOOD.items()}
    params[param].pop(key)
    return params


@pytest.mark.parametrize(("key", "language"), [("label", "Chinese"), ("label_en", "English")])
def test_a_parameter_without_its_label_is_refused_and_nothing_is_registered(registry, key, language):
    with pytest.raises(operators.OperatorRegistrationError) as refused:
        registry.register("send_sms", "发送短信", "Send a text message", _without("retries", key))
    message = str(refused.value)
    assert "'send_sms'" in message and "'retries'" in message and f"no {language} label ({key})" in message
    assert "send_sms" not in registry.spec() and "send_sms" not in {o["name"] for o in registry.catalogue()}


@pytest.mark.parametrize("bad", [
    {"type": "str", "required": True, "label": "   ", "label_en": "Phone"},  # blank is no label
    {"type": "str", "required": True, "label": "手机号", "label_en": None},
    {"type": "float", "required": True, "label": "手机号", "label_en": "Phone"},  # the engine checks str/int/bool
    {"type": "str", "label": "手机号", "label_en": "Phone"},  # required not said
    "手机号",
])
def test_an_incomplete_parameter_is_refused(registry, bad):
    with pytest.raises(operators.OperatorRegistrationError, match="'send_sms': parameter 'phone'"):
        registry.register("send_sms", "发送短信", "Send a text message", {"phone": bad})
    assert "send_sms" not in registry.OPERATORS


def test_an_operator_needs_its_titles_and_a_free_name(registry):
    with pytest.raises(operators.OperatorRegistrationError, match="needs a title_en"):
        registry.register("send_sms", "发送短信", "", GOOD)
    with pytest.raises(operators.OperatorRegistrationError, match="'notify': already registered"):
        registry.register("notify", "发送通知", "Send a notice", GOOD)
    with pytest.raises(operators.OperatorRegistrationError, match="must be an identifier"):
        registry.register("send sms", "发送短信", "Send a text message", GOOD)
    assert set(registry.OPERATORS) == {"notify", "render_document"}


def test_a_registered_operator_is_offered_with_its_labels_and_checked_at_deploy(registry):
    registry.register("send_sms", "发送短信", "Send a text message", GOOD)
    (entry,) = [o for o in registry.catalogue() if o["name"] == "send_sms"]
    assert [(p["name"], p["label"], p["label_en"], p["required"]) for p in entry["params"]] == [
        ("phone_field", "手机号字段", "Phone field", True), ("retries", "重试次数", "Retries", False)]
    assert registry.spec()["send_sms"] == {"phone_field": {"type": "str", "required": True},
                                           "retries": {"type": "int", "required": False}}
    assert versions.validate(user("admin"), KEY, _with_service("send_sms", {"phone_field": ("str", "contact_phone")
                                                                           })) == []


def test_every_registered_parameter_has_both_labels():
    for op in operators.catalogue():
        for p in op["params"]:
            assert p["label"].strip() and p["label_en"].strip(), (op["name"], p["name"])
            assert p["label"] != p["name"] and not p["label"].isascii(), (op["name"], p)  # Chinese, not the id


def test_the_api_gives_the_labels(client, auth_headers):
    r = client.get("/api/v1/service-operators", headers=auth_headers("admin"))
    assert r.status_code == 200
    notify = next(o for o in r.get_json()["items"] if o["name"] == "notify")
    assert {p["name"]: (p["label"], p["label_en"]) for p in notify["params"]} == {
        "recipients": ("接收人", "Recipients"), "template": ("通知内容", "Text")}


def _with_service(operator: str, params: dict) -> bytes:
    ps = "".join(f'<spiffworkflow:parameter id="{k}" type="{t}" value="{v}"/>' for k, (t, v) in params.items())
    xml = BASIC.replace(b'sourceRef="review_decision" targetRef="end_certified"',
                        b'sourceRef="review_decision" targetRef="notify_ent"')
    task = (f'<bpmn:serviceTask id="notify_ent" name="通知企业"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id="{operator}"><spiffworkflow:parameters>{ps}'
            f'</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>'
            f'</bpmn:serviceTask><bpmn:sequenceFlow id="f_notify_ent" sourceRef="notify_ent" '
            f'targetRef="end_certified" />')
    return xml.replace(b"</bpmn:process>", task.encode() + b"</bpmn:process>", 1)


def test_a_parameter_the_operator_does_not_have_is_refused_at_deploy_naming_it():
    """What the panel marks 未知参数 never reaches a running case."""
    xml = _with_service("notify", {"recipients": ("str", f"{Q}enterprise{Q}"), "template": ("str", f"{Q}已通过{Q}"),
                                   "cc": ("str", f"{Q}provincial_reviewer{Q}")})
    problems = versions.validate(user("admin"), KEY, xml)
    assert [p["element"] for p in problems] == ["notify_ent"], problems
    assert "'notify' has no parameter 'cc'" in problems[0]["message"]
    before = processes.latest_version(KEY).version
    with pytest.raises(Invalid) as refused:
        with unit_of_work():
            versions.deploy(user("admin"), KEY, xml, "a parameter notify does not have", None)
    assert "notify_ent" in str(refused.value.errors) and "'cc'" in str(refused.value.errors)
    assert processes.latest_version(KEY).version == before
