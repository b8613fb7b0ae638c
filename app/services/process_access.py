"""Who may read and who may change process diagrams and decision tables: reads for administrators, auditors and
national reviewers; writes for administrators. (Its own module so that versions, drafts and migrations share the
rule without importing each other.)"""
from app.errors import Forbidden
from app.models import User

READERS = ("admin", "auditor", "national_reviewer")


def require_reader(user: User) -> None:
    if user.role not in READERS:
        raise Forbidden("process versions are for administrators, auditors and national reviewers")


def require_admin(user: User) -> None:
    if user.role != "admin":
        raise Forbidden("only an administrator changes process diagrams")
