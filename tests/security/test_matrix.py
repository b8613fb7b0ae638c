"""The authorization matrix: every endpoint of `app.url_map` × anonymous and every demo user × (where the URL takes
an id) three objects of different scopes, against expectations written out here, not computed by the product.

The world: case A of acme (Zhejiang, waiting for the Zhejiang reviewer), case B of qingdao-home (Shandong, waiting
for the enterprise), case C of sinopec-plant (Zhejiang but a Sinopec group member, waiting for the enterprise); one
attachment on each; one published list per scope (province:330000, province:370000, soe:sinopec).

Every check asserts the status code, and for write methods whether anything was written (auditors never write).
An endpoint of the URL map without a rule in RULES fails with a message naming it: add its rule below.
"""
import io
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select, text

from app import create_app
from app.extensions import db
from app.models import Attachment, Campaign, CaseList, CaseListEntry, HumanTask
from app.services import attachments, cases, clock, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT
from tests.security.helpers import PASSWORDS, csrf, fresh_client

OBJECTS = "ABC"

# the demo users checked (every role, several scopes), and which of the three cases (their tasks and attachments)
# each may see
VISIBLE = {
    "admin": "ABC", "auditor": "ABC", "miit-1": "ABC",
    "acme": "A", "ningbo-parts": "", "sinopec-plant": "C", "qingdao-home": "B",
    "zj-reviewer": "A", "sd-reviewer": "B", "zj-ndrc": "A", "sinopec-reviewer": "C", "sasac-1": "C",
    "expert-7": "", "sinopec-ningbo": "", "zj-finance": "A", "zj-admin": "",
}
USERS = list(VISIBLE)
PRINCIPALS = [None, *USERS]  # None: anonymous
# who may act on the open task of each case
ACTOR = {"A": "zj-reviewer", "B": "qingdao-home", "C": "sinopec-plant"}
OWNER = {"A": "acme", "B": "qingdao-home", "C": "sinopec-plant"}
# which published lists each user may see
LIST_VISIBLE = {"admin": "ABC", "auditor": "ABC", "miit-1": "ABC", "zj-reviewer": "A", "sd-reviewer": "B",
                "sinopec-reviewer": "C", "sasac-1": "C"}
LIST_READERS = ("admin", "auditor", "miit-1", "sasac-1", "zj-reviewer", "sd-reviewer", "sinopec-reviewer")
CERTIFIERS = ("zj-reviewer", "sd-reviewer", "sinopec-reviewer")
ENTERPRISES = ("acme", "ningbo-parts", "sinopec-plant", "qingdao-home", "sinopec-ningbo")
FREE_TO_APPLY = ("ningbo-parts", "sinopec-ningbo")  # enterprises without an open case in campaign 2026


def _sees(u, o):
    return o in VISIBLE[u]


def _acts(u, o):
    return ACTOR[o] == u


def _uploads(u, o):
    """Files go to a case from its enterprise, from whoever holds one of its open tasks, or from an admin."""
    return u in (OWNER[o], ACTOR[o], "admin")


def page(rule):
    """A browser page: anonymous is sent to the login page."""
    return lambda u, o: (302, False) if u is None else rule(u, o)


def api(rule):
    """An API call: anonymous gets 401."""
    return lambda u, o: (401, False) if u is None else rule(u, o)


def read(u, o):
    return (200, False) if _sees(u, o) else (404, False)


def _hidden_task(u, o):
    """An enterprise never sees a reviewer's task of its own case (issue 15): it does not exist for it."""
    return u in ENTERPRISES and not _acts(u, o)


def task_read(u, o):
    return (200, False) if _sees(u, o) and not _hidden_task(u, o) else (404, False)


def act(ok_status):
    def rule(u, o):
        if not _sees(u, o) or _hidden_task(u, o):
            return 404, False
        if not _acts(u, o):
            return 403, False
        return ok_status, True
    return rule


def release_rule(u, o):
    status, _ = act(200)(u, o)
    return (409, False) if status == 200 else (status, False)  # nobody holds the task: nothing to release


def upload_rule(u, o):
    if not _sees(u, o):
        return 404, False
    return (201, True) if _uploads(u, o) else (403, False)


def create_case_rule(u, o):
    if u in FREE_TO_APPLY:
        return 201, True
    if u in ENTERPRISES or u == "admin":
        return 422, False  # one open case per campaign / the admin must name the enterprise
    return 403, False


def web_start_case_rule(u, o):
    return 302, u in FREE_TO_APPLY  # the page flashes the refusal and goes home


def lists_rule(u, o):
    return (200, False) if u in LIST_READERS else (403, False)


def list_rule(u, o):
    return (200, False) if o in LIST_VISIBLE.get(u, "") else (404, False)


# an enterprise's lineage: itself, its province's reviewers (an SOE member too: lighthouse goes through the
# province), its SOE group and SASAC, national readers
ENT_VISIBLE = dict(VISIBLE, **{"zj-reviewer": "AC", "zj-ndrc": "AC", "zj-finance": "AC"})


def enterprise_rule(u, o):
    return (200, False) if o in ENT_VISIBLE[u] else (404, False)


def publish_rule(u, o):
    return (422, False) if u in CERTIFIERS else (403, False)  # case A is basic: not on a certified list


def deploy_rule(u, o):
    return (201, False) if u == "admin" else (403, False)  # identical content: the latest version, nothing new


AUDITORS = ("admin", "auditor", "miit-1")


IMPORTERS = ("admin", "zj-admin")  # enterprises and their import: administrators, a provincial administrator


def importers(status):
    return lambda u, o: (status, False) if u in IMPORTERS else (403, False)


def own_enterprise(status):
    """Administrators: every enterprise; the provincial administrator: its province's (A, C), another's is not found."""
    def rule(u, o):
        if u == "admin" or (u == "zj-admin" and o in ("A", "C")):
            return status, False
        return (404, False) if u == "zj-admin" else (403, False)
    return rule


