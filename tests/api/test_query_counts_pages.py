"""No N+1 anywhere: every HTML page and API GET endpoint of `app.url_map` runs the same number of SQL statements
with a small world and with more rows of every kind it may list (cases, tasks, events, attachments, list entries,
objections, reminders, tier records, process versions, system events).

Each endpoint is requested as a user allowed to see it (several users where the page differs by role), once to warm
the caches (parsed specs, compiled templates) and then counted (SQLAlchemy's `before_cursor_execute`); the inbox's
one-minute counts cache is emptied before each request, so its counts are computed every time. An endpoint of the
URL map that is neither in PAGES nor in EXCLUDED fails `test_every_get_endpoint_is_covered`: add it.
"""
import io
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from app.config import ROOT
from app.extensions import db
from app.models import Campaign, Case, CaseEvent, CaseList, CaseListEntry, HumanTask, Objection, TierRecord
from app.models.scheduling import Reminder
from app.services import attachments, cases, clock, inbox, processes, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT
from tests.security.helpers import PASSWORDS, csrf, fresh_client
from tests.security.test_matrix import ROUTES

QC_KEY = "qc_counts"  # a process model of this test's own: its versions grow from 1 to 4

# endpoint -> [(username or None for anonymous, how the URL is filled, expected status)]; URL arguments: `case`,
# `task`, `attachment`, `list`, `enterprise` name the world's objects (case A of acme, waiting for the Zhejiang
# reviewer); `key` is given per entry
CASE, QC = {"key": "basic_self_assessment"}, {"key": QC_KEY}
PAGES: dict[str, list[tuple]] = {
    "web.home": [("acme", {}, 200), ("zj-reviewer", {}, 200), ("admin", {}, 200), ("auditor", {}, 200),
                 ("miit-1", {}, 200), ("expert-7", {}, 200), ("zj-admin", {}, 200)],  # each role's landing
    "case_list.index": [("zj-reviewer", {}, 200), ("admin", {}, 200), ("miit-1", {}, 200)],
    "auth.login": [(None, {}, 200)],
    "web.case": [("acme", {}, 200), ("zj-reviewer", {}, 200)],
    "web.case_diagram": [("zj-reviewer", {}, 200)],
    "web.task": [("zj-reviewer", {}, 200)],
    "web.download": [("acme", {}, 200)],
    "web.enterprise": [("zj-reviewer", {}, 200), ("admin", {}, 200)],
    "inbox.index": [("zj-reviewer", {}, 200), ("acme", {}, 200)],
    "dashboard.index": [("zj-reviewer", {}, 200), ("miit-1", {}, 200), ("admin", {}, 200)],
    "dashboard.province": [("zj-reviewer", {"code": "330000"}, 200), ("miit-1", {"code": "330000"}, 200)],
    "dashboard.group": [("miit-1", {"key": "sinopec"}, 200)],
    "dashboard.export": [("miit-1", {}, 200), ("zj-reviewer", {}, 200)],
    "lists_web.index": [("zj-reviewer", {}, 200), ("miit-1", {}, 200)],
    "lists_web.export": [("zj-reviewer", {}, 200)],
    "lists_web.detail": [("zj-reviewer", {}, 200), ("miit-1", {}, 200)],  # H4: a list with its entries' status
    "audit.search": [("auditor", {}, 200)],
    "audit.anchor_list": [("auditor", {}, 200)],
    "audit.case": [("auditor", {}, 200)],
    "audit.diagram": [("auditor", {}, 200)],
    "audit.export": [("auditor", {}, 200)],
    "audit.report": [("auditor", {}, 200)],
    "admin.processes_page": [("admin", {}, 200)],
    "admin.model_page": [("admin", CASE, 200), ("admin", QC, 200)],
    "admin.version_page": [("admin", CASE, 200), ("admin", QC, 200)],
    "admin.version_xml": [("admin", CASE, 200)],
    "admin.new_diagram": [("admin", {}, 302)],
    "admin.editor": [("admin", CASE, 200), ("admin", QC, 200)],
    "admin.editor_source": [("admin", CASE, 200), ("admin", QC, 200)],
    "admin.migration_page": [("admin", CASE, 200), ("admin", QC, 200)],
    "admin.tables_page": [("admin", {}, 200)],
    "admin.table_editor": [("admin", {}, 200)],
    "admin.table_source": [("admin", {}, 200)],
    "api.me": [("acme", {}, 200)],
    "api.list_cases": [("zj-reviewer", {}, 200), ("acme", {}, 200), ("miit-1", {}, 200)],
    "api.get_case": [("zj-reviewer", {}, 200)],
    "api.case_events": [("zj-reviewer", {}, 200)],
    "api.case_objections": [("zj-reviewer", {}, 200)],
    "api.download": [("acme", {}, 200)],
    "api.inbox": [("zj-reviewer", {}, 200)],
    "api.get_task": [("zj-reviewer", {}, 200)],
    "api.get_lists": [("zj-reviewer", {}, 200), ("miit-1", {}, 200)],
    "api.get_list": [("zj-reviewer", {}, 200)],
    "api.export_list": [("zj-reviewer", {}, 200)],
    "api.notices": [("acme", {}, 200)],
    "notices.index": [("acme", {}, 200)],
    "notices.objection_form": [("ningbo-parts", {}, 200)],  # case A is in its notice (see _in_notice)
    "api.openapi": [(None, {}, 200)],
    "api.enterprise_lineage": [("zj-reviewer", {}, 200)],
    "api.system_event_list": [("auditor", {}, 200)],
    "audit_api.api_replay": [("auditor", {}, 200)],
    "scheduling_api.calendar": [("acme", {}, 200)],
    "scheduling_api.my_reminders": [("zj-reviewer", {}, 200)],
    "admin_api.api_models": [("auditor", {}, 200)],
    "admin_api.api_versions": [("auditor", CASE, 200), ("auditor", QC, 200)],
    "admin_api.api_version": [("auditor", CASE, 200), ("auditor", QC, 200)],
    "admin_api.api_diff": [("auditor", QC, 200)],
    "admin_api.api_migration_plan": [("admin", CASE, 200), ("admin", QC, 200)],
    "auth.account": [("zj-reviewer", {}, 200)],
    "people.index": [("admin", {}, 200)],
    "people.create": [("admin", {}, 200)],
    "people.edit": [("admin", {}, 200)],
    "people_api.list_users": [("admin", {}, 200)],
    "people_api.my_sessions": [("zj-reviewer", {}, 200)],
    "incidents.list_page": [("admin", {}, 200)],
    "handover_api.api_operators": [("admin", {}, 200)],
    "incidents_api.api_list": [("admin", {}, 200)],
    "notifications.index": [("zj-reviewer", {}, 200)],
    "notifications_api.api_list": [("zj-reviewer", {}, 200)],
    "notifications_api.api_prefs": [("zj-reviewer", {}, 200)],
    "enterprises.index": [("admin", {}, 200), ("zj-admin", {}, 200)],
    "enterprises.new": [("admin", {}, 200)],
    "enterprises.edit": [("admin", {"enterprise_id": 1}, 200)],
    "enterprises.import_page": [("zj-admin", {}, 200)],
    "enterprises.template": [("zj-admin", {}, 200)],
    "enterprises.passwords": [("zj-admin", {"token": "none"}, 404)],
    "enterprises_api.api_list": [("admin", {}, 200), ("zj-admin", {}, 200)],
    "reference.experts": [("admin", {}, 200)],
    "reference.new_expert": [("admin", {}, 200)],
    "reference.expert": [("admin", {"username": "expert-7"}, 200)],
    "reference.campaigns": [("admin", {}, 200)],
    "reference.new_campaign": [("admin", {}, 200)],
    "reference.campaign": [("admin", {"year": 2026}, 200)],
    "reference.quotas": [("admin", {}, 200)],
    "reference_api.quota_input_table": [("admin", {}, 200)],
    "reference_api.campaign_list": [("admin", {}, 200)],
    "documents_api.api_list_documents": [("zj-reviewer", {}, 200)],  # issue 19: a list's documents
    "documents.templates": [("admin", {}, 200)],
    "documents.edit": [("admin", {"key": "announcement"}, 200)],
    "documents_api.api_template": [("admin", {"key": "announcement"}, 200)],
    # the process heatmap (issue 19): grouped scans of its summary, whatever the number of cases
    "heatmap.page": [("miit-1", {}, 200), ("zj-reviewer", {}, 200)],
    "heatmap.diagram": [("miit-1", CASE, 200)],
    "heatmap_api.api_heatmap": [("miit-1", CASE, 200), ("zj-reviewer", CASE, 200)],
}
EXCLUDED = {
    "static": "files from app/static: no database",
    "incidents.detail": "one incident by id (tests/incidents/test_http.py)",
    "incidents_api.api_get": "one incident by id (tests/incidents/test_http.py)",
    "documents.download": "one generated file by id (tests/api/test_documents.py)",
    "documents_api.api_download": "one generated file by id (tests/api/test_documents.py)",
}
ID_KINDS = {"case_id": "case", "task_id": "task", "attachment_id": "attachment", "list_id": "list",
            "enterprise_id": "enterprise"}
