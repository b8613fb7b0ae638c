# long-file: the compile-time policy, the run-time guards and the two environments that use them are one security
# boundary, read and reviewed together; the child process and its pool live in sandbox_child.py / sandbox_pool.py
"""The restricted environment every script task, condition, timer, multi-instance expression, DMN cell and message
expression runs in.

Why: SpiffWorkflow's default environment is plain exec/eval (ENGINE-NOTES, "Scripts: the default engine is not a
sandbox"). Two layers:
1. Language: each source is compiled once (cached by text) by RestrictedPython with a policy that also refuses
   imports, classes, `with` and `finally`; it runs with RestrictedPython's guards and a whitelist of builtins.
   Operators and a few methods that can build a huge object are size-checked before they run; a trace function
   counts the script's lines (step budget) and watches time and peak RSS. (`LocalEnvironment`)
2. Operating system (issue 17): none of that sees work done inside C builtins (`sum(map(sum, [range(10**6)] *
   10**6))`) or a method reached through its type (`str.ljust('', 10**10)`). So `RestrictedEnvironment`, the one
   the engine uses, runs every script and every non-trivial expression in a pooled child process
   (sandbox_pool.py) under RLIMIT_CPU, RLIMIT_AS and a wall-clock kill, with no fork, no file writes and no
   secrets; a killed child is replaced. Over a limit: ScriptPolicyError naming the limit, within max_seconds + 0.25 s.
Fast path: an expression that `sandbox_cheap.is_cheap` accepts is evaluated in this process, untraced: at most 48
AST nodes among comparisons, boolean logic, names, attribute reads, subscripts, short literals, `+ - / //` and `*`
by a small literal; no call, comprehension, lambda, f-string or %-format. No code but the expression's own frame and
our guards can run, each operation is linear in operands that are task data already in memory or results of
size-checked operators (<= MAX_LEN items), so the cost is bounded by 48 such passes. Every condition of the shipped
diagrams qualifies.
Cost (bench/sandbox.py): cheap condition ~5 µs in-process; a child round trip ~0.1-0.4 ms (pickled task data, two
pipe transfers; more on a loaded machine); a child start ~0.1-0.4 s, in the background.
Task data crosses the boundary as pickles: to the child, anything picklable; back, plain data only (a whitelist of
builtin and datetime classes), so a generator or function can no longer be left in task data.
"""
import ast
import builtins
import math
import operator
import pickle
import re
import resource
import sys
import time
import traceback
import types
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    raise_,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, copy_locations
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from workflows import clock, sandbox_pool
from workflows.clock import add_months, deadline_after, deadline_after_working_days
from workflows.sandbox_cheap import is_cheap

MAX_STEPS = 500_000  # traced line events per evaluate/execute
MAX_SECONDS = 2.0  # wall time per evaluate/execute
MAX_RSS_GROWTH_MB = 256  # growth of the process's peak RSS while one script runs
MAX_LEN = 1_000_000  # longest str/bytes/list/tuple a checked operation may build
MAX_INT_BITS = 65_536  # largest int a checked operation may build (~19,700 digits)
MAX_WIDTH = 10_000  # largest width/precision in a format spec; most negative round() digits
FILENAME = "<string>"  # PythonScriptEngine finds the script's line by this name in tracebacks
_SEQ, _STR = (str, bytes, list, tuple), (str, bytes)


class ScriptPolicyError(Exception):
    """A script/expression refused by the policy. Attributes: message (str), line (int|None)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message, self.line = message, line


class ScriptCompileError(ScriptPolicyError, SyntaxError):
    """Refused before running. Also a SyntaxError with an int `lineno`: PythonScriptEngine indexes the script with
    `err.lineno` for SyntaxErrors, and None there crashes its error path."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message, line)
        self.lineno = line or 0

    def __str__(self):  # not SyntaxError's "msg (line N)"
        return self.message


class _Abort(BaseException):
    """Stops a running script (budget, size). Not an Exception, and `except` clauses only match Exceptions (_exc),
    so a script cannot swallow it. (Python switches the trace function off once it has raised.)"""


# -- run-time guards ------------------------------------------------------------------------------------------------
def _check_len(n):
    if n > MAX_LEN:
        raise _Abort(f"a result of {n} items is too large for a script (limit {MAX_LEN})")


_PCT = re.compile(r"%(?:%|(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?)")


