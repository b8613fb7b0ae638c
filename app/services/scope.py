"""Who may see and act on what. A task's scope comes from its case; a user's scope from the user row.

Lanes in a diagram name roles, or one of these case roles resolved from the case:
- organizer (basic): the SOE group reviewer for a group member, else the provincial reviewer;
- certifier (advanced): the same rule;
- recommender (excellent): the SOE group reviewer for a group member, else the province (XPCC is a province here).
Lighthouse lanes name `provincial_reviewer` directly: only provinces recommend it.
"""
from app.models import Case, User
from app.models.users import ROLES

CASE_ROLES = ("organizer", "certifier", "recommender")
KNOWN_LANES = set(ROLES) | set(CASE_ROLES)
NATIONAL_READERS = ("national_reviewer", "admin", "auditor")


def resolve_role(lane: str, case: Case) -> str:
    if lane in CASE_ROLES:
        return "soe_reviewer" if case.soe_group_key else "provincial_reviewer"
    return lane


def task_scope(role: str, case: Case, properties: dict | None = None) -> str:
    """A co-department task names its department in the diagram (property `department`)."""
    if role == "enterprise":
        return f"enterprise:{case.enterprise_id}"
    if role == "soe_reviewer":
        return f"soe:{case.soe_group_key}"
    if role == "provincial_reviewer":
        return f"province:{case.province_code}"
    if role == "co_department_reviewer":
        return f"province:{case.province_code}:{(properties or {}).get('department', '')}"
    return "national"


def can_view_case(user: User, case: Case) -> bool:
    if user.role in NATIONAL_READERS:
        return True
    if user.role == "enterprise":
        return case.enterprise_id == user.enterprise_id
    if user.role == "soe_reviewer":
        return case.soe_group_key is not None and case.soe_group_key == user.soe_group_key
    if user.role in ("provincial_reviewer", "co_department_reviewer"):
        # an SOE group member is its group's business, except lighthouse, which only provinces recommend
        return case.province_code == user.province_code and (case.soe_group_key is None or case.tier == "lighthouse")
    if user.role == "sasac_reviewer":
        return case.soe_group_key is not None
    if user.role == "expert":
        return _assigned(user, case.id)
    return False


def case_filter(user: User):
    """A SQLAlchemy where-clause restricting Case rows to what the user may see."""
    from sqlalchemy import false, true

    if user.role in NATIONAL_READERS:
        return true()
    if user.role == "enterprise":
        return Case.enterprise_id == user.enterprise_id
    if user.role == "soe_reviewer":
        return Case.soe_group_key == user.soe_group_key
    if user.role in ("provincial_reviewer", "co_department_reviewer"):
        return (Case.province_code == user.province_code) & (Case.soe_group_key.is_(None) | (Case.tier == "lighthouse"))
    if user.role == "sasac_reviewer":
        return Case.soe_group_key.is_not(None)
    if user.role == "expert":
        from sqlalchemy import select

        from app.models import HumanTask

        return Case.id.in_(select(HumanTask.case_id).where(HumanTask.scope == user.scope))
    return false()


def _assigned(user: User, case_id: int) -> bool:
    """An expert sees a case only while a task of it was drawn for them (recused experts are never drawn)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import HumanTask

    return db.session.scalar(select(HumanTask.id).where(HumanTask.case_id == case_id,
                                                        HumanTask.scope == user.scope).limit(1)) is not None