FIXED = {"version": 1, "table": "excellent_quota", "user_id": 1}
GET_ROUTES = sorted({(e, r, args) for e, m, r, args in ROUTES if m == "GET"})


@pytest.fixture
def qc_model(app):
    """Version 1 of this test's own process model (removed again after the test with everything else it made, and
    the caches keyed by its version id: tests/conftest.py)."""
    with unit_of_work():
        processes.deploy(QC_KEY, _qc_xml(1), user("admin").id, tier=None)


def _qc_xml(n: int) -> bytes:
    xml = (ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes()
    old = 'name="基础级自评自建'.encode()
    assert old in xml
    return xml.replace(old, f'name="QC {n} 基础级自评自建'.encode(), 1)


class World:
    def __init__(self):
        self.ids: dict[str, int] = {}


def _in_notice(case_ids) -> None:
    """Cases shown in the public notice (status only: the notice pages list cases by status, not by engine state)."""
    with unit_of_work():
        db.session.execute(update(Case).where(Case.id.in_(case_ids)).values(
            status="public_notice", next_timer_at=clock.now() + timedelta(days=5)))


def _small_world() -> World:
    """Case A of acme after its self-assessment (the Zhejiang reviewer's task open), one file on it, one list."""
    w = World()
    acme = user("acme")
    with unit_of_work():
        c = cases.create_case(acme, "basic", 2026)
        w.ids["case"], w.ids["enterprise"] = c.id, c.enterprise_id
        tasks.complete(acme, cases.open_tasks(c)[0].id, GOOD_ASSESSMENT)
    with unit_of_work():
        w.ids["attachment"] = attachments.upload(acme, w.ids["case"], "a.pdf", io.BytesIO(b"%PDF-1.4 a")).id
    (t,) = db.session.scalars(select(HumanTask.id).where(HumanTask.case_id == w.ids["case"],
                                                         HumanTask.state == "open")).all()
    w.ids["task"] = t
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    with unit_of_work():
        lst = CaseList(kind="certified", tier="advanced", campaign_id=campaign.id, scope="province:330000",
                       created_by=user("zj-reviewer").id, created_at=clock.now(), details={})
        lst.entries.append(CaseListEntry(case_id=w.ids["case"], position=1))
        db.session.add(lst)
        db.session.flush()
        w.ids["list"] = lst.id
    _in_notice([w.ids["case"]])
    return w


def _grow(w: World) -> None:
    """More of every kind: cases and reviewer tasks in Zhejiang and for the Sinopec reviewer, files and events on
    case A, entries on its list and another list, objections, reminders, tier records, three more versions."""
    acme, reviewer = user("acme"), user("zj-reviewer")
    more = []
    with unit_of_work():
        for name in ("ningbo-parts", "sinopec-ningbo"):
            c = cases.create_case(user(name), "basic", 2026)
            tasks.complete(user(name), cases.open_tasks(c)[0].id, GOOD_ASSESSMENT)
            more.append(c.id)
    _in_notice(more)
    for i in range(4):
        with unit_of_work():
            attachments.upload(acme, w.ids["case"], f"more{i}.pdf", io.BytesIO(b"%PDF-1.4 more" + bytes([48 + i])))
    for _ in range(2):
        with unit_of_work():
            tasks.claim(reviewer, w.ids["task"])
        with unit_of_work():
            tasks.release(reviewer, w.ids["task"])
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    now = clock.now()
    with unit_of_work():
        lst = db.session.get(CaseList, w.ids["list"])
        for pos, cid in enumerate(more, start=2):
            lst.entries.append(CaseListEntry(case_id=cid, position=pos))
        other = CaseList(kind="certified", tier="advanced", campaign_id=campaign.id, scope="province:330000",
                         created_by=reviewer.id, created_at=now, details={})
        other.entries.extend(CaseListEntry(case_id=cid, position=p) for p, cid in enumerate(more, start=1))
        db.session.add(other)
        for i in range(3):
            db.session.add(Objection(case_id=w.ids["case"], lodged_by=user("ningbo-parts").id,
                                     reason=f"objection {i}", attachments=[], state="open", created_at=now))
        for year in (2023, 2024, 2025):
            db.session.add(TierRecord(enterprise_id=w.ids["enterprise"], tier="basic", year=year, source="imported",
                                     case_id=w.ids["case"]))  # a case id: the per-test cleanup removes them
        open_rows = db.session.execute(select(HumanTask.id, HumanTask.case_id, HumanTask.role, HumanTask.scope)
                                       .where(HumanTask.state == "open")).all()
        for kind in ("7d", "1d", "due", "overdue"):
            for tid, cid, role, scope in open_rows:
                db.session.add(Reminder(task_id=tid, case_id=cid, kind=kind, role=role, scope=scope, due_at=now,
                                        sent_at=now))
    for n in (2, 3, 4):
        with unit_of_work():
            processes.deploy(QC_KEY, _qc_xml(n), user("admin").id, tier=None)
    # the world did grow
    assert processes.latest_version(QC_KEY).version == 4
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.case_id == w.ids["case"])) >= 10
    assert db.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.scope == "province:330000", HumanTask.state == "open")) >= 2


