"""系统管理 › 用户 and 我的账号 in the browser over HTTP: forms with CSRF tokens, the one-time password shown once,
the forced password change, a deactivated or ended session stopping at its next request, Chinese messages on bad
input with what was typed kept; and `flask users create-admin`."""
import re

import pytest

from app.uow import unit_of_work
from tests.admin.test_people_support import by_name, people_cleanup
from tests.security.helpers import browser_login, csrf, fresh_client

OTP = re.compile(r'id="one-time-password">([^<]+)<')


@pytest.fixture(autouse=True)
def _people(db_context):
    with people_cleanup():
        yield


def _client(app, username=None, password=None):
    c = fresh_client(app)
    if username:
        r = browser_login(c, username, password)
        assert r.status_code == 302, r.status_code
    return c


def _create(c, **form) -> str:
    r = c.post("/admin/users/new", data=dict(form, csrf_token=csrf(c, "/admin/users/new")))
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return OTP.search(r.get_data(as_text=True)).group(1)


def test_the_pages_are_for_administrators(app):
    assert _client(app).get("/admin/users/").status_code == 302
    for who in ("zj-reviewer", "auditor", "acme"):
        c = _client(app, who)
        assert c.get("/admin/users/").status_code == 403
        assert c.get("/admin/users/new").status_code == 403
        r = c.post("/admin/users/new", data={"username": "x-admin", "role": "admin", "csrf_token": csrf(c, "/")})
        assert r.status_code == 403
    assert by_name("x-admin") is None
    page = _client(app, "admin").get("/admin/users/").get_data(as_text=True)
    assert "用户管理" in page and "zj-reviewer" in page and "省级工业和信息化主管部门" in page


def test_the_list_filters(app):
    c = _client(app, "admin")
    page = c.get("/admin/users/?department=finance&region=330000&active=1").get_data(as_text=True)
    assert "zj-finance" in page and "zj-ndrc" not in page and "共 1 个账号" in page
    page = c.get("/admin/users/?soe_group=sinopec").get_data(as_text=True)
    assert "sinopec-reviewer" in page and "中国石油化工集团有限公司" in page and "zj-finance" not in page
    page = c.get("/admin/users/?q=zj-&role=provincial_reviewer").get_data(as_text=True)
    assert "zj-reviewer" in page and "sd-reviewer" not in page


def test_a_throttled_account_is_unlocked_in_the_page(app):
    from app.extensions import db
    from app.services import accounts

    for _ in range(5):
        accounts.record_failure("zj-sasac", "10.9.9.9")
    db.session.commit()
    c = _client(app, "admin")
    uid = by_name("zj-sasac").id
    page = c.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert 'id="unlock"' in page and "登录失败次数过多" in page
    r = c.post(f"/admin/users/{uid}/unlock", data={"csrf_token": csrf(c, "/")})
    assert r.status_code == 302
    assert 'id="unlock"' not in c.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert browser_login(fresh_client(app), "zj-sasac").status_code == 302


def test_a_form_without_csrf_token_is_refused(app):
    c = _client(app, "admin")
    r = c.post("/admin/users/new", data={"username": "no-csrf", "role": "auditor"})
    assert r.status_code == 400 and by_name("no-csrf") is None


def test_bad_input_keeps_what_was_typed_and_says_what_is_wrong_in_chinese(app):
    c = _client(app, "admin")
    r = c.post("/admin/users/new", data={"username": "zj-typed", "role": "provincial_reviewer", "province": "",
                                         "csrf_token": csrf(c, "/admin/users/new")})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and 'value="zj-typed"' in page and "请选择省份" in page and "账号未创建" in page
    r = c.post("/admin/users/new", data={"username": "admin", "role": "auditor",
                                         "csrf_token": csrf(c, "/admin/users/new")})
    assert r.status_code == 409 and "该用户名已被占用" in r.get_data(as_text=True)
    assert by_name("zj-typed") is None


