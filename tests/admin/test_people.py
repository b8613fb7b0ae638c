"""People (issue 14): the accounts service on the real database, with the hostile cases first: a provincial
administrator reaching outside its province or above its role, an administrator locking everyone out, a deactivated
user's session and token, a wrong or weak password."""
import pytest
from sqlalchemy import func, select, text
from werkzeug.security import check_password_hash

from app.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from app.extensions import db
from app.models import Enterprise, SystemEvent, User
from app.services import accounts, auth, people, sessions, system_events
from app.uow import unit_of_work
from tests.admin.test_people_support import by_name, people_cleanup
from tests.conftest import allow_event_writes


@pytest.fixture(autouse=True)
def _people(db_context):
    allow_event_writes()
    db.session.execute(text("DELETE FROM system_events"))  # the demo load's (every test's are deleted after it)
    db.session.execute(text("DELETE FROM audit_maintenance"))
    db.session.commit()
    with people_cleanup():
        yield


def _events(action: str) -> list[SystemEvent]:
    return list(db.session.scalars(select(SystemEvent).where(SystemEvent.action == action)
                                   .order_by(SystemEvent.seq)))


def _create(actor, **kw) -> tuple[User, str]:
    with unit_of_work():
        return people.create_account(actor, **kw)


@pytest.fixture
def zj_admin():
    user, _otp = _create(by_name("admin"), username="zj-people", role="provincial_admin", province="330000")
    return user


# --- creating -----------------------------------------------------------------------------------------------

def test_admin_creates_an_account_with_a_one_time_password():
    user, otp = _create(by_name("admin"), username="zj-new", role="provincial_reviewer", province="330000")
    assert user.must_change_password and user.active and user.scope == "province:330000"
    assert auth.authenticate("zj-new", otp).id == user.id
    assert not accounts.password_problems(otp, "zj-new")
    (ev,) = _events("user.created")
    assert ev.actor_id == by_name("admin").id and ev.subject == "zj-new"
    assert ev.data["before"] is None and ev.data["after"]["role"] == "provincial_reviewer"
    assert "password_hash" not in str(ev.data) and otp not in str(ev.data)
    assert system_events.verify()[0]


@pytest.mark.parametrize("kw, field", [
    ({"username": "admin", "role": "auditor"}, "username"),
    ({"username": "x", "role": "auditor"}, "username"),
    ({"username": "ok-name", "role": "root"}, "role"),
    ({"username": "ok-name", "role": "provincial_reviewer"}, "province"),
    ({"username": "ok-name", "role": "provincial_reviewer", "province": "330200"}, "province"),  # a city
    ({"username": "ok-name", "role": "co_department_reviewer", "province": "330000", "department": "army"},
     "department"),
    ({"username": "ok-name", "role": "soe_reviewer", "soe_group": "nope"}, "soe_group"),
    ({"username": "ok-name", "role": "enterprise", "enterprise": "91330100MA2B00000X"}, "enterprise"),
])
def test_bad_account_values_are_refused_and_nothing_is_written(kw, field):
    before = db.session.scalar(select(func.count()).select_from(User))
    with pytest.raises((Invalid, Conflict)) as exc:
        _create(by_name("admin"), **kw)
    assert field in exc.value.errors
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    assert not _events("user.created")


@pytest.mark.parametrize("who", ["zj-reviewer", "auditor", "acme", "miit-1", "expert-7"])
def test_only_administrators_manage_accounts(who):
    actor = by_name(who)
    with pytest.raises(Forbidden):
        _create(actor, username="intruder", role="admin")
    with pytest.raises(Forbidden):
        people.list_users(actor)
    with pytest.raises(Forbidden):
        people.update_user(actor, by_name("acme").id, {"active": False})
    with pytest.raises(Forbidden):
        people.reset_password(actor, by_name("acme").id)
    assert by_name("intruder") is None and by_name("acme").active


# --- the provincial administrator -----------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [
    {"role": "admin"},
    {"role": "provincial_admin", "province": "330000"},
    {"role": "expert", "province": "330000"},
    {"role": "auditor"},
    {"role": "provincial_reviewer", "province": "370000"},
    {"role": "enterprise", "enterprise": "91370200MA3C000040"},  # a Shandong enterprise
])
def test_a_provincial_admin_creates_nothing_outside_its_province_and_roles(zj_admin, kw):
    with pytest.raises(Forbidden):
        _create(zj_admin, username="pa-made", **kw)
    assert by_name("pa-made") is None