def reassign_rule(u, o):
    """Handing a task on: administrators everywhere, the Zhejiang provincial administrator in its province (task
    A), otherwise whoever may act on the task; the bodies name no colleague of the task's role and scope (422)."""
    if u == "admin" or (u == "zj-admin" and o == "A"):
        return 422, False
    if u == "zj-admin":
        return 404, False
    if not _sees(u, o):
        return 404, False
    return (422, False) if _acts(u, o) else (403, False)


def reassign_page_rule(u, o):
    """The 转办 form (issue 18): the API's rule, but its refusal is drawn on the task page, which the provincial
    administrator does not open (404)."""
    if u == "zj-admin":
        return 404, False
    return reassign_rule(u, o)


LIST_OWNER = {"zj-reviewer": "A", "sd-reviewer": "B", "sinopec-reviewer": "C"}  # each list's certifier (issue 19)


def doc_rule(ok_status):
    def rule(u, o):
        if o not in LIST_VISIBLE.get(u, ""):
            return 404, False
        return (ok_status, False) if u == "admin" or LIST_OWNER.get(u) == o else (403, False)
    return rule


def notice_rule(ok_status):
    def rule(u, o):
        if not _sees(u, o):
            return 404, False
        return (ok_status, False) if u == "admin" or LIST_OWNER.get(u) == o else (403, False)
    return rule


def admin_only(status):
    return lambda u, o: (status, False) if u == "admin" else (403, False)


def audit_page(u, o):
    return (200, False) if u in AUDITORS else (403, False)


def rewind_rule(done, refused):
    def rule(u, o):
        if not _sees(u, o):
            return 404, False
        if u != "admin":
            return 403, False
        return (done, True) if o == "A" else (refused, False)
    return rule


@dataclass
class Rule:
    expect: object  # (user or None, object letter or None) -> (status, writes)
    method: str = "GET"
    kind: str = ""  # what the URL's id names: case, task, attachment, list (empty: no id)
    body: object = None  # callable (user, object, world) -> request kwargs
    check: object = None  # optional callable (response, user, world) for content checks
    after: str = ""  # "relogin": the call ends the session or token, make a new one


def _json(payload):
    return lambda u, o, w: {"json": payload(u, o, w) if callable(payload) else payload}


def _pdf(u, o, w):
    return {"data": {"file": (io.BytesIO(b"%PDF-1.4 matrix"), "m.pdf")}, "content_type": "multipart/form-data"}


def _complete_body(u, o, w):
    return {"json": {"data": {"decision": "approve"} if o == "A" else GOOD_ASSESSMENT}}


def _web_form(extra):
    return lambda u, o, w: {"data": dict(extra, csrf_token=w.csrf)}


def _login_body(u, o, w):
    name = u or "acme"
    return {"data": {"username": name, "password": PASSWORDS[name], "csrf_token": w.csrf}}


def _token_body(u, o, w):
    name = u or "acme"
    return {"json": {"username": name, "password": PASSWORDS[name]}}


def _deploy_body(u, o, w):
    from app.config import ROOT

    return {"data": (ROOT / "bpmn" / "basic_self_assessment.bpmn").read_bytes(),
            "content_type": "application/xml"}


def _listed_cases(resp, u, w):
    ids = {item["id"] for item in resp.get_json()["items"]}
    assert ids == {w.case[o] for o in VISIBLE[u]}, (u, ids)


def _inbox(resp, u, w):
    ids = {item["id"] for item in resp.get_json()["items"]}
    assert ids == {w.task[o] for o in OBJECTS if ACTOR[o] == u}, (u, ids)


def _lists(resp, u, w):
    ids = {item["id"] for item in resp.get_json()["items"]}
    assert ids == {w.list[o] for o in LIST_VISIBLE.get(u, "")}, (u, ids)


def bulk_rule(u, o):
    if u == "auditor":
        return 403, False
    return (200, True) if u == ACTOR["A"] else (200, False)


DASHBOARD_USERS = ("admin", "auditor", "miit-1", "zj-reviewer", "sd-reviewer", "zj-ndrc", "sinopec-reviewer",
                   "sasac-1", "zj-finance")


def dashboard_rule(u, o):
    return (200, False) if u in DASHBOARD_USERS else (403, False)


CASE_LIST_USERS = ("admin", "auditor", "miit-1", "zj-reviewer", "sd-reviewer", "sinopec-reviewer", "sasac-1")


def case_list_rule(u, o):
    return (200, False) if u in CASE_LIST_USERS else (403, False)


def _case_list_rows(resp, u, w):
    """The case list shows exactly the matrix's cases the user may see."""
    if resp.status_code != 200:
        return
    html = resp.get_data(as_text=True)
    shown = {o for o in OBJECTS if f'<tr data-case="{w.case[o]}">' in html}
    assert shown == set(VISIBLE[u]), (u, shown)


def _inbox_page(resp, u, w):
    html = resp.get_data(as_text=True)
    shown = {o for o in OBJECTS if f'href="/tasks/{w.task[o]}"' in html}
    assert shown == {o for o in OBJECTS if ACTOR[o] == u}, (u, shown)


# people (issue 14): the world's accounts A (a Zhejiang reviewer), B (a Shandong reviewer), C (an expert) are made
# for the matrix and put back before every call; administrators manage all three, the Zhejiang provincial_admin only
# A (B and C do not exist for it), everyone else is refused. Sessions and tokens named by id are the world
# accounts': nobody else's to end (404).
MANAGERS = ("admin", "zj-admin")
MANAGED = {"admin": "ABC", "zj-admin": "A"}


def manage(ok_status, writes=True):
    def rule(u, o):
        if u not in MANAGERS:
            return 403, False
        if o is not None and o not in MANAGED[u]:
            return 404, False
        return ok_status, writes
    return rule