def _check(op, a, b):
    """Refuse `a op b` before Python builds a huge result."""
    ints = isinstance(a, int) and isinstance(b, int)
    if op == "+" and isinstance(a, _SEQ) and isinstance(b, _SEQ):
        _check_len(len(a) + len(b))
    elif op == "*" and ints and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        raise _Abort("an integer product is too large for a script")
    elif op == "*" and isinstance(a, _SEQ) and isinstance(b, int):
        _check_len(len(a) * b)
    elif op == "*" and isinstance(b, _SEQ) and isinstance(a, int):
        _check_len(len(b) * a)
    elif op == "**" and ints and b > 0 and abs(a) > 1 and (a.bit_length() - 1) * b > MAX_INT_BITS:
        raise _Abort("an integer power is too large for a script")
    elif op == "<<" and ints and a and a.bit_length() + b > MAX_INT_BITS:
        raise _Abort("an integer shift is too large for a script")
    elif op == "%" and isinstance(a, _STR):  # '%1000000000d' % 1
        for m in _PCT.finditer(a if isinstance(a, str) else a.decode("latin-1")):
            if "*" in m.groups():
                raise _Abort("computed %-format widths (*) are not allowed")
            if any(g and int(g) > MAX_WIDTH for g in m.groups()):
                raise _Abort("a %-format width is too large for a script")


_BINOPS = {"+": operator.add, "*": operator.mul, "**": operator.pow, "<<": operator.lshift, "%": operator.mod}
_IOPS = {op + "=": getattr(operator, "i" + name) for op, name in [
    ("+", "add"), ("-", "sub"), ("*", "mul"), ("/", "truediv"), ("//", "floordiv"), ("%", "mod"), ("**", "pow"),
    ("<<", "lshift"), (">>", "rshift"), ("&", "and"), ("|", "or"), ("^", "xor")]}


def _binop(op, a, b):
    _check(op, a, b)
    return _BINOPS[op](a, b)


def _inplacevar(op, a, b):  # `x += y`
    _check(op[:-1], a, b)
    return _IOPS[op](a, b)


def _pow(a, b, mod=None):
    if mod is None:
        _check("**", a, b)
    return pow(a, b, mod)


def _round(x, ndigits=None):
    if isinstance(x, int) and isinstance(ndigits, int) and ndigits < -MAX_WIDTH:  # computes 10 ** -ndigits
        raise _Abort("round() digits too large for a script")
    return round(x) if ndigits is None else round(x, ndigits)


