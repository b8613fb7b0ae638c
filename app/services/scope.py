"""Who may see and act on what. A task's scope comes from its case; a user's scope from the user row.

Lanes in a diagram name roles, or one of these case roles resolved from the case:
- organizer (basic): the SOE group reviewer for a group member, else the provincial reviewer;
- certifier (advanced): the same rule;
- recommender (excellent): the SOE group reviewer for a group member, else the province (XPCC is a province here).
Lighthouse lanes name `provincial_reviewer` directly: only provinces recommend it.
"""
from app.errors import Forbidden
from app.models import Case, User
from app.models.users import ROLES

CASE_ROLES = ("organizer", "certifier", "recommender")
# The shipped diagrams name their lanes in Chinese (what the diagram viewer shows); each name stands for one role or
# case role. A lane may also name the role itself (diagrams deployed before, an administrator's own).
LANE_ROLES = {"企业": "enterprise", "组织单位": "organizer", "认定单位": "certifier", "推荐单位": "recommender",
              "联审部门": "co_department_reviewer", "国家主管部门": "national_reviewer",
              "省级主管部门": "provincial_reviewer", "中央企业集团": "soe_reviewer", "国资委": "sasac_reviewer",
              "专家": "expert"}
KNOWN_LANES = set(ROLES) | set(CASE_ROLES) | set(LANE_ROLES)
NATIONAL_READERS = ("national_reviewer", "admin", "auditor")


def resolve_role(lane: str, case: Case) -> str:
    lane = LANE_ROLES.get(lane, lane)
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


def _in_scope(user: User, enterprise_id: int | None, soe_group_key: str | None, province_code: str | None,
              province_sees_soe: bool) -> bool:
    """The one scope rule: what a user of each role sees of an enterprise's affairs. An SOE group member is its
    group's business; a province sees it too only where `province_sees_soe` (lighthouse cases, which only provinces
    recommend, and the enterprise itself)."""
    if user.role in NATIONAL_READERS:
        return True
    if user.role == "enterprise":
        return enterprise_id is not None and enterprise_id == user.enterprise_id
    if user.role == "soe_reviewer":
        return soe_group_key is not None and soe_group_key == user.soe_group_key
    if user.role in ("provincial_reviewer", "co_department_reviewer"):
        return province_code == user.province_code and (soe_group_key is None or province_sees_soe)
    if user.role == "sasac_reviewer":
        return soe_group_key is not None
    return False


def can_view_case(user: User, case: Case) -> bool:
    if user.role == "expert":
        return _assigned(user, case.id)
    return _in_scope(user, case.enterprise_id, case.soe_group_key, case.province_code,
                     province_sees_soe=case.tier == "lighthouse")


def can_view_enterprise(user: User, ent) -> bool:
    """An enterprise's page (its tier history, its cases): the same rule as its cases; a province sees the SOE
    group members located in it (their lighthouse cases are the province's)."""
    return _in_scope(user, ent.id, ent.soe_group_key, ent.province_code, province_sees_soe=True)


def may_act(user: User, task) -> bool:
    """The one rule for acting on a task (claim, release, draft, complete, upload to its case): the task's role and
    scope are the user's. Seeing the case is not enough (an auditor reads every case and acts on none)."""
    return task.role == user.role and task.scope == user.scope


def require_act(user: User, task) -> None:
    if not may_act(user, task):
        raise Forbidden("this task belongs to another role or scope")


def acting_clause(user: User):
    """`may_act` as a SQLAlchemy where-clause on HumanTask rows (the inbox, bulk decisions, uploads)."""
    from app.models import HumanTask

    return (HumanTask.role == user.role) & (HumanTask.scope == user.scope)


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