def _new_user_body(u, o, w):
    return {"json": {"username": f"matrix-new-{u}", "role": "provincial_reviewer", "province": "330000"}}


def _new_user_form(u, o, w):
    return {"data": {"username": f"matrix-form-{u}", "role": "provincial_reviewer", "province": "330000",
                     "csrf_token": w.csrf}}


def _same_password_json(u, o, w):
    return {"json": {"current": PASSWORDS[u] if u else "x", "new": PASSWORDS[u] if u else "x"}}


def _same_password_form(u, o, w):
    return {"data": {"current": PASSWORDS[u] if u else "x", "new": PASSWORDS[u] if u else "x",
                     "confirm": PASSWORDS[u] if u else "x", "csrf_token": w.csrf}}


# the process heatmap (issue 19): who reads it, and which of the three cases it counts for each
HEATMAP_VISIBLE = {"admin": "ABC", "auditor": "ABC", "miit-1": "ABC", "zj-reviewer": "A", "sd-reviewer": "B",
                   "sinopec-reviewer": "C"}


def heatmap_rule(u, o):
    return (200, False) if u in HEATMAP_VISIBLE else (403, False)


def _heatmap_waiting(resp, u, w):
    """The basic diagram's waiting counts add up to the matrix's cases the user may see (one open task each)."""
    if resp.status_code == 200:
        waiting = sum(e["waiting"] for e in resp.get_json()["elements"].values())
        assert waiting == len(HEATMAP_VISIBLE[u]), (u, waiting)


NOT_YOURS = lambda u, o: (404, False)  # noqa: E731

ALL_OK = lambda u, o: (200, False)  # noqa: E731
ALL_REDIRECT = lambda u, o: (302, False)  # noqa: E731

