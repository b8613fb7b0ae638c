"""Working-day calendar years entered as data (migration 0013): a year the `chinesecalendar` library does not ship
yet, with its source and the days that differ from the Monday–Friday rule. A loaded year is immutable."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class CalendarYear(db.Model):
    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(500))  # the notice's number and title, or "illustrative: ..."
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarDay(db.Model):
    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # holiday | workday (a make-up working day, 调休)
    name: Mapped[str | None] = mapped_column(String(64))  # the holiday's name
