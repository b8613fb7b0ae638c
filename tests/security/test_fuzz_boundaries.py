"""Boundary integers everywhere (issue 17 item 10): no path id or query integer answers 5xx.

Every route of the URL map with an `<int:...>` part is called with 0, 2**31, 2**63 and 10**22 in each id (the
others 1), as a browser session and with an API token; every route without one, and the parameterised ones with id
1, get each integer query parameter the product reads set to each boundary and to garbage. The answer is 400, 404
or 422 for what cannot exist, never 5xx. The figure of calls is printed (run with -s)."""
import re

import pytest

from tests.security.helpers import browser_login, csrf, fresh_client

BOUNDARIES = ["0", "-1", str(2**31), str(2**63), str(10**22), "1e3", "٣", "²", "abc", ""]
QUERY_INTS = ("page", "per_page", "at", "case", "to", "from", "diff", "campaign", "year", "version", "limit")
USERS = ("admin", "zj-reviewer", "acme", "auditor")
CALLS = {"n": 0}


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(f"\nboundary integers: {CALLS['n']} calls, none answered 5xx")


def _routes(app, method):
    for rule in app.url_map.iter_rules():
        if method in rule.methods and not rule.endpoint.startswith("static"):
            yield rule


def _fill(rule, value_for):
    path = rule.rule
    for arg in rule.arguments:
        conv = rule._converters[arg]
        if conv.__class__.__name__.lower().startswith(("integer", "boundedint")):
            path = path.replace(f"<int:{arg}>", value_for(arg))
        else:
            path = re.sub(rf"<(?:[a-z]+:)?{arg}>", "x", path)
    return path


def _api_headers(client, username):
    from app.extensions import db
    from app.services import auth
    from tests.conftest import user

    tok = auth.issue_token(user(username))
    db.session.commit()
    return {"Authorization": f"Bearer {tok}"}


def _clients(app):
    for username in USERS:
        web = fresh_client(app)
        browser_login(web, username)
        yield username, web, _api_headers(web, username)


def _check(resp, what):
    CALLS["n"] += 1
    assert resp.status_code < 500, (what, resp.status_code, resp.get_data(as_text=True)[:500])


def test_huge_path_ids_answer_404_not_500(app):
    int_rules = [r for r in app.url_map.iter_rules() if "<int:" in r.rule]
    assert int_rules
    for username, web, headers in _clients(app):
        token = csrf(web, "/")
        for rule in int_rules:
            for arg in [a for a in rule.arguments if f"<int:{a}>" in rule.rule]:
                for value in ("0", str(2**31), str(2**63), str(10**22)):
                    path = _fill(rule, lambda a, arg=arg, value=value: value if a == arg else "1")
                    h = headers if path.startswith("/api/") else {}
                    for method in sorted(rule.methods & {"GET", "POST", "PATCH", "PUT", "DELETE"}):
                        kw = {} if method == "GET" else ({"json": {}} if h else {"data": {"csrf_token": token}})
                        r = web.open(path, method=method, headers=h, **kw)
                        _check(r, f"{username} {method} {path}")
                        if int(value) >= 2**31:
                            assert r.status_code == 404, (username, method, path, r.status_code)


def test_boundary_query_integers_answer_4xx_not_500(app):
    rules = [r for r in _routes(app, "GET")]
    for username, web, headers in _clients(app):
        for rule in rules:
            path = _fill(rule, lambda _a: "1")
            h = headers if path.startswith("/api/") else {}
            for value in BOUNDARIES:
                query = "&".join(f"{name}={value}" for name in QUERY_INTS)
                _check(web.get(f"{path}?{query}", headers=h), f"{username} GET {path}?{query}")


def test_non_numeric_rank_on_the_list_form_is_refused_in_chinese(app):
    web = fresh_client(app)
    browser_login(web, "zj-reviewer")
    for key, value in (("rank_1", "²"), ("rank_1", "٣"), ("rank_x", "1"), ("rank_1", str(10**22)),
                       ("choice_99999999999999999999999", "yes"), ("rank_99999999999999999999999", "1"),
                       ("campaign", str(10**22))):
        data = {"csrf_token": csrf(web, "/lists/"), "kind": "recommendation", "tier": "excellent", key: value}
        r = web.post("/lists/", data=data, headers={"Accept-Language": "zh-CN"})
        _check(r, f"POST /lists/ {key}={value}")
        assert r.status_code in (200, 302, 303, 400, 422), (key, value, r.status_code)


@pytest.mark.parametrize("path,body,who", [
    ("/api/v1/cases", {"tier": "basic", "campaign": 2026, "enterprise_id": 10**22}, "admin"),
    ("/api/v1/cases", {"tier": "basic", "campaign": 10**22}, "ningbo-parts"),
    ("/api/v1/lists", {"kind": "certified", "tier": "advanced", "campaign": 2026, "case_ids": [10**22]},
     "sinopec-reviewer"),
    ("/api/v1/tasks/reassign", {"task_ids": [2**63], "to": 10**22}, "admin"),
])
def test_huge_integers_inside_json_bodies_answer_4xx(app, path, body, who):
    web = fresh_client(app)
    r = web.post(path, json=body, headers=_api_headers(web, who))
    _check(r, f"{who} POST {path}")
    assert 400 <= r.status_code < 500, (path, r.status_code, r.get_json())


def test_a_huge_campaign_on_the_start_form_answers_4xx_in_chinese(app):
    web = fresh_client(app)
    browser_login(web, "ningbo-parts")
    r = web.post("/cases", data={"csrf_token": csrf(web, "/"), "tier": "basic", "campaign": str(10**22)})
    _check(r, "POST /cases campaign=10**22")
    assert r.status_code in (302, 400, 422)