RULES: dict[tuple[str, str], Rule] = {
    ("static", "GET"): Rule(ALL_OK),
    ("auth.login", "GET"): Rule(ALL_OK),
    ("auth.login", "POST"): Rule(ALL_REDIRECT, "POST", body=_login_body, after="relogin"),
    ("auth.logout", "POST"): Rule(ALL_REDIRECT, "POST", body=_web_form({}), after="relogin"),
    ("auth.set_language", "POST"): Rule(ALL_REDIRECT, "POST", body=_web_form({"next": "/"})),
    ("web.home", "GET"): Rule(page(ALL_OK)),
    ("web.start_case", "POST"): Rule(page(web_start_case_rule), "POST",
                                     body=_web_form({"tier": "basic", "campaign": "2026"})),
    ("web.task", "GET"): Rule(page(task_read), kind="task"),
    ("web.task_action", "POST"): Rule(page(act(302)), "POST", "task", body=_web_form({"action": "claim"})),
    ("web.case", "GET"): Rule(page(read), kind="case"),
    ("web.download", "GET"): Rule(page(read), kind="attachment"),
    ("api.token", "POST"): Rule(ALL_OK, "POST", body=_token_body),
    ("api.revoke", "POST"): Rule(api(ALL_OK), "POST", after="relogin"),
    ("api.me", "GET"): Rule(api(ALL_OK)),
    ("api.create_case", "POST"): Rule(api(create_case_rule), "POST",
                                      body=_json({"tier": "basic", "campaign": 2026})),
    ("api.list_cases", "GET"): Rule(api(ALL_OK), check=_listed_cases),
    ("api.get_case", "GET"): Rule(api(read), kind="case"),
    ("api.case_events", "GET"): Rule(api(read), kind="case"),
    ("api.upload", "POST"): Rule(api(upload_rule), "POST", "case", body=_pdf),
    ("api.download", "GET"): Rule(api(read), kind="attachment"),
    ("api.inbox", "GET"): Rule(api(ALL_OK), check=_inbox),
    ("api.get_task", "GET"): Rule(api(task_read), kind="task"),
    ("api.claim", "POST"): Rule(api(act(200)), "POST", "task"),
    ("api.release", "POST"): Rule(api(release_rule), "POST", "task"),
    ("api.draft", "PUT"): Rule(api(act(200)), "PUT", "task", body=_json({"data": {}})),
    ("api.complete", "POST"): Rule(api(act(200)), "POST", "task", body=_complete_body),
    ("api.publish_list", "POST"): Rule(api(publish_rule), "POST",
                                       body=lambda u, o, w: {"json": {"tier": "advanced", "campaign": 2026,
                                                                      "case_ids": [w.case["A"]]}}),
    ("api.get_lists", "GET"): Rule(api(lists_rule), check=lambda r, u, w: r.status_code != 200 or _lists(r, u, w)),
    ("api.get_list", "GET"): Rule(api(list_rule), kind="list"),
    ("api.deploy", "POST"): Rule(api(deploy_rule), "POST", body=_deploy_body),
    # public notice: the list is public to every logged-in user; objections are taken only during a notice (the
    # matrix's cases are drafts: 422), never from an auditor; a case's objections are read within its scope
    # the lists page: any logged-in user may open it (non-reviewers see no candidates); a submission that the
    # service refuses is flashed and redirected, nothing written (case A is a basic draft: not publishable)
    ("lists_web.index", "GET"): Rule(page(ALL_OK)),
    ("lists_web.submit", "POST"): Rule(page(lambda u, o: (302, False)), "POST",
                                       body=lambda u, o, w: _web_form({"kind": "certified", "tier": "advanced",
                                                                       "campaign": "2026",
                                                                       "case": str(w.case["A"])})(u, o, w)),
    ("lists_web.export", "GET"): Rule(page(list_rule), kind="list"),
    # H4: a list's page (entries with their current status); amending is for the recommender of a recommendation
    # list before its deadline (the matrix's lists are certified lists: 404 for everyone, nothing written)
    ("lists_web.detail", "GET"): Rule(page(list_rule), kind="list"),
    ("api.amend_list", "PUT"): Rule(api(lambda u, o: (404, False)), "PUT", "list", body=_json({"case_ids": []})),
    # scheduling: the calendar and one's own reminders for anyone logged in; deadline extensions are the admin's
    # (the matrix's body extends nothing: no reason, refused with 422)
    ("scheduling_api.calendar", "GET"): Rule(api(ALL_OK)),
    ("scheduling_api.my_reminders", "GET"): Rule(api(ALL_OK)),
    ("scheduling_api.extend_deadline", "POST"): Rule(api(lambda u, o: (422, False) if u == "admin" else (403, False)),
                                                     "POST", body=_json({"tier": "excellent"})),
    ("api.system_event_list", "GET"): Rule(api(lambda u, o: (200, False) if u in AUDITORS else (403, False))),
    ("api.notices", "GET"): Rule(api(ALL_OK)),
    # objections (issue 17 item 6): a case not in its notice exists only for its readers (404), 422 for them
    ("api.lodge_objection", "POST"): Rule(api(lambda u, o: (403, False) if u == "auditor" else
                                              (422, False) if _sees(u, o) else (404, False)),
                                          "POST", "case", body=_json({"reason": "matrix objection text"})),
    ("api.case_objections", "GET"): Rule(api(read), kind="case"),
    # the notices page: public (公示), anonymous included (issue 15 defect 9); a case not in its notice sends the
    # objection form back to the list (flashed), an auditor is refused; objecting needs a login
    ("notices.index", "GET"): Rule(ALL_OK),
    ("notices.objection_form", "GET"): Rule(page(ALL_REDIRECT), kind="case"),
    ("notices.lodge", "POST"): Rule(page(lambda u, o: (403, False) if u == "auditor" else
                                         (302, False) if _sees(u, o) else (404, False)), "POST",
                                    "case", body=_web_form({"reason": "matrix objection text"})),
    ("api.export_list", "GET"): Rule(api(list_rule), kind="list"),
    ("api.enterprise_lineage", "GET"): Rule(api(enterprise_rule), kind="enterprise"),
    ("web.enterprise", "GET"): Rule(page(enterprise_rule), kind="enterprise"),
    ("api.openapi", "GET"): Rule(ALL_OK),
    # audit: the pages are for auditors, national reviewers and admins; replay reads within scope; rewind is the
    # admin's (case A's event 2 is a completed task: rewound; B's and C's event 2 is an upload: refused, 422)
    ("audit.search", "GET"): Rule(page(audit_page)),
    ("audit.anchor_list", "GET"): Rule(page(audit_page)),
    ("audit.case", "GET"): Rule(page(audit_page), kind="case"),
    ("audit.diagram", "GET"): Rule(page(audit_page), kind="case"),
    ("audit.export", "GET"): Rule(page(audit_page), kind="case"),
    ("audit.report", "GET"): Rule(page(audit_page), kind="case"),
    ("audit.rewind", "POST"): Rule(page(rewind_rule(302, 302)), "POST", "case",
                                   body=_web_form({"to": "2", "reason": "matrix"})),
    ("audit_api.api_replay", "GET"): Rule(api(read), kind="case"),
    ("audit_api.api_rewind", "POST"): Rule(api(rewind_rule(200, 422)), "POST", "case",
                                           body=_json({"to": 2, "reason": "matrix"})),
    # process versions (issue 5): administrators, auditors and national reviewers read; only an administrator writes
    # (the matrix's writes change nothing: version 1 is the newest, its cases are on it, the bodies are refused)
    ("admin_api.api_models", "GET"): Rule(api(audit_page)),
    ("admin_api.api_versions", "GET"): Rule(api(audit_page)),
    ("admin_api.api_version", "GET"): Rule(api(audit_page)),
    ("admin_api.api_diff", "GET"): Rule(api(audit_page)),
    ("admin_api.api_validate", "POST"): Rule(api(admin_only(200)), "POST", body=_deploy_body),
    ("admin_api.api_rollback", "POST"): Rule(api(admin_only(200)), "POST", body=_json({"version": 1})),
    ("admin_api.api_migration_plan", "GET"): Rule(api(admin_only(200))),
    ("admin_api.api_migrate", "POST"): Rule(api(admin_only(200)), "POST", body=_json({"to": 1})),
    ("admin_api.api_validate_decision_table", "POST"): Rule(api(admin_only(200)), "POST", body=_deploy_body),
    ("admin.processes_page", "GET"): Rule(page(audit_page)),
    ("admin.model_page", "GET"): Rule(page(audit_page)),
    ("admin.version_page", "GET"): Rule(page(audit_page)),
    ("admin.version_xml", "GET"): Rule(page(audit_page)),
    ("admin.new_diagram", "GET"): Rule(page(admin_only(302))),
    ("admin.editor", "GET"): Rule(page(admin_only(200))),
    ("admin.editor_source", "GET"): Rule(page(admin_only(200))),
    ("admin.save_draft", "POST"): Rule(page(admin_only(422)), "POST", body=_web_form({})),
    ("admin.validate", "POST"): Rule(page(admin_only(200)), "POST", body=_web_form({})),
    ("admin.deploy", "POST"): Rule(page(admin_only(422)), "POST", body=_web_form({})),
    ("admin.rollback", "POST"): Rule(page(admin_only(302)), "POST", body=_web_form({"version": "1"})),
    ("admin.migration_page", "GET"): Rule(page(admin_only(200))),
    ("admin.migrate", "POST"): Rule(page(admin_only(302)), "POST", body=_web_form({"to": "1"})),
    ("admin.tables_page", "GET"): Rule(page(audit_page)),
    ("admin.table_editor", "GET"): Rule(page(admin_only(200))),
    ("admin.table_source", "GET"): Rule(page(admin_only(200))),
    ("admin.table_validate", "POST"): Rule(page(admin_only(200)), "POST", body=_web_form({})),
    ("admin.table_deploy", "POST"): Rule(page(admin_only(422)), "POST", body=_web_form({})),
    # reference data (系统管理): administrators only; an empty form is refused (422) and writes nothing
    ("reference.experts", "GET"): Rule(page(admin_only(200))),
    ("reference.new_expert", "GET"): Rule(page(admin_only(200))),
    ("reference.create_expert", "POST"): Rule(page(admin_only(422)), "POST", body=_web_form({})),
    ("reference.expert", "GET"): Rule(page(admin_only(200))),
    ("reference.update_expert", "POST"): Rule(page(admin_only(422)), "POST", body=_web_form({})),
    ("reference.set_active", "POST"): Rule(page(admin_only(302)), "POST", body=_web_form({"active": "1"})),
    ("reference.add_conflict", "POST"): Rule(page(admin_only(422)), "POST", body=_web_form({})),
    ("reference.remove_conflict", "POST"): Rule(page(admin_only(404)), "POST", body=_web_form({})),
    ("reference.campaigns", "GET"): Rule(page(admin_only(200))),
    ("reference.new_campaign", "GET"): Rule(page(admin_only(200))),
    ("reference.create_campaign", "POST"): Rule(page(admin_only(422)), "POST", body=_web_form({})),
    ("reference.campaign", "GET"): Rule(page(admin_only(200))),
    ("reference.update_campaign", "POST"): Rule(page(admin_only(422)), "POST", body=_web_form({})),
    ("reference.quotas", "GET"): Rule(page(admin_only(200))),
    ("reference.save_quota_inputs", "POST"): Rule(page(admin_only(404)), "POST", body=_web_form({})),
    ("reference_api.quota_input_table", "GET"): Rule(api(admin_only(200))),
    ("reference_api.set_quota_inputs", "PUT"): Rule(api(admin_only(404)), "PUT", body=_json({})),
    ("reference_api.campaign_list", "GET"): Rule(api(admin_only(200))),
    # inbox (issue 4): the page lists only the caller's queue; claim and release go back to the inbox (a task held
    # by nobody: nothing to release, a flashed message); a bulk decision on case A's task completes it for its
    # reviewer only, reports "not found"/"not yours" to everyone else (200, nothing written), and the auditor is
    # refused outright
    ("inbox.index", "GET"): Rule(page(ALL_OK), check=lambda r, u, w: _inbox_page(r, u, w)),
    ("inbox.claim", "POST"): Rule(page(act(302)), "POST", "task", body=_web_form({})),
    ("inbox.release", "POST"): Rule(page(lambda u, o: (act(302)(u, o)[0], False)), "POST", "task",
                                    body=_web_form({})),
    ("inbox.bulk", "POST"): Rule(page(bulk_rule), "POST",
                                 body=lambda u, o, w: {"data": {"task_ids": [str(w.task["A"])], "decision": "approve",
                                                                "csrf_token": w.csrf}}),
    ("inbox_api.bulk_complete", "POST"): Rule(api(bulk_rule), "POST",
                                              body=_json(lambda u, o, w: {"task_ids": [w.task["A"]],
                                                                          "data": {"decision": "approve"}})),
    # enterprises (issue 14): administrators and provincial administrators (zj-admin) only; the
    # matrix's writes send no file or an empty form, so nothing is written
    ("enterprises_api.api_list", "GET"): Rule(api(importers(200))),
    ("enterprises_api.api_import", "POST"): Rule(api(importers(422)), "POST"),
    ("enterprises.index", "GET"): Rule(page(importers(200))),
    ("enterprises.new", "GET"): Rule(page(importers(200))),
    ("enterprises.create", "POST"): Rule(page(importers(422)), "POST", body=_web_form({})),
    ("enterprises.edit", "GET"): Rule(page(own_enterprise(200)), kind="enterprise"),
    ("enterprises.update", "POST"): Rule(page(own_enterprise(422)), "POST", "enterprise", body=_web_form({})),
    ("enterprises.import_page", "GET"): Rule(page(importers(200))),
    ("enterprises.template", "GET"): Rule(page(importers(200))),
    ("enterprises.dry_run", "POST"): Rule(page(importers(422)), "POST", body=_web_form({})),
    ("enterprises.commit", "POST"): Rule(page(lambda u, o: (404, False) if u in IMPORTERS else (403, False)), "POST",
                                         body=_web_form({"token": "none"})),
    ("enterprises.passwords", "GET"): Rule(page(lambda u, o: (404, False) if u in IMPORTERS else (403, False))),
    ("dashboard.index", "GET"): Rule(page(dashboard_rule)),
    # issue 19 part 2: the URL's code/key are FIXED_ARGS ("en", a process key): no such recommender (404) for the
    # dashboard's readers; tests/api/test_dashboard_tiles.py covers real provinces in and out of scope
    ("dashboard.province", "GET"): Rule(page(lambda u, o: (404, False) if u in DASHBOARD_USERS else (403, False))),
    ("dashboard.group", "GET"): Rule(page(lambda u, o: (404, False) if u in DASHBOARD_USERS else (403, False))),
    ("dashboard.export", "GET"): Rule(page(dashboard_rule)),
    # the case list (issue 15): the roles that oversee many cases; the rows are checked against the scope rule
    ("case_list.index", "GET"): Rule(page(case_list_rule), check=_case_list_rows),
    ("web.case_diagram", "GET"): Rule(page(read), kind="case"),
    # people (issue 14)
    ("people_api.list_users", "GET"): Rule(api(manage(200, False))),
    ("people_api.create_user", "POST"): Rule(api(manage(201)), "POST", body=_new_user_body),
    ("people_api.update_user", "PATCH"): Rule(api(manage(200)), "PATCH", "user", body=_json({"active": False})),
    ("people_api.reset_password", "POST"): Rule(api(manage(200)), "POST", "user"),
    ("people_api.unlock", "POST"): Rule(api(manage(200, False)), "POST", "user"),
    ("people_api.change_my_password", "POST"): Rule(api(lambda u, o: (422, False)), "POST",
                                                    body=_same_password_json),
    ("people_api.my_sessions", "GET"): Rule(api(ALL_OK)),
    ("people_api.revoke_session", "POST"): Rule(api(NOT_YOURS), "POST", "session"),
    ("people_api.revoke_token", "POST"): Rule(api(NOT_YOURS), "POST", "token"),
    ("auth.account", "GET"): Rule(page(ALL_OK)),
    ("auth.change_password", "POST"): Rule(page(lambda u, o: (422, False)), "POST", body=_same_password_form),
    ("auth.revoke_session", "POST"): Rule(page(NOT_YOURS), "POST", "session", body=_web_form({})),
    ("auth.revoke_token", "POST"): Rule(page(NOT_YOURS), "POST", "token", body=_web_form({})),
    ("people.index", "GET"): Rule(page(manage(200, False))),
    ("people.create", "GET"): Rule(page(manage(200, False))),
    ("people.create", "POST"): Rule(page(manage(200)), "POST", body=_new_user_form),
    ("people.edit", "GET"): Rule(page(manage(200, False)), kind="user"),
    ("people.update", "POST"): Rule(page(manage(302)), "POST", "user",
                                    body=_web_form({"role": "co_department_reviewer", "province": "330000",
                                                    "department": "ndrc"})),
    ("people.set_active", "POST"): Rule(page(manage(302)), "POST", "user", body=_web_form({"active": "0"})),
    ("people.reset_password", "POST"): Rule(page(manage(200)), "POST", "user", body=_web_form({"confirm": "1"})),
    ("people.unlock", "POST"): Rule(page(manage(302, False)), "POST", "user", body=_web_form({})),
    # incidents and notifications (issue 18): incidents are the administrators' (the URL names incident 999999, so
    # an administrator gets 404 and nothing is written); everyone reads and marks their own notifications, and
    # the e-mail choices the page sends are the defaults and the API's bodies are refused (nothing written)
    ("incidents.list_page", "GET"): Rule(page(admin_only(200))),
    ("incidents.detail", "GET"): Rule(page(admin_only(404))),
    ("incidents.act", "POST"): Rule(page(admin_only(404)), "POST", body=_web_form({"reason": "x", "confirm": "1"})),
    ("incidents_api.api_list", "GET"): Rule(api(admin_only(200))),
    ("incidents_api.api_get", "GET"): Rule(api(admin_only(404))),
    ("incidents_api.api_retry", "POST"): Rule(api(admin_only(404)), "POST"),
    ("incidents_api.api_skip", "POST"): Rule(api(admin_only(404)), "POST", body=_json({"reason": "x"})),
    ("incidents_api.api_cancel", "POST"): Rule(api(admin_only(404)), "POST", body=_json({"reason": "x"})),
    # reassignment and corrections (issue 18): the bodies name nobody of the task's role and scope / no field, so
    # whoever may reach the task or case gets 422 and nothing is written
    ("handover_api.api_reassign", "POST"): Rule(api(reassign_rule), "POST", "task",
                                                body=_json({"to": "nobody", "reason": "x"})),
    ("handover_api.api_correct", "POST"): Rule(api(admin_only(422)), "POST", "case",
                                               body=_json({"element": "x", "field": "y", "value": 1, "reason": "x"})),
    ("handover.reassign_form", "POST"): Rule(page(reassign_page_rule), "POST", "task",
                                             body=_web_form({"to": "nobody", "reason": "x"})),
    ("handover.correct_form", "POST"): Rule(page(admin_only(422)), "POST", "case",
                                            body=_web_form({"target": "x/y", "value": "1", "reason": "x"})),
    ("handover_api.api_operators", "GET"): Rule(api(lambda u, o: (200, False) if u in AUDITORS else (403, False))),
    ("notifications.index", "GET"): Rule(page(ALL_OK)),
    ("notifications.read", "POST"): Rule(page(lambda u, o: (302, False)), "POST", body=_web_form({})),
    ("notifications.prefs", "POST"): Rule(page(lambda u, o: (302, False)), "POST",
                                          body=_web_form({"email": ["returned", "due", "decision", "incident",
                                                                    "operator"]})),
    ("notifications_api.api_list", "GET"): Rule(api(ALL_OK)),
    ("notifications_api.api_read", "POST"): Rule(api(lambda u, o: (422, False)), "POST",
                                                 body=_json({"ids": ["x"]})),
    ("notifications_api.api_prefs", "GET"): Rule(api(ALL_OK)),
    ("notifications_api.api_set_prefs", "PUT"): Rule(api(lambda u, o: (422, False)), "PUT",
                                                     body=_json({"email": {"nope": True}})),
    # official documents (issue 19 part 3): a list's documents are generated by its own certifier or an
    # administrator (the matrix's lists are certified lists: a letter is refused, 422 / a flashed 302, nothing
    # written), read by whoever sees the list; a case's certification notice by its certifier or an administrator
    # (the matrix's cases are not certified: 422 / 302); templates are the administrators' (the URL's key names no
    # template: 404); the document id 999999 exists for nobody
    ("documents_api.api_generate", "POST"): Rule(api(doc_rule(422)), "POST", "list", body=_json({"kind": "letter"})),
    ("documents_api.api_list_documents", "GET"): Rule(api(list_rule), kind="list"),
    ("documents_api.api_generate_case", "POST"): Rule(api(notice_rule(422)), "POST", "case",
                                                      body=_json({"kind": "certification_notice"})),
    ("documents_api.api_download", "GET"): Rule(api(NOT_YOURS)),
    ("documents_api.api_template", "GET"): Rule(api(admin_only(404))),
    ("documents_api.api_save_template", "POST"): Rule(api(admin_only(404)), "POST", body=_json({"body": "x"})),
    ("documents.generate", "POST"): Rule(page(doc_rule(302)), "POST", "list", body=_web_form({"kind": "letter"})),
    ("documents.generate_case", "POST"): Rule(page(notice_rule(302)), "POST", "case", body=_web_form({})),
    ("documents.generate_for_case", "POST"): Rule(page(notice_rule(302)), "POST", "case", body=_web_form({})),
    ("documents.generate_notices", "POST"): Rule(page(lambda u, o: (302, False) if o in LIST_VISIBLE.get(u, "")
                                                      else (404, False)), "POST", "list", body=_web_form({})),
    ("documents.download", "GET"): Rule(page(NOT_YOURS)),
    ("documents.templates", "GET"): Rule(page(admin_only(200))),
    ("documents.edit", "GET"): Rule(page(admin_only(404))),
    ("documents.save", "POST"): Rule(page(admin_only(404)), "POST", body=_web_form({"body": "x"})),
    # the process heatmap (issue 19): national readers see every case, provincial and SOE reviewers their scope's
    ("heatmap.page", "GET"): Rule(page(heatmap_rule)),
    ("heatmap.diagram", "GET"): Rule(page(heatmap_rule)),
    ("heatmap_api.api_heatmap", "GET"): Rule(api(heatmap_rule), check=_heatmap_waiting),
}
ID_KINDS = {"case_id": "case", "task_id": "task", "attachment_id": "attachment", "list_id": "list",
            "enterprise_id": "enterprise", "user_id": "user", "session_id": "session", "token_id": "token"}
