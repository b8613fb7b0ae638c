"""Service tasks (`bpmn:serviceTask` with `spiffworkflow:serviceTaskOperator`).

The operators are the application's: it passes their names and parameter types in as data (`operators`: name ->
{param: {"type": "str", "required": bool}}); this module knows none of them. The engine never carries out an
effect: a service task's call records the request as the task's result (`{"operator", "params"}`), so the step is
deterministic (replay gives the same state), and the application queues the effect after the step (its outbox).
"""
import json

from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.util.task import TaskState

TYPES = {"str": str, "int": int, "bool": bool}


def check_service_task(ts, element: str, operators: dict | None) -> list[dict]:
    """Refuse a service task whose operator is not registered or whose parameters do not match, naming it."""
    name = getattr(ts, "operation_name", None) or "-"
    if not operators or name not in operators:
        known = ", ".join(sorted(operators or {})) or "none"
        return [{"element": element, "message": f"bpmn:serviceTask {element}: operator {name!r} is not registered "
                 f"(registered: {known})"}]
    declared = operators[name]
    given = getattr(ts, "operation_params", None) or {}
    problems = []
    for param, value in given.items():
        if param not in declared:
            problems.append({"element": element, "message": f"bpmn:serviceTask {element}: operator {name!r} has no "
                             f"parameter {param!r}"})
            continue
        want = declared[param]["type"]
        got = (value or {}).get("type") or "str"
        if got != want:
            problems.append({"element": element, "message": f"bpmn:serviceTask {element}: parameter {param!r} of "
                             f"{name!r} is of type {want}, not {got}"})
        if not str((value or {}).get("value") or "").strip():
            problems.append({"element": element, "message": f"bpmn:serviceTask {element}: parameter {param!r} has "
                             "no value (an expression, e.g. a quoted text)"})
    for param, info in declared.items():
        if info.get("required") and param not in given:
            problems.append({"element": element, "message": f"bpmn:serviceTask {element}: operator {name!r} needs "
                             f"parameter {param!r}"})
    return problems


def param_expressions(ts) -> list[str]:
    return [str((v or {}).get("value") or "") for v in (getattr(ts, "operation_params", None) or {}).values()]


def record_call(operation_name: str, operation_params: dict) -> str:
    """What the engine stores as the service task's result: the request, carried out later by the application."""
    params = {k: (v or {}).get("value") for k, v in (operation_params or {}).items()}
    return json.dumps({"operator": operation_name, "params": params}, ensure_ascii=False, default=str)


def _has_service_tasks(wf) -> bool:
    """Whether the instance's spec (or a subprocess spec) has a service task; remembered on the spec object,
    which the spec cache shares between instances, so a completion on a diagram without one walks no tree."""
    spec = wf.spec
    known = getattr(spec, "_tierflow_service_tasks", None)
    if known is None:
        specs = [spec, *(getattr(wf, "subprocess_specs", None) or {}).values()]
        known = any(isinstance(ts, ServiceTask) for sp in specs for ts in sp.task_specs.values())
        spec._tierflow_service_tasks = known
    return known


def completed_calls(wf) -> list[dict]:
    """Every completed service task of the instance with its recorded request: {"task", "element", "operator",
    "params"} (the application keys its queue by the task id, so asking twice queues nothing twice)."""
    if not _has_service_tasks(wf):
        return []
    out = []
    for t in wf.get_tasks(state=TaskState.COMPLETED):
        ts = t.task_spec
        if not isinstance(ts, ServiceTask):
            continue
        result = t.data.get(getattr(ts, "result_variable", "") or "")
        if isinstance(result, dict) and "operator" in result:
            out.append({"task": str(t.id), "element": ts.bpmn_id or ts.name, "operator": result["operator"],
                        "params": result.get("params") or {}})
    return out
