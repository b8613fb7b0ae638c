"""Accessibility: axe-core (vendored from npm, app/static/vendor/axe-core; see package.json) checks every main page
of every kind of user in headless Chromium, in Chinese, and finds no serious or critical violation. The drawing
inside a bpmn-js/dmn-js canvas is the library's SVG and is left out; its container, toolbar and labels are checked.
Keyboard: every page's controls are reached with Tab (a page whose focus never leaves <body> fails)."""
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from app.config import ROOT
from app.extensions import db
from app.models import Case, HumanTask
from tests.browser.helpers import screenshot, sign_in
from tests.pages.walk import load_sample_cases

pytestmark = pytest.mark.browser

AXE = next((p for p in (ROOT / "app/static/vendor/axe-core/axe.min.js", ROOT / "node_modules/axe-core/axe.min.js")
            if p.exists()), None)
SERIOUS = ("serious", "critical")


def _axe(page) -> list[dict]:
    """The serious and critical violations axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(Path(AXE).read_text(encoding="utf-8"))  # evaluate: not an inline script, the CSP holds
    result = page.evaluate("""async () => {
        const r = await axe.run({exclude: [['.djs-container svg'], ['.dmn-canvas .djs-container svg']]},
                                {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in SERIOUS]


def _pages():
    db.session.rollback()
    case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
    task = db.session.scalars(select(HumanTask).where(HumanTask.state == "open")
                              .where(HumanTask.role == "provincial_reviewer")).first()
    return {
        None: ["/login", "/notices"],
        "zj-reviewer": ["/", "/inbox", f"/tasks/{task.id}", f"/cases/{task.case_id}", "/dashboard", "/account"],
        "admin": ["/admin/processes", "/admin/processes/advanced_certification",
                  "/admin/processes/advanced_certification/edit", "/admin/decision-tables",
                  "/admin/decision-tables/excellent_quota/edit", "/admin/users/", "/admin/enterprises",
                  "/reference/experts", "/reference/campaigns", "/reference/quotas", f"/audit/cases/{case.id}",
                  "/audit/", "/no/such/page"],
        "acme": ["/", "/enterprises/1"],
    }


@pytest.mark.skipif(AXE is None, reason="axe-core is not installed: npm ci && npm run build")
def test_no_serious_or_critical_violation_on_the_main_pages(page):
    load_sample_cases()
    found = {}
    for who, urls in _pages().items():
        page.context.clear_cookies()
        if who:
            sign_in(page, who)
        for url in urls:
            page.goto(url)
            page.wait_for_load_state("networkidle")
            violations = _axe(page)
            if violations:
                found[f"{who} {url}"] = violations
            # keyboard: Tab moves the focus onto a control of the page
            page.locator("body").focus()
            page.keyboard.press("Tab")
            assert page.evaluate("() => document.activeElement && document.activeElement !== document.body"), url
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)
    screenshot(page, "accessibility-last-page")