def test_a_provincial_admin_creates_its_provinces_reviewers_and_enterprises(zj_admin):
    rev, _ = _create(zj_admin, username="zj-rev-2", role="provincial_reviewer", province="330000")
    co, _ = _create(zj_admin, username="zj-ndrc-2", role="co_department_reviewer", province="330000",
                    department="ndrc")
    ent, _ = _create(zj_admin, username="acme-2", role="enterprise", enterprise="91330100MA2B000018")
    assert (rev.scope, co.scope, ent.role) == ("province:330000", "province:330000:ndrc", "enterprise")


def test_a_provincial_admin_cannot_reach_other_accounts(zj_admin):
    for other in ("sd-reviewer", "qingdao-home", "admin", "expert-8", "auditor", "sinopec-reviewer"):
        uid = by_name(other).id
        with pytest.raises(NotFound):
            people.update_user(zj_admin, uid, {"active": False})
        with pytest.raises(NotFound):
            people.reset_password(zj_admin, uid)
        with pytest.raises(NotFound):
            people.unlock(zj_admin, uid)
    with pytest.raises(NotFound):  # itself: not an account it manages, so its own role stays
        people.update_user(zj_admin, zj_admin.id, {"role": "admin"})
    assert by_name("admin").active and by_name("sd-reviewer").active
    assert by_name("zj-people").role == "provincial_admin"


def test_a_provincial_admin_cannot_promote_or_move_its_own_accounts(zj_admin):
    uid = by_name("zj-reviewer").id
    with pytest.raises(Forbidden):
        people.update_user(zj_admin, uid, {"role": "admin"})
    db.session.rollback()
    with pytest.raises(Forbidden):
        people.update_user(zj_admin, uid, {"province": "370000"})
    db.session.rollback()
    with pytest.raises(Forbidden):
        people.update_user(zj_admin, uid, {"role": "expert"})
    db.session.rollback()
    u = by_name("zj-reviewer")
    assert (u.role, u.province_code) == ("provincial_reviewer", "330000")


def test_a_provincial_admin_changes_and_deactivates_its_provinces_accounts(zj_admin):
    uid = by_name("zj-reviewer").id
    with unit_of_work():
        people.update_user(zj_admin, uid, {"role": "co_department_reviewer", "department": "finance"})
    assert by_name("zj-reviewer").scope == "province:330000:finance"
    with unit_of_work():
        people.update_user(zj_admin, by_name("acme").id, {"active": False})
    assert not by_name("acme").active
    (ev,) = _events("user.changed")
    assert ev.data["before"]["role"] == "provincial_reviewer" and ev.data["after"]["department"] == "finance"


def test_a_provincial_admin_lists_only_its_province(zj_admin):
    rows, total = people.list_users(zj_admin)
    names = {u.username for u in rows}
    assert {"zj-reviewer", "zj-ndrc", "acme", "ningbo-parts"} <= names
    assert not names & {"sd-reviewer", "qingdao-home", "admin", "expert-8", "zj-people", "sinopec-reviewer"}
    assert total == len(rows)


# --- finding --------------------------------------------------------------------------------------------------

def test_admin_filters_by_role_region_active_and_search():
    admin = by_name("admin")
    rows, _ = people.list_users(admin, role="co_department_reviewer", region="330000")
    assert {u.username for u in rows} == {"zj-ndrc", "zj-finance", "zj-sasac", "zj-samr", "zj-data"}
    rows, _ = people.list_users(admin, region="370000")
    assert {u.username for u in rows} == {"sd-reviewer", "qingdao-home"}  # an enterprise by its enterprise
    ent = db.session.get(Enterprise, by_name("acme").enterprise_id)
    rows, _ = people.list_users(admin, q=ent.name[2:6])
    assert "acme" in {u.username for u in rows}
    rows, _ = people.list_users(admin, q="%")
    assert rows == []  # a wildcard is a character, not a pattern
    with unit_of_work():
        people.update_user(admin, by_name("sd-reviewer").id, {"active": False})
    rows, _ = people.list_users(admin, active="false")
    assert [u.username for u in rows] == ["sd-reviewer"]
    with pytest.raises(Invalid):
        people.list_users(admin, active="maybe")


# --- deactivating ------------------------------------------------------------------------------------------------

def test_a_deactivated_users_session_and_token_stop_at_once():
    target = by_name("zj-reviewer")
    with unit_of_work():
        sid = sessions.open_session(target, 3600)
        token = auth.issue_token(target)
    assert sessions.user_for_session(target.id, sid) is not None and auth.user_for_token(token) is not None
    with unit_of_work():
        people.update_user(by_name("admin"), target.id, {"active": False})
    assert sessions.user_for_session(target.id, sid) is None
    assert auth.user_for_token(token) is None
    with pytest.raises(Unauthorized):
        auth.authenticate("zj-reviewer", "zj-demo-2026")
    with unit_of_work():
        people.update_user(by_name("admin"), target.id, {"active": True})
    assert auth.authenticate("zj-reviewer", "zj-demo-2026").id == target.id
    assert sessions.user_for_session(target.id, sid) is None  # ended sessions stay ended
    assert [e.data["after"]["active"] for e in _events("user.deactivated") + _events("user.reactivated")] == \
        [False, True]


