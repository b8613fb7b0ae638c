"""One process instance: start, advance, complete a human task, fire timers, deliver messages, save.

Every engine call runs under `engine_clock(now)` so timer fire times come from the caller's clock, and under a
step budget so a process that calls itself cannot hang a request.
"""
import copy
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as BaseMessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import TaskState

from workflows.clock import engine_clock
from workflows.errors import EngineError, MessageNotCaught, TaskNotReady
from workflows.parsing import SpecBundle, is_human, task_properties
from workflows.sandbox import ScriptPolicyError, restricted_engine
from workflows.serialization import dump_instance, load_instance

MAX_ENGINE_STEPS = 5000


@dataclass(frozen=True)
class HumanTaskInfo:
    uuid: str
    element: str
    title: str
    lane: str | None
    form: str | None
    due: str | None  # ISO-8601 duration from the task's `due` property, e.g. "P15D"
    properties: dict


def parse_outputs(value: str | None) -> list[tuple[str, str]] | None:
    """The user-task property `outputs` ("decision:joint_decision,score" = field decision as joint_decision, field
    score as score) as (field, variable) pairs; None when the task declares none."""
    if value is None:
        return None
    pairs = []
    for part in value.split(","):
        part = part.strip()
        if part:
            field, _, var = part.partition(":")
            pairs.append((field.strip(), (var or field).strip()))
    return pairs


def step_outputs(properties: dict, data: dict) -> dict:
    """What of a completed form enters the process data: only the declared `outputs`, renamed; every field when
    the task declares none (diagrams deployed before the property, whose history replays as it ran)."""
    pairs = parse_outputs(properties.get("outputs"))
    if pairs is None:
        return data
    return {var: data.get(field) for field, var in pairs}  # an absent field is None, never an earlier round's value


class _StepBudget(Exception):
    pass


def _describe(exc: Exception) -> str:
    spec = getattr(exc, "task_spec", None)
    where = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    text = str(exc).split("\n")[0]
    cause = exc.__cause__ or exc.__context__  # "Error evaluating expression '...'" wraps the sandbox's reason
    if isinstance(cause, ScriptPolicyError) and cause.message not in text:
        text = f"{text.rstrip('. ')}: {cause.message}"
    return f"{where}: {text}" if where else text


