"""/api/v1 for people: administrators (a provincial administrator within its province) list, create and change
accounts, reset passwords, unlock throttled accounts; every user changes its own password and ends its own
sessions and tokens."""
from flask import Blueprint, g, jsonify, request

from app.blueprints.api import _int_arg, body, error, token_required
from app.errors import ServiceError
from app.extensions import csrf
from app.security import checking_current_password, throttled_api_response
from app.services import accounts, people, sessions
from app.uow import unit_of_work

bp = Blueprint("people_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, never cookies


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


def _token() -> str:
    return request.headers.get("Authorization", "")[7:].strip()


@bp.get("/users")
@token_required
def list_users():
    page = _int_arg("page", 1)
    a = request.args
    rows, total = people.list_users(g.api_user, q=a.get("q"), role=a.get("role"), region=a.get("region"),
                                    department=a.get("department"), soe_group=a.get("soe_group"),
                                    active=a.get("active"), page=page)
    locked = accounts.locked_usernames([u.username for u in rows])
    return jsonify({"items": [people.user_json(u, u.username in locked) for u in rows], "total": total,
                    "page": page})


@bp.post("/users")
@token_required
def create_user():
    data = body()
    with unit_of_work():
        user, otp = people.create_account(
            g.api_user, username=data.get("username"), role=data.get("role"), province=data.get("province"),
            department=data.get("department"), soe_group=data.get("soe_group"), enterprise=data.get("enterprise"),
            expertise=data.get("expertise"))
        out = {"id": user.id, "username": user.username, "one_time_password": otp}
    return jsonify(out), 201


@bp.patch("/users/<int:user_id>")
@token_required
def update_user(user_id):
    data = body()
    with unit_of_work():
        out = people.user_json(people.update_user(g.api_user, user_id, data))
    return jsonify(out)


@bp.post("/users/<int:user_id>/reset-password")
@token_required
def reset_password(user_id):
    with unit_of_work():
        otp = people.reset_password(g.api_user, user_id)
    return jsonify({"one_time_password": otp})


@bp.post("/users/<int:user_id>/unlock")
@token_required
def unlock(user_id):
    with unit_of_work():
        people.unlock(g.api_user, user_id)
        out = people.user_json(people.get_user(g.api_user, user_id), False)
    return jsonify(out)


@bp.post("/me/password")
@token_required
def change_my_password():
    data = body()
    try:
        checking_current_password(g.api_user, lambda: people.change_password(
            g.api_user, data.get("current"), data.get("new"), keep_token=sessions.token_id(_token())))
    except accounts.Throttled as exc:
        return throttled_api_response(exc)
    return "", 204


@bp.get("/me/sessions")
@token_required
def my_sessions():
    me, current = g.api_user, sessions.token_id(_token())
    return jsonify({
        "sessions": [{"id": s.id, "created_at": s.created_at.isoformat(), "expires_at": s.expires_at.isoformat(),
                      "address": s.address, "user_agent": s.user_agent} for s in sessions.active_sessions(me)],
        "tokens": [{"id": t.id, "created_at": t.created_at.isoformat(), "expires_at": t.expires_at.isoformat(),
                    "current": t.id == current} for t in sessions.active_tokens(me)]})


@bp.post("/me/sessions/<int:session_id>/revoke")
@token_required
def revoke_session(session_id):
    with unit_of_work():
        sessions.revoke_session(g.api_user, session_id)
    return jsonify({"revoked": True})


@bp.post("/me/tokens/<int:token_id>/revoke")
@token_required
def revoke_token(token_id):
    with unit_of_work():
        sessions.revoke_token(g.api_user, token_id)
    return jsonify({"revoked": True})
