"""The sandbox child process: sets its own limits, then runs one request at a time (see workflows/sandbox_pool.py).

A request is a pickled dict from the parent (trusted): mode ("eval"/"exec"), src, context, external, globals, the
in-process budgets, the engine's `now` and, for scripts naming `deadline_after_working_days`, the loaded calendar
years. The answer is ("ok", value, context) or ("err", module, class name, message, line), made of plain data only.
"""
import os
import pickle
import resource
import sys
import traceback

MEMORY_ERROR = "script used too much memory (the sandbox's memory limit)"


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _set_limits(memory_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    limit = _address_space() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _line(exc: BaseException, filename: str) -> int | None:
    return ([f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename] or [None])[-1]


def _storable(value, what: str):
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL) and value
    except Exception:
        from workflows.sandbox import ScriptPolicyError

        raise ScriptPolicyError(f"{what} cannot be stored in task data ({type(value).__name__})") from None


def serve(request: dict) -> tuple:
    from workflows import clock
    from workflows.sandbox import FILENAME, LocalEnvironment, ScriptPolicyError

    env = LocalEnvironment(request["globals"], *request["limits"])
    token = clock._now.set(request["now"])
    calendar = request.get("calendar")
    if calendar is not None:
        clock.set_calendar_lookup(calendar.get)
    try:
        if request["mode"] == "eval":
            value = env.evaluate(request["src"], request["context"], request["external"])
            return ("ok", _storable(value, "the expression's result"), None)
        context = request["context"]
        env.execute(request["src"], context, request["external"])
        for key, value in context.items():
            _storable(value, f"the value the script left in {key!r}")
        return ("ok", None, context)
    except MemoryError:
        return ("err", "workflows.sandbox", "ScriptPolicyError", MEMORY_ERROR, None)
    except ScriptPolicyError as exc:
        return ("err", "workflows.sandbox", type(exc).__name__, exc.message, exc.line)
    except Exception as exc:
        message = str(exc.args[0]) if len(exc.args) == 1 else str(exc)
        return ("err", type(exc).__module__, type(exc).__qualname__, message, _line(exc, FILENAME))
    finally:
        clock._now.reset(token)
        clock.set_calendar_lookup(None)


def main() -> None:
    from workflows.sandbox_pool import MEMORY_MB, ChildLimit, cpu_limit, read_frame, write_frame

    out = os.dup(1)
    os.dup2(2, 1)  # stdout (fd 1) is not the answer pipe: nothing a script prints reaches the protocol
    sys.stdout = sys.stderr
    import workflows.sandbox  # noqa: F401  (imports done before the limits are measured)

    _set_limits(MEMORY_MB)
    write_frame(out, b"ready")
    while True:
        try:
            request = pickle.loads(read_frame(0))
        except ChildLimit:
            return  # the parent closed the pipe
        soft = cpu_limit(request["limits"][1])
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))
        try:
            answer = serve(request)
            payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            answer = ("err", "workflows.sandbox", "ScriptPolicyError", MEMORY_ERROR, None)
            payload = pickle.dumps(answer)
        write_frame(out, payload)  # after a MemoryError the failed allocation is already given back
