# long-file: the prescan and the deploy checks walk one parsed tree together; split, each would re-walk it
"""Parse a BPMN diagram (and its DMN tables) into a spec bundle, and check what the engine will read.

A bundle is parsed once per deployed version; `SpecCache` keeps the parsed objects per process.
"""
import ast
import builtins
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from workflows.errors import DiagramError, EngineError
from workflows.sandbox import _BUILTINS as SANDBOX_BUILTINS
from workflows.sandbox import ScriptPolicyError, check_expression, check_script, restricted_engine
from workflows.serialization import SERIALIZER
from workflows.service_calls import check_service_task, param_expressions
from workflows.xml import DEFAULT_MAX_BYTES, load_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
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


_ADDRESS = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>")
_XSD = re.compile(r"Element '\{[^}]*\}(\w+)'(?:, attribute '(\w+)')?: (?:'([^']*)' )?(.*)")


def _clean(text: str) -> str:
    """One line of library text without object addresses or doubled full stops."""
    text = _ADDRESS.sub(lambda m: f"bpmn:{m.group(1)}", text.split("\n")[0]).strip()
    return re.sub(r"\.+\s*\.?$", "", text).strip() + "."


def _find(root, local: str, **attrs):
    for el in root.iter(f"{{{BPMN_NS}}}{local}"):
        if all(el.get(k) == v for k, v in attrs.items()):
            return el
    return None


def _element_error(exc: Exception, root=None) -> dict:
    """Name the element type and id of a parse error; several library errors carry them only as attributes,
    or not at all (then we look the element up in the XML)."""
    element = getattr(exc, "id", None) or getattr(exc, "name", None) or None
    tag = getattr(exc, "tag", "") or ""
    text = str(exc).split("\n")[0]
    m = re.match(r"The process '([^']+)' was not found", text)
    if m and root is not None:
        call = _find(root, "callActivity", calledElement=m.group(1))
        if call is not None:
            return {"element": call.get("id"), "message": f"bpmn:callActivity {call.get('id')}: calls process "
                                                         f"{m.group(1)!r}, which is not in this file."}
    m = re.match(r"Data Store with name (\S+) has no implementation", text)
    if m and root is not None:
        store = _find(root, "dataStore", name=m.group(1))
        ref = next((r for r in root.iter(f"{{{BPMN_NS}}}dataStoreReference")
                    if store is not None and r.get("dataStoreRef") == store.get("id")), None)
        el = ref if ref is not None else store
        if el is not None:
            local = etree.QName(el).localname
            return {"element": el.get("id"), "message": f"bpmn:{local} {el.get('id')}: data stores are not "
                                                       "supported (no implementation)."}
    m = _XSD.match(text)
    if m:  # a schema (XSD) violation reported by lxml: reword it
        local, attr, value, why = m.groups()
        why = why.rstrip(". ")
        what = f"attribute {attr!r}" + (f" = {value!r}" if value else "") if attr else "content"
        el_id = value if attr == "id" else None
        if el_id is None and root is not None:
            el = next(iter(root.iter(f"{{{BPMN_NS}}}{local}")), None)
            el_id = el.get("id") if el is not None else None
        return {"element": el_id, "message": f"bpmn:{local}{' ' + el_id if el_id else ''}: not valid BPMN 2.0 "
                                             f"({what}: {why})."}
    msg = _clean(text)
    if tag:
        msg = f"{tag} {element}: {msg}" if element else f"{tag}: {msg}"
    return {"element": element, "message": msg}


# elements SpiffWorkflow parses as something else (link and compensation events become empty events) or cannot run
_UNSUPPORTED_DEFS = {"linkEventDefinition": "link events", "compensateEventDefinition": "compensation events"}


