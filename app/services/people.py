"""People: administrators (and a provincial administrator within its province) create, find, change, deactivate and
reactivate accounts, reset passwords (a one-time password the user must change at its next login) and unlock
throttled accounts; every user changes its own password. Every change is a system-chain event with its actor and
the account's fields before and after.

Who manages whom:
- `admin`: every account; never deactivates itself, and the last active administrator stays one.
- `provincial_admin`: the accounts of its own province with the roles in `PROVINCIAL_ROLES` (enterprises of the
  province, provincial and co-department reviewers); it cannot give any other role or province. Any other account
  does not exist for it (404), a value it may not give is refused (403).

One-time passwords are 16 random characters (~79 bits) and stored with `settings().otp_hash_method`, a cheap hash
(key stretching protects guessable passwords, not random ones), so thousands of accounts are created in seconds;
the user's own password gets the full `password_hash_method`.
"""
import re
import secrets

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import DEPARTMENTS, ROLES, Enterprise, Region, SoeGroup, User
from app.services import accounts, clock, sessions, system_events
from app.settings import settings

MANAGERS = ("admin", "provincial_admin")
PROVINCIAL_ROLES = ("enterprise", "provincial_reviewer", "co_department_reviewer")
PROVINCE_ROLES = ("provincial_reviewer", "co_department_reviewer", "provincial_admin")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}")
OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand
PAGE = 50


