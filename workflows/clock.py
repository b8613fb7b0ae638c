"""An injectable clock for the engine.

SpiffWorkflow computes timer fire times with `datetime.now(timezone.utc)` inside its timer module. We replace that
module's `datetime` name with a subclass whose `now()` answers the instant set by `engine_clock(...)`, so tests,
`timers run --now` and replay all see the time they ask for.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module

_now: ContextVar[datetime | None] = ContextVar("engine_now", default=None)


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        fixed = _now.get()
        if fixed is None:
            return datetime.now(tz)
        return fixed.astimezone(tz) if tz else fixed.astimezone(timezone.utc).replace(tzinfo=None)


_timer_module.datetime = _ClockDatetime


@contextmanager
def engine_clock(now: datetime | None):
    """Run engine code as if the time were `now` (aware datetime); None means the real clock."""
    if now is not None and now.tzinfo is None:
        raise ValueError("engine_clock needs a timezone-aware datetime")
    token = _now.set(now)
    try:
        yield
    finally:
        _now.reset(token)
