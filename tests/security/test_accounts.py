"""Sessions and accounts: password policy, throttling per account and per address, cookies, session lifetime,
token expiry and revocation, security headers and CSRF on every browser form."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import Invalid
from app.extensions import db
from app.models.security import LoginFailure
from app.services import accounts, auth
from tests.conftest import user
from tests.security.helpers import PASSWORDS, api_token, browser_login, csrf, fresh_client


@pytest.mark.parametrize("password, username, problem", [
    ("short-1", None, "at least 10 characters"),
    ("qwertyuiop", None, "too common"),
    ("Password123", None, "too common"),
    ("aaaaaaaaaaaa", None, "too simple"),
    ("abababababab", None, "too simple"),
    ("long-enough-user", "long-enough-user", "must not be the username"),
    ("resu-hguone-gnol", "long-enough-user", "must not be the username"),
])
def test_password_policy_refuses(password, username, problem):
    with pytest.raises(Invalid) as exc:
        auth.hash_password(password, username)
    assert problem in exc.value.errors["password"]


def test_password_policy_accepts_and_hashes_with_scrypt(app):
    for username, password in PASSWORDS.items():
        assert accounts.password_problems(password, username) == [], username  # the demo world still loads
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    try:
        hashed = auth.hash_password("correct horse battery", "someone")
    finally:
        app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    assert hashed.startswith("scrypt:")


def test_the_product_default_is_scrypt():
    from app.config import Config

    assert Config.PASSWORD_HASH_METHOD == "scrypt"


def _failures(**where) -> int:
    q = select(func.count()).select_from(LoginFailure)
    for k, v in where.items():
        q = q.where(getattr(LoginFailure, k) == v)
    return db.session.scalar(q)


def test_api_login_is_throttled_per_account(client, clock):
    bad = {"username": "acme", "password": "wrong-password"}
    for _ in range(5):
        assert client.post("/api/v1/auth/token", json=bad).status_code == 401
    r = client.post("/api/v1/auth/token", json=bad)
    assert r.status_code == 429 and r.get_json()["error"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) == 15 * 60
    # the right password does not get through a locked account: otherwise the lock would not slow a guesser
    good = {"username": "acme", "password": PASSWORDS["acme"]}
    assert client.post("/api/v1/auth/token", json=good).status_code == 429
    # other accounts are not affected
    assert client.post("/api/v1/auth/token", json={"username": "zj-reviewer",
                                                   "password": PASSWORDS["zj-reviewer"]}).status_code == 200
    clock.advance(minutes=10)
    assert int(client.post("/api/v1/auth/token", json=good).headers["Retry-After"]) == 5 * 60
    clock.advance(minutes=5, seconds=1)
    assert client.post("/api/v1/auth/token", json=good).status_code == 200
    assert _failures(username="acme") == 0  # a success clears the account's failures


def test_unknown_accounts_are_throttled_too(client):
    for _ in range(5):
        assert client.post("/api/v1/auth/token", json={"username": "ghost", "password": "x"}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "ghost", "password": "x"}).status_code == 429


def test_login_is_throttled_per_address(app, client, clock):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 8
    try:
        for i in range(8):  # spraying: a few guesses at many accounts from one address
            r = client.post("/api/v1/auth/token", json={"username": f"user-{i}", "password": "guess-123456"})
            assert r.status_code == 401
        r = client.post("/api/v1/auth/token", json={"username": "acme", "password": PASSWORDS["acme"]})
        assert r.status_code == 429 and "address" in r.get_json()["message"]
        # another address is not affected
        r = client.post("/api/v1/auth/token", json={"username": "acme", "password": PASSWORDS["acme"]},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert r.status_code == 200
        clock.advance(minutes=16)
        r = client.post("/api/v1/auth/token", json={"username": "acme", "password": PASSWORDS["acme"]})
        assert r.status_code == 200
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 30


def test_browser_login_is_throttled_and_says_so(app):
    c = fresh_client(app)
    for _ in range(5):
        assert browser_login(c, "zj-reviewer", "not-the-password").status_code == 401
    r = browser_login(c, "zj-reviewer")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    html = r.get_data(as_text=True)
    assert "15" in html and 'name="password"' in html
    assert _failures(username="zj-reviewer") == 5  # throttled attempts are not counted again


def test_browser_and_api_share_the_count(app, client):
    c = fresh_client(app)
    for _ in range(3):
        assert browser_login(c, "acme", "not-the-password").status_code == 401
    for _ in range(2):
        assert client.post("/api/v1/auth/token", json={"username": "acme", "password": "x"}).status_code == 401
    assert browser_login(c, "acme").status_code == 429


def test_session_cookie_flags(app):
    c = fresh_client(app)
    r = browser_login(c, "acme")
    assert r.status_code == 302
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests; behind TLS: SESSION_COOKIE_SECURE=1
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        c2 = fresh_client(app)
        cookie = next(h for h in browser_login(c2, "acme").headers.getlist("Set-Cookie")
                      if h.startswith("session="))
        assert "Secure" in cookie
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


def test_session_cookie_secure_is_read_from_the_environment(monkeypatch):
    import importlib

    import app.config as config

    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    monkeypatch.setenv("SESSION_HOURS", "2")
    try:
        fresh = importlib.reload(config)
        assert fresh.Config.SESSION_COOKIE_SECURE is True
        assert fresh.Config.PERMANENT_SESSION_LIFETIME == timedelta(hours=2)
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_session_ends_after_its_lifetime(app, clock):
    c = fresh_client(app)
    assert browser_login(c, "acme").status_code == 302
    assert c.get("/").status_code == 200
    clock.advance(hours=7, minutes=59)
    assert c.get("/").status_code == 200
    clock.advance(minutes=2)
    r = c.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_session_is_new_after_login(app):
    """No session fixation: what was in the session before login does not survive it."""
    c = fresh_client(app)
    c.post("/lang/en", data={"csrf_token": csrf(c), "next": "/login"})
    with c.session_transaction() as s:
        s["planted"] = "by an attacker"
    assert browser_login(c, "acme").status_code == 302
    with c.session_transaction() as s:
        assert "planted" not in s and "_user_id" in s


def test_logout_ends_the_session(app):
    c = fresh_client(app)
    browser_login(c, "acme")
    token = csrf(c, "/")
    assert c.post("/logout", data={"csrf_token": token}).status_code == 302
    assert c.get("/").status_code == 302


def test_token_expiry_and_revocation(client, clock):
    h = api_token(client, "acme")
    other = api_token(client, "acme")
    clock.advance(hours=11, minutes=59)
    assert client.get("/api/v1/me", headers=h).status_code == 200
    assert client.post("/api/v1/auth/revoke", headers=h).status_code == 200
    assert client.get("/api/v1/me", headers=h).status_code == 401
    assert client.post("/api/v1/auth/revoke", headers=h).status_code == 401  # a revoked token revokes nothing
    assert client.get("/api/v1/me", headers=other).status_code == 200  # revocation is per token
    clock.advance(minutes=1)
    assert client.get("/api/v1/me", headers=other).status_code == 401  # 12 hours after issue


def test_inactive_user_loses_tokens_and_sessions(app, client):
    h = api_token(client, "sd-reviewer")
    c = fresh_client(app)
    browser_login(c, "sd-reviewer")
    u = user("sd-reviewer")
    u.active = False
    db.session.commit()
    try:
        assert client.get("/api/v1/me", headers=h).status_code == 401
        assert c.get("/").status_code == 302
        assert client.post("/api/v1/auth/token", json={"username": "sd-reviewer",
                                                       "password": PASSWORDS["sd-reviewer"]}).status_code == 401
    finally:
        u = user("sd-reviewer")
        u.active = True
        db.session.commit()


def test_tokens_are_stored_hashed(client):
    from app.models import ApiToken

    raw = api_token(client, "acme")["Authorization"][7:]
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert raw not in stored and all(len(s) == 64 for s in stored)


EXPECTED_HEADERS = {
    "Content-Security-Policy": "script-src 'self';",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@pytest.mark.parametrize("path", ["/login", "/", "/api/v1/openapi.json", "/api/v1/me", "/static/app.css",
                                  "/no-such-page", "/api/v1/no-such-thing"])
def test_security_headers_on_every_response(client, path):
    r = client.get(path)
    for name, value in EXPECTED_HEADERS.items():
        assert value in r.headers.get(name, ""), (path, name)
    csp = r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp


def test_templates_have_nothing_the_csp_would_block():
    """No inline scripts, event handlers or style attributes in any template (CSP forbids them)."""
    import re

    from app.config import ROOT

    bad = re.compile(r"<script(?![^>]*\bsrc=)|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.I)
    found = []
    for path in (ROOT / "app" / "templates").rglob("*.html"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if bad.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


def test_every_browser_form_needs_csrf(app):
    """Every POST page endpoint of the URL map refuses a request without the CSRF token (400)."""
    c = fresh_client(app)
    browser_login(c, "acme")
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "en")
        r = c.post(url, data={"username": "acme", "password": PASSWORDS["acme"]})
        assert r.status_code == 400, (rule.endpoint, r.status_code)
        checked += 1
    assert checked >= 4