def one_time_password() -> str:
    raw = "".join(secrets.choice(OTP_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def _otp_hash(otp: str) -> str:
    return generate_password_hash(otp, method=settings().otp_hash_method)


# --- who may do what --------------------------------------------------------------------------------------------

def require_manager(actor: User) -> None:
    if actor is None or actor.role not in MANAGERS:
        raise Forbidden("only an administrator manages accounts")


def province_of(user: User) -> str | None:
    """The province an account belongs to (an enterprise account: its enterprise's)."""
    if user.role == "enterprise" and user.enterprise is not None:
        return user.enterprise.province_code
    return user.province_code


def can_manage(actor: User, target: User) -> bool:
    if actor.role == "admin":
        return True
    if actor.role == "provincial_admin":
        return target.role in PROVINCIAL_ROLES and province_of(target) == actor.province_code
    return False


def get_user(actor: User, user_id: int) -> User:
    require_manager(actor)
    target = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if target is None or not can_manage(actor, target):
        raise NotFound("no such user")
    return target


def _check_grant(actor: User, fields: dict) -> None:
    """May the actor give these role and scope values?"""
    if actor.role == "admin":
        return
    if fields["role"] not in PROVINCIAL_ROLES:
        raise Forbidden("a provincial administrator manages enterprise, provincial and co-department accounts only",
                        errors={"role": "not allowed"})
    if fields["_province"] != actor.province_code:
        raise Forbidden("a provincial administrator manages the accounts of its own province only",
                        errors={"province": "not allowed"})


# --- role and scope ---------------------------------------------------------------------------------------------

def _enterprise(value) -> Enterprise | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return db.session.get(Enterprise, value)
    if isinstance(value, str) and value.strip():
        return db.session.scalar(select(Enterprise).where(Enterprise.credit_code == value.strip().upper()))
    return None


def scope_fields(role, province=None, department=None, soe_group=None, enterprise=None, expertise=None) -> dict:
    """The user columns for a role and its scope values; Invalid naming each missing or unknown value."""
    if role not in ROLES:
        raise Invalid("unknown role", errors={"role": "one of " + ", ".join(ROLES)})
    out = {"role": role, "province_code": None, "department": None, "soe_group_key": None, "enterprise_id": None,
           "_province": None}
    if role in PROVINCE_ROLES or (role == "expert" and province):
        region = db.session.get(Region, province) if isinstance(province, str) else None
        if region is None or region.kind not in ("province", "xpcc"):
            raise Invalid("a province is required (GB/T 2260 code)", errors={"province": "unknown province"})
        out["province_code"] = out["_province"] = region.code
    if role == "co_department_reviewer":
        if department not in DEPARTMENTS:
            raise Invalid("a department is required", errors={"department": "one of " + ", ".join(DEPARTMENTS)})
        out["department"] = department
    if role == "soe_reviewer":
        if not isinstance(soe_group, str) or db.session.get(SoeGroup, soe_group) is None:
            raise Invalid("an SOE group is required", errors={"soe_group": "unknown SOE group"})
        out["soe_group_key"] = soe_group
    if role == "enterprise":
        ent = _enterprise(enterprise)
        if ent is None:
            raise Invalid("an enterprise is required (credit code)", errors={"enterprise": "unknown enterprise"})
        out["enterprise_id"] = ent.id
        out["_province"] = ent.province_code
    if role == "expert" and expertise is not None:
        if not isinstance(expertise, list) or not all(isinstance(x, str) for x in expertise):
            raise Invalid("expertise is a list of industries", errors={"expertise": "a list of strings"})
        out["expertise"] = expertise
    return out


def snapshot(user: User) -> dict:
    """What the system chain records of an account (never a password hash)."""
    return {"username": user.username, "role": user.role, "province": user.province_code,
            "department": user.department, "soe_group": user.soe_group_key, "enterprise_id": user.enterprise_id,
            "active": bool(user.active), "must_change_password": bool(user.must_change_password)}


def _record(actor: User | None, action: str, user: User, before: dict | None, extra: dict | None = None) -> None:
    data = {"before": before, "after": snapshot(user)}
    if extra:
        data.update(extra)
    system_events.append(actor.id if actor else None, action, user.username, data)


def _check_username(username) -> str:
    if not isinstance(username, str) or not USERNAME.fullmatch(username.strip()):
        raise Invalid("a username is 2 to 64 letters, digits or . _ @ -", errors={"username": "invalid"})
    username = username.strip()
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("this username is taken", errors={"username": "taken"})
    return username


# --- creating accounts ------------------------------------------------------------------------------------------

def create_account(actor: User, *, username, role, province=None, department=None, soe_group=None,
                   enterprise=None, expertise=None) -> tuple[User, str]:
    """A new account with a one-time password (returned once, never stored in clear) it must change at login."""
    require_manager(actor)
    fields = scope_fields(role, province, department, soe_group, enterprise, expertise)
    _check_grant(actor, fields)
    username = _check_username(username)
    otp = one_time_password()
    user = User(username=username, password_hash=_otp_hash(otp), active=True, must_change_password=True,
                created_at=clock.now(), expertise=fields.pop("expertise", []))
    fields.pop("_province")
    for k, v in fields.items():
        setattr(user, k, v)
    db.session.add(user)
    db.session.flush()
    _record(actor, "user.created", user, None)
    return user, otp


def create_enterprise_accounts(actor: User, enterprise_ids) -> list[tuple[str, str]]:
    """One enterprise account per enterprise (username = its credit code), each with a one-time password; an
    enterprise whose credit code is already a username is skipped. Rows go in by one executemany and the system
    chain gets one event naming every account, so thousands of rows take seconds (the hash is the cheap OTP one)."""
    require_manager(actor)
    try:
        ids = sorted({int(i) for i in enterprise_ids})
    except (TypeError, ValueError):
        raise Invalid("enterprise ids are integers", errors={"enterprise_ids": "integers"}) from None
    ents = []
    for chunk in range(0, len(ids), 500):
        ents += db.session.execute(select(Enterprise.id, Enterprise.credit_code, Enterprise.province_code)
                                   .where(Enterprise.id.in_(ids[chunk:chunk + 500]))).all()
    missing = sorted(set(ids) - {e.id for e in ents})
    if missing:
        raise Invalid("unknown enterprises", errors={"enterprise_ids": missing[:20]})
    if actor.role == "provincial_admin":
        outside = [e.credit_code for e in ents if e.province_code != actor.province_code]
        if outside:
            raise Forbidden("a provincial administrator manages the accounts of its own province only",
                            errors={"enterprises": outside[:20]})
    taken = set()
    codes = [e.credit_code for e in ents]
    for chunk in range(0, len(codes), 500):
        taken |= set(db.session.scalars(select(User.username).where(User.username.in_(codes[chunk:chunk + 500]))))
    now = clock.now()
    rows, out = [], []
    for e in sorted(ents, key=lambda e: e.credit_code):
        if e.credit_code in taken:
            continue
        otp = one_time_password()
        rows.append({"username": e.credit_code, "password_hash": _otp_hash(otp), "role": "enterprise",
                     "enterprise_id": e.id, "active": True, "must_change_password": True, "created_at": now,
                     "expertise": []})
        out.append((e.credit_code, otp))
    if rows:
        db.session.execute(insert(User), rows)
        system_events.append(actor.id, "users.created", f"{len(rows)} enterprise accounts", {
            "before": None, "after": {"role": "enterprise", "usernames": [r["username"] for r in rows]}})
    return out


def create_admin(username, password) -> User:
    """The first administrator (the `users create-admin` command): the password policy applies, an existing
    username is refused."""
    username = _check_username(username)
    accounts.check_password(password, username)
    user = User(username=username, role="admin", active=True, must_change_password=False, created_at=clock.now(),
                password_hash=generate_password_hash(password, method=settings().password_hash_method),
                expertise=[])
    db.session.add(user)
    db.session.flush()
    _record(None, "user.created", user, None, {"via": "command line"})
    return user


# --- changing accounts ------------------------------------------------------------------------------------------

def _active_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin",
                                                                          User.active.is_(True)))


