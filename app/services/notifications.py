"""In-app notifications (站内信): one row per user and notice, newest first, unread until marked read; e-mail by the
user's choice per kind, through the outbox (services/outbox.py), never inside the transaction that wrote them."""
from datetime import datetime

from sqlalchemy import func, select, update

from app.errors import Invalid
from app.extensions import db
from app.models import Notification, NotificationPref, User
from app.services import clock, outbox
from app.settings import settings

# kind -> (Chinese name, English name, e-mail by default)
KINDS = {
    "task": ("新任务", "New tasks", False),
    "returned": ("退回修改", "Returned for revision", True),
    "due": ("即将到期或已逾期", "Due dates", True),
    "decision": ("案件结果", "Decisions on my case", True),
    "incident": ("流程事件", "Incidents", True),
    "reassigned": ("任务转办", "Reassigned tasks", False),
    "operator": ("自动通知", "Automated notices", True),
}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise Invalid(f"unknown kind {kind!r}", errors={"kind": "one of " + ", ".join(KINDS)})


def send(user_ids, kind: str, title: str, body: str | None = None, *, link: str | None = None,
         case_id: int | None = None, at: datetime | None = None) -> list[Notification]:
    """One notice per user (a user named twice gets one); e-mail queued for those who want this kind."""
    _check_kind(kind)
    at = at or clock.now()
    out = []
    for uid in dict.fromkeys(user_ids):
        n = Notification(user_id=uid, kind=kind, title=title[:200], body=body, link=link, case_id=case_id,
                         created_at=at)
        db.session.add(n)
        out.append(n)
    db.session.flush()
    wanted = _email_wanted([n.user_id for n in out], kind) if settings().smtp_host else set()
    for n in out:
        if n.user_id in wanted:
            outbox.enqueue("email", f"notification:{n.id}", {"user_id": n.user_id, "subject": n.title,
                                                             "body": body or n.title}, case_id=case_id, now=at)
    return out


def to_role(role: str, kind: str, title: str, body: str | None = None, *, scope_filter=None, **kw):
    """A notice to every active user of a role (optionally narrowed by a clause on User)."""
    q = select(User.id).where(User.role == role, User.active.is_(True))
    if scope_filter is not None:
        q = q.where(scope_filter)
    return send(list(db.session.scalars(q)), kind, title, body, **kw)


def _email_wanted(user_ids: list[int], kind: str) -> set[int]:
    if not user_ids:
        return set()
    chosen = dict(db.session.execute(select(NotificationPref.user_id, NotificationPref.email).where(
        NotificationPref.user_id.in_(user_ids), NotificationPref.kind == kind)).all())
    default = KINDS[kind][2]
    return {u for u in user_ids if chosen.get(u, default)}


def for_user(user: User, limit: int = 50, unread_only: bool = False) -> list[Notification]:
    q = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    return list(db.session.scalars(q.order_by(Notification.created_at.desc(), Notification.id.desc())
                                   .limit(limit)))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(user: User, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Mark the user's notices read (all when `ids` is None); another user's ids change nothing."""
    q = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        try:
            ids = [int(i) for i in ids]
        except (TypeError, ValueError):
            raise Invalid("ids must be numbers", errors={"ids": "numbers"}) from None
        q = q.where(Notification.id.in_(ids))
    return db.session.execute(q.values(read_at=now or clock.now())
                              .execution_options(synchronize_session=False)).rowcount


def prefs(user: User) -> dict[str, bool]:
    chosen = dict(db.session.execute(select(NotificationPref.kind, NotificationPref.email).where(
        NotificationPref.user_id == user.id)).all())
    return {k: chosen.get(k, v[2]) for k, v in KINDS.items()}


def set_prefs(user: User, email: dict) -> dict[str, bool]:
    if not isinstance(email, dict):
        raise Invalid("send {kind: true|false}", errors={"email": "an object"})
    current = prefs(user)
    for kind, on in email.items():
        _check_kind(kind)
        if current[kind] == bool(on):
            continue  # unchanged: nothing written
        row = db.session.get(NotificationPref, (user.id, kind))
        if row is None:
            db.session.add(NotificationPref(user_id=user.id, kind=kind, email=bool(on)))
        else:
            row.email = bool(on)
    db.session.flush()
    return prefs(user)


def to_json(n: Notification) -> dict:
    return {"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "link": n.link, "case_id": n.case_id,
            "created_at": n.created_at.isoformat(), "unread": n.read_at is None}
