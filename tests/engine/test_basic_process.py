"""The basic-tier diagram driven directly through the adapter: every gateway path, state round trips."""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from workflows.errors import EngineError, TaskNotReady
from workflows.instance import Instance
from workflows.parsing import SpecBundle, check_bundle, parse_bpmn
from workflows.sandbox import is_restricted

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
ROLES = {"企业", "组织单位"}  # the lanes are named in Chinese; app.services.scope maps each to its role


@pytest.fixture(scope="module")
def bundle():
    return parse_bpmn((ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes())


def reload(inst: Instance) -> Instance:
    """What every request does: the state goes through JSON and comes back on the cached spec."""
    return Instance.load(inst.dump(), inst.bundle)


def only_task(inst):
    tasks = inst.human_tasks()
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_diagram_passes_checks(bundle):
    assert bundle.process_id == "basic_self_assessment"
    assert check_bundle(bundle, known_roles=ROLES) == []


def test_start_waits_for_enterprise(bundle):
    inst = Instance.start(bundle, {"tier": "basic"}, NOW)
    t = only_task(inst)
    assert (t.element, t.lane, t.form) == ("self_assessment", "企业", "basic_self_assessment.json")
    assert t.properties["status"] == "draft"


@pytest.mark.parametrize("decision,end", [("approve", "end_certified"), ("reject", "end_rejected")])
def test_decision_paths(bundle, decision, end):
    inst = Instance.start(bundle, {}, NOW)
    inst.complete(only_task(inst).uuid, {"maturity_level": 2}, NOW)
    inst = reload(inst)
    review = only_task(inst)
    assert (review.element, review.lane, review.due) == ("organizer_review", "组织单位", "P15D")
    inst.complete(review.uuid, {"decision": decision}, NOW)
    inst = reload(inst)
    assert inst.completed and inst.end_event() == end
    assert inst.human_tasks() == []


def test_return_loop_brings_form_back_with_comment(bundle):
    inst = Instance.start(bundle, {}, NOW)
    inst.complete(only_task(inst).uuid, {"maturity_level": 2, "outcomes": "first"}, NOW)
    inst = reload(inst)
    inst.complete(only_task(inst).uuid, {"decision": "return", "review_comment": "add evidence"}, NOW)
    inst = reload(inst)
    again = only_task(inst)
    assert again.element == "self_assessment"
    data = inst.task_data(again.uuid)
    # the form's fields are the step's own (the services keep them per step): only the declared output is data
    assert data["organizer_decision"] == "return"
    assert not {"review_comment", "outcomes", "decision"} & set(data)
    inst.complete(again.uuid, {"outcomes": "second"}, NOW)
    inst = reload(inst)
    inst.complete(only_task(inst).uuid, {"decision": "approve"}, NOW)
    assert reload(inst).end_event() == "end_certified"


def test_twenty_revisions_stay_shallow_and_finish(bundle):
    """The service bounds returns (MAX_REVISIONS=20); the tree must stay far below the silent-completion depth."""
    inst = Instance.start(bundle, {}, NOW)
    for _ in range(20):
        inst.complete(only_task(inst).uuid, {"maturity_level": 2}, NOW)
        inst = reload(inst)
        inst.complete(only_task(inst).uuid, {"decision": "return", "review_comment": "again"}, NOW)
        inst = reload(inst)
    assert inst.depth() < 200
    inst.complete(only_task(inst).uuid, {}, NOW)
    inst.complete(only_task(inst).uuid, {"decision": "approve"}, NOW)
    assert inst.end_event() == "end_certified"


def test_completing_twice_is_refused(bundle):
    inst = Instance.start(bundle, {}, NOW)
    uuid = only_task(inst).uuid
    inst.complete(uuid, {}, NOW)
    with pytest.raises(TaskNotReady):
        inst.complete(uuid, {}, NOW)


def test_unknown_decision_is_an_engine_error_not_a_silent_stop(bundle):
    inst = Instance.start(bundle, {}, NOW)
    inst.complete(only_task(inst).uuid, {}, NOW)
    with pytest.raises(EngineError):
        inst.complete(only_task(inst).uuid, {"decision": "maybe"}, NOW)


def test_state_excludes_spec_and_restores_restricted_engine(bundle):
    inst = Instance.start(bundle, {}, NOW)
    state = inst.dump()
    assert '"spec"' not in state and "task_specs" not in state
    restored = Instance.load(state, bundle)
    assert is_restricted(restored.wf.script_engine)
    assert len(state) < 8000


def test_spec_bundle_round_trips_through_json(bundle):
    again = SpecBundle.from_json(bundle.to_json())
    inst = Instance.start(again, {}, NOW)
    assert only_task(inst).element == "self_assessment"
    json.loads(bundle.to_json())


def test_silent_completion_is_detected(bundle):
    inst = Instance.start(bundle, {}, NOW)
    # what the library does past its depth limit: it reports completion though no end event ran
    inst.wf.is_completed = lambda: True
    with pytest.raises(EngineError, match="without reaching an end event"):
        inst.advance(NOW + timedelta(seconds=1))