def prescan(root) -> list[dict]:
    """Refuse, by type and id, what the engine would silently ignore or could never run."""
    problems = []
    for local, what in _UNSUPPORTED_DEFS.items():
        for d in root.iter(f"{{{BPMN_NS}}}{local}"):
            ev = d.getparent()
            kind = etree.QName(ev).localname
            problems.append({"element": ev.get("id"), "message": f"bpmn:{kind} {ev.get('id')}: {what} are not "
                             "supported (the engine would skip them silently)."})
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("isForCompensation") == "true":
            kind = etree.QName(el).localname
            problems.append({"element": el.get("id"), "message": f"bpmn:{kind} {el.get('id')}: compensation "
                             "activities are not supported."})
    for local in ("dataStoreReference", "dataStore"):
        for el in root.iter(f"{{{BPMN_NS}}}{local}"):
            problems.append({"element": el.get("id"), "message": f"bpmn:{local} {el.get('id')}: data stores are "
                             "not supported (no implementation)."})
    # an event naming a message, signal, error or escalation the file does not define (the library raises a bare
    # TypeError or KeyError for some of them)
    defined = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for local, attr in (("messageEventDefinition", "messageRef"), ("signalEventDefinition", "signalRef"),
                        ("errorEventDefinition", "errorRef"), ("escalationEventDefinition", "escalationRef")):
        for d in root.iter(f"{{{BPMN_NS}}}{local}"):
            ref = d.get(attr)
            if ref and ref not in defined:
                ev = d.getparent()
                kind = etree.QName(ev).localname
                problems.append({"element": ev.get("id"), "message": f"bpmn:{kind} {ev.get('id')}: {attr} "
                                 f"{ref!r} is not defined in the file (add a bpmn:{attr[:-3]} with that id)"})
    for task in root.iter(f"{{{BPMN_NS}}}sendTask", f"{{{BPMN_NS}}}receiveTask"):
        ref = task.get("messageRef")
        if ref and ref not in defined:
            kind = etree.QName(task).localname
            problems.append({"element": task.get("id"), "message": f"bpmn:{kind} {task.get('id')}: messageRef "
                             f"{ref!r} is not defined in the file (add a bpmn:message with that id)"})
    problems += check_correlations(root)
    # workflows/joins.py makes a parallel join inside a loop wait for the branches of its current round; an inclusive
    # join there would still count the tokens of earlier rounds (SpiffWorkflow 3.2): refused rather than run wrong
    for kind, gw_id in joins_on_cycles(root):
        if kind == "inclusiveGateway":
            problems.append({"element": gw_id, "message": f"bpmn:inclusiveGateway {gw_id}: an inclusive join that a "
                             "loop reaches again is not supported (it would count the branches of earlier rounds); "
                             "use a parallel gateway or an exclusive one, or move the loop outside the branches."})
    # a process that calls itself, directly or through other processes of the file, would never stop
    calls: dict[str, list] = {}
    for proc in root.findall(f"{{{BPMN_NS}}}process"):
        calls[proc.get("id")] = [(c.get("id"), c.get("calledElement"))
                                 for c in proc.iter(f"{{{BPMN_NS}}}callActivity")]
    for pid, outgoing in calls.items():
        for call_id, target in outgoing:
            seen, todo = set(), [target]
            while todo:
                cur = todo.pop()
                if cur == pid:
                    problems.append({"element": call_id, "message": f"bpmn:callActivity {call_id}: the process "
                                     f"{pid!r} calls itself (through {target!r}); recursion is not supported."})
                    break
                if cur in seen or cur not in calls:
                    continue
                seen.add(cur)
                todo.extend(t for _c, t in calls[cur])
    return problems


def joins_on_cycles(root) -> list[tuple[str, str]]:
    """(gateway kind, id) of each parallel or inclusive gateway joining two or more flows that lies on a cycle of
    sequence flows, in a process or subprocess (a boundary event counts as a flow from the task it is attached to):
    a join a loop can reach again. Linear: one strongly-connected-components pass per process (a search from each
    join was quadratic: 8,000 chained fork/join pairs took seconds)."""
    out = []
    for proc in root.iter(f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}subProcess"):
        succ: dict[str, set] = {}
        incoming: dict[str, int] = {}
        for sf in proc.iterchildren(f"{{{BPMN_NS}}}sequenceFlow"):
            succ.setdefault(sf.get("sourceRef"), set()).add(sf.get("targetRef"))
            incoming[sf.get("targetRef")] = incoming.get(sf.get("targetRef"), 0) + 1
        for be in proc.iterchildren(f"{{{BPMN_NS}}}boundaryEvent"):
            succ.setdefault(be.get("attachedToRef"), set()).add(be.get("id"))
        joins = [(kind, gw.get("id")) for kind in ("parallelGateway", "inclusiveGateway")
                 for gw in proc.iterchildren(f"{{{BPMN_NS}}}{kind}") if incoming.get(gw.get("id"), 0) >= 2]
        if not joins:
            continue
        cyclic = _on_cycles(succ)
        out += [(kind, gid) for kind, gid in joins if gid in cyclic]
    return out