def test_an_administrator_cannot_deactivate_or_demote_itself():
    admin = by_name("admin")
    with pytest.raises(Forbidden):
        people.update_user(admin, admin.id, {"active": False})
    db.session.rollback()
    with pytest.raises(Forbidden):
        people.update_user(admin, admin.id, {"role": "auditor"})
    db.session.rollback()
    assert by_name("admin").active and by_name("admin").role == "admin"


def test_the_last_active_administrator_stays(monkeypatch):
    admin = by_name("admin")
    second, _ = _create(admin, username="admin-2", role="admin")
    with unit_of_work():
        people.update_user(second, admin.id, {"active": False})  # two active: allowed
    assert not by_name("admin").active
    with pytest.raises(Forbidden):
        people.update_user(second, second.id, {"active": False})
    db.session.rollback()
    # the rule itself, reached by an administrator account that is already inactive (a stale actor)
    stale = by_name("admin")
    with pytest.raises(Conflict):
        people.update_user(stale, second.id, {"active": False})
    db.session.rollback()
    with pytest.raises(Conflict):
        people.update_user(stale, second.id, {"role": "auditor"})
    db.session.rollback()
    assert by_name("admin-2").active and by_name("admin-2").role == "admin"


def test_unknown_or_bad_changes_are_refused():
    uid = by_name("zj-reviewer").id
    for changes, field in (({"password_hash": "x"}, "password_hash"), ({"active": "no"}, "active"),
                           ({"role": "enterprise"}, "enterprise")):
        with pytest.raises(Invalid) as exc:
            people.update_user(by_name("admin"), uid, changes)
        assert field in exc.value.errors
        db.session.rollback()
    with pytest.raises(NotFound):
        people.update_user(by_name("admin"), 987654, {"active": False})


# --- passwords -----------------------------------------------------------------------------------------------

def test_reset_gives_a_one_time_password_and_ends_sessions():
    target = by_name("zj-ndrc")
    with unit_of_work():
        sid = sessions.open_session(target, 3600)
        token = auth.issue_token(target)
    with unit_of_work():
        otp = people.reset_password(by_name("admin"), target.id)
    with pytest.raises(Unauthorized):
        auth.authenticate("zj-ndrc", "zj-ndrc-demo-2026")
    user = auth.authenticate("zj-ndrc", otp)
    assert user.must_change_password
    assert sessions.user_for_session(target.id, sid) is None and auth.user_for_token(token) is None
    (ev,) = _events("user.password_reset")
    assert ev.data["after"]["must_change_password"] and otp not in str(ev.data)


def test_an_administrator_does_not_reset_its_own_password():
    admin = by_name("admin")
    with pytest.raises(Forbidden):
        people.reset_password(admin, admin.id)
    assert not by_name("admin").must_change_password


def test_change_password_checks_the_current_one_and_the_policy():
    me = by_name("zj-finance")
    with pytest.raises(Invalid) as exc:
        people.change_password(me, "wrong", "a-fine-new-secret")
    assert "current" in exc.value.errors
    for weak, problem in (("short", "at least 10 characters"), ("1234567890", "too common or too simple"),
                          ("zj-finance", "must not be the username"),
                          ("zj-finance-demo-2026", "must differ from the current password")):
        with pytest.raises(Invalid) as exc:
            people.change_password(me, "zj-finance-demo-2026", weak)
        assert problem in exc.value.errors["new"], weak
        assert problem in exc.value.message
    db.session.rollback()
    assert check_password_hash(by_name("zj-finance").password_hash, "zj-finance-demo-2026")


def test_change_password_ends_the_other_sessions_and_tokens():
    me = by_name("zj-samr")
    with unit_of_work():
        mine = sessions.open_session(me, 3600)
        other = sessions.open_session(me, 3600)
        tok = auth.issue_token(me)
        otp = people.reset_password(by_name("admin"), me.id)
    with unit_of_work():
        mine = sessions.open_session(me, 3600)  # the reset ended both; log in again with the one-time password
        other = sessions.open_session(me, 3600)
        tok = auth.issue_token(me)
    with unit_of_work():
        people.change_password(me, otp, "my-own-secret-2026", keep_session=sessions.session_id(mine))
    assert sessions.user_for_session(me.id, mine) is not None
    assert sessions.user_for_session(me.id, other) is None and auth.user_for_token(tok) is None
    assert not by_name("zj-samr").must_change_password
    assert auth.authenticate("zj-samr", "my-own-secret-2026")
    (ev,) = _events("user.password_changed")
    assert ev.actor_id == me.id and ev.data["sessions_ended"] == 2


