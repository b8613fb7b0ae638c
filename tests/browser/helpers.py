"""Shared browser-test steps: log in with the keyboard, collect what a page reports as going wrong, and keep a
screenshot of each main page in the test artifacts ($TIERFLOW_ARTIFACTS, by default test-artifacts/screenshots in
the checkout; `make test` lists them at the end)."""
import os
from pathlib import Path

from app.config import ROOT
from tests.security.helpers import PASSWORDS

ARTIFACTS = Path(os.environ.get("TIERFLOW_ARTIFACTS") or ROOT / "test-artifacts" / "screenshots")


def screenshot(page, name: str) -> Path:
    """The whole page as the user sees it now, as ARTIFACTS/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000  # an image, not an empty file
    return path


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


def confirm(page, expect_text: str | None = None) -> str:
    """Answer the page's confirmation dialog (confirm.js, base.html) with 确认; returns the question it asked."""
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    question = page.locator("#confirm-text").inner_text()
    if expect_text is not None:
        assert expect_text in question, question
    page.click("#confirm-ok")
    return question