FIXED_ARGS = {"code": "en", "key": "basic_self_assessment", "filename": "app.css", "version": 1, "year": 2026,
              "table": "excellent_quota", "token": "none", "username": "expert-7", "conflict_id": 999999,
              "incident_id": 999999, "action": "retry", "document_id": 999999}


def _url_map():
    """(endpoint, method, rule) for every route and method of the application (HEAD and OPTIONS aside)."""
    application = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    out = []
    for r in application.url_map.iter_rules():
        for m in sorted(r.methods - {"HEAD", "OPTIONS"}):
            out.append((r.endpoint, m, r.rule, tuple(sorted(r.arguments))))
    return out


ROUTES = _url_map()


# --- the world ---------------------------------------------------------------------------------------------------

@dataclass
class World:
    case: dict = field(default_factory=dict)
    task: dict = field(default_factory=dict)
    attachment: dict = field(default_factory=dict)
    list: dict = field(default_factory=dict)
    enterprise: dict = field(default_factory=dict)
    user: dict = field(default_factory=dict)
    session: dict = field(default_factory=dict)
    token: dict = field(default_factory=dict)
    csrf: str = ""


def _build_world() -> World:
    w = World()
    with unit_of_work():
        for o, owner in OWNER.items():
            c = cases.create_case(user(owner), "basic", 2026)
            w.case[o] = c.id
            w.enterprise[o] = c.enterprise_id
        first = cases.open_tasks(db.session.get(type(c), w.case["A"]))[0]
        tasks.complete(user("acme"), first.id, GOOD_ASSESSMENT)
    for o in OBJECTS:
        with unit_of_work():
            att = attachments.upload(user(OWNER[o]), w.case[o], f"{o}.pdf", io.BytesIO(b"%PDF-1.4 " + o.encode()))
            w.attachment[o] = att.id
        (t,) = db.session.scalars(select(HumanTask).where(HumanTask.case_id == w.case[o],
                                                          HumanTask.state == "open")).all()
        w.task[o] = t.id
    assert db.session.get(HumanTask, w.task["A"]).role == "provincial_reviewer"
    campaign = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    with unit_of_work():
        for o, scope, by in (("A", "province:330000", "zj-reviewer"), ("B", "province:370000", "sd-reviewer"),
                             ("C", "soe:sinopec", "sinopec-reviewer")):
            lst = CaseList(kind="certified", tier="advanced", campaign_id=campaign.id, scope=scope,
                           created_by=user(by).id, created_at=clock.now(), details={})
            lst.entries.append(CaseListEntry(case_id=w.case[o], position=1))
            db.session.add(lst)
            db.session.flush()
            w.list[o] = lst.id
    _matrix_users(w)
    return w


