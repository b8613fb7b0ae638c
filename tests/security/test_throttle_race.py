"""Login throttling cannot be raced (issue 17 item 8): 20 concurrent wrong passwords for one account get at most
5 × 401 (LOGIN_MAX_FAILURES), the rest 429. Real threads against the app and the run's database (SQLite by
default; PostgreSQL in scripts/test.sh's TEST_DATABASE_URL pass). The same for wrong current passwords at
/api/v1/me/password and the /account page."""
import threading
from collections import Counter

from tests.security.helpers import PASSWORDS, api_token, browser_login, csrf, fresh_client

N = 20


def _race(app, call) -> Counter:
    """N threads, each with its own client, released at once; the status codes they got."""
    barrier = threading.Barrier(N)
    out, errors = [], []

    def run(i):
        try:
            client = fresh_client(app)
            prepared = call.prepare(client, i) if hasattr(call, "prepare") else None
            barrier.wait(timeout=60)
            out.append(call(client, i, prepared))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]
    return Counter(out)


def test_concurrent_wrong_api_logins_get_at_most_five_401(app):
    got = _race(app, lambda c, i, _p: c.post("/api/v1/auth/token",
                                               json={"username": "acme", "password": f"wrong-{i}"}).status_code)
    assert got[401] <= 5 and got[401] + got[429] == N, got
    assert fresh_client(app).post("/api/v1/auth/token", json={"username": "acme", "password": PASSWORDS["acme"]}
                                  ).status_code == 429


class _BrowserWrong:
    def prepare(self, client, i):
        return csrf(client)

    def __call__(self, client, i, token):
        return client.post("/login", data={"username": "zj-reviewer", "password": f"wrong-{i}",
                                           "csrf_token": token}).status_code


def test_concurrent_wrong_browser_logins_get_at_most_five_401(app):
    got = _race(app, _BrowserWrong())
    assert got[401] <= 5 and got[401] + got[429] == N, got


class _WrongCurrent:
    def __init__(self, headers):
        self.headers = headers

    def __call__(self, client, i, _p):
        return client.post("/api/v1/me/password", headers=self.headers,
                           json={"current": f"wrong-{i}", "new": "a-brand-new-secret-2026"}).status_code


def test_wrong_current_passwords_are_throttled_at_me_password(app):
    headers = api_token(fresh_client(app), "zj-samr")
    got = _race(app, _WrongCurrent(headers))
    assert got[422] <= 5 and got[422] + got[429] == N, got
    # even the right current password waits now: otherwise the lock would not slow a guesser
    r = fresh_client(app).post("/api/v1/me/password", headers=headers,
                               json={"current": PASSWORDS["zj-samr"], "new": "a-brand-new-secret-2026"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_wrong_current_passwords_are_throttled_on_the_account_page(app):
    web = fresh_client(app)
    browser_login(web, "zj-ndrc")
    statuses = []
    for i in range(7):
        statuses.append(web.post("/account/password", data={
            "csrf_token": csrf(web, "/account"), "current": f"wrong-{i}", "new": "a-brand-new-secret-2026",
            "confirm": "a-brand-new-secret-2026"}).status_code)
    assert statuses == [422] * 5 + [429] * 2, statuses
