"""系统管理 › 用户: the administrator's (and a provincial administrator's) pages for accounts. A new account's or a
reset one-time password is shown once, on the answer to the POST (never in a URL, never stored in clear)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.params import parse_int
from app.errors import Invalid, ServiceError
from app.models import DEPARTMENTS, ROLES
from app.services import accounts, people, reassign
from app.uow import unit_of_work

bp = Blueprint("people", __name__, url_prefix="/admin/users")
FIELDS = ("username", "role", "province", "department", "soe_group", "enterprise")


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return render_template("people/error.html", error=exc), exc.status


def _me():
    return current_user._get_current_object()


def _choices(me) -> dict:
    roles = ROLES if me.role == "admin" else people.PROVINCIAL_ROLES
    provinces = people.provinces()
    if me.role == "provincial_admin":
        provinces = [p for p in provinces if p["code"] == me.province_code]
    groups = people.soe_groups()
    return {"roles": roles, "provinces": provinces, "departments": DEPARTMENTS, "soe_groups": groups,
            "soe_names": {g["key"]: g["name"] for g in groups}}


@bp.get("/")
@login_required
def index():
    me = _me()
    a = request.args
    page = parse_int(a.get("page"), 1) or 1
    rows, total = people.list_users(me, q=a.get("q"), role=a.get("role"), region=a.get("region"),
                                    department=a.get("department"), soe_group=a.get("soe_group"),
                                    active=a.get("active") or None, page=page)
    locked = accounts.locked_usernames([u.username for u in rows])
    return render_template("people/index.html", users=rows, total=total, page=page, locked=locked,
                           pages=(total + people.PAGE - 1) // people.PAGE, args=a, **_choices(me))


def _form_values() -> dict:
    return {k: (request.form.get(k) or "").strip() or None for k in FIELDS}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    me = _me()
    people.require_manager(me)
    values, errors = {}, {}
    if request.method == "POST":
        values = _form_values()
        try:
            with unit_of_work():
                user, otp = people.create_account(me, **values)
                username = user.username
        except (Invalid, ServiceError) as exc:
            errors = exc.errors or {"form": exc.message}
            return render_template("people/new.html", values=values, errors=errors, **_choices(me)), exc.status
        return render_template("people/password.html", username=username, otp=otp, created=True)
    return render_template("people/new.html", values=values, errors=errors, **_choices(me))


@bp.get("/<int:user_id>")
@login_required
def edit(user_id):
    me = _me()
    target = people.get_user(me, user_id)
    locked = target.username in accounts.locked_usernames([target.username])
    return render_template("people/edit.html", target=target, locked=locked, errors={},
                           values=_current(target), held=reassign.held_by(me, target.id), **_choices(me))


def _current(target) -> dict:
    return {"role": target.role, "province": target.province_code, "department": target.department,
            "soe_group": target.soe_group_key,
            "enterprise": target.enterprise.credit_code if target.enterprise else None}


@bp.post("/<int:user_id>")
@login_required
def update(user_id):
    me = _me()
    target = people.get_user(me, user_id)
    values = {k: v for k, v in _form_values().items() if k != "username"}
    try:
        with unit_of_work():
            people.update_user(me, user_id, values)
    except ServiceError as exc:
        target = people.get_user(me, user_id)
        return render_template("people/edit.html", target=target, locked=False, values=values,
                               errors=exc.errors or {"form": exc.message}, **_choices(me)), exc.status
    flash(_("The account %(name)s has been changed.", name=target.username), "success")
    return redirect(url_for("people.edit", user_id=user_id))


@bp.post("/<int:user_id>/active")
@login_required
def set_active(user_id):
    me = _me()
    active = request.form.get("active") == "1"
    with unit_of_work():
        target = people.update_user(me, user_id, {"active": active})
        name = target.username
    flash(_("%(name)s can log in again.", name=name) if active else
          _("%(name)s has been deactivated; their sessions and tokens have ended.", name=name), "success")
    return redirect(url_for("people.edit", user_id=user_id))


@bp.post("/<int:user_id>/reset-password")
@login_required
def reset_password(user_id):
    me = _me()
    target = people.get_user(me, user_id)
    if request.form.get("confirm") != "1":
        flash(_("Tick the box to confirm the password reset."), "error")
        return redirect(url_for("people.edit", user_id=user_id))
    with unit_of_work():
        otp = people.reset_password(me, user_id)
        name = target.username
    return render_template("people/password.html", username=name, otp=otp, created=False)


@bp.post("/<int:user_id>/unlock")
@login_required
def unlock(user_id):
    with unit_of_work():
        people.unlock(_me(), user_id)
    flash(_("The account has been unlocked."), "success")
    return redirect(url_for("people.edit", user_id=user_id))
