"""DMN decision tables evaluated on their own (quotas), through SpiffWorkflow's DMN engine and our sandbox.

Cells are Python expressions (not FEEL): `1 <= ? <= 10`, `"xpcc"`, `-`/empty for any. UNIQUE returns the first
matching row; no row matching returns {} (the caller says why it cannot decide).
"""
from types import SimpleNamespace

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from workflows.errors import DiagramError, EngineError
from workflows.sandbox import ScriptPolicyError, restricted_engine
from workflows.xml import load_xml


def load_decision(dmn_xml: bytes | str, decision_id: str):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_dmn_xml(load_xml(dmn_xml), filename="table.dmn")
        return parser.get_engine(decision_id, None)
    except (ValidationException, SpiffWorkflowException) as exc:
        raise DiagramError([{"element": getattr(exc, "id", None) or decision_id,
                             "message": str(exc).split("\n")[0]}]) from None


def decide(engine, data: dict) -> dict:
    """Evaluate a loaded decision on `data` (names in cells and input expressions read it)."""
    task = SimpleNamespace(data=dict(data), workflow=SimpleNamespace(script_engine=restricted_engine()),
                           task_spec=SimpleNamespace(name="decision", bpmn_id="decision", bpmn_name="decision"))
    try:
        return dict(engine.result(task))
    except Exception as exc:  # a cell that fails to evaluate: say which decision and why (a sandbox limit, ...)
        cause, seen = exc, 0  # the sandbox's reason, however SpiffWorkflow wrapped it (or failed to)
        while cause is not None and not isinstance(cause, ScriptPolicyError) and seen < 8:
            cause, seen = cause.__cause__ or cause.__context__, seen + 1
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(cause, ScriptPolicyError):
            text = cause.message
        raise EngineError(f"decision table failed: {text}") from None