def _range(*args):
    r = range(*args)
    _check_len((r.stop - r.start) // r.step)  # len() itself overflows for huge ranges
    return r


def _sum(items, start=0):
    """sum() of lists/tuples is quadratic, in C where no budget reaches: concatenate linearly, checking the size."""
    if not isinstance(start, (list, tuple)):
        return sum(items, start)
    out = list(start)
    for x in items:
        if type(x) is not type(start):
            raise TypeError(f"can only concatenate {type(start).__name__} to {type(start).__name__}")
        out.extend(x)
        _check_len(len(out))
    return out if isinstance(start, list) else tuple(out)


_GROWERS = {  # methods whose result size is known before they run: (receiver types, size of the result)
    **dict.fromkeys(("ljust", "rjust", "center", "zfill"), (_STR, lambda s, width, *fill: width)),
    "expandtabs": (_STR, lambda s, tabsize=8: len(s) + s.count("\t" if isinstance(s, str) else b"\t") * tabsize),
    "replace": (_STR, lambda s, old, new, *c: len(s) + (s.count(old) if old else len(s) + 1) * len(new)),
    "join": (_STR, lambda s, items: len(s) * len(items) + sum(len(i) for i in items if isinstance(i, _SEQ))),
    "extend": ((list,), lambda lst, items: len(items) if hasattr(items, "__len__") else 0),  # l.extend(l) doubles
}
# str.format reads attributes ('{0.__class__}'), mro() reaches BaseException and object, the rest amplify memory
_DENIED_ATTRS = INSPECT_ATTRIBUTES | {"format", "format_map", "mro", "translate", "to_bytes"}


def _getattr(obj, name, default=raise_):
    """`a.b` and getattr(): no `_` names, no str.format or frames; methods that can amplify are size-checked."""
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name.startswith("_") or name in _DENIED_ATTRS:
        raise AttributeError(f"attribute {name!r} is not allowed in scripts")
    grower = _GROWERS.get(name)
    if grower and isinstance(obj, grower[0]):
        method, size = getattr(obj, name), grower[1]

        def checked(*args, **kwargs):
            args = (list(args[0]),) if name == "join" else args  # size it and join the same items
            _check_len(size(obj, *args, **kwargs))
            return method(*args, **kwargs)
        return checked
    return safer_getattr(obj, name, default)


def _cap(seq):  # `[*l, *l]` and `l[len(l):] = l` double a list: refuse once it is over the limit
    if hasattr(seq, "__len__"):
        _check_len(len(seq))
    return seq


_NoMatch = type("_NoMatch", (Exception,), {})  # an except clause type that never matches


def _exc(thunk=None):
    # The type of an `except` clause. It is not evaluated, and never matches, while these are in flight: _Abort;
    # GeneratorExit, when a suspended generator is collected after the call has returned (untraced); RecursionError
    # and MemoryError, which may come from the trace function itself, and Python then switches tracing off.
    exc = sys.exc_info()[1]
    if not isinstance(exc, Exception) or isinstance(exc, (RecursionError, MemoryError)):
        return _NoMatch
    t = Exception if thunk is None else thunk()  # bare `except:` catches Exception
    if not all(isinstance(c, type) and issubclass(c, Exception) for c in (t if isinstance(t, tuple) else (t,))):
        raise TypeError("except clauses may only name Exception classes")
    return t


def _c_import(name, *args, **kwargs):
    # datetime's C code imports these through the running frame's builtins; scripts cannot name `__import__`
    if name not in ("time", "_strptime"):
        raise ImportError(f"import of {name!r} is not allowed in scripts")
    return __import__(name, *args, **kwargs)


_SAFE_MATH = "ceil floor trunc fabs sqrt exp log log2 log10 pow isclose isfinite isinf isnan fsum gcd pi e inf nan"
_UNSAFE = {"__build_class__", "setattr", "delattr", "_getattr_", "BaseException", "SystemExit", "KeyboardInterrupt",
           "GeneratorExit"}
_BUILTINS = {k: v for k, v in safe_builtins.items() if k not in _UNSAFE}
_PLAIN = "min max sorted any all enumerate zip map filter reversed dict list set frozenset tuple"
_BUILTINS |= {n: getattr(builtins, n) for n in _PLAIN.split()}
_BUILTINS |= {"sum": _sum, "range": _range, "pow": _pow, "round": _round, "getattr": _getattr, "__import__": _c_import,
              "date": date, "datetime": datetime, "timedelta": timedelta, "timezone": timezone,
              "deadline_after": deadline_after, "deadline_after_working_days": deadline_after_working_days,
              "add_months": add_months,
              "math": types.SimpleNamespace(**{n: getattr(math, n) for n in _SAFE_MATH.split()})}
_MATH = _BUILTINS["math"]
_GUARDS = {
    "__builtins__": _BUILTINS, "_getattr_": _getattr, "_getitem_": operator.getitem, "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard, "_inplacevar_": _inplacevar, "_print_": PrintCollector,
    "_apply_": lambda f, *a, **k: f(*a, **k), "_binop_": _binop, "_cap_": _cap, "_exc_": _exc,
}


# -- compile-time policy --------------------------------------------------------------------------------------------
def _call(name, args, like):
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, like)
    return node


_OPS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%"}
_REFUSED = {ast.Import: "imports", ast.ImportFrom: "imports", ast.ClassDef: "class definitions",
            ast.With: "with blocks"}


