"""The expert pool: experts (users with role `expert`) with their expertise (industry keys), home region (a province,
a plan-listed city or the XPCC; a city counts for its province in the draw), declared conflicts (enterprises or
central SOE groups they must never review) and an active flag. services/experts.py draws only active members
without a conflict. Every change is a system event (actor, before, after)."""
import re
import secrets

from sqlalchemy import func, or_, select

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Enterprise, ExpertConflict, HumanTask, Region, SoeGroup, User
from app.services import clock, system_events
from app.services.auth import hash_password
from app.services.campaign_admin import industry_keys

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")
HOME_KINDS = ("province", "plan_city", "xpcc")
MAX_NOTE = 500


def _admin(actor: User) -> None:
    if actor is None or actor.role != "admin":
        raise Forbidden("only an administrator manages the expert pool")


def _expert(expert_id) -> User:
    try:
        user = db.session.get(User, int(expert_id))
    except (TypeError, ValueError):
        user = None
    if user is None or user.role != "expert":
        raise NotFound(f"no expert {expert_id}")
    return user


def home_regions() -> list[Region]:
    """The regions an expert's home may be: provinces, plan-listed cities and the XPCC, by code."""
    return list(db.session.scalars(select(Region).where(Region.kind.in_(HOME_KINDS)).order_by(Region.code)))


def soe_groups() -> list[SoeGroup]:
    return list(db.session.scalars(select(SoeGroup).order_by(SoeGroup.key)))


def _view(user: User, regions: dict, conflicts: int = 0, open_tasks: int = 0) -> dict:
    region = regions.get(user.province_code)
    return {"id": user.id, "username": user.username, "home_region": user.province_code,
            "home_region_name": region.name_zh if region else None,
            "home_region_name_en": region.name_en if region else None,
            "counts_for": (region.province_code or region.code) if region else None,
            "expertise": list(user.expertise or []), "active": user.active,
            "employer_id": user.enterprise_id, "conflicts": conflicts, "open_tasks": open_tasks}


def list_experts(actor: User, q: str = "", industry: str = "", region: str = "", active: str = "") -> list[dict]:
    """Experts filtered by name (`q`), an expertise key, a home region (a province also finds its cities' experts)
    and the active flag ("1"/"0"; anything else: all); by username."""
    _admin(actor)
    query = select(User).where(User.role == "expert").order_by(User.username)
    if q and q.strip():
        query = query.where(User.username.contains(q.strip()[:64], autoescape=True))
    if region:
        cities = select(Region.code).where(Region.province_code == region)
        query = query.where(or_(User.province_code == region, User.province_code.in_(cities)))
    if active in ("1", "0"):
        query = query.where(User.active.is_(active == "1"))
    users = [u for u in db.session.scalars(query) if not industry or industry in (u.expertise or [])]
    ids = [u.id for u in users]
    conflicts = dict(db.session.execute(select(ExpertConflict.expert_id, func.count()).where(
        ExpertConflict.expert_id.in_(ids)).group_by(ExpertConflict.expert_id)).all()) if ids else {}
    load = dict(db.session.execute(select(HumanTask.scope, func.count()).where(
        HumanTask.state == "open", HumanTask.scope.in_([f"expert:{i}" for i in ids]))
        .group_by(HumanTask.scope)).all()) if ids else {}
    regions = {r.code: r for r in home_regions()}
    return [_view(u, regions, conflicts.get(u.id, 0), load.get(f"expert:{u.id}", 0)) for u in users]


def expert_detail(actor: User, expert_id) -> dict:
    _admin(actor)
    user = _expert(expert_id)
    regions = {r.code: r for r in home_regions()}
    rows = db.session.execute(
        select(ExpertConflict, Enterprise.name, Enterprise.credit_code, SoeGroup.name)
        .outerjoin(Enterprise, Enterprise.id == ExpertConflict.enterprise_id)
        .outerjoin(SoeGroup, SoeGroup.key == ExpertConflict.soe_group_key)
        .where(ExpertConflict.expert_id == user.id).order_by(ExpertConflict.id)).all()
    conflicts = [{"id": c.id, "kind": "enterprise" if c.enterprise_id else "soe_group",
                  "enterprise_id": c.enterprise_id, "credit_code": code, "soe_group": c.soe_group_key,
                  "name": ent_name or group_name, "note": c.note, "created_at": c.created_at}
                 for c, ent_name, code, group_name in rows]
    employer = db.session.get(Enterprise, user.enterprise_id) if user.enterprise_id else None
    out = _view(user, regions, len(conflicts))
    out.update(conflict_list=conflicts, employer=employer.name if employer else None,
               employer_credit_code=employer.credit_code if employer else None)
    return out


def _fields(data: dict, errors: dict) -> dict:
    home = str(data.get("home_region") or "").strip()
    region = db.session.get(Region, home) if home else None
    if not home:
        errors["home_region"] = "required"
    elif region is None or region.kind not in HOME_KINDS:
        errors["home_region"] = "a province, a plan-listed city or the XPCC"
    expertise = industry_keys(data.get("expertise"), errors, "expertise")
    if not expertise and "expertise" not in errors:
        errors["expertise"] = "at least one industry"
    employer_id = None
    code = str(data.get("employer") or "").strip().upper()
    if code:
        employer_id = db.session.scalar(select(Enterprise.id).where(Enterprise.credit_code == code))
        if employer_id is None:
            errors["employer"] = "no enterprise has this unified social credit code"
    return {"province_code": home or None, "expertise": expertise, "enterprise_id": employer_id}


