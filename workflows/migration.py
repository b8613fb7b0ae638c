"""Moving a running instance to another version of its diagram, on SpiffWorkflow's diff helpers
(`SpiffWorkflow.bpmn.util.diff`: `diff_workflow` aligns the instance's tasks with the target's task specs by BPMN id,
`migrate_workflow` swaps the specs and resets the waiting branches). Never swap a spec in serialized JSON by hand:
new tasks would be skipped silently.

`plan` says whether an instance can move and why not:
- every task holding a token (ready, waiting, started) must exist in the target;
- every completed task must be unchanged in the target, apart from what no longer matters once it ran (its name,
  lane, properties and incoming flows); a live subprocess must exist in the target.

`migrate` moves it. SpiffWorkflow resets the waiting branches, which restarts their timers from "now": the timer
due times (`event_value` of every waiting task) are put back as they were, so a two-year clock keeps its date.
"""
from dataclasses import dataclass, field
from datetime import datetime

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.task import TaskState

from workflows.clock import engine_clock
from workflows.errors import EngineError
from workflows.instance import Instance
from workflows.parsing import SpecBundle
from workflows.serialization import SERIALIZER

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# what may differ on a task that already ran: it will not run again with these
_HARMLESS_ON_COMPLETED = {"inputs", "bpmn_name", "lane", "extensions", "documentation", "description",
                          "data_input_associations", "data_output_associations", "io_specification"}


@dataclass
class Plan:
    ok: bool
    reasons: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # elements holding a token now
    changed: list[str] = field(default_factory=list)  # waiting elements whose definition changes (reset)

    def to_json(self) -> dict:
        return {"ok": self.ok, "reasons": self.reasons, "waiting": self.waiting, "changed": self.changed}


def _el(task) -> str:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def _spec_changes(spec_diff, spec) -> list[str]:
    return list(spec_diff.comparisons.get(spec) or [])


def _check(wdiff, spec_diff, where: str, plan: Plan) -> None:
    removed = set(wdiff.removed)
    for task in wdiff.alignment.keys() | removed:
        el = _el(task)
        if task.has_state(LIVE):
            if el not in plan.waiting:
                plan.waiting.append(el)
            target = wdiff.alignment.get(task)
            if task in removed or target is None or target.name != task.task_spec.name:
                plan.reasons.append(f"{el}{where} is waiting and does not exist in the target version")
            elif _spec_changes(spec_diff, task.task_spec) and el not in plan.changed:
                plan.changed.append(el)
        elif task.has_state(TaskState.COMPLETED) and not el.startswith("_"):
            target = wdiff.alignment.get(task)
            if task in removed or target is None or target.name != task.task_spec.name:
                plan.reasons.append(f"{el}{where} has run and does not exist in the target version")
                continue
            changes = sorted(set(_spec_changes(spec_diff, task.task_spec)) - _HARMLESS_ON_COMPLETED)
            if changes:
                plan.reasons.append(f"{el}{where} has run and changed in the target version ({', '.join(changes)})")


def _diffs(inst: Instance, target: SpecBundle):
    top, subs = diff_workflow(SERIALIZER.registry, inst.wf, target.spec, target.subprocess_specs)
    from SpiffWorkflow.bpmn.util.diff import SpecDiff

    top_spec = SpecDiff(SERIALIZER.registry, inst.wf.spec, target.spec)
    sub_specs = {}
    for sp_id, sp in inst.wf.subprocesses.items():
        new = target.subprocess_specs.get(sp.spec.name)
        sub_specs[sp_id] = SpecDiff(SERIALIZER.registry, sp.spec, new) if new is not None else None
    return top, top_spec, subs, sub_specs


def plan(inst: Instance, target: SpecBundle) -> Plan:
    out = Plan(ok=True)
    if inst.completed:
        return Plan(ok=False, reasons=["the case has finished"])
    try:
        top, top_spec, subs, sub_specs = _diffs(inst, target)
    except Exception as exc:  # the library's diff is new and marked subject to change: refuse, never guess
        return Plan(ok=False, reasons=[f"the versions cannot be compared: {type(exc).__name__}"])
    _check(top, top_spec, "", out)
    for sp_id, wdiff in subs.items():
        sp = inst.wf.subprocesses[sp_id]
        name = sp.spec.name
        if wdiff is None:
            if not sp.is_completed():
                out.reasons.append(f"subprocess {name} is running and does not exist in the target version")
            continue
        _check(wdiff, sub_specs[sp_id], f" (in {name})", out)
    out.ok = not out.reasons
    return out


def _timer_values(wf) -> dict[str, list]:
    """bpmn id -> the event values (timer due times) of its waiting tasks, in tree order."""
    out: dict[str, list] = {}
    for w in [wf, *wf.subprocesses.values()]:
        for t in w.get_tasks(state=TaskState.WAITING | TaskState.READY, skip_subprocesses=True):
            value = t.internal_data.get("event_value")
            if value is not None:
                out.setdefault(_el(t), []).append(value)
    return out


def migrate(inst: Instance, target: SpecBundle, now: datetime) -> tuple[Instance, Plan]:
    """The instance moved to `target` (EngineError when `plan` refuses it). Timer due times survive."""
    p = plan(inst, target)
    if not p.ok:
        raise EngineError("; ".join(p.reasons))
    timers = _timer_values(inst.wf)
    top, _ts, subs, _ss = _diffs(inst, target)
    wf = inst.wf
    # the reset re-evaluates the waiting events (a timer compares its due time with now): at the caller's instant,
    # not the machine's, or a simulated or test clock sees a future deadline as passed and the case moves on
    with engine_clock(now):
        for sp_id, wdiff in subs.items():
            if wdiff is not None:
                sp = wf.subprocesses[sp_id]
                migrate_workflow(wdiff, sp, target.subprocess_specs[sp.spec.name])
        migrate_workflow(top, wf, target.spec)
    wf.subprocess_specs = target.subprocess_specs
    moved = Instance(wf, target)
    moved.advance(now)
    # put the due times back (the reset restarted the timers from now)
    for w in [wf, *wf.subprocesses.values()]:
        for t in w.get_tasks(state=TaskState.WAITING | TaskState.READY, skip_subprocesses=True):
            old = timers.get(_el(t))
            if old and t.internal_data.get("event_value") is not None:
                t._set_internal_data(event_value=old.pop(0))
    moved.advance(now)  # a restored due time may already have passed
    return moved, p