MATRIX_USERS = {"A": ("matrix-zj", "provincial_reviewer", "330000"),
                "B": ("matrix-sd", "provincial_reviewer", "370000"), "C": ("matrix-expert", "expert", None)}


def _matrix_users(w: World) -> None:
    """The world's accounts, made once and put back as they were (active, role, scope, password)."""
    from werkzeug.security import generate_password_hash

    from app.models import User
    from app.services import auth, sessions

    with unit_of_work():
        for o, (name, role, province) in MATRIX_USERS.items():
            u = user(name)
            if u is None:
                u = User(username=name, expertise=[], created_at=clock.now())
                db.session.add(u)
            u.role, u.province_code, u.department, u.active, u.must_change_password = role, province, None, True, False
            u.password_hash = generate_password_hash("matrix-password-2026", method="pbkdf2:sha256:1000")
            db.session.flush()
            w.user[o] = u.id
            sid = sessions.open_session(u, 3600)
            w.session[o] = sessions.session_id(sid)
            w.token[o] = sessions.token_id(auth.issue_token(u))


def _fingerprint():
    counts = tuple(db.session.scalar(text(f"SELECT count(*) FROM {t}"))  # noqa: S608 - fixed names
                   for t in ("cases", "case_events", "attachments", "case_lists", "process_versions"))
    counts += tuple(db.session.execute(text(  # accounts: created, or changed in role, scope, state or password
        "SELECT id, role, province_code, department, active, must_change_password, password_hash FROM users "
        "ORDER BY id")).all())
    rows = db.session.execute(select(HumanTask.id, HumanTask.state, HumanTask.claimed_by, HumanTask.draft)
                              .order_by(HumanTask.id)).all()
    db.session.rollback()
    return counts, tuple((r[0], r[1], r[2], repr(r[3])) for r in rows)


