"""Instance state without the spec: the spec is stored once per version and restored from the cache.

`VersionedWorkflowConverter` uses SpiffWorkflow's semi-internal converter methods; SpiffWorkflow is pinned and
tests/engine/test_serialization.py checks the round trip.
"""
import json
from copy import deepcopy

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


class VersionedWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, bundle=None):
        if bundle is None:
            raise ValueError("restoring an instance needs its spec bundle")
        workflow = self.target_class(bundle.spec, bundle.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(s):
    from uuid import UUID

    return UUID(s)


_config = deepcopy(SPIFF_CONFIG)
_config[BpmnWorkflow] = VersionedWorkflowConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))
_ENCODER = SERIALIZER._encoder_cls


def dump_instance(workflow) -> str:
    SERIALIZER.registry._encoder_mode = True
    try:
        dct = SERIALIZER.to_dict(workflow)
        dct[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
        return json.dumps(dct, cls=_ENCODER, separators=(",", ":"), ensure_ascii=False)
    finally:
        SERIALIZER.registry._encoder_mode = False


def load_instance(text: str, bundle, script_engine):
    """The only way to restore an instance: the restricted engine is attached here (it is not serialized)."""
    dct = json.loads(text)  # fresh dict: from_dict mutates its input
    SERIALIZER.migrate(dct)
    workflow = SERIALIZER.registry.restore(dct, bundle=bundle)
    workflow.script_engine = script_engine  # subprocesses delegate to the top workflow's engine
    return workflow
