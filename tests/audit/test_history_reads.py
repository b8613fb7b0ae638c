"""The auditor's case page and the replay API read a case's history once per request and check scope once (the
page's own role check aside); counted on the real database with a statement listener so it cannot regress."""
import re

import pytest
from sqlalchemy import event

from app.errors import Forbidden
from app.extensions import db
from app.services import audit, replay, scope
from tests.audit.helpers import basic_case
from tests.audit.test_pages import login
from tests.conftest import user
from tests.security.helpers import api_token

HISTORY = re.compile(r"FROM case_events\s+WHERE case_events\.case_id = \S+ ORDER BY case_events\.seq", re.S)


@pytest.fixture
def history_reads(app):
    seen = []

    def count(_conn, _cursor, statement, *_args):
        if HISTORY.search(statement):
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def scope_checks(monkeypatch):
    calls = []
    real = scope.can_view_case

    def counted(user_, case):
        calls.append(case.id)
        return real(user_, case)

    monkeypatch.setattr(replay, "can_view_case", counted)
    return calls


def test_case_page_reads_the_history_once(app, history_reads, scope_checks):
    case_id = basic_case(rounds=1)
    c = login(app, "auditor")
    c.get(f"/audit/cases/{case_id}")  # warm: templates, specs
    for at in ("", "?at=2", "?at=999"):
        history_reads.clear()
        scope_checks.clear()
        r = c.get(f"/audit/cases/{case_id}{at}")
        assert r.status_code == (404 if at == "?at=999" else 200)
        assert len(history_reads) == 1, at
        assert scope_checks == [case_id], at
    history_reads.clear()
    assert c.get(f"/audit/cases/{case_id}/diagram.bpmn").status_code == 200
    assert history_reads == []  # the diagram needs no history


def test_replay_api_reads_the_history_once(app, client, history_reads, scope_checks):
    case_id = basic_case(rounds=1)
    headers = api_token(client, "auditor")
    client.get(f"/api/v1/cases/{case_id}/replay?at=3", headers=headers)
    history_reads.clear()
    scope_checks.clear()
    assert client.get(f"/api/v1/cases/{case_id}/replay?at=3", headers=headers).status_code == 200
    assert len(history_reads) == 1 and scope_checks == [case_id]


def test_case_page_is_refused_outside_the_audit_roles(app):
    case_id = basic_case(rounds=0)
    assert login(app, "zj-reviewer").get(f"/audit/cases/{case_id}").status_code == 403
    with pytest.raises(Forbidden):
        audit.case_page(user("acme"), case_id, None)
