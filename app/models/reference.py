"""Reference data: regions, central SOE groups, enterprises, their tier history, campaigns."""
from datetime import date

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

TIERS = ("basic", "advanced", "excellent", "lighthouse")


class Region(db.Model):
    """A province (GB/T 2260), a plan-listed city mapped to its province, an ordinary city, or the XPCC."""

    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # province | plan_city | city | xpcc
    province_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    iva_rank_2024: Mapped[int | None] = mapped_column(Integer)
    excellent_2024: Mapped[int | None] = mapped_column(Integer)
    # where each quota input comes from (services/quota_inputs.py: a figure is entered only with its source)
    iva_rank_2024_source: Mapped[str | None] = mapped_column(String(500))
    excellent_2024_source: Mapped[str | None] = mapped_column(String(500))

    @property
    def recommender_code(self) -> str:
        """Plan-listed and ordinary cities act through their province."""
        return self.province_code or self.code


class SoeGroup(db.Model):
    __tablename__ = "soe_groups"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))


class Enterprise(db.Model):
    __tablename__ = "enterprises"
    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_person: Mapped[bool] = mapped_column(Boolean, default=True)
    industry: Mapped[str] = mapped_column(String(64))  # a key of app/data/industries.yaml (migration 0015)
    industry_division: Mapped[str | None] = mapped_column(String(3))  # the GB/T 4754-2017 division, when given
    province_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    city_code: Mapped[str | None] = mapped_column(String(6))
    soe_group_key: Mapped[str | None] = mapped_column(ForeignKey("soe_groups.key"), index=True)
    declarations: Mapped[dict] = mapped_column(JSON, default=dict)  # ai_exploration, industry_leader, onsite_consent

    tiers: Mapped[list["TierRecord"]] = relationship(back_populates="enterprise", order_by="TierRecord.year")

    def has_tier(self, tier: str) -> bool:
        return any(t.tier == tier for t in self.tiers)


class TierRecord(db.Model):
    __tablename__ = "tier_records"
    __table_args__ = (UniqueConstraint("enterprise_id", "tier", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32))  # self_assessment | certified | imported
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))

    enterprise: Mapped[Enterprise] = relationship(back_populates="tiers")


class Campaign(db.Model):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str | None] = mapped_column(String(128))
    # industries whose branches (non-legal persons) may apply for excellent/lighthouse; data, not code
    branch_industries: Mapped[list] = mapped_column(JSON, default=list)
    # public-notice period per tier (ISO-8601 duration); national lists: 7 days (DOMAIN.md)
    notice_periods: Mapped[dict | None] = mapped_column(JSON)
    # expert panels: "approve" when the mean score and the share of approving experts reach these (0-100; 16.7)
    panel_min_mean: Mapped[float] = mapped_column(Float, default=60, server_default="60")
    panel_min_approval_pct: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    # the notice's lighthouse quota names provinces only: the XPCC recommends lighthouse only if a campaign says so
    xpcc_recommends_lighthouse: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    deadlines: Mapped[list["CampaignDeadline"]] = relationship(back_populates="campaign", cascade="all, delete-orphan")

    def deadline_for(self, tier: str) -> "CampaignDeadline | None":
        return next((d for d in self.deadlines if d.tier == tier), None)


class CampaignDeadline(db.Model):
    """Deadlines of one tier in one campaign (dates in Asia/Shanghai; a deadline day ends at 24:00 there)."""

    __tablename__ = "campaign_deadlines"
    __table_args__ = (UniqueConstraint("campaign_id", "tier"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    tier: Mapped[str] = mapped_column(String(16))
    application_deadline: Mapped[date | None] = mapped_column(Date)
    recommendation_deadline: Mapped[date | None] = mapped_column(Date)

    campaign: Mapped[Campaign] = relationship(back_populates="deadlines")
