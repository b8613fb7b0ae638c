"""What each completed user task answered, kept under its step: a form's fields belong to the step (element and
round) that produced them, never to the case as a whole (issue 15)."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class CaseStep(db.Model):
    """One completion of a user task: `round` is the nth completion of `element` in the case; `seq` the
    `task.completed` event it mirrors (the event chain stays the record; this row is what pages read).
    `abandoned`: the step lies on a branch an administrator rewound (history, not the case's)."""

    __tablename__ = "case_steps"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    element: Mapped[str] = mapped_column(String(128))
    round: Mapped[int] = mapped_column(Integer)
    task_uuid: Mapped[str | None] = mapped_column(String(36))
    title: Mapped[str | None] = mapped_column(String(200))
    form: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(32))  # the role the task was for
    department: Mapped[str | None] = mapped_column(String(16))  # a co-department reviewer's department
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict | None] = mapped_column(JSON)  # every field of the step's form, as submitted
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
