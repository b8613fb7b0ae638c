"""A captured session cookie stops working (issue 17 item 7): after logout, after the user changes its password (the
session making the change stays; every other ends) and after deactivation. The owner lists and ends its sessions
(`/account`, `GET /api/v1/me/sessions`)."""
from tests.conftest import user
from tests.security.helpers import PASSWORDS, api_token, browser_login, csrf, fresh_client

NEW = "a-brand-new-secret-2026"


def _copy(app, client):
    """Another client holding the same cookie: what an attacker who captured it has."""
    thief = fresh_client(app)
    for cookie in client._cookies.values():
        thief._cookies[(cookie.domain, cookie.path, cookie.key)] = cookie
    return thief


def _alive(client) -> bool:
    r = client.get("/account")
    return r.status_code == 200


def test_a_cookie_copied_before_logout_is_dead_after_it(app):
    web = fresh_client(app)
    assert browser_login(web, "zj-reviewer").status_code == 302
    thief = _copy(app, web)
    assert _alive(thief)
    assert web.post("/logout", data={"csrf_token": csrf(web, "/account")}).status_code == 302
    r = thief.get("/account")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert thief.get("/api/v1/me").status_code == 401  # no session gets through the API either


def test_a_password_change_ends_the_other_sessions_but_not_the_current_one(app):
    mine, other = fresh_client(app), fresh_client(app)
    browser_login(mine, "zj-ndrc")
    browser_login(other, "zj-ndrc")
    thief = _copy(app, other)
    r = mine.post("/account/password", data={"csrf_token": csrf(mine, "/account"), "current": PASSWORDS["zj-ndrc"],
                                             "new": NEW, "confirm": NEW})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert _alive(mine) and not _alive(other) and not _alive(thief)


def test_deactivation_ends_every_session_at_once(app):
    web = fresh_client(app)
    browser_login(web, "zj-finance")
    thief = _copy(app, web)
    admin = api_token(fresh_client(app), "admin")
    r = fresh_client(app).patch(f"/api/v1/users/{user('zj-finance').id}", json={"active": False}, headers=admin)
    assert r.status_code == 200, r.get_json()
    assert not _alive(web) and not _alive(thief)


def test_the_owner_lists_and_ends_its_sessions(app):
    a, b = fresh_client(app), fresh_client(app)
    browser_login(a, "zj-samr")
    browser_login(b, "zj-samr")
    h = api_token(fresh_client(app), "zj-samr")
    listed = fresh_client(app).get("/api/v1/me/sessions", headers=h).get_json()
    ids = [s["id"] for s in listed["sessions"]]
    assert len(ids) == 2
    page = a.get("/account").get_data(as_text=True)
    # a's page: its own session marked, b's (opened later: the larger id) with the form that ends it
    assert f"/account/sessions/{max(ids)}/revoke" in page and f"/account/sessions/{min(ids)}/revoke" not in page
    victim = _copy(app, b)
    for i in ids:
        fresh_client(app).post(f"/api/v1/me/sessions/{i}/revoke", headers=h)
    assert not _alive(a) and not _alive(b) and not _alive(victim)
    # another user's session does not exist for it
    other = fresh_client(app)
    browser_login(other, "zj-data")
    theirs = fresh_client(app).get("/api/v1/me/sessions", headers=api_token(fresh_client(app), "zj-data")
                                   ).get_json()["sessions"][0]["id"]
    assert fresh_client(app).post(f"/api/v1/me/sessions/{theirs}/revoke", headers=h).status_code == 404
    assert _alive(other)
