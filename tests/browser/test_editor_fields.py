"""The administrator adds a message correlation and a form field in the diagram editor (headless Chromium, bpmn-js
Modeler from our static files): a correlation property with its retrieval expression and key on both messages of
the advanced diagram's public notice, and a field through the field editor (keyboard: add, key, type, labels,
limits, required, reorder), the JSON text following the fields and the fields following the JSON; validates,
deploys, and the deployed version (API) holds both; the deployed diagram routes an objection to the case whose list
batch matches only. Screenshots go to the test artifacts (tests/browser/helpers.py)."""
import json
from datetime import datetime, timezone

import pytest
from lxml import etree
from playwright.sync_api import expect

from app.extensions import db
from app.services import processes
from tests.browser.helpers import confirm, screenshot, sign_in, watch_errors
from tests.security.helpers import api_token, fresh_client
from workflows.errors import EngineError
from workflows.instance import Instance
from workflows.parsing import BPMN_NS, message_correlations

KEY = "advanced_certification"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
NS = {"bpmn": BPMN_NS}


def pick(page, element: str) -> None:
    """Select a diagram element; small events are clicked near their top edge (the sequence flow through their
    middle would take the click)."""
    if element in page.locator("#prop-element").inner_text().split():
        return  # a second click so soon would be a double click (label editing)
    shape = page.locator(f"#canvas [data-element-id={element}] .djs-visual")
    shape.scroll_into_view_if_needed()
    box = shape.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 5)
    expect(page.locator("#prop-element")).to_contain_text(element)


def add_correlation(page, element: str, prop: str, expr: str, keys: str) -> None:
    pick(page, element)
    expect(page.locator("#prop-message")).to_be_visible()
    page.fill("#corr-new-prop", prop)
    page.fill("#corr-new-expr", expr)
    page.fill("#corr-new-keys", keys)
    page.focus("#corr-add")
    page.keyboard.press("Enter")
    expect(page.locator(f"#corr-rows li[data-property={prop}]")).to_have_count(1)


def reach_the_notice(bundle, batch: str) -> Instance:
    """A central-SOE case up to the provincial list, then the list of `batch` published: it waits in the notice."""
    inst = Instance.start(bundle, {"case_id": 1, "is_soe": True, "provincial_notice_working_days": 5}, NOW)
    for element, data in (("application", {}), ("certifier_review", {"decision": "approve"})):
        (task,) = [t for t in inst.human_tasks() if t.element == element]
        inst.complete(task.uuid, data, NOW)
    payload = {"batch": batch}
    inst.send_message("certified_list_published", payload,
                      message_correlations(bundle, "certified_list_published", payload), NOW)
    return Instance.load(inst.dump(), bundle)


