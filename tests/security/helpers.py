"""Shared helpers for the security tests: a client that gives each request its own app context (as in
production; see tests/api/test_i18n.py for why), demo passwords, and browser login with the CSRF token."""
import re

import yaml
from flask.testing import FlaskClient

from app.services.demo import DEMO_FILE

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORDS = {u["username"]: u["password"] for u in yaml.safe_load(DEMO_FILE.read_text())["users"]}


class FreshContextClient(FlaskClient):
    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def fresh_client(app) -> FreshContextClient:
    return FreshContextClient(app, app.response_class, use_cookies=True)


def csrf(client, path: str = "/login") -> str:
    page = client.get(path)
    m = TOKEN.search(page.get_data(as_text=True))
    assert m, f"no csrf_token on {path} ({page.status_code})"
    return m.group(1)


def browser_login(client, username: str, password: str | None = None):
    return client.post("/login", data={"username": username, "password": password or PASSWORDS[username],
                                       "csrf_token": csrf(client)})


def api_token(client, username: str) -> dict:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORDS[username]})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}