def test_created_user_must_change_the_one_time_password_first(app):
    admin = _client(app, "admin")
    otp = _create(admin, username="zj-new", role="provincial_reviewer", province="330000")
    c = fresh_client(app)
    r = browser_login(c, "zj-new", otp)
    assert r.status_code == 302 and r.headers["Location"].endswith("/account")
    for url in ("/", "/inbox", "/dashboard", "/notices"):
        r = c.get(url)
        assert r.status_code == 302 and r.headers["Location"].endswith("/account"), url
    page = c.get("/account").get_data(as_text=True)
    assert "一次性密码" in page and 'name="csrf_token"' in page
    token = csrf(c, "/account")
    r = c.post("/account/password", data={"current": otp, "new": "short", "confirm": "short", "csrf_token": token})
    assert r.status_code == 422 and "至少 10 个字符" in r.get_data(as_text=True)
    r = c.post("/account/password", data={"current": otp, "new": "zj-new-own-2026", "confirm": "zj-new-own-2027",
                                          "csrf_token": token})
    assert r.status_code == 422 and "两次输入的新密码不一致" in r.get_data(as_text=True)
    assert by_name("zj-new").must_change_password
    r = c.post("/account/password", data={"current": otp, "new": "zj-new-own-2026", "confirm": "zj-new-own-2026",
                                          "csrf_token": token})
    assert r.status_code == 302
    assert c.get("/").status_code == 200
    assert not by_name("zj-new").must_change_password


def test_deactivating_ends_an_open_session_at_its_next_request(app):
    victim = _client(app, "zj-finance")
    assert victim.get("/").status_code == 200
    admin = _client(app, "admin")
    uid = by_name("zj-finance").id
    r = admin.post(f"/admin/users/{uid}/active", data={"active": "0", "csrf_token": csrf(admin, f"/admin/users/{uid}")})
    assert r.status_code == 302
    r = victim.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "已停用" in page and 'id="reactivate"' in page
    admin.post(f"/admin/users/{uid}/active", data={"active": "1", "csrf_token": csrf(admin, f"/admin/users/{uid}")})
    assert by_name("zj-finance").active
    assert victim.get("/").status_code == 302  # the ended session stays ended


def test_an_administrator_cannot_deactivate_itself_in_the_page(app):
    admin = _client(app, "admin")
    uid = by_name("admin").id
    r = admin.post(f"/admin/users/{uid}/active", data={"active": "0", "csrf_token": csrf(admin, "/")})
    assert r.status_code == 403 and by_name("admin").active
    assert "不能停用自己的账号" in r.get_data(as_text=True)
    assert admin.get("/").status_code == 200


def test_reset_asks_for_confirmation_and_shows_the_password_once(app):
    admin = _client(app, "admin")
    uid = by_name("zj-data").id
    token = csrf(admin, f"/admin/users/{uid}")
    r = admin.post(f"/admin/users/{uid}/reset-password", data={"csrf_token": token})
    assert r.status_code == 302
    assert _client(app, "zj-data")  # unconfirmed: the password still works
    r = admin.post(f"/admin/users/{uid}/reset-password", data={"csrf_token": token, "confirm": "1"})
    otp = OTP.search(r.get_data(as_text=True)).group(1)
    assert r.headers["Cache-Control"] == "no-store"
    assert browser_login(fresh_client(app), "zj-data", otp).status_code == 302


def test_role_and_scope_form(app):
    admin = _client(app, "admin")
    uid = by_name("zj-samr").id
    token = csrf(admin, f"/admin/users/{uid}")
    r = admin.post(f"/admin/users/{uid}", data={"role": "co_department_reviewer", "province": "330000",
                                                "department": "", "csrf_token": token})
    assert r.status_code == 422 and "请选择部门" in r.get_data(as_text=True)
    r = admin.post(f"/admin/users/{uid}", data={"role": "co_department_reviewer", "province": "330000",
                                                "department": "data", "csrf_token": token})
    assert r.status_code == 302 and by_name("zj-samr").department == "data"


