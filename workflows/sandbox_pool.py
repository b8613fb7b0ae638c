"""A small pool of pre-started child processes that run scripts under operating-system limits.

Why: the in-process guards of workflows/sandbox.py (a line-counting tracer, size checks on operators and a few
methods) cannot see work done inside C builtins (`sum(map(sum, [range(10**6)] * 10**6))`) nor a method reached
through its type (`str.ljust('', 10**10)`). A child holds every limit however the code is written:
- CPU: RLIMIT_CPU in the child (the kernel sends SIGXCPU, then SIGKILL) and, first, a wall-clock kill by the parent
  after `max_seconds` (+ a small grace): the waiting thread selects on the child's pipe with a deadline.
- memory: RLIMIT_AS in the child, its address space at start plus MEMORY_MB; an allocation past it fails
  (MemoryError, reported as "too much memory"), and the child is replaced.
- no fork (RLIMIT_NPROC 0), no file written (RLIMIT_FSIZE 0), no core dump, an empty environment (no secrets), its
  own session. The child's answer is unpickled with a whitelist of plain data classes only, so a child that were
  ever subverted still could not make the server run code.
- priority: an evaluation still running after RENICE_AFTER seconds has its child niced to 19 (an unprivileged process
  may lower its own children's priority), so a hostile script yields the CPU to every ordinary request; such a child
  is retired afterwards.
A killed or retired child is replaced in the background; a request never waits for more than one child start.
Children are started with `python -I -c` (not fork: the server is threaded and holds database connections).
Cost: one round trip (pickle the task data, a pipe write and read) ~60-120 µs; `bench/sandbox.py` measures it.
"""
import io
import math
import os
import pickle
import resource
import select
import signal
import subprocess
import sys
import threading
import time

MAX_CHILDREN = 8  # children running at once per server process; more callers wait up to their time limit
IDLE_CHILDREN = 2  # kept started and waiting
MEMORY_MB = 512  # address space a child may add to its size at start
GRACE_SECONDS = 0.25  # after max_seconds, before the parent kills (the child's own tracer usually stops it first)
RENICE_AFTER = 0.05  # seconds
MAX_ANSWER_BYTES = 64 * 1024 * 1024
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HEADER = 8


class ChildLimit(Exception):
    """The child was stopped by a limit (message says which) or died."""


# -- framing ---------------------------------------------------------------------------------------------------------
def write_frame(fd: int, payload: bytes) -> None:
    data = len(payload).to_bytes(_HEADER, "big") + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_frame(fd: int, deadline: float | None = None, on_slow=None) -> bytes:
    """Read one frame; ChildLimit("time") past `deadline` (monotonic), ChildLimit("died") at end of file."""
    buf, need, header = bytearray(), _HEADER, True
    slow_at = None if on_slow is None else time.monotonic() + RENICE_AFTER
    while True:
        while len(buf) < need:
            if deadline is not None:
                now = time.monotonic()
                if slow_at is not None and now >= slow_at:
                    on_slow()
                    slow_at = None
                wait = min(deadline, slow_at or deadline) - now
                if wait <= 0 and (slow_at is None or deadline <= now):
                    raise ChildLimit("time")
                if not select.select([fd], [], [], max(wait, 0))[0]:
                    continue
            chunk = os.read(fd, min(need - len(buf), 1 << 20))
            if not chunk:
                raise ChildLimit("died")
            buf += chunk
        if not header:
            return bytes(buf)
        need = int.from_bytes(buf, "big")
        if need > MAX_ANSWER_BYTES:
            raise ChildLimit("answer too large")
        buf, header = bytearray(), False


# -- what the parent accepts back ------------------------------------------------------------------------------------
_ALLOWED = {
    "builtins": {"dict", "list", "set", "frozenset", "tuple", "str", "bytes", "bytearray", "int", "float", "complex",
                 "bool"},
    "datetime": {"date", "datetime", "time", "timedelta", "timezone"},
    "decimal": {"Decimal"},
    "collections": {"OrderedDict"},
    "zoneinfo": {"ZoneInfo"},
    "zoneinfo._zoneinfo": {"ZoneInfo"},
    "copyreg": {"_reconstructor"},  # used for ZoneInfo/timezone subclasses; its arguments are themselves checked
}