SCOPE_KEYS = ("role", "province", "department", "soe_group", "enterprise", "expertise")


def update_user(actor: User, user_id: int, changes: dict) -> User:
    """Change role and scope (`role`, `province`, `department`, `soe_group`, `enterprise`, `expertise`) and/or
    `active`. A deactivated user's sessions and tokens end at once."""
    target = get_user(actor, user_id)
    if not isinstance(changes, dict):
        raise Invalid("the changes must be an object", errors={"body": "an object"})
    unknown = sorted(set(changes) - set(SCOPE_KEYS) - {"active"})
    if unknown:
        raise Invalid("unknown fields: " + ", ".join(unknown), errors={k: "unknown field" for k in unknown})
    before = snapshot(target)
    if any(k in changes for k in SCOPE_KEYS):
        current = {"role": target.role, "province": target.province_code, "department": target.department,
                   "soe_group": target.soe_group_key, "enterprise": target.enterprise_id,
                   "expertise": target.expertise}
        merged = {**current, **{k: changes[k] for k in SCOPE_KEYS if k in changes}}
        fields = scope_fields(merged["role"], merged["province"], merged["department"], merged["soe_group"],
                              merged["enterprise"], merged["expertise"] if merged["role"] == "expert" else None)
        _check_grant(actor, fields)
        fields.pop("_province")
        if target.id == actor.id and fields["role"] != actor.role:
            raise Forbidden("nobody changes their own role", errors={"role": "your own"})
        if target.role == "admin" and fields["role"] != "admin" and target.active and _active_admins() <= 1:
            raise Conflict("the last active administrator keeps the role", errors={"role": "last administrator"})
        for k, v in fields.items():
            setattr(target, k, v)
    action = "user.changed"
    if "active" in changes:
        active = changes["active"]
        if not isinstance(active, bool):
            raise Invalid("active is true or false", errors={"active": "a boolean"})
        if not active and target.active:
            if target.id == actor.id:
                raise Forbidden("you cannot deactivate yourself", errors={"active": "your own account"})
            if target.role == "admin" and _active_admins() <= 1:
                raise Conflict("the last active administrator cannot be deactivated",
                               errors={"active": "last administrator"})
            target.active = False
            sessions.revoke_all(target)
            action = "user.deactivated"
        elif active and not target.active:
            target.active = True
            action = "user.reactivated"
    if snapshot(target) != before:
        db.session.flush()
        _record(actor, action, target, before)
    return target


def reset_password(actor: User, user_id: int) -> str:
    """A new one-time password (returned once); the user's sessions and tokens end, and it must change the
    password at its next login."""
    target = get_user(actor, user_id)
    if target.id == actor.id:
        raise Forbidden("change your own password on your account page (POST /me/password)",
                        errors={"user": "your own account"})
    before = snapshot(target)
    otp = one_time_password()
    target.password_hash = _otp_hash(otp)
    target.must_change_password = True
    sessions.revoke_all(target)
    db.session.flush()
    _record(actor, "user.password_reset", target, before)
    return otp


