from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.reference import Enterprise, Region
from app.models.types import UTCDateTime, utcnow

ROLES = (
    "enterprise", "provincial_reviewer", "co_department_reviewer", "soe_reviewer", "national_reviewer",
    "sasac_reviewer", "expert", "admin", "auditor",
    "provincial_admin",
)
DEPARTMENTS = ("ndrc", "finance", "sasac", "samr", "data")
NATIONAL_ROLES = ("national_reviewer", "sasac_reviewer", "expert", "admin", "auditor")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    province_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    soe_group_key: Mapped[str | None] = mapped_column(ForeignKey("soe_groups.key"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    department: Mapped[str | None] = mapped_column(String(16))
    expertise: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # set by a one-time password (account created or reset): every page and API call but the password change is
    # refused until the user chooses its own (app/security.py)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enterprise: Mapped[Enterprise | None] = relationship()
    province: Mapped[Region | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def scope(self) -> str:
        """The inbox scope this user works in; tasks carry the same string (see services.scope)."""
        if self.role == "enterprise":
            return f"enterprise:{self.enterprise_id}"
        if self.role == "soe_reviewer":
            return f"soe:{self.soe_group_key}"
        if self.role == "provincial_reviewer":
            return f"province:{self.province_code}"
        if self.role == "co_department_reviewer":
            return f"province:{self.province_code}:{self.department}"
        if self.role == "expert":
            return f"expert:{self.id}"  # experts act only on tasks drawn for them
        if self.role == "provincial_admin":
            return f"people:{self.province_code}"  # manages accounts; no inbox, no cases
        return "national"


class ApiToken(db.Model):
    """Bearer tokens for /api/v1; only a SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
