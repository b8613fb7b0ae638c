"""Walk every browser page of every demo role: the GET rules of the URL map (no API, no downloads), each filled
with ids from the demo world, fetched with the Flask client as that user in Chinese. Shared by the page tests."""

import re
from html.parser import HTMLParser

from sqlalchemy import select

from app.extensions import db
from app.models import Campaign, Case, DecisionTable, Enterprise, HumanTask, ProcessVersion, User
from tests.security.helpers import PASSWORDS, browser_login, fresh_client

ROLES = (
    "admin",
    "auditor",
    "acme",
    "sinopec-plant",
    "zj-reviewer",
    "zj-ndrc",
    "sinopec-reviewer",
    "zj-admin",
    "miit-1",
    "sasac-1",
    "expert-7",
    None,
)
SKIP = {"static", "auth.login"}  # login is walked as anonymous
DOWNLOADS = re.compile(r"\.(bpmn|dmn|json|xlsx|csv)$|/export|/attachments/|/passwords/")
VOID = {"input", "img", "br", "hr", "meta", "link", "source", "area", "col", "wbr"}
ATTRS = ("title", "aria-label", "placeholder", "alt", "data-confirm")


class _Text(HTMLParser):
    """The text a person reads: element text and readable attributes, outside script/style/code/pre and outside
    elements marked translate="no" (code a person types, e.g. a condition's example)."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip, self._stack = [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            if ("translate", "no") not in attrs:
                self._attrs(tag, attrs)
            return
        self._stack.append(tag in ("script", "style", "code", "template", "pre") or ("translate", "no") in attrs)
        if self._stack[-1]:
            self._skip += 1
        elif not self._skip:
            self._attrs(tag, attrs)

    def _attrs(self, tag, attrs):
        for k, v in attrs:
            if k in ATTRS and v:
                self.parts.append(v)
            if tag == "input" and k == "value" and ("type", "submit") in attrs and v:
                self.parts.append(v)

    def handle_endtag(self, tag):
        if tag in VOID or not self._stack:
            return
        if self._stack.pop() and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def readable_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    return " ".join(p.parts)


def _ids() -> dict[str, list]:
    one = lambda stmt: [v for v in db.session.scalars(stmt.limit(4))]  # noqa: E731
    versions = db.session.execute(
        select(ProcessVersion.model_key, ProcessVersion.version).order_by(ProcessVersion.id).limit(3)
    ).all()
    return {
        "case_id": one(select(Case.id).order_by(Case.id)),
        "task_id": list(
            db.session.scalars(
                select(HumanTask.id).where(HumanTask.state == "open").order_by(HumanTask.id.desc()).limit(6)
            )
        ),
        "enterprise_id": one(select(Enterprise.id).order_by(Enterprise.id)),
        "user_id": one(select(User.id).order_by(User.id)),
        "list_id": [],
        "key": sorted({k for k, _ in versions}),
        "version": sorted({v for _, v in versions}),
        "table": sorted(set(one(select(DecisionTable.key)))),
        "username": ["expert-7"],
        "year": one(select(Campaign.year)),
    }


def urls(app) -> list[str]:
    ids = _ids()
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api") or rule.endpoint in SKIP:
            continue
        if DOWNLOADS.search(rule.rule):
            continue
        args = list(rule.arguments)
        if not args:
            out.append(rule.rule)
            continue
        combos = [{}]
        for a in args:
            combos = [dict(c, **{a: v}) for c in combos for v in ids.get(a, [])][:6]
        with app.test_request_context():
            from flask import url_for

            out += [url_for(rule.endpoint, **c) for c in combos]
    # pages whose content depends on their query: filtered lists, a replay step, a migration plan, a version diff
    out += [
        "/inbox?state=completed",
        "/inbox?region=330000",
        "/inbox?task=organizer_review",
        "/audit/?action=task.completed",
        "/audit/?tier=advanced",
        "/audit/cases/2?at=2",
        "/audit/cases/2?check=all",
        "/admin/processes/advanced_certification/migration?to=1",
        "/admin/processes/advanced_certification/versions/1?diff=1",
        # the dashboard's tile map by each figure, a province's and a group's figures (issue 19, part 2)
        "/dashboard?tier=excellent&figure=quota",
        "/dashboard?tier=basic&figure=overdue",
        "/dashboard?tier=nope&figure=nope",
        "/dashboard/provinces/370000?tier=excellent",
        "/dashboard/provinces/660000?tier=lighthouse",
        "/dashboard/groups/sinopec?tier=advanced",
    ]
    return sorted(set(out))


def load_sample_cases() -> None:
    """The demo's sample cases (one per tier, at several steps, one published and in its notice), committed, so
    that the case, task and audit pages have something to show; the autouse db_context removes them afterwards."""
    from app.services import demo

    demo.load_sample_cases()
    db.session.commit()


def pages(app):
    """Yield (user, url, status, html) for every page of every walked role."""
    targets = urls(app)
    for who in ROLES:
        client = fresh_client(app)
        if who:
            r = browser_login(client, who, PASSWORDS[who])
            assert r.status_code == 302, who
        else:
            targets_anon = ["/login", "/notices", *targets]
        for url in targets if who else targets_anon:
            r = client.get(url)
            if r.status_code in (301, 302, 303):
                continue
            if not r.content_type.startswith("text/html"):
                continue
            yield who, url, r.status_code, r.get_data(as_text=True)