class _Policy(RestrictingNodeTransformer):
    def _refuse(self, node, what=None):
        self.error(node, f"{what or _REFUSED[type(node)]} are not allowed in scripts")

    visit_Import = visit_ImportFrom = visit_ClassDef = visit_With = _refuse

    def visit_Try(self, node):
        if node.finalbody:  # would run while a budget stop unwinds, with tracing already off
            self._refuse(node, "finally clauses")
        return super().visit_Try(node)

    def visit_ExceptHandler(self, node):
        node = super().visit_ExceptHandler(node)
        thunk = [] if node.type is None else [ast.Lambda(ast.arguments([], [], None, [], [], None, []), node.type)]
        node.type = _call("_exc_", thunk, node)
        return node

    def visit_Assign(self, node):
        node = super().visit_Assign(node)
        if isinstance(node, ast.Assign) and any(isinstance(getattr(t, "slice", None), ast.Slice) for t in node.targets):
            node.value = _call("_cap_", [node.value], node)
        return node

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        op = _OPS.get(type(node.op))
        return node if op is None else _call("_binop_", [ast.Constant(op), node.left, node.right], node)

    def visit_Starred(self, node):
        node = super().visit_Starred(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_cap_", [node.value], node)
        return node

    def visit_FormattedValue(self, node):
        spec = node.format_spec  # f'{x:>1000000000}' or f'{x:>{n}}' would pad to any width
        if spec is not None and not all(isinstance(v, ast.Constant) for v in spec.values):
            self._refuse(node, "computed format specs")
        elif spec is not None and any(int(d) > MAX_WIDTH for v in spec.values for d in re.findall(r"\d+", v.value)):
            self.error(node, "format width too large for a script")
        return super().visit_FormattedValue(node)


@lru_cache(maxsize=4096)
def _compile(src: str, mode: str):
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(src, filename=FILENAME, policy=_Policy)
    if result.errors:
        m = re.match(r"Line (\d+)", result.errors[0])
        raise ScriptCompileError("; ".join(result.errors), int(m.group(1)) if m else None)
    return result.code


def check_expression(src: str) -> None:
    _compile(src, "eval")


def check_script(src: str) -> None:
    _compile(src, "exec")


# -- the environment ------------------------------------------------------------------------------------------------
class LocalEnvironment(TaskDataEnvironment):
    """Runs in this process under the tracer and guards only: what the sandbox child runs (sandbox_child.py)."""

    def __init__(self, environment_globals=None, max_steps=MAX_STEPS, max_seconds=MAX_SECONDS,
                 max_rss_growth_mb=MAX_RSS_GROWTH_MB):
        super().__init__(environment_globals)
        self.max_steps, self.max_seconds, self.max_rss_growth_mb = max_steps, max_seconds, max_rss_growth_mb

    def call_service(self, context, operation_name=None, operation_params=None, **_kw):
        """A service task records its request; the application carries it out after the step (service_calls)."""
        from workflows.service_calls import record_call

        return record_call(operation_name, operation_params)

    def evaluate(self, expression, context, external_context=None):
        code = _compile(expression, "eval")
        self._prepare_context(context)
        return self._run(eval, code, self._namespace(context, external_context))

    def execute(self, script, context, external_context=None):
        self.check_for_overwrite(context, external_context or {})
        code = _compile(script, "exec")
        self._prepare_context(context)
        ns = self._namespace(context, external_context)
        self._run(exec, code, ns)
        # as TaskDataEnvironment: assigned names land in task data; callables, guards and globals do not
        for key in [k for k in context if k not in ns]:
            del context[key]  # `del x`
        for key, value in ns.items():
            if not (key.startswith("_") or callable(value) or value is _MATH or key in self.globals
                    or (external_context and key in external_context)):
                context[key] = value
        return True

    def _namespace(self, context, external_context):
        return {**self.globals, **(external_context or {}), **context, **_GUARDS}  # a data key cannot replace a guard

    def _run(self, run, code, ns):
        # always traced, even loop-free code: it may resume a generator a previous script left in the task data
        old = sys.gettrace()
        sys.settrace(self._tracer())
        try:
            return run(code, ns)
        except _Abort as stop:
            tb = stop.__traceback__
            line = ([f.lineno for f in traceback.extract_tb(tb) if f.filename == FILENAME] or [None])[-1]
            # keep the traceback: PythonScriptEngine reads the script's line from the '<string>' frame in it
            raise ScriptPolicyError(str(stop), line).with_traceback(tb) from None
        finally:
            sys.settrace(old)

    def _tracer(self):
        max_steps, deadline, clock = self.max_steps, time.monotonic() + self.max_seconds, time.monotonic
        steps, rss_limit = 0, None

        def trace(frame, event, arg):
            nonlocal steps, rss_limit
            if frame.f_code.co_filename != FILENAME:
                return None  # guards and library code: not counted, not traced line by line
            if event == "line":
                steps += 1
                if steps > max_steps:
                    raise _Abort(f"script exceeded its step budget ({max_steps} steps)")
                if not steps & 15:  # every 16 lines: the clock and the process's peak memory (a system call)
                    if clock() > deadline:
                        raise _Abort(f"script exceeded its time limit ({self.max_seconds} s)")
                    rss = _peak_rss_kb()
                    if rss_limit is None:  # the baseline, taken lazily: most calls are over before 16 lines
                        rss_limit = rss + self.max_rss_growth_mb * 1024
                    elif rss > rss_limit:
                        raise _Abort(f"script used too much memory (over {self.max_rss_growth_mb} MB)")
            return trace
        return trace



class RestrictedEnvironment(LocalEnvironment):
    """What the engine uses: provably cheap expressions in this process (`is_cheap`), everything else in a pooled
    child process under OS limits (sandbox_pool.py), which runs LocalEnvironment with the same budgets."""

    def evaluate(self, expression, context, external_context=None):
        code = _compile(expression, "eval")
        if is_cheap(expression):
            return self._run_inline(code, self._namespace(context, external_context))
        return self._remote("eval", expression, context, external_context)[0]

    def execute(self, script, context, external_context=None):
        self.check_for_overwrite(context, external_context or {})
        _compile(script, "exec")  # policy errors (with their line) are raised here, before any child is used
        new = self._remote("exec", script, context, external_context)[1]
        context.clear()
        context.update(new)
        return True

    @staticmethod
    def _run_inline(code, ns):
        try:
            return eval(code, ns)
        except _Abort as stop:
            raise ScriptPolicyError(str(stop), 1).with_traceback(stop.__traceback__) from None

    def _remote(self, mode, src, context, external_context):
        request = {"mode": mode, "src": src, "context": context, "external": external_context or {},
                   "globals": self.globals, "limits": (self.max_steps, self.max_seconds, self.max_rss_growth_mb),
                   "now": clock._now.get(), "calendar": _calendar_for(src)}
        try:
            payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise ScriptPolicyError(f"the task data cannot be handed to a script: {exc}") from None
        try:
            answer = sandbox_pool.load_answer(sandbox_pool.POOL.run(payload, self.max_seconds))
        except sandbox_pool.ChildLimit as stop:
            raise ScriptPolicyError(_LIMITS.get(str(stop), "{}").format(self.max_seconds)) from None
        except pickle.UnpicklingError as exc:
            raise ScriptPolicyError(f"the script's result is not plain data: {exc}") from None
        if answer[0] == "ok":
            return answer[1], answer[2]
        _, module, name, message, line = answer
        _raise_at(_rebuild(module, name, message, line), line)


_LIMITS = {
    "time": "script exceeded its time limit ({} s)",
    "cpu": "script exceeded its CPU time limit ({} s)",
    "died": "script stopped by the sandbox's memory or CPU limit",
    "busy": "too many scripts are running at once; try again",
    "answer too large": "the script's result is too large",
}


def _rebuild(module: str, name: str, message: str, line: int | None) -> Exception:
    """The child's exception as one of ours or a builtin (never a class named by the child outside those)."""
    if module == __name__ and name in ("ScriptPolicyError", "ScriptCompileError"):
        return ScriptPolicyError(message, line)
    if module == "workflows.clock" and name == "CalendarMissing":
        return clock.CalendarMissing(message)
    cls = getattr(builtins, name, None) if module == "builtins" else None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except TypeError:
            pass
    return RuntimeError(f"{name}: {message}")


def _raise_at(exc: Exception, line: int | None):
    """Raise `exc` from a '<string>' frame at `line`: PythonScriptEngine reads the script's line from it."""
    if line:
        exec(compile("\n" * (line - 1) + "raise _e", FILENAME, "exec"), {"__builtins__": {}, "_e": exc})
    raise exc


def _calendar_for(src: str):
    if "deadline_after_working_days" not in src:
        return None
    year, out = clock.engine_now().year, {}
    for y in range(year - 1, year + 4):
        loaded = clock.loaded_year(y)
        out[y] = None if loaded is None else loaded._replace(holidays=dict(loaded.holidays))  # a mappingproxy
    return out


def _peak_rss_kb() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB on Linux


_ENGINE = PythonScriptEngine(environment=RestrictedEnvironment())  # built at import: no race between threads


def restricted_engine() -> PythonScriptEngine:
    """The process-wide engine; the environment keeps no per-call state, so threads share it."""
    return _ENGINE


def is_restricted(engine) -> bool:
    return isinstance(getattr(engine, "environment", None), RestrictedEnvironment)