class Principal:
    def __init__(self, app, username):
        self.client = fresh_client(app)
        self.headers = {}
        if username:
            r = self.client.post("/login", data={"username": username, "password": PASSWORDS[username],
                                                 "csrf_token": csrf(self.client)})
            assert r.status_code == 302, (username, r.status_code)
            r = self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORDS[username]})
            self.headers = {"Authorization": f"Bearer {r.get_json()['token']}"}


def _url(rule: str, args: tuple, given: dict, w: World) -> str:
    url = rule
    for a in args:
        value = w.ids[ID_KINDS[a]] if a in ID_KINDS else given.get(a, FIXED.get(a))
        assert value is not None, f"{rule}: no value for <{a}>: add it to FIXED or the entry in PAGES ({__file__})"
        url = url.replace(f"<int:{a}>", str(value)).replace(f"<{a}>", str(value))
    return url


def _count(principal: Principal, url: str, status: int) -> int:
    seen = []

    def count(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    inbox._counts_cache.clear()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        resp = principal.client.get(url, headers=principal.headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert resp.status_code == status, (url, resp.status_code, resp.get_data(as_text=True)[:300])
    return len(seen)


def _measure(app, w: World, principals: dict) -> dict:
    out = {}
    for endpoint, rule, args in GET_ROUTES:
        for username, given, status in PAGES.get(endpoint, []):
            p = principals.setdefault(username, Principal(app, username))
            url = _url(rule, args, given, w)
            _count(p, url, status)  # warm: specs parsed, templates compiled, per-version caches filled
            out[(endpoint, username, url)] = _count(p, url, status)
    return out


def test_every_get_endpoint_is_covered():
    endpoints = {e for e, _r, _a in GET_ROUTES}
    missing = sorted(endpoints - set(PAGES) - set(EXCLUDED))
    assert not missing, ("these GET endpoints have no query-count check: add them to PAGES in "
                         f"{__file__} (or to EXCLUDED with the reason): {missing}")
    stale = sorted((set(PAGES) | set(EXCLUDED)) - endpoints)
    assert not stale, f"PAGES/EXCLUDED name endpoints that no longer exist: {stale}"


def test_statements_per_page_do_not_grow_with_the_data(app, qc_model):
    w = _small_world()
    principals: dict = {}
    small = _measure(app, w, principals)
    assert len(small) >= len(PAGES)
    _grow(w)
    grown = _measure(app, w, principals)
    grew = {k: (small[k], grown[k]) for k in small if grown[k] != small[k]}
    assert not grew, "statements per request changed with more data (endpoint, user, url): (small, grown): " + \
        "; ".join(f"{k}: {v}" for k, v in sorted(grew.items(), key=str))
