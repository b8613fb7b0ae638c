"""Schemathesis against /api/v1/openapi.json, through the WSGI app (no network), with a token for each role.

Every generated call must not answer 5xx, must answer a documented status code, and its body must match the
documented schema. The run is bounded (FUZZ_EXAMPLES per operation and role, default 12); the figure of calls made
is printed at the end (run with -s)."""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.blueprints.openapi import document

ROLES = {"enterprise": "acme", "provincial_reviewer": "zj-reviewer", "soe_reviewer": "sinopec-reviewer",
         "national_reviewer": "miit-1", "admin": "admin", "auditor": "auditor", "provincial_admin": "zj-admin"}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
CALLS = {"n": 0, "5xx": 0}
TOKENS: dict = {}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# the document served at /api/v1/openapi.json (a pure function of the code); the test attaches the WSGI app
schema = schemathesis.openapi.from_dict(document())


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(f"\nAPI fuzzing: {CALLS['n']} generated calls over {len(ROLES)} roles and anonymous, "
          f"{CALLS['5xx']} answered 5xx")


def _token(username: str) -> dict:
    """Issued by the service, not through /auth/token: the fuzzer's wrong logins may throttle this address."""
    from app.extensions import db
    from app.services import auth
    from tests.conftest import user

    tok = auth.issue_token(user(username))
    db.session.commit()
    return {"Authorization": f"Bearer {tok}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_fuzz(case, app):
    """Each generated call is made as anonymous and as every role."""
    for role in [*ROLES, "anonymous"]:
        if role != "anonymous" and role not in TOKENS:
            TOKENS[role] = _token(ROLES[role])
        response = case.call(headers=TOKENS.get(role, {}), app=app)
        CALLS["n"] += 1
        if response.status_code >= 500:
            CALLS["5xx"] += 1
        if case.path == "/auth/revoke" and response.status_code == 200:
            TOKENS.pop(role, None)
        case.validate_response(response, checks=CHECKS)
