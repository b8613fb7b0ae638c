"""Accounts: the password policy and login throttling (per account and per address).

Throttling counts failed logins in a sliding window (`LOGIN_WINDOW_MINUTES`): at `LOGIN_MAX_FAILURES` failures for
one username, or `LOGIN_MAX_FAILURES_PER_ADDRESS` from one address, further attempts are refused with 429 until the
oldest failure in the window ages out, even with the right password (otherwise the lock would not slow a guesser).
A successful login clears its account's failures; an address's failures only age out. Failures are rows, so every
worker process and every restart sees the same counts. Time comes from the injectable clock.

Check and count are one atomic step (`reserve`, issue 17: 20 concurrent wrong passwords got 13 × 401): each attempt
first writes its failure row, then counts the window including it, in one short transaction that attempts of the
same database serialize on (SQLite: the write lock the INSERT takes; PostgreSQL: `LOCK TABLE login_failures IN
SHARE ROW EXCLUSIVE MODE`, which conflicts with itself and not with plain reads). Over the limit, the transaction is
rolled back (a refused attempt is not counted) and the attempt answers 429; otherwise it commits before the password
is checked, so a concurrent attempt already counts it. The answer then settles the row: a wrong password keeps it
(it is the failure), a success clears the account's rows, anything else (a malformed request) removes it.
The same throttle guards the current password of a password change (key `pw:<username>`).
"""
import math
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select, text

from app.errors import Invalid, ServiceError
from app.extensions import db
from app.models.security import LoginFailure
from app.services import clock
from app.settings import settings

MIN_LENGTH = 10

# Widely published most-used passwords that pass the length rule (shorter ones fail it anyway); compared lowercased.
COMMON = frozenset("""
0123456789 1234567890 0987654321 9876543210 1111111111 0000000000 1234512345 1122334455 1234554321 123456789a
a123456789 123456789q 1q2w3e4r5t 1qaz2wsx3edc zaq12wsxcde3 qwertyuiop qwertyuiop123 qwerty1234 qwerty12345
qwerty123456 asdfghjkl; asdfghjkl1 zxcvbnm123 password12 password123 password1234 password! passw0rd123
p@ssw0rd123 p@ssword123 iloveyou12 iloveyou123 woaini1314 woaini520 woaini123456 5201314520 1314520520
administrator admin12345 admin123456 admin@1234 root123456 changeme123 welcome123 welcome1234 letmein123
football123 baseball123 superman123 princess123 sunshine123 trustno1234 abcdefghij abcd123456 abc1234567
aaaaaaaaaa qqqqqqqqqq 1234qwerasdf 1q2w3e4r5t6y q1w2e3r4t5 qazwsxedcrfv tierflow123 tierflow2026 zhangwei123
wangwei123 huawei12345 88888888888 6666666666 147258369a 1472583690 3141592653 qweasdzxc123 qweasdzxc1
""".split())


class Throttled(ServiceError):
    status, code = 429, "too_many_attempts"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, errors={"retry_after": retry_after})
        self.retry_after = retry_after


def password_problems(password, username: str | None = None) -> list[str]:
    """What is wrong with a new password (empty when it is acceptable)."""
    if not isinstance(password, str):
        return ["the password must be text"]
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    low = password.lower()
    if low in COMMON or len(set(low)) <= 2:
        problems.append("too common or too simple")
    if username and low in (username.lower(), username.lower()[::-1]):
        problems.append("must not be the username")
    return problems


def check_password(password, username: str | None = None) -> None:
    problems = password_problems(password, username)
    if problems:
        raise Invalid("the password does not meet the policy: " + "; ".join(problems),
                      errors={"password": "; ".join(problems)})


# --- throttling -------------------------------------------------------------------------------------------------

def _window() -> timedelta:
    return timedelta(minutes=settings().login_window_minutes)


def _retry_after(oldest: datetime | None, now: datetime) -> int:
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + _window() - now).total_seconds()))


def _key(username: str) -> str:
    return (username or "")[:64]


def check_throttle(username: str, address: str) -> None:
    """Raise Throttled when this account or this address has too many recent failures."""
    _refuse_over(username, address, clock.now(), allowed=0)


def _refuse_over(username: str, address: str, now: datetime, allowed: int) -> None:
    """Throttled when the account's or the address's recent failures exceed its limit by more than `allowed` (1 when
    the attempt being made is already counted)."""
    since = now - _window()
    limits = ((LoginFailure.username, _key(username), settings().login_max_failures, "account"),
              (LoginFailure.address, address[:64], settings().login_max_failures_per_address, "address"))
    for column, value, limit, what in limits:
        if limit <= 0:
            continue
        count, oldest = db.session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(column == value, LoginFailure.at > since)).one()
        if count >= limit + allowed:
            if oldest is not None and oldest.tzinfo is None:  # some drivers return the aggregate untyped
                oldest = oldest.replace(tzinfo=timezone.utc)
            wait = _retry_after(oldest, now)
            raise Throttled(f"too many failed logins for this {what}; try again in {wait} seconds", wait)


def reserve(username: str, address: str) -> int:
    """Count this attempt as a failure and check the limits, atomically (see the module docstring); the row's id
    for `settle`. Raises Throttled (the caller's unit of work rolls the row back)."""
    now = clock.now()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE login_failures IN SHARE ROW EXCLUSIVE MODE"))
    row = LoginFailure(username=_key(username), address=address[:64], at=now)
    db.session.add(row)
    db.session.flush()  # SQLite: the INSERT takes the write lock before the count below reads
    _refuse_over(username, address, now, allowed=1)  # this attempt included
    db.session.execute(delete(LoginFailure).where(LoginFailure.at <= now - 2 * _window()))
    return row.id


def settle(attempt_id: int | None, failed: bool) -> None:
    """The answer to a reserved attempt: a failure keeps its row; anything else that is not a success (which
    clears the account's rows through `record_success`) removes it."""
    if attempt_id is not None and not failed:
        db.session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))


def record_failure(username: str, address: str) -> None:
    now = clock.now()
    db.session.add(LoginFailure(username=_key(username), address=address[:64], at=now))
    # old rows are useless once out of the window; keep the table small
    db.session.execute(delete(LoginFailure).where(LoginFailure.at <= now - 2 * _window()))


def record_success(username: str) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == _key(username)))


def locked_usernames(usernames) -> set[str]:
    """Which of these accounts are throttled now (as many recent failures as the limit allows)."""
    limit = settings().login_max_failures
    names = [_key(u) for u in usernames]
    if limit <= 0 or not names:
        return set()
    since = clock.now() - _window()
    rows = db.session.execute(select(LoginFailure.username, func.count()).where(
        LoginFailure.username.in_(names), LoginFailure.at > since).group_by(LoginFailure.username)).all()
    return {name for name, count in rows if count >= limit}