def unlock(actor: User, user_id: int) -> None:
    """Forget the account's failed logins (the throttle of services/accounts.py); an address's failures stay."""
    target = get_user(actor, user_id)
    accounts.record_success(target.username)
    _record(actor, "user.unlocked", target, snapshot(target))


def change_password(user: User, current, new, keep_session: int | None = None,
                    keep_token: int | None = None) -> None:
    """The user's own password: the current one must be right, the new one meet the policy and differ; every other
    session and token of the user ends (the ones named stay: the session or token making the change)."""
    if not isinstance(current, str) or not check_password_hash(user.password_hash, current):
        raise Invalid("the current password is wrong", errors={"current": "wrong password"})
    problems = accounts.password_problems(new, user.username)
    if not problems and new == current:
        problems = ["must differ from the current password"]
    if problems:
        raise Invalid("the password does not meet the policy: " + "; ".join(problems),
                      errors={"new": problems})
    before = snapshot(user)
    user.password_hash = generate_password_hash(new, method=settings().password_hash_method)
    user.must_change_password = False
    ended = sessions.revoke_all(user, keep_session=keep_session, keep_token=keep_token)
    db.session.flush()
    _record(user, "user.password_changed", user, before, {"sessions_ended": ended})


# --- finding accounts -------------------------------------------------------------------------------------------

def _bool(value):
    if value is None or value == "" or isinstance(value, bool):
        return value if value != "" else None
    v = str(value).lower()
    if v in ("1", "true", "yes"):
        return True
    if v in ("0", "false", "no"):
        return False
    raise Invalid("active is true or false", errors={"active": "true or false"})


def list_users(actor: User, q=None, role=None, region=None, department=None, soe_group=None, active=None,
               page: int = 1) -> tuple[list[User], int]:
    """The accounts the actor manages, filtered; `q` matches the username, an enterprise's name or credit code;
    `region` is a province code (an enterprise account by its enterprise's province)."""
    require_manager(actor)
    province = func.coalesce(User.province_code, Enterprise.province_code)
    stmt = select(User).outerjoin(Enterprise, Enterprise.id == User.enterprise_id)
    if actor.role == "provincial_admin":
        stmt = stmt.where(User.role.in_(PROVINCIAL_ROLES), province == actor.province_code)
    if q:
        like = "%" + str(q).strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(User.username.ilike(like, escape="\\"), Enterprise.name.ilike(like, escape="\\"),
                              Enterprise.credit_code.ilike(like, escape="\\")))
    if role:
        stmt = stmt.where(User.role == str(role))
    if region:
        stmt = stmt.where(province == str(region))
    if department:
        stmt = stmt.where(User.department == str(department))
    if soe_group:
        stmt = stmt.where(User.soe_group_key == str(soe_group))
    active = _bool(active)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(db.session.scalars(stmt.options(selectinload(User.enterprise), selectinload(User.province))
                                   .order_by(User.username).offset((max(1, page) - 1) * PAGE).limit(PAGE)))
    return rows, total


def user_json(user: User, locked: bool | None = None) -> dict:
    out = {"id": user.id, "username": user.username, "role": user.role, "province": province_of(user),
           "department": user.department, "soe_group": user.soe_group_key, "enterprise_id": user.enterprise_id,
           "enterprise": user.enterprise.credit_code if user.enterprise else None, "active": bool(user.active),
           "must_change_password": bool(user.must_change_password), "created_at": user.created_at.isoformat()}
    if locked is not None:
        out["locked"] = locked
    return out


def provinces() -> list[dict]:
    """The provinces (and XPCC) an account can belong to, for the pages' choices."""
    return [{"code": r.code, "name_zh": r.name_zh, "name_en": r.name_en} for r in db.session.scalars(
        select(Region).where(Region.kind.in_(("province", "xpcc"))).order_by(Region.code))]


def soe_groups() -> list[dict]:
    return [{"key": g.key, "name": g.name} for g in db.session.scalars(select(SoeGroup).order_by(SoeGroup.key))]
