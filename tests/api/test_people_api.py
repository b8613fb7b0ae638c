"""/api/v1/users and /api/v1/me/password (issue 14) over HTTP: the contract's status codes and bodies, the
one-time password that only opens /me and /me/password, and the attacks of a provincial administrator."""
import pytest

from app.services import auth
from app.uow import unit_of_work
from tests.admin.test_people_support import by_name, people_cleanup
from tests.security.helpers import api_token, fresh_client


@pytest.fixture(autouse=True)
def _people(db_context):
    with people_cleanup():
        yield


@pytest.fixture
def http(app):
    return fresh_client(app)


def _token(http, username, password) -> dict:
    r = http.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


@pytest.fixture
def admin(http):
    return api_token(http, "admin")


@pytest.fixture
def zj_admin(http, admin):
    r = http.post("/api/v1/users", json={"username": "zj-people", "role": "provincial_admin", "province": "330000"},
                  headers=admin)
    assert r.status_code == 201
    h = _token(http, "zj-people", r.get_json()["one_time_password"])
    assert http.post("/api/v1/me/password", json={"current": r.get_json()["one_time_password"],
                                                  "new": "zj-people-own-2026"}, headers=h).status_code == 204
    return h


def test_only_administrators_reach_the_users(http):
    assert http.get("/api/v1/users").status_code == 401
    for who in ("zj-reviewer", "auditor", "acme"):
        h = api_token(http, who)
        assert http.get("/api/v1/users", headers=h).status_code == 403
        r = http.post("/api/v1/users", json={"username": "x-admin", "role": "admin"}, headers=h)
        assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
        assert http.patch(f"/api/v1/users/{by_name('acme').id}", json={"active": False},
                          headers=h).status_code == 403
        assert http.post(f"/api/v1/users/{by_name('acme').id}/reset-password", headers=h).status_code == 403
    assert by_name("x-admin") is None and by_name("acme").active


def test_create_login_with_the_one_time_password_and_change_it(http, admin):
    r = http.post("/api/v1/users", json={"username": "zj-new", "role": "provincial_reviewer", "province": "330000"},
                  headers=admin)
    assert r.status_code == 201
    body = r.get_json()
    assert set(body) >= {"id", "one_time_password"}
    h = _token(http, "zj-new", body["one_time_password"])
    r = http.get("/api/v1/tasks", headers=h)
    assert r.status_code == 403 and r.get_json()["error"] == "password_change_required"
    assert http.get("/api/v1/me", headers=h).status_code == 200
    r = http.post("/api/v1/me/password", json={"current": body["one_time_password"], "new": "short"}, headers=h)
    assert r.status_code == 422 and "at least 10 characters" in r.get_json()["message"]
    assert r.get_json()["errors"]["new"] == ["at least 10 characters"]
    r = http.post("/api/v1/me/password", json={"current": "wrong", "new": "zj-new-own-pass-2026"}, headers=h)
    assert r.status_code == 422 and "current" in r.get_json()["errors"]
    r = http.post("/api/v1/me/password", json={"current": body["one_time_password"],
                                               "new": "zj-new-own-pass-2026"}, headers=h)
    assert r.status_code == 204 and r.data == b""
    assert http.get("/api/v1/tasks", headers=h).status_code == 200  # the token that changed it goes on


def test_bad_bodies_are_422_or_409(http, admin):
    assert http.post("/api/v1/users", data="nope", headers=admin).status_code == 422
    r = http.post("/api/v1/users", json={"username": "zj-new", "role": "provincial_reviewer"}, headers=admin)
    assert r.status_code == 422 and "province" in r.get_json()["errors"]
    assert http.post("/api/v1/users", json={"username": "admin", "role": "auditor"}, headers=admin).status_code == 409
    r = http.patch(f"/api/v1/users/{by_name('acme').id}", json={"active": "no"}, headers=admin)
    assert r.status_code == 422
    assert http.patch("/api/v1/users/999999", json={"active": False}, headers=admin).status_code == 404
    me = by_name("admin").id
    r = http.patch(f"/api/v1/users/{me}", json={"active": False}, headers=admin)
    assert r.status_code == 403 and by_name("admin").active


def test_deactivation_stops_a_token_at_once(http, admin):
    h = api_token(http, "zj-finance")
    assert http.get("/api/v1/tasks", headers=h).status_code == 200
    uid = by_name("zj-finance").id
    r = http.patch(f"/api/v1/users/{uid}", json={"active": False}, headers=admin)
    assert r.status_code == 200 and r.get_json()["active"] is False
    assert http.get("/api/v1/tasks", headers=h).status_code == 401
    r = http.patch(f"/api/v1/users/{uid}", json={"active": True}, headers=admin)
    assert r.status_code == 200 and r.get_json()["active"] is True
    assert http.get("/api/v1/tasks", headers=h).status_code == 401  # its tokens stay revoked