def _snapshot(user: User) -> dict:
    return {"home_region": user.province_code, "expertise": list(user.expertise or []),
            "employer_id": user.enterprise_id, "active": user.active}


def create_expert(actor: User, data: dict) -> tuple[User, str]:
    """A new expert with a one-time password (shown once; the expert changes it). Refused whole on any error."""
    _admin(actor)
    errors: dict[str, str] = {}
    username = str(data.get("username") or "").strip()
    if not USERNAME.fullmatch(username):
        errors["username"] = "3 to 64 letters, digits, dots, hyphens or underscores"
    elif db.session.scalar(select(User.id).where(User.username == username)) is not None:
        errors["username"] = "this username is taken"
    fields = _fields(data, errors)
    if errors:
        raise Invalid("the expert was not saved", errors=errors)
    password = secrets.token_urlsafe(12)
    user = User(username=username, role="expert", password_hash=hash_password(password, username), active=True,
                created_at=clock.now(), **fields)
    db.session.add(user)
    db.session.flush()
    system_events.append(actor.id, "expert.created", username, {"before": None, "after": _snapshot(user)})
    return user, password


def update_expert(actor: User, expert_id, data: dict) -> User:
    _admin(actor)
    user = _expert(expert_id)
    errors: dict[str, str] = {}
    fields = _fields(data, errors)
    if errors:
        raise Invalid("the expert was not saved", errors=errors)
    before = _snapshot(user)
    for k, v in fields.items():
        setattr(user, k, v)
    db.session.flush()
    after = _snapshot(user)
    if after != before:
        system_events.append(actor.id, "expert.changed", user.username, {"before": before, "after": after})
    return user


def set_active(actor: User, expert_id, active: bool) -> User:
    """Deactivate (never drawn again, cannot log in; tasks already drawn stay with the expert) or reactivate."""
    _admin(actor)
    user = _expert(expert_id)
    if user.active == bool(active):
        return user
    before = _snapshot(user)
    user.active = bool(active)
    db.session.flush()
    system_events.append(actor.id, "expert.activated" if active else "expert.deactivated", user.username,
                         {"before": before, "after": _snapshot(user)})
    return user


def add_conflict(actor: User, expert_id, data: dict) -> ExpertConflict:
    """Declare a conflict: `enterprise` (a unified social credit code) or `soe_group` (a group key), and a note."""
    _admin(actor)
    user = _expert(expert_id)
    errors: dict[str, str] = {}
    code = str(data.get("enterprise") or "").strip().upper()
    group = str(data.get("soe_group") or "").strip()
    note = str(data.get("note") or "").strip()
    enterprise_id = None
    if bool(code) == bool(group):
        errors["enterprise"] = "give an enterprise or a central SOE group (one of them)"
    elif code:
        enterprise_id = db.session.scalar(select(Enterprise.id).where(Enterprise.credit_code == code))
        if enterprise_id is None:
            errors["enterprise"] = "no enterprise has this unified social credit code"
    elif db.session.get(SoeGroup, group) is None:
        errors["soe_group"] = "no such central SOE group"
    if len(note) > MAX_NOTE:
        errors["note"] = "at most 500 characters"
    if not errors:
        same = select(ExpertConflict.id).where(ExpertConflict.expert_id == user.id)
        same = same.where(ExpertConflict.enterprise_id == enterprise_id) if enterprise_id else \
            same.where(ExpertConflict.soe_group_key == group)
        if db.session.scalar(same) is not None:
            errors["enterprise" if enterprise_id else "soe_group"] = "this conflict is declared already"
    if errors:
        raise Invalid("the conflict was not saved", errors=errors)
    row = ExpertConflict(expert_id=user.id, enterprise_id=enterprise_id, soe_group_key=group or None,
                         note=note or None, created_by=actor.id, created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    system_events.append(actor.id, "expert.conflict_added", user.username, {"before": None, "after": {
        "conflict": row.id, "enterprise": code or None, "soe_group": group or None, "note": note or None}})
    return row


def remove_conflict(actor: User, expert_id, conflict_id) -> None:
    _admin(actor)
    user = _expert(expert_id)
    try:
        row = db.session.get(ExpertConflict, int(conflict_id))
    except (TypeError, ValueError):
        row = None
    if row is None or row.expert_id != user.id:
        raise NotFound(f"no conflict {conflict_id} of this expert")
    code = db.session.scalar(select(Enterprise.credit_code).where(Enterprise.id == row.enterprise_id)) \
        if row.enterprise_id else None
    before = {"conflict": row.id, "enterprise": code, "soe_group": row.soe_group_key, "note": row.note}
    db.session.delete(row)
    db.session.flush()
    system_events.append(actor.id, "expert.conflict_removed", user.username, {"before": before, "after": None})
