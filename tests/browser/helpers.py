"""Shared browser-test steps: log in with the keyboard, and collect what a page reports as going wrong."""
from tests.security.helpers import PASSWORDS


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    with page.expect_navigation():
        page.press("#password", "Enter")


def watch_errors(page) -> list:
    """Console errors (favicon aside), uncaught page errors and HTTP responses ≥ 400, as they happen."""
    errors: list = []
    page.on("console", lambda m: errors.append(f"{m.text} {m.location.get('url')}")
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return errors
