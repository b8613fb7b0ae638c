"""SQLAlchemy models; importing this package registers every table on the metadata."""
from app.models.cases import Attachment, Case, CaseEvent, HumanTask, MessageWait, TimerRow
from app.models.documents import Document, DocumentTemplate
from app.models.experts import ExpertConflict
from app.models.heatmap import HEATMAP_CELLS, HEATMAP_RANGE_CELLS, HEATMAP_TIMER_CELLS
from app.models.incidents import Incident, Notification, NotificationMark, NotificationPref, OutboxItem
from app.models.lists import CaseList, CaseListEntry, Objection
from app.models.processes import DecisionTable, ProcessModel, ProcessVersion
from app.models.reference import TIERS, Campaign, CampaignDeadline, Enterprise, Region, SoeGroup, TierRecord
from app.models.search import EnterpriseNameGram, GramPosition
from app.models.sessions import UserSession
from app.models.steps import CaseStep
from app.models.system import SystemEvent
from app.models.users import DEPARTMENTS, ROLES, ApiToken, User

__all__ = [
    "Attachment", "Case", "CaseEvent", "HumanTask", "MessageWait", "TimerRow", "ProcessModel", "ProcessVersion",
    "TIERS",
    "Campaign", "CampaignDeadline", "Enterprise", "Region", "SoeGroup", "TierRecord", "DEPARTMENTS", "ROLES",
    "ApiToken", "User", "CaseList", "CaseListEntry", "DecisionTable", "Objection", "SystemEvent",
    "UserSession",
    "ExpertConflict",
    "EnterpriseNameGram", "GramPosition",
    "CaseStep",
    "Incident", "Notification", "NotificationMark", "NotificationPref", "OutboxItem",
    "Document", "DocumentTemplate",
    "HEATMAP_CELLS", "HEATMAP_RANGE_CELLS", "HEATMAP_TIMER_CELLS",
]
