"""The browser task page restores the workflow instance once per request; one may-act rule (scope.may_act) decides
the task page's form, the services and the bulk queue alike; one scope rule for cases and enterprises; the views
and commands hold no query of their own."""
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.config import ROOT
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Enterprise, HumanTask
from app.services import inbox, lineage, scope, tasks, users
from tests.conftest import user
from tests.inbox.conftest import submitted_basic
from tests.security.helpers import browser_login, csrf, fresh_client
from workflows.instance import Instance


@pytest.fixture
def restores(monkeypatch):
    """How many times the engine restores an instance (`Instance.load`, the only restore path), counted around the
    real method."""
    calls = []
    real = Instance.load.__func__

    def counted(cls, state, bundle):
        calls.append(1)
        return real(cls, state, bundle)

    monkeypatch.setattr(Instance, "load", classmethod(counted))
    return calls


def _page_client(app, username):
    client = fresh_client(app)
    assert browser_login(client, username).status_code == 302
    return client


def test_task_page_restores_the_instance_once_per_request(app, restores):
    task = submitted_basic("acme")
    client = _page_client(app, "zj-reviewer")
    token = csrf(client, f"/tasks/{task.id}")
    restores.clear()
    assert client.get(f"/tasks/{task.id}").status_code == 200
    assert restores == []  # the page reads each step's fields from its step rows, not from the instance
    restores.clear()  # a refused decision: the page again, with what was typed
    r = client.post(f"/tasks/{task.id}", data={"csrf_token": token, "decision": "maybe", "review_comment": "再看看"})
    assert r.status_code == 422 and "再看看" in r.get_data(as_text=True)
    assert restores == []
    restores.clear()
    r = client.post(f"/tasks/{task.id}", data={"csrf_token": token, "action": "draft", "review_comment": "草稿"})
    assert r.status_code == 302 and restores == []  # a draft needs only the form
    r = client.post(f"/tasks/{task.id}", data={"csrf_token": token, "decision": "approve",
                                               "review_comment": "符合要求。"})
    assert r.status_code == 302 and len(restores) == 1  # the step itself


def test_one_may_act_rule_for_page_services_and_queue(app):
    task = submitted_basic("acme")
    # the auditor reads every case but acts on none; the Shandong reviewer does not even see it
    view = tasks.task_form(user("auditor"), task.id)
    assert view["may_act"] is False and tasks.task_form(user("zj-reviewer"), task.id)["may_act"] is True
    with pytest.raises(Forbidden):
        tasks.claim(user("auditor"), task.id)
    with pytest.raises(NotFound):
        tasks.task_form(user("sd-reviewer"), task.id)
    assert inbox.bulk_kind(user("auditor"), [task.id]) == []
    assert [t.id for t in inbox.bulk_kind(user("zj-reviewer"), [task.id])] == [task.id]
    assert 'value="submit"' in _page_client(app, "zj-reviewer").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'value="submit"' not in _page_client(app, "auditor").get(f"/tasks/{task.id}").get_data(as_text=True)
    client = _page_client(app, "auditor")
    r = client.post(f"/tasks/{task.id}", data={"csrf_token": csrf(client, f"/tasks/{task.id}"),
                                               "decision": "approve", "review_comment": "x"})
    assert r.status_code == 403
    assert db.session.get(HumanTask, task.id).state == "open"
    assert scope.may_act(user("zj-reviewer"), task) and not scope.may_act(user("zj-ndrc"), task)


def test_one_scope_rule_for_cases_and_enterprises(app):
    """A Sinopec member in Zhejiang: its group's reviewer sees its cases and its page; the Zhejiang reviewer sees its
    page (its lighthouse cases are the province's) but not its advanced case; Shandong sees neither."""
    from app.services import cases

    member = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == "91330200MA2B00006W"))
    case = cases.create_case(user("sinopec-ningbo"), "advanced", 2026)
    for name, sees_case, sees_page in (("sinopec-reviewer", True, True), ("zj-reviewer", False, True),
                                       ("sd-reviewer", False, False), ("sasac-1", True, True),
                                       ("auditor", True, True), ("acme", False, False), ("expert-8", False, False)):
        u = user(name)
        assert scope.can_view_case(u, case) is sees_case, name
        assert scope.can_view_enterprise(u, member) is sees_page, name
        if sees_page:
            assert lineage.get_enterprise(u, member.id).id == member.id
        else:
            with pytest.raises(NotFound):
                lineage.lineage(u, member.id)
    db.session.rollback()


def test_the_session_user_loader_is_a_service(app):
    assert users.get(str(user("acme").id)).username == "acme"
    assert users.get("not-a-number") is None and users.get(None) is None and users.get("999999") is None


def test_views_and_commands_hold_no_query():
    """Blueprints and CLI commands translate to service calls: no select(...), no session use, no Model.query."""
    offenders = []
    for folder in ("app/blueprints", "app/cli"):
        for path in sorted((ROOT / folder).glob("*.py")):
            for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"\bselect\(|db\.session|\.query\b|from sqlalchemy import", line) \
                        and not (path.name == "backup.py" and "db.session.remove()" in line):
                    offenders.append(f"{folder}/{path.name}:{n}: {line.strip()}")
    assert offenders == []