# --- the checks --------------------------------------------------------------------------------------------------

class Principal:
    """Anonymous, or a demo user with a browser session and a bearer token."""

    def __init__(self, app, username):
        self.app, self.username = app, username
        self.login()

    def login(self):
        self.client = fresh_client(self.app)
        self.headers = {}
        if self.username:
            r = self.client.post("/login", data={"username": self.username, "password": PASSWORDS[self.username],
                                                 "csrf_token": csrf(self.client)})
            assert r.status_code == 302, (self.username, r.status_code)
            r = self.client.post("/api/v1/auth/token", json={"username": self.username,
                                                             "password": PASSWORDS[self.username]})
            self.headers = {"Authorization": f"Bearer {r.get_json()['token']}"}
        self.csrf = csrf(self.client, "/" if self.username else "/login")


def _url(rule: str, args: tuple, o, w: World) -> str:
    url = rule
    for a in args:
        value = getattr(w, ID_KINDS[a])[o] if a in ID_KINDS else FIXED_ARGS[a]
        url = url.replace(f"<int:{a}>", str(value)).replace(f"<path:{a}>", str(value)).replace(f"<{a}>", str(value))
    return url


CHECKS = {"n": 0}


def _run(app, endpoint, method, rule_text, args, principals) -> int:
    rule = RULES[(endpoint, method)]
    unknown = [a for a in args if a not in ID_KINDS and a not in FIXED_ARGS]
    assert not unknown, f"{endpoint}: add the URL argument(s) {unknown} to ID_KINDS or FIXED_ARGS in {__file__}"
    objects = list(OBJECTS) if any(a in ID_KINDS for a in args) else [None]
    w = _build_world()
    n = 0
    for username in principals:
        p = Principal(app, username)
        for o in objects:
            w.csrf = p.csrf
            if rule.kind == "user":
                _matrix_users(w)  # each call finds the accounts as they were
            expected_status, expected_write = rule.expect(username, o)
            kwargs = rule.body(username, o, w) if rule.body else {}
            before = _fingerprint()
            resp = p.client.open(_url(rule_text, args, o, w), method=method, headers=p.headers, **kwargs)
            wrote = _fingerprint() != before
            who = f"{endpoint} {method} as {username or 'anonymous'} on {o or '-'}"
            assert resp.status_code == expected_status, f"{who}: {resp.status_code} {resp.get_data(as_text=True)[:300]}"
            assert wrote == expected_write, f"{who}: wrote={wrote}, expected {expected_write}"
            if rule.check and resp.status_code < 300:
                rule.check(resp, username, w)
            n += 1
            if rule.after == "relogin":
                p.login()
                w.csrf = p.csrf
    return n


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(f"\nauthorization matrix: {CHECKS['n']} endpoint×role checks "
          f"({len(ROUTES)} endpoint-methods × {len(PRINCIPALS)} principals × own/other objects)")