def test_a_provincial_admin_sees_and_changes_only_its_province(app):
    admin = _client(app, "admin")
    otp = _create(admin, username="zj-people", role="provincial_admin", province="330000")
    with unit_of_work():
        by_name("zj-people").must_change_password = False
    pa = _client(app, "zj-people", otp)
    page = pa.get("/admin/users/").get_data(as_text=True)
    assert "zj-reviewer" in page and "sd-reviewer" not in page and ">admin<" not in page
    r = pa.get(f"/admin/users/{by_name('sd-reviewer').id}")
    assert r.status_code == 404 and "不在您的管理范围内" in r.get_data(as_text=True)
    assert "no such" not in r.get_data(as_text=True)
    assert pa.get(f"/admin/users/{by_name('admin').id}").status_code == 404
    zj = by_name("zj-reviewer").id
    r = pa.post(f"/admin/users/{zj}", data={"role": "admin", "csrf_token": csrf(pa, f"/admin/users/{zj}")})
    assert r.status_code == 403 and by_name("zj-reviewer").role == "provincial_reviewer"
    new = pa.get("/admin/users/new").get_data(as_text=True)
    assert 'value="admin"' not in new and 'value="370000"' not in new


def test_my_sessions_can_be_ended_from_another(app):
    one, two = _client(app, "zj-data"), _client(app, "zj-data")
    page = one.get("/account").get_data(as_text=True)
    ids = re.findall(r'/account/sessions/(\d+)/revoke', page)
    assert len(ids) == 1  # the other session; this one is marked, not offered
    r = one.post(f"/account/sessions/{ids[0]}/revoke", data={"csrf_token": csrf(one, "/account")})
    assert r.status_code == 302
    assert two.get("/").status_code == 302 and one.get("/").status_code == 200
    samr = _client(app, "zj-samr")
    assert samr.post(f"/account/sessions/{ids[0]}/revoke", data={"csrf_token": csrf(samr, "/")}).status_code == 404


def test_logout_ends_the_session_row(app):
    c = _client(app, "zj-data")
    cookie = c.get_cookie("session")
    c.post("/logout", data={"csrf_token": csrf(c, "/")})
    thief = fresh_client(app)
    thief.set_cookie("session", cookie.value)
    assert thief.get("/").status_code == 302


# --- flask users create-admin --------------------------------------------------------------------------------------

def test_create_admin_from_stdin_and_prompt(app):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["users", "create-admin", "root-1", "--password-stdin"], input="short\n")
    assert r.exit_code == 1 and "at least 10 characters" in r.output and by_name("root-1") is None
    r = runner.invoke(args=["users", "create-admin", "root-1", "--password-stdin"], input="root-one-secret-26\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["users", "create-admin", "root-1", "--password-stdin"], input="root-one-secret-26\n")
    assert r.exit_code == 1 and "taken" in r.output
    r = runner.invoke(args=["users", "create-admin", "root-2"], input="root-two-secret-26\nroot-two-secret-26\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["users", "create-admin", "root-3"], input="root-3-secret-26\nsomething-else-26\n"
                      "root-3-secret-26\nroot-3-secret-26\n")
    assert r.exit_code == 0 and "do not match" in r.output
    assert by_name("root-2").role == "admin" and browser_login(fresh_client(app), "root-1",
                                                              "root-one-secret-26").status_code == 302


def test_create_admin_on_an_empty_database(tmp_path):
    """After `flask db upgrade` alone (no demo): the first administrator, who can then log in."""
    from flask_migrate import upgrade

    from app import create_app

    empty = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "TESTING": True,
                        "SECRET_KEY": "t", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with empty.app_context():  # (the test's own app context is open: the command runs in this one)
        upgrade(revision="heads")
        r = empty.test_cli_runner().invoke(args=["users", "create-admin", "first", "--password-stdin"],
                                           input="first-admin-secret\n")
        assert r.exit_code == 0, r.output
        r = browser_login(fresh_client(empty), "first", "first-admin-secret")
        assert r.status_code == 302
        from app.extensions import db
        from app.services import system_events

        assert system_events.verify()[0]
        db.session.remove()