def test_reset_password_and_unlock(http, admin):
    uid = by_name("zj-data").id
    h = api_token(http, "zj-data")
    r = http.post(f"/api/v1/users/{uid}/reset-password", headers=admin)
    assert r.status_code == 200
    otp = r.get_json()["one_time_password"]
    assert http.get("/api/v1/me", headers=h).status_code == 401
    assert http.post("/api/v1/auth/token", json={"username": "zj-data", "password": "zj-data-demo-2026"}
                     ).status_code == 401
    assert _token(http, "zj-data", otp)
    r = http.post(f"/api/v1/users/{uid}/unlock", headers=admin)
    assert r.status_code == 200 and r.get_json()["locked"] is False


def test_search_and_filters(http, admin):
    r = http.get("/api/v1/users?role=co_department_reviewer&region=330000&active=true", headers=admin)
    assert {u["username"] for u in r.get_json()["items"]} == {"zj-ndrc", "zj-finance", "zj-sasac", "zj-samr",
                                                               "zj-data"}
    r = http.get("/api/v1/users?q=qingdao", headers=admin)
    assert [u["username"] for u in r.get_json()["items"]] == ["qingdao-home"]
    assert r.get_json()["items"][0]["province"] == "370000"
    assert http.get("/api/v1/users?active=perhaps", headers=admin).status_code == 422


def test_the_provincial_admins_attacks_fail(http, zj_admin):
    r = http.post("/api/v1/users", json={"username": "pa-admin", "role": "admin"}, headers=zj_admin)
    assert r.status_code == 403
    r = http.patch(f"/api/v1/users/{by_name('sd-reviewer').id}", json={"active": False}, headers=zj_admin)
    assert r.status_code == 404
    zj = by_name("zj-reviewer").id
    assert http.patch(f"/api/v1/users/{zj}", json={"role": "admin"}, headers=zj_admin).status_code == 403
    assert http.patch(f"/api/v1/users/{zj}", json={"province": "370000"}, headers=zj_admin).status_code == 403
    own = by_name("zj-people").id
    assert http.patch(f"/api/v1/users/{own}", json={"role": "admin"}, headers=zj_admin).status_code == 404
    r = http.post(f"/api/v1/users/{by_name('admin').id}/reset-password", headers=zj_admin)
    assert r.status_code == 404
    assert by_name("zj-people").role == "provincial_admin" and by_name("zj-reviewer").role == "provincial_reviewer"
    names = {u["username"] for u in http.get("/api/v1/users", headers=zj_admin).get_json()["items"]}
    assert "zj-reviewer" in names and not names & {"sd-reviewer", "admin", "expert-8"}
    r = http.post("/api/v1/users", json={"username": "zj-rev-3", "role": "provincial_reviewer",
                                         "province": "330000"}, headers=zj_admin)
    assert r.status_code == 201


def test_my_sessions_and_tokens(http):
    h = api_token(http, "zj-samr")
    other = api_token(http, "zj-samr")
    r = http.get("/api/v1/me/sessions", headers=h)
    tokens = r.get_json()["tokens"]
    assert len(tokens) == 2 and sum(t["current"] for t in tokens) == 1
    victim = next(t["id"] for t in tokens if not t["current"])
    assert http.post(f"/api/v1/me/tokens/{victim}/revoke", headers=api_token(http, "zj-data")).status_code == 404
    assert http.post(f"/api/v1/me/tokens/{victim}/revoke", headers=h).status_code == 200
    assert http.get("/api/v1/me", headers=other).status_code == 401
    assert http.post("/api/v1/me/sessions/999999/revoke", headers=h).status_code == 404


def test_changing_the_password_ends_the_other_tokens(http):
    h = api_token(http, "zj-sasac")
    other = api_token(http, "zj-sasac")
    r = http.post("/api/v1/me/password", json={"current": "zj-sasac-demo-2026", "new": "zj-sasac-own-2026"},
                  headers=h)
    assert r.status_code == 204
    assert http.get("/api/v1/me", headers=h).status_code == 200
    assert http.get("/api/v1/me", headers=other).status_code == 401


def test_a_token_issued_before_a_reset_is_refused(http):
    """A token of a user who must change its password (issued by the service directly) answers only /me."""
    user = by_name("zj-ndrc")
    with unit_of_work():
        user.must_change_password = True
        tok = auth.issue_token(user)
    h = {"Authorization": f"Bearer {tok}"}
    for method, url in (("GET", "/api/v1/cases"), ("GET", "/api/v1/tasks"), ("GET", "/api/v1/users"),
                        ("GET", "/api/v1/me/sessions"), ("GET", "/api/v1/process-models")):
        r = http.open(url, method=method, headers=h)
        assert r.status_code == 403 and r.get_json()["error"] == "password_change_required", url
    assert http.get("/api/v1/me", headers=h).status_code == 200
