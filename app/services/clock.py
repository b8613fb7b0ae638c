"""The injectable clock. Services ask it for `now()`; tests and `timers run --now` set a fixed instant."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta):
        from datetime import timedelta

        self.at = self.at + timedelta(**delta)


_clock = SystemClock()


def now() -> datetime:
    return _clock.now()


def set_clock(clock) -> None:
    global _clock
    _clock = clock


def get_clock():
    return _clock
