"""Parse a BPMN diagram (and its DMN tables) into a spec bundle, and check what the engine will read.

A bundle is parsed once per deployed version; `SpecCache` keeps the parsed objects per process.
"""
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from workflows.errors import DiagramError
from workflows.sandbox import ScriptPolicyError, check_expression, check_script
from workflows.serialization import SERIALIZER
from workflows.xml import DEFAULT_MAX_BYTES, load_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_ISO_NAME = re.compile(r"^(P(\d+[YMWD]|T\d)|R\d*$)")


@dataclass
class SpecBundle:
    process_id: str
    spec: object
    subprocess_specs: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({
            "process_id": self.process_id,
            "spec": SERIALIZER.to_dict(self.spec),
            "subprocess_specs": {k: SERIALIZER.to_dict(v) for k, v in self.subprocess_specs.items()},
        })

    @classmethod
    def from_json(cls, text: str) -> "SpecBundle":
        dct = json.loads(text)
        return cls(
            dct["process_id"],
            SERIALIZER.from_dict(dct["spec"]),
            {k: SERIALIZER.from_dict(v) for k, v in dct["subprocess_specs"].items()},
        )

    def all_task_specs(self):
        yield from self.spec.task_specs.values()
        for sub in self.subprocess_specs.values():
            if sub is not None:
                yield from sub.task_specs.values()


def _element_error(exc: Exception) -> dict:
    element = getattr(exc, "id", None) or getattr(exc, "name", None) or None
    tag = getattr(exc, "tag", "") or ""
    msg = str(exc).split("\n")[0]
    if tag:
        msg = f"{tag}: {msg}"
    return {"element": element, "message": msg}


def parse_bpmn(bpmn: bytes | str, dmn: list[bytes] = (), process_id: str | None = None,
               max_bytes: int = DEFAULT_MAX_BYTES) -> SpecBundle:
    """Parse hardened XML with SpiffBpmnParser. Raises DiagramError naming the offending element."""
    root = load_xml(bpmn, max_bytes)
    processes = root.findall(f"{{{BPMN_NS}}}process")
    if not processes:
        raise DiagramError([{"element": None, "message": "no bpmn:process in the file"}])
    executable = [p for p in processes if p.get("isExecutable", "true") == "true"]
    if not executable:
        raise DiagramError([{"element": p.get("id"), "message": "the process is not marked executable "
                             "(isExecutable=\"false\")"} for p in processes])
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename="diagram.bpmn")
        for table in dmn:
            parser.add_dmn_xml(load_xml(table, max_bytes), filename="table.dmn")
        if process_id is None:
            called = {el.get("calledElement") for el in root.iter(f"{{{BPMN_NS}}}callActivity")}
            candidates = [p.get("id") for p in executable if p.get("id") not in called]
            process_id = (candidates or [executable[0].get("id")])[0]
        spec = parser.get_spec(process_id)
        subs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DiagramError([_element_error(exc)]) from None
    except SpiffWorkflowException as exc:
        raise DiagramError([_element_error(exc)]) from None
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        # the library raises these for some malformed diagrams (e.g. a missing message definition)
        raise DiagramError([{"element": None, "message": f"the diagram could not be parsed: "
                                                         f"{type(exc).__name__}: {exc}"}]) from None
    return SpecBundle(process_id, spec, subs)


def is_human(task_spec) -> bool:
    """`bpmn:task` (no type) waits for a person like a user task."""
    return isinstance(task_spec, (UserTask, NoneTask))


def task_properties(task_spec) -> dict:
    return dict((getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {})


def timer_expressions(bundle: SpecBundle):
    for ts in bundle.all_task_specs():
        ev = getattr(ts, "event_definition", None)
        if isinstance(ts, CatchingEvent) and isinstance(ev, TimerEventDefinition):
            yield ts, ev.expression


def check_timer_expression(expr: str) -> str | None:
    """None when valid. A literal must be an ISO-8601 date, duration or repeating interval, in quotes."""
    try:
        check_expression(expr)
    except ScriptPolicyError as exc:
        return f"timer expression refused: {exc.message}"
    import ast

    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return "timer expression is not valid Python"
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str):
            return "timer expression must be an ISO-8601 string"
        text = node.value
        try:
            if text.startswith("R"):
                TimerEventDefinition.parse_iso_recurring_interval(text)
            else:
                TimerEventDefinition.parse_time_or_duration(text)
        except Exception:
            return f"not a valid ISO-8601 date, duration or interval: {text!r}"
        return None
    iso_like = [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and _ISO_NAME.match(n.id)]
    if iso_like:
        return f"ISO-8601 text must be quoted: write \"{expr}\" (a bare {iso_like[0]} fails when the timer is reached)"
    if isinstance(node, (ast.Name, ast.Subscript, ast.Attribute, ast.Call, ast.BinOp, ast.JoinedStr)):
        return None  # computed from task data at run time
    return "timer expression must be an ISO-8601 string in quotes (e.g. \"P2Y\") or a data reference"


def check_bundle(bundle: SpecBundle, known_roles: set[str] | None = None, forms: dict | None = None) -> list[dict]:
    """What the engine will read, checked before anything runs: timers, scripts, conditions, lanes, forms."""
    problems: list[dict] = []
    for ts, expr in timer_expressions(bundle):
        err = check_timer_expression(expr)
        if err:
            problems.append({"element": ts.bpmn_id or ts.name, "message": err})
    for ts in bundle.all_task_specs():
        el = getattr(ts, "bpmn_id", None) or ts.name
        if isinstance(ts, ScriptTask):
            try:
                check_script(ts.script or "")
            except ScriptPolicyError as exc:
                problems.append({"element": el, "message": f"script refused: {exc.message}"})
        for attr in ("prescript", "postscript"):
            src = getattr(ts, attr, None)
            if src:
                try:
                    check_script(src)
                except ScriptPolicyError as exc:
                    problems.append({"element": el, "message": f"{attr} refused: {exc.message}"})
        if isinstance(ts, ExclusiveGateway) or hasattr(ts, "cond_task_specs"):
            for cond, _target in getattr(ts, "cond_task_specs", []) or []:
                src = cond.args[0] if cond is not None and getattr(cond, "args", None) else None
                if src:
                    try:
                        check_expression(src)
                    except ScriptPolicyError as exc:
                        problems.append({"element": el, "message": f"condition refused: {exc.message}"})
        if is_human(ts) and known_roles is not None:
            if not ts.lane:
                problems.append({"element": el, "message": "a human task must sit in a lane naming a role"})
            elif ts.lane not in known_roles:
                problems.append({"element": el, "message": f"lane {ts.lane!r} is not a known role"})
        if is_human(ts) and forms is not None:
            form = task_properties(ts).get("form")
            if form and form not in forms:
                problems.append({"element": el, "message": f"form {form!r} does not exist"})
    return problems


class SpecCache:
    """Parsed spec bundles by version id, parsed once per process (bounded LRU)."""

    def __init__(self, size: int = 64):
        self._items: OrderedDict = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, version_id, loader):
        with self._lock:
            if version_id in self._items:
                self._items.move_to_end(version_id)
                return self._items[version_id]
        bundle = loader()
        with self._lock:
            self._items[version_id] = bundle
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return bundle

    def clear(self):
        with self._lock:
            self._items.clear()


SPEC_CACHE = SpecCache()