def test_unlock_forgets_the_failed_logins():
    for _ in range(5):
        accounts.record_failure("zj-data", "10.0.0.1")
    db.session.commit()
    with pytest.raises(accounts.Throttled):
        accounts.check_throttle("zj-data", "10.0.0.2")
    assert accounts.locked_usernames(["zj-data", "zj-samr"]) == {"zj-data"}
    with unit_of_work():
        people.unlock(by_name("admin"), by_name("zj-data").id)
    accounts.check_throttle("zj-data", "10.0.0.2")
    assert len(_events("user.unlocked")) == 1


def test_own_sessions_and_tokens_are_listed_and_revoked_by_their_owner_only():
    me, other = by_name("zj-data"), by_name("zj-samr")
    with unit_of_work():
        sid = sessions.open_session(me, 3600, "10.1.1.1", "Firefox")
        tok = auth.issue_token(me)
    (s,) = sessions.active_sessions(me)
    (t,) = sessions.active_tokens(me)
    with pytest.raises(NotFound):
        sessions.revoke_session(other, s.id)
    with pytest.raises(NotFound):
        sessions.revoke_token(other, t.id)
    with unit_of_work():
        sessions.revoke_session(me, s.id)
        sessions.revoke_token(me, t.id)
    assert sessions.user_for_session(me.id, sid) is None and auth.user_for_token(tok) is None
    assert sessions.active_sessions(me) == [] and sessions.active_tokens(me) == []


def test_an_expired_session_ends(clock):
    me = by_name("zj-data")
    with unit_of_work():
        sid = sessions.open_session(me, 3600)
    assert sessions.user_for_session(me.id, sid) is not None
    assert sessions.user_for_session(me.id + 1, sid) is None  # a cookie's user id must match its session
    clock.advance(hours=1, seconds=1)
    assert sessions.user_for_session(me.id, sid) is None


# --- bulk enterprise accounts and the first administrator ----------------------------------------------------------

def test_bulk_enterprise_accounts_are_fast_one_time_and_skip_existing():
    admin = by_name("admin")
    keep = db.session.scalar(select(func.max(Enterprise.id)))
    rows = [{"credit_code": f"9133010000{i:07d}X"[:18], "name": f"批量企业{i}", "legal_person": True,
             "industry": "equipment", "province_code": "330000", "declarations": {}} for i in range(1500)]
    db.session.execute(Enterprise.__table__.insert(), rows)
    db.session.commit()
    ids = list(db.session.scalars(select(Enterprise.id).where(Enterprise.id > keep)))
    try:
        with unit_of_work():
            out = people.create_enterprise_accounts(admin, ids)
        assert len(out) == 1500 and len({u for u, _ in out}) == 1500
        username, otp = out[7]
        user = auth.authenticate(username, otp)
        assert user.role == "enterprise" and user.must_change_password and user.enterprise.credit_code == username
        assert user.password_hash.startswith("pbkdf2:sha256:1000$")
        (ev,) = _events("users.created")
        assert len(ev.data["after"]["usernames"]) == 1500
        with unit_of_work():
            assert people.create_enterprise_accounts(admin, ids) == []  # every one exists now
        sd_admin, _ = _create(admin, username="sd-people", role="provincial_admin", province="370000")
        with pytest.raises(Forbidden):
            people.create_enterprise_accounts(sd_admin, ids[:1])
        with pytest.raises(Invalid):
            people.create_enterprise_accounts(admin, [10 ** 9])
    finally:
        db.session.rollback()
        allow_event_writes()
        db.session.execute(text("DELETE FROM system_events"))
        db.session.execute(text("DELETE FROM audit_maintenance"))
        db.session.execute(text("DELETE FROM users WHERE enterprise_id > :k"), {"k": keep})
        db.session.execute(text("DELETE FROM enterprises WHERE id > :k"), {"k": keep})
        db.session.commit()


def test_create_admin_applies_the_policy_and_refuses_a_taken_name():
    with pytest.raises(Invalid):
        people.create_admin("root-admin", "short")
    with pytest.raises(Conflict):
        people.create_admin("admin", "a-long-enough-secret")
    db.session.rollback()
    with unit_of_work():
        people.create_admin("root-admin", "a-long-enough-secret")
    user = auth.authenticate("root-admin", "a-long-enough-secret")
    assert user.role == "admin" and not user.must_change_password
    (ev,) = _events("user.created")
    assert ev.actor_id is None and ev.data["via"] == "command line"