@pytest.mark.browser
def test_admin_adds_a_correlation_key_and_a_form_field(app, page):
    v1 = processes.latest_version(KEY).version
    errors = watch_errors(page)
    sign_in(page, "admin")
    page.goto(f"/admin/processes/{KEY}/edit")
    page.wait_for_selector("#editor.ready")

    # -- correlation: one property, retrieved from each message's payload, in one key ---------------------------
    add_correlation(page, "wait_approved", "list_batch", "batch", "notice_batch")
    assert page.input_value("#f-message") == "certified_list_published"
    assert page.input_value("#corr-keys-list_batch") == "notice_batch"
    add_correlation(page, "objection_received", "list_batch", "list_batch", "notice_batch")
    assert page.input_value("#corr-expr-list_batch") == "list_batch"
    # the first message still shows its own expression; a second property can be added and removed again
    pick(page, "wait_approved")
    expect(page.locator("#corr-expr-list_batch")).to_have_value("batch")
    # a retrieval expression outside the sandbox: refused at validation, marked on the message event
    page.fill("#corr-expr-list_batch", "__import__('os').getcwd()")
    page.press("#corr-expr-list_batch", "Tab")
    page.click("#validate")
    page.wait_for_selector("#problems li[data-element=wait_approved]")
    assert "list_batch" in page.locator("#problems li[data-element=wait_approved]").first.inner_text()
    assert page.locator("#canvas [data-element-id=wait_approved].has-problem").count() == 1
    page.fill("#corr-expr-list_batch", "batch")
    page.press("#corr-expr-list_batch", "Tab")
    add_correlation(page, "wait_approved", "spare", "batch", "")
    page.click("#corr-rows li[data-property=spare] button.corr-remove")
    expect(page.locator("#corr-rows li[data-property=spare]")).to_have_count(0)
    screenshot(page, "editor-correlation")

    # -- a form field through the field editor (keyboard only) ------------------------------------------------
    pick(page, "objection_review")
    assert page.input_value("#form-select") == "objection_review.json"
    expect(page.locator("#fe-list li")).to_have_count(2)  # decision, resolution
    page.focus("#fe-add")
    page.keyboard.press("Enter")
    expect(page.locator("#fe-key")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("hearing_days")
    page.keyboard.press("Tab")  # -> type
    expect(page.locator("#fe-type")).to_be_focused()
    page.select_option("#fe-type", "integer")
    page.check("#fe-required")
    page.fill("#fe-title", "听证天数")
    page.press("#fe-title", "Tab")
    page.fill("#fe-title-en", "Days of the hearing")
    page.press("#fe-title-en", "Tab")
    page.fill("#fe-help", "不超过5天")
    page.press("#fe-help", "Tab")
    page.fill("#fe-min", "1")
    page.press("#fe-min", "Tab")
    page.fill("#fe-max", "5")
    page.press("#fe-max", "Tab")
    expect(page.locator("#fe-list li")).to_have_count(3)
    # reorder: one up, with the keyboard; focus stays on the moved field's button
    page.focus("#fe-list li[data-key=hearing_days] .fe-up")
    page.keyboard.press("Enter")
    expect(page.locator("#fe-list li").nth(1)).to_have_attribute("data-key", "hearing_days")
    expect(page.locator("#fe-list li[data-key=hearing_days] .fe-up")).to_be_focused()
    schema = json.loads(page.input_value("#form-json"))  # fields -> JSON
    assert list(schema["properties"]) == ["decision", "hearing_days", "resolution"]
    assert schema["properties"]["hearing_days"] == {
        "type": "integer", "title": "听证天数", "x-title-en": "Days of the hearing", "description": "不超过5天",
        "minimum": 1, "maximum": 5}
    assert "hearing_days" in schema["required"]
    # JSON -> fields: a label edited in the text shows in the field list and the field's inputs
    schema["properties"]["hearing_days"]["x-title-en"] = "Hearing days"
    page.fill("#form-json", json.dumps(schema, ensure_ascii=False, indent=2))
    expect(page.locator("#fe-title-en")).to_have_value("Hearing days")
    page.fill("#form-json", "{ not json")
    expect(page.locator("#form-json-status")).not_to_be_empty()
    page.fill("#form-json", json.dumps(schema, ensure_ascii=False, indent=2))
    expect(page.locator("#form-json-status")).to_be_empty()
    # every input of the field editor and the correlation panel has a label
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
        '#field-editor input, #field-editor select, #field-editor textarea, #correlation input, #form-json')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.id)""")
    assert unlabelled == []
    screenshot(page, "editor-form-fields")

    with page.expect_response(lambda r: r.url.endswith("/validate")):
        page.click("#validate")
    expect(page.locator("#status")).to_have_class("ok")
    assert page.locator("#problems li").count() == 0, page.locator("#problems").inner_text()
    assert page.locator("#canvas .has-problem").count() == 0
    page.fill("#deploy-message", "notice batch correlation, hearing days")
    page.click("#deploy")
    confirm(page)
    expect(page.locator("#origin")).to_have_text(f"v{v1 + 1}")

    # -- the deployed version, as the API gives it ---------------------------------------------------------------
    client = fresh_client(app)
    r = client.get(f"/api/v1/process-models/{KEY}/versions/{v1 + 1}", headers=api_token(client, "admin"))
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    field = got["forms"]["objection_review.json"]["properties"]["hearing_days"]
    assert field["type"] == "integer" and field["x-title-en"] == "Hearing days" and field["maximum"] == 5
    root = etree.fromstring(got["bpmn_xml"].encode())
    (prop,) = root.findall("bpmn:correlationProperty", NS)
    assert prop.get("id") == "list_batch"
    exprs = {r.get("messageRef"): r[0].text for r in prop.findall("bpmn:correlationPropertyRetrievalExpression", NS)}
    assert exprs == {"certified_list_published": "batch", "objection_lodged": "list_batch"}
    (key,) = root.findall("bpmn:collaboration/bpmn:correlationKey", NS)
    assert key.get("name") == "notice_batch"
    assert [r.text for r in key.findall("bpmn:correlationPropertyRef", NS)] == ["list_batch"]
    r = client.get(f"/api/v1/process-models/{KEY}/diff?a={v1}&b={v1 + 1}", headers=api_token(client, "admin"))
    diff = r.get_json()
    assert diff["forms"]["changed"]["objection_review.json"]["added"] == ["hearing_days"]
    added = {e["id"]: e["type"] for e in diff["elements"]["added"]}
    assert added == {"list_batch": "bpmn:correlationProperty", key.get("id"): "bpmn:correlationKey"}

    # -- and it correlates: an objection for batch 2026-1 reaches that case, not the one of batch 2026-2 ------------
    db.session.rollback()
    bundle = processes.bundle(processes.latest_version(KEY))
    first, second = reach_the_notice(bundle, "2026-1"), reach_the_notice(bundle, "2026-2")
    assert first.correlations == {"notice_batch": {"list_batch": "2026-1"}}
    objection = {"list_batch": "2026-1", "reason": "filed twice"}
    correlations = message_correlations(bundle, "objection_lodged", objection)
    first.send_message("objection_lodged", objection, correlations, NOW)
    assert [t.element for t in first.human_tasks()] == ["objection_review"]
    with pytest.raises(EngineError):
        second.send_message("objection_lodged", objection, correlations, NOW)
    assert second.human_tasks() == [] and ("objection_received", "objection_lodged") in second.waiting_messages()
    assert not errors, errors