class Instance:
    def __init__(self, workflow: BpmnWorkflow, bundle: SpecBundle):
        self.wf = workflow
        self.bundle = bundle

    # -- life cycle -------------------------------------------------------------------------------------------
    @classmethod
    def start(cls, bundle: SpecBundle, data: dict | None, now: datetime) -> "Instance":
        wf = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=restricted_engine())
        if data:
            wf.task_tree.data.update(copy.deepcopy(data))
            for t in wf.get_tasks():
                t.data.update(copy.deepcopy(data))
        inst = cls(wf, bundle)
        inst.advance(now)
        return inst

    @classmethod
    def load(cls, state: str, bundle: SpecBundle) -> "Instance":
        return cls(load_instance(state, bundle, restricted_engine()), bundle)

    def dump(self) -> str:
        return dump_instance(self.wf)

    # -- engine -----------------------------------------------------------------------------------------------
    def advance(self, now: datetime) -> None:
        steps = 0

        def budget(_task):
            nonlocal steps
            steps += 1
            if steps > MAX_ENGINE_STEPS:
                raise _StepBudget()

        with engine_clock(now):
            try:
                self.wf.refresh_timers()
                self.wf.do_engine_steps(will_complete_task=budget)
            except _StepBudget:
                raise EngineError(f"the process ran more than {MAX_ENGINE_STEPS} engine steps without waiting "
                                  "(a loop or a process that calls itself)") from None
            except SpiffWorkflowException as exc:
                raise EngineError(_describe(exc)) from None
        self._guard_silent_completion()

    def _guard_silent_completion(self) -> None:
        """SpiffWorkflow can report completion without reaching an end event when the tree gets too deep."""
        if self.wf.is_completed() and self.end_event() is None:
            raise EngineError("the process reports completion without reaching an end event")

    def end_event(self) -> str | None:
        """The end event reached last: a branch that only noted an overdue reviewer step ends earlier than the
        case's own outcome."""
        ends = [t for t in self.wf.get_tasks(state=TaskState.COMPLETED)
                if isinstance(t.task_spec, EndEvent) and t.workflow is self.wf]
        if not ends:
            return None
        last = max(ends, key=lambda t: t.last_state_change)
        return last.task_spec.bpmn_id or last.task_spec.name

    @property
    def completed(self) -> bool:
        return self.wf.is_completed()

    def depth(self) -> int:
        return max((t.depth for t in self.wf.get_tasks()), default=0)

    # -- human tasks ------------------------------------------------------------------------------------------
    def human_tasks(self) -> list[HumanTaskInfo]:
        out = []
        for t in self.wf.get_tasks(state=TaskState.READY, manual=True):
            ts = t.task_spec
            if not is_human(ts):
                continue
            props = task_properties(ts)
            out.append(HumanTaskInfo(
                uuid=str(t.id), element=ts.bpmn_id or ts.name, title=ts.bpmn_name or ts.bpmn_id or ts.name,
                lane=ts.lane, form=props.get("form"), due=props.get("due"), properties=props,
            ))
        return out

    def task_data(self, task_uuid: str) -> dict:
        task = self.wf.get_task_from_id(UUID(task_uuid))
        return copy.deepcopy(task.data) if task else {}

    def complete(self, task_uuid: str, data: dict, now: datetime) -> None:
        try:
            task = self.wf.get_task_from_id(UUID(task_uuid))
        except Exception:
            task = None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(task_uuid)
        # deep copy: SpiffWorkflow shares nested data between task snapshots
        data = copy.deepcopy(data)
        props = task_properties(task.task_spec)
        if props.get("outputs") is not None:
            # the whole form stays with the completed task (internal data: serialized and in the replay digest, so
            # an altered comment in the history is found; never merged into the process data)
            task.internal_data["form_data"] = copy.deepcopy(data)
        data = step_outputs(props, data)
        result_key = props.get("result_key")
        if result_key:  # parallel reviewers each answer under their own key instead of overwriting one another
            data = {result_key: data}
        task.set_data(**data)
        with engine_clock(now):
            try:
                task.run()
            except SpiffWorkflowException as exc:
                raise EngineError(_describe(exc)) from None
        self.advance(now)

    # -- timers and messages ----------------------------------------------------------------------------------
    @staticmethod
    def _gateway_branches(t):
        """An event-based gateway waits with one MultipleEventDefinition; its children follow its outputs' order."""
        ev = t.task_spec.event_definition
        if isinstance(ev, MultipleEventDefinition):
            return list(zip(ev.event_definitions, t.task_spec.outputs, strict=False))
        return []

    def waiting_timers(self) -> list[tuple[str, datetime]]:
        out = []
        for t in self.wf.event_manager.tasks.values():
            ev = t.task_spec.event_definition
            if isinstance(ev, TimerEventDefinition):
                details = ev.details(t)
                if isinstance(details.value, str):
                    out.append((t.task_spec.bpmn_id or t.task_spec.name, datetime.fromisoformat(details.value)))
            value = t.internal_data.get("event_value")
            for child, target in self._gateway_branches(t):
                if isinstance(child, TimerEventDefinition) and isinstance(value, str):
                    out.append((target.bpmn_id or target.name, datetime.fromisoformat(value)))
        for sub in self.wf.subprocesses.values():
            for t in sub.get_tasks(state=TaskState.WAITING):
                ev = getattr(t.task_spec, "event_definition", None)
                if isinstance(ev, TimerEventDefinition) and t.id not in self.wf.event_manager.tasks:
                    value = t._get_internal_data("event_value")
                    if isinstance(value, str):
                        out.append((t.task_spec.bpmn_id or t.task_spec.name, datetime.fromisoformat(value)))
        return out

    def waiting_messages(self) -> list[tuple[str, str]]:
        """(element id, message name) of every message catch event waiting now."""
        out = []
        for t in self.wf.event_manager.tasks.values():
            ev = t.task_spec.event_definition
            if isinstance(ev, BaseMessageEventDefinition):
                out.append((t.task_spec.bpmn_id or t.task_spec.name, ev.name))
            for child, target in self._gateway_branches(t):
                if isinstance(child, BaseMessageEventDefinition):
                    out.append((target.bpmn_id or target.name, child.name))
        return out

    def fire_timers(self, now: datetime) -> None:
        self.advance(now)

    def send_message(self, name: str, payload: dict | None, correlations: dict | None, now: datetime) -> None:
        event = BpmnEvent(MessageEventDefinition(name), payload=payload, correlations=correlations or {})
        with engine_clock(now):
            try:
                self.wf.send_event(event)
            except SpiffWorkflowException as exc:
                raise MessageNotCaught(_describe(exc)) from None
        self.advance(now)

    @property
    def correlations(self) -> dict:
        return dict(self.wf.correlations)

    def case_data(self) -> dict:
        """What the case holds now: the end data when finished, else the data of the waiting human tasks."""
        if self.completed:
            return self.final_data()
        merged: dict = {}
        live = self.wf.get_tasks(state=TaskState.READY, manual=True) or \
            self.wf.get_tasks(state=TaskState.WAITING)  # waiting at a catch event (a notice, a message)
        for t in live:
            merged.update(copy.deepcopy(t.data))
        if not merged and self.wf.last_task is not None:
            merged = copy.deepcopy(self.wf.last_task.data)
        return merged

    def final_data(self) -> dict:
        return copy.deepcopy(self.wf.data)

    def active_elements(self) -> list[str]:
        """The BPMN elements holding a token now (ready, waiting or started), in tree order, each once: what a
        diagram viewer highlights."""
        out: list[str] = []
        live = TaskState.READY | TaskState.WAITING | TaskState.STARTED
        for t in self.wf.get_tasks(state=live):
            bpmn_id = getattr(t.task_spec, "bpmn_id", None)
            if bpmn_id and bpmn_id not in out:
                out.append(bpmn_id)
        return out