class _DataUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def load_answer(payload: bytes):
    return _DataUnpickler(io.BytesIO(payload)).load()


# -- the children ----------------------------------------------------------------------------------------------------
def _child_env() -> dict:
    keep = {k: os.environ[k] for k in ("TZ",) if k in os.environ}
    return {"LC_ALL": "C.UTF-8", **keep}  # no DATABASE_URL, SECRET_KEY, ...


class _Child:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-B", "-c",
             f"import sys; sys.path.insert(0, {_ROOT!r}); from workflows.sandbox_child import main; main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
            start_new_session=True, env=_child_env(), cwd="/")
        self.reniced = False
        # the child says it is ready (imports done, limits set): a failed start is seen here, not at the first call
        read_frame(self.proc.stdout.fileno(), time.monotonic() + 30)

    def call(self, request: bytes, max_seconds: float) -> bytes:
        try:
            write_frame(self.proc.stdin.fileno(), request)
        except OSError:
            raise ChildLimit("stale") from None  # died while idle (killed from outside): nothing ran
        return read_frame(self.proc.stdout.fileno(), time.monotonic() + max_seconds + GRACE_SECONDS, self._renice)

    def _renice(self):
        try:
            os.setpriority(os.PRIO_PROCESS, self.proc.pid, 19)
            self.reniced = True
        except OSError:
            pass

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass

    def death_reason(self) -> str:
        code = self.proc.wait()
        if code in (-signal.SIGXCPU, -signal.SIGKILL):
            return "cpu"
        return "died"


class Pool:
    def __init__(self):
        self._lock = threading.Lock()
        self._idle: list[_Child] = []
        self._slots = threading.BoundedSemaphore(MAX_CHILDREN)
        self._pid = os.getpid()
        self._starting = 0

    def _fresh(self):
        if self._pid != os.getpid():  # forked (a pre-loading server): the children belong to the parent process
            self._idle, self._pid, self._starting = [], os.getpid(), 0

    def _take(self) -> _Child:
        with self._lock:
            self._fresh()
            child = self._idle.pop() if self._idle else None
        self._replace_soon()  # keep IDLE_CHILDREN ready for the next callers
        return child or _Child()

    def _give_back(self, child: _Child):
        with self._lock:
            if len(self._idle) < IDLE_CHILDREN and self._pid == os.getpid():
                self._idle.append(child)
                return
        child.kill()

    def _replace_soon(self):
        with self._lock:
            if len(self._idle) + self._starting >= IDLE_CHILDREN:
                return
            self._starting += 1

        def start():
            try:
                child = _Child()
            except Exception:
                return
            finally:
                with self._lock:
                    self._starting -= 1
            self._give_back(child)
        threading.Thread(target=start, daemon=True, name="sandbox-child-start").start()

    def warm(self):
        """Start the idle children now (the server calls it at start so the first request does not wait)."""
        for _ in range(IDLE_CHILDREN):
            self._replace_soon()

    def run(self, request: bytes, max_seconds: float) -> bytes:
        """Send one request to a child and return its answer; ChildLimit("time"|"cpu"|"died"|"busy")."""
        if not self._slots.acquire(timeout=max_seconds):
            raise ChildLimit("busy")
        try:
            child = self._take()
            try:
                try:
                    answer = child.call(request, max_seconds)
                except ChildLimit as stop:
                    if str(stop) != "stale":
                        raise
                    child.kill()
                    child = _Child()
                    answer = child.call(request, max_seconds)
            except ChildLimit as stop:
                reason = str(stop)
                child.kill()
                if reason == "died":
                    reason = child.death_reason()
                self._replace_soon()
                raise ChildLimit(reason) from None
            except BaseException:
                child.kill()
                self._replace_soon()
                raise
            if child.reniced or child.proc.poll() is not None:
                child.kill()
                self._replace_soon()
            else:
                self._give_back(child)
            return answer
        finally:
            self._slots.release()

    def shutdown(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for child in idle:
            child.kill()


POOL = Pool()


def cpu_limit(max_seconds: float) -> int:
    """RLIMIT_CPU soft limit for the next call: CPU time used so far plus the call's allowance, in whole seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return math.ceil(usage.ru_utime + usage.ru_stime + max_seconds) + 1