def _on_cycles(succ: dict[str, set]) -> set:
    """The nodes that lie on a cycle: members of a strongly connected component of two or more nodes, or with an
    edge to themselves (Tarjan's algorithm, iterative: diagrams may be deeper than Python's recursion limit)."""
    index: dict = {}
    low: dict = {}
    on_stack: set = set()
    stack: list = []
    cyclic: set = set()
    counter = 0
    for start in list(succ):
        if start in index:
            continue
        work = [(start, iter(succ.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for nxt in children:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(succ.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in succ.get(node, ()):
                    cyclic.update(component)
    return cyclic


def _message_users(root) -> dict[str, list[str]]:
    """message id -> ids of the events and tasks that send or receive it (where a problem is marked)."""
    users: dict[str, list[str]] = {}
    for d in root.iter(f"{{{BPMN_NS}}}messageEventDefinition"):
        if d.get("messageRef") and d.getparent().get("id"):
            users.setdefault(d.get("messageRef"), []).append(d.getparent().get("id"))
    for task in root.iter(f"{{{BPMN_NS}}}sendTask", f"{{{BPMN_NS}}}receiveTask"):
        if task.get("messageRef"):
            users.setdefault(task.get("messageRef"), []).append(task.get("id"))
    return users


def check_correlations(root) -> list[dict]:
    """Message correlation as SpiffWorkflow reads it: each bpmn:correlationProperty has, per message, a
    correlationPropertyRetrievalExpression whose expression is evaluated (sandboxed) on the message payload, and
    each bpmn:correlationKey lists properties by id. Refused, marked on the events using the message: a retrieval
    expression outside the sandbox policy, empty, or for an undefined message; a key naming an unknown property
    (SpiffWorkflow would ignore it silently, and the key would never match)."""
    problems: list[dict] = []
    users = _message_users(root)
    messages = {m.get("id") for m in root.iter(f"{{{BPMN_NS}}}message")}
    props: dict[str, set[str]] = {}  # property id -> messages it is retrieved from
    for cp in root.iter(f"{{{BPMN_NS}}}correlationProperty"):
        pid = cp.get("id")
        props[pid] = set()
        for rex in cp.iter(f"{{{BPMN_NS}}}correlationPropertyRetrievalExpression"):
            msg = rex.get("messageRef")
            where = users.get(msg) or [pid]
            if msg not in messages:
                problems += [{"element": el, "message": f"bpmn:correlationProperty {pid}: retrieval expression for "
                              f"message {msg!r}, which is not defined in the file"} for el in where]
                continue
            props[pid].add(msg)
            children = [c for c in rex if isinstance(c.tag, str)]
            src = (children[0].text or "").strip() if children else ""
            if not src:
                problems += [{"element": el, "message": f"correlation property {pid!r}: the retrieval expression "
                              f"for message {msg!r} is empty"} for el in where]
                continue
            try:
                check_expression(src)
                err = _absent(src, "eval")
            except ScriptPolicyError as exc:
                err = exc.message
            if err:
                problems += [{"element": el, "message": f"correlation property {pid!r}: retrieval expression "
                              f"{src!r} for message {msg!r} refused: {err}"} for el in where]
    for key in root.iter(f"{{{BPMN_NS}}}correlationKey"):
        refs = [(r.text or "").strip() for r in key.iter(f"{{{BPMN_NS}}}correlationPropertyRef")]
        name = key.get("name") or key.get("id") or "?"
        unknown = [r for r in refs if r not in props]
        if not unknown:
            continue
        where = sorted({el for r in refs if r in props for msg in props[r] for el in users.get(msg, [])}) \
            or sorted({el for els in users.values() for el in els}) or [key.get("id")]
        problems += [{"element": el, "message": f"correlation key {name!r} refers to {', '.join(map(repr, unknown))}, "
                      "which is no bpmn:correlationProperty of the file"} for el in where]
    return problems


def message_correlations(bundle: "SpecBundle", name: str, payload: dict) -> dict:
    """The correlations of message `name` carrying `payload`, as the diagram's correlation properties compute them
    (the retrieval expressions run in the sandbox on the payload): {key: {property: value}}. What a sender passes to
    `Instance.send_message` so that only the cases whose keys match catch it; {} when the message is not correlated.
    EngineError when the payload does not give what a retrieval expression reads."""
    engine = restricted_engine()
    for ts in bundle.all_task_specs():
        ev = getattr(ts, "event_definition", None)
        for d in [ev, *(getattr(ev, "event_definitions", None) or [])]:
            if getattr(d, "name", None) == name and getattr(d, "correlation_properties", None):
                try:
                    return d.calculate_correlations(engine, d.correlation_properties, dict(payload or {}))
                except Exception as exc:  # a name the payload lacks, a failing expression: the sender's mistake
                    exprs = ", ".join(f"{p.name} = {p.retrieval_expression}" for p in d.correlation_properties)
                    raise EngineError(f"message {name!r}: its correlation ({exprs}) cannot be computed from the "
                                      f"payload: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                                      ) from None
    return {}


DEFAULT_MAX_ELEMENTS = 5000  # BPMN elements with an id (tasks, events, gateways, flows, ...); the largest built-in: 274


def parse_bpmn(bpmn: bytes | str, dmn: list[bytes] = (), process_id: str | None = None,
               max_bytes: int = DEFAULT_MAX_BYTES, max_elements: int = DEFAULT_MAX_ELEMENTS) -> SpecBundle:
    """Parse hardened XML with SpiffBpmnParser. Raises DiagramError naming the offending element."""
    root = load_xml(bpmn, max_bytes)
    count = sum(1 for el in root.iter(f"{{{BPMN_NS}}}*") if el.get("id") is not None)
    if count > max_elements:
        raise DiagramError([{"element": None, "message": f"the diagram has {count} elements; at most {max_elements} "
                             "are accepted (setting MAX_DIAGRAM_ELEMENTS): split it into called processes"}])
    processes = root.findall(f"{{{BPMN_NS}}}process")
    if not processes:
        raise DiagramError([{"element": None, "message": "no bpmn:process in the file"}])
    problems = prescan(root)
    executable = [p for p in processes if p.get("isExecutable", "true") == "true"]
    if not executable:
        problems += [{"element": p.get("id"), "message": f"bpmn:process {p.get('id')}: the process is not marked "
                      "executable (isExecutable=\"false\"); there is no executable process in the file"}
                     for p in processes]
    if problems:
        raise DiagramError(problems)
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
    except RecursionError:
        raise DiagramError([_too_deep(None)]) from None
    except (ValidationException, SpiffWorkflowException) as exc:
        if "RecursionError" in str(exc) or isinstance(exc.__cause__ or exc.__context__, RecursionError):
            raise DiagramError([_too_deep(getattr(exc, "id", None))]) from None
        raise DiagramError([_element_error(exc, root)]) from None
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        # the library raises these for some malformed diagrams (e.g. a missing message definition, a
        # businessRuleTask without a decision): never show the raw Python text
        hint = {"KeyError": f"a required attribute or reference is missing ({exc})",
                "TypeError": "a referenced definition (message, signal, error or decision) is missing"}
        raise DiagramError([{"element": None, "message": "the diagram could not be parsed: "
                             + hint.get(type(exc).__name__, "an element is incomplete")}]) from None
    bundle = SpecBundle(process_id, spec, subs)
    ignored = ignored_scripts(root, bundle)
    if ignored:
        raise DiagramError(ignored)
    return bundle


def _too_deep(element: str | None) -> dict:
    # SpiffWorkflow's parser follows sequence flows recursively: a chain of a few hundred elements in a row exceeds
    # Python's recursion limit (raising the limit would risk the thread's C stack instead)
    return {"element": element, "message": "the diagram is too deep for the engine: too many elements follow one "
            "another along its sequence flows (about 450 in a row at most); split it into called processes"}


def is_human(task_spec) -> bool:
    """`bpmn:task` (no type) waits for a person like a user task."""
    return isinstance(task_spec, (UserTask, NoneTask, ManualTask))


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


# Python builtins that the sandbox does not offer: a script naming one can never work (open, eval, exec, ...)
_ABSENT_BUILTINS = {n for n in dir(builtins) if not n.startswith("_")} - set(SANDBOX_BUILTINS) - {"print"}


def _names(src: str, mode: str) -> tuple[set[str], set[str]]:
    """(names read, names assigned) by a script or expression; comprehension variables are neither."""
    try:
        tree = ast.parse(src, mode=mode)
    except SyntaxError:
        return set(), set()
    read, stored, bound = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            bound |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            args = node.args
            bound |= {a.arg for a in args.args + args.kwonlyargs + args.posonlyargs}
            if isinstance(node, ast.FunctionDef):
                stored.add(node.name)
        elif isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else stored).add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return read - bound, stored


def _absent(src: str, mode: str) -> str | None:
    read, stored = _names(src, mode)
    missing = sorted((read - stored) & _ABSENT_BUILTINS)
    return f"{missing[0]}() is not available in the sandbox" if missing else None


def _element(ts) -> str:
    return getattr(ts, "bpmn_id", None) or ts.name


def _kind(ts) -> str:
    return getattr(ts, "_bpmn_kind", None) or type(ts).__name__


def _conditions(ts):
    for cond, _target in getattr(ts, "cond_task_specs", []) or []:
        src = cond.args[0] if cond is not None and getattr(cond, "args", None) else None
        if src:
            yield src


def _other_expressions(ts):
    """(label, source) of every other expression the engine evaluates for this task spec: multi-instance
    loopCardinality and completionCondition, a standard loop's loopCondition, conditional events' conditions."""
    if isinstance(ts, MultiInstanceTask):
        if isinstance(ts.cardinality, str) and ts.cardinality.strip():
            yield "loopCardinality", ts.cardinality
        if isinstance(ts.condition, str) and ts.condition.strip():
            yield "completionCondition", ts.condition
    if isinstance(ts, StandardLoopTask) and isinstance(ts.condition, str) and ts.condition.strip():
        yield "loopCondition", ts.condition
    ev = getattr(ts, "event_definition", None)
    for d in [ev, *(getattr(ev, "event_definitions", None) or [])]:
        if isinstance(d, ConditionalEventDefinition):
            yield "conditional event condition", d.expression or ""


def ignored_scripts(root, bundle: "SpecBundle") -> list[dict]:
    """spiffworkflow:preScript/postScript that the parser dropped (SpiffWorkflow 3.2 keeps them on user, manual,
    none, send, receive, business rule and call tasks and subprocesses only): refused, never silently ignored."""
    specs = {_element(ts): ts for ts in bundle.all_task_specs()}
    problems = []
    for local, attr in (("preScript", "prescript"), ("postScript", "postscript")):
        for el in root.iter(f"{{{SPIFF_NS}}}{local}"):
            owner = el.getparent().getparent() if el.getparent() is not None else None
            if owner is None or not (el.text or "").strip():
                continue
            oid, kind = owner.get("id"), etree.QName(owner).localname
            ts = specs.get(oid)
            if ts is None or not (getattr(ts, attr, None) or "").strip():
                where = ("write it into the task's own script" if kind == "scriptTask"
                         else "put it in a script task before or after")
                problems.append({"element": oid, "message": f"bpmn:{kind} {oid}: spiffworkflow:{local} is not "
                                 f"supported on a {kind} (the engine would ignore it); {where}"})
    return problems


def _refused(src: str, mode: str, el: str, label: str, problems: list) -> bool:
    """The sandbox policy (a script in "exec" mode, an expression in "eval" mode) and the builtins it may name:
    each problem appended for `el`; True when the policy refused the text outright."""
    try:
        (check_script if mode == "exec" else check_expression)(src)
    except ScriptPolicyError as exc:
        problems.append({"element": el, "message": f"{label} refused: {exc.message}"})
        return True
    absent = _absent(src, mode)
    if absent:
        problems.append({"element": el, "message": f"{label} refused: {absent}"})
    return False


def form_fields(schema: dict) -> set[str]:
    props = schema.get("properties") if isinstance(schema, dict) else None
    return set(props) if isinstance(props, dict) else set()


def task_outputs(props: dict, schema: dict, el: str, problems: list) -> set[str]:
    """The process variables a user task provides: its declared `outputs` (each must be a field of its form), or
    every form field when it declares none (the convention before step data)."""
    value = props.get("outputs")
    if value is None:
        return form_fields(schema)
    fields, out = form_fields(schema), set()
    for part in value.split(","):
        field, _, var = part.strip().partition(":")
        field, var = field.strip(), (var or field).strip()
        if not field:
            continue
        if field not in fields:
            problems.append({"element": el, "message": f"output {field!r} is not a field of the task's form"})
        elif not var.isidentifier():
            problems.append({"element": el, "message": f"output variable {var!r} is not a valid name"})
        out.add(var)
    return out


def check_bundle(bundle: SpecBundle, known_roles: set[str] | None = None, forms: dict | None = None,
                 start_data: set[str] | None = None, operators: dict | None = None) -> list[dict]:
    """What the engine will read, checked before anything runs: timers, scripts, conditions, service tasks (their
    operator among `operators`, workflows/service_calls.py) and, for diagrams that run as cases (`known_roles`
    given), lanes, forms and the data conditions read."""
    problems: list[dict] = []
    for ts, expr in timer_expressions(bundle):
        err = check_timer_expression(expr)
        if err:
            problems.append({"element": _element(ts), "message": err})
    provided = set(start_data or ())
    reads: list[tuple[str, str, set]] = []
    for ts in bundle.all_task_specs():
        el = _element(ts)
        if isinstance(ts, ServiceTask):
            problems.extend(check_service_task(ts, el, operators))
            for src in param_expressions(ts):
                _refused(src, "eval", el, "service task parameter", problems)
        scripts = [("script", ts.script or "")] if isinstance(ts, ScriptTask) else []
        scripts += [(attr, getattr(ts, attr, None)) for attr in ("prescript", "postscript")]
        for attr, src in scripts:
            if attr != "script" and not src:
                continue
            if _refused(src, "exec", el, "script" if attr == "script" else attr, problems):
                continue
            provided |= _names(src, "exec")[1]
        for src in _conditions(ts):
            if _refused(src, "eval", el, "condition", problems):
                continue
            reads.append((el, src, _names(src, "eval")[0]))
        for label, src in _other_expressions(ts):  # evaluated by the engine like conditions: checked the same way
            _refused(src, "eval", el, label, problems)
        for attr in ("data_output", "output_item", "input_item"):
            ref = getattr(ts, attr, None)
            if ref is not None and getattr(ref, "bpmn_id", None):
                provided.add(ref.bpmn_id)
        ev = getattr(ts, "event_definition", None)
        for d in [ev, *(getattr(ev, "event_definitions", None) or [])]:
            for attr in ("message_var", "payload_var", "variable", "result_var"):
                if isinstance(getattr(d, attr, None), str):
                    provided.add(getattr(d, attr))
        if getattr(ts, "result_var", None):
            provided.add(ts.result_var)
        if not is_human(ts):
            continue
        props = task_properties(ts)
        if props.get("result_key"):
            provided.add(props["result_key"])
        if known_roles is not None:
            if not ts.lane:
                problems.append({"element": el, "message": "a human task must sit in a lane naming a role"})
            elif ts.lane not in known_roles:
                problems.append({"element": el, "message": f"lane {ts.lane!r} is not a known role"})
        if forms is not None:
            form = props.get("form")
            if form and form not in forms:
                problems.append({"element": el, "message": f"form {form!r} does not exist"})
            elif form:
                provided |= task_outputs(props, forms[form], el, problems)
            elif known_roles is not None:
                problems.append({"element": el, "message": "a user task needs a form (property \"form\")"})
            due = props.get("due")
            if due and check_timer_expression(f'"{due}"'):
                problems.append({"element": el, "message": f"due {due!r} is not an ISO-8601 duration"})
    if known_roles is not None and forms is not None:  # runs as a case: what a condition reads must come from somewhere
        allowed = provided | set(SANDBOX_BUILTINS) | {"True", "False", "None"}
        for el, src, names in reads:
            missing = sorted(names - allowed)
            if missing:
                problems.append({"element": el, "message": f"condition {src!r} reads {', '.join(missing)}, which no "
                                 "form field, script or start data provides"})
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


# -- DMN decision tables ---------------------------------------------------------------------------------------------
_FEEL_RANGE = re.compile(r"^\s*[\[\]\(]\s*[^,]*\.\.")
HIT_POLICIES = ("UNIQUE", "COLLECT")  # the only two SpiffWorkflow 3.2 evaluates correctly


def _children(el, local: str) -> list:
    return [c for c in el if isinstance(c.tag, str) and etree.QName(c).localname == local]


def _text(el) -> str:
    texts = _children(el, "text")
    return (texts[0].text or "").strip() if texts else ""


def check_dmn(dmn: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> list[dict]:
    """A decision table that can run here and answers for every rule: hardened XML, UNIQUE or COLLECT, every rule
    with one cell per input and per output, every output named, every expression inside the sandbox policy (cells
    are Python, `?` is the input; FEEL ranges such as [1..10] do not work), and SpiffWorkflow parses it."""
    try:
        root = load_xml(dmn, max_bytes)
    except DiagramError as exc:
        return exc.errors
    problems: list[dict] = []
    decisions = [el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname == "decision"]
    if not decisions:
        return [{"element": None, "message": "no dmn:decision in the file"}]

    def expr(el_id, where, src):
        if _FEEL_RANGE.match(src):
            problems.append({"element": el_id, "message": f"{where}: FEEL ranges are not supported; write a Python "
                             f"comparison such as 1 <= ? <= 10 (was {src!r})"})
            return
        try:
            check_expression(src.replace("?", "dmn_input"))
        except ScriptPolicyError as exc:
            problems.append({"element": el_id, "message": f"{where}: {exc.message}"})

    for decision in decisions:
        tables = _children(decision, "decisionTable")
        if not tables:
            problems.append({"element": decision.get("id"), "message": "dmn:decision: only decision tables are "
                             "supported"})
            continue
        table = tables[0]
        tid = table.get("id") or decision.get("id")
        policy = table.get("hitPolicy", "UNIQUE")
        if policy not in HIT_POLICIES:
            problems.append({"element": tid, "message": f"dmn:decisionTable {tid}: hit policy {policy} is not "
                             "supported (UNIQUE or COLLECT)"})
        inputs, outputs = _children(table, "input"), _children(table, "output")
        for inp in inputs:
            exprs = _children(inp, "inputExpression")
            src = _text(exprs[0]) if exprs else ""
            if not src:
                problems.append({"element": inp.get("id"), "message": f"dmn:input {inp.get('id')}: no input "
                                 "expression"})
            else:
                expr(inp.get("id"), f"dmn:input {inp.get('id')}", src)
        for out in outputs:
            if not out.get("name"):
                problems.append({"element": out.get("id"), "message": f"dmn:output {out.get('id')}: the output "
                                 "needs a name (the key of the result)"})
        rules = _children(table, "rule")
        if not rules:
            problems.append({"element": tid, "message": f"dmn:decisionTable {tid}: the table has no rules"})
        for rule in rules:
            rid = rule.get("id")
            ins, outs = _children(rule, "inputEntry"), _children(rule, "outputEntry")
            if len(ins) != len(inputs) or len(outs) != len(outputs):
                problems.append({"element": rid, "message": f"dmn:rule {rid}: {len(ins)} input and {len(outs)} "
                                 f"output cells for {len(inputs)} inputs and {len(outputs)} outputs"})
                continue
            for cell in ins:
                src = _text(cell)
                if src and src != "-":
                    expr(rid, f"dmn:rule {rid} input cell {cell.get('id')}", src)
            for cell in outs:
                src = _text(cell)
                if not src:
                    problems.append({"element": rid, "message": f"dmn:rule {rid}: output cell {cell.get('id')} "
                                     "is empty"})
                else:
                    expr(rid, f"dmn:rule {rid} output cell {cell.get('id')}", src)
    if not problems:
        parser = SpiffBpmnParser(validator=VALIDATOR)
        try:
            parser.add_dmn_xml(root, filename="table.dmn")
            for decision in decisions:
                parser.get_engine(decision.get("id"), None)
        except (ValidationException, SpiffWorkflowException) as exc:
            problems.append(_element_error(exc, root))
        except (TypeError, KeyError, AttributeError, ValueError):
            problems.append({"element": None, "message": "the decision table could not be parsed"})
    return problems