def test_every_role_is_checked():
    from app.models import ROLES

    checked = {user(u).role for u in USERS}
    missing = sorted(set(ROLES) - checked)
    assert not missing, (f"roles {missing} have no demo user in VISIBLE in {__file__}: add one and say which of the "
                         "cases A, B, C it may see (and update ACTOR, LIST_VISIBLE, FREE_TO_APPLY as needed)")


def test_every_endpoint_has_a_rule():
    missing = sorted({f"{e} {m} {r}" for e, m, r, _ in ROUTES if (e, m) not in RULES})
    assert not missing, ("these endpoints have no authorization rule; add one to RULES in tests/security/"
                         "test_matrix.py saying what every role gets (200/302/401/403/404): " + ", ".join(missing))
    stale = sorted(f"{e} {m}" for e, m in RULES if (e, m) not in {(x[0], x[1]) for x in ROUTES})
    assert not stale, f"RULES names endpoints that no longer exist: {stale}"


@pytest.mark.parametrize("endpoint, method, rule_text, args", ROUTES, ids=[f"{e}-{m}" for e, m, _, _ in ROUTES])
def test_matrix(app, endpoint, method, rule_text, args):
    if (endpoint, method) not in RULES:
        pytest.fail(f"{endpoint} {method} {rule_text} has no authorization rule: add one to RULES in {__file__} "
                    "(what anonymous, each role, own and other scope get)")
    if endpoint == "static":
        rule_text, args = "/static/app.css", ()
    CHECKS["n"] += _run(app, endpoint, method, rule_text, args, PRINCIPALS)


def test_auditor_writes_nothing_anywhere(app):
    """Every write endpoint, called by the auditor on every object, leaves the database as it was."""
    w = _build_world()
    p = Principal(app, "auditor")
    before = _fingerprint()
    tried = 0
    for endpoint, method, rule_text, args in ROUTES:
        if (endpoint, method) not in RULES:
            continue  # reported by test_every_endpoint_has_a_rule
        if method == "GET" or endpoint in ("auth.login", "auth.logout", "auth.set_language", "api.token",
                                           "api.revoke"):
            continue
        rule = RULES[(endpoint, method)]
        for o in (list(OBJECTS) if any(a in ID_KINDS for a in args) else [None]):
            w.csrf = p.csrf
            kwargs = rule.body("auditor", o, w) if rule.body else {}
            resp = p.client.open(_url(rule_text, args, o, w), method=method, headers=p.headers, **kwargs)
            assert resp.status_code in (302, 403, 404, 409, 422), (endpoint, o, resp.status_code)
            tried += 1
    assert _fingerprint() == before
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 3
    assert tried >= 10
