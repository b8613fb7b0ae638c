"""The process heatmap over a date range (issue 19), read from `heatmap_range_cells` (migration 0025): the completed
steps per Asia/Shanghai day of completion and scope, and per month for everyone, kept by triggers. A national range
is cut into the whole months it covers and the days at its two ends, each a contiguous stretch of the table's key,
so a national year reads about as many rows as a national month; a province's or a group's range reads its days
(a province's year holds fewer steps than a national week). Never the inbox rows."""
from datetime import date, timedelta

from sqlalchemy import func, select, union_all

from app.extensions import db
from app.models import User
from app.models.heatmap import HEATMAP_RANGE_CELLS as R

EARLIEST, LATEST = date(1900, 1, 1), date(9000, 12, 31)  # an open end of a range


def _month(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def spans(since: date | None, until: date | None) -> list[tuple[str, str, str]]:
    """(grain, first period, last period) covering the days from `since` to `until` (both included): the whole
    months inside as one month span, the days before and after them as day spans."""
    lo, hi = max(since or EARLIEST, EARLIEST), min(until or LATEST, LATEST)
    if lo > hi:  # wholly before 1900 or after 9000: no step was completed then
        return []
    ends_month = (hi + timedelta(days=1)).day == 1
    if (lo.year, lo.month) == (hi.year, hi.month) and not (lo.day == 1 and ends_month):
        return [("d", lo.isoformat(), hi.isoformat())]
    first_full = lo if lo.day == 1 else (lo.replace(day=28) + timedelta(days=4)).replace(day=1)
    last_full = hi if ends_month else hi.replace(day=1) - timedelta(days=1)
    if first_full > last_full:  # two partial months side by side
        return [("d", lo.isoformat(), hi.isoformat())]
    out = [("m", _month(first_full), _month(last_full))]
    if lo < first_full:
        out.append(("d", lo.isoformat(), (first_full - timedelta(days=1)).isoformat()))
    if hi > last_full:
        out.append(("d", (last_full + timedelta(days=1)).isoformat(), hi.isoformat()))
    return out


def scopes(actor: User, tier: str | None, province: str | None, soe: str | None) -> list[str] | None:
    """The table's scopes whose sum is the view (filters already narrowed to the actor's scope); None when the
    table has no such scope (a province and a group at once: the caller reads the inbox rows)."""
    if province and soe:
        return None
    if soe:
        return [f"s:{soe}"]
    if province:
        # a province's reviewer does not see its SOE group members' cases below lighthouse (scope.case_filter)
        own_only = actor.role == "provincial_reviewer" and tier != "lighthouse"
        return [f"p:{province}"] if own_only else [f"p:{province}", f"q:{province}"]
    return ["*"]


def done(key: str, campaign_id: int | None, views: list[str], since: date | None, until: date | None) -> list:
    """(element, bucket, passed, late) of the steps completed within the range, summed over the scopes."""
    parts = []
    national = views == ["*"]
    stretches = spans(since, until)
    if not national and stretches:
        stretches = [("d", max(since or EARLIEST, EARLIEST).isoformat(), min(until or LATEST, LATEST).isoformat())]
    for grain, first, last in stretches:
        for scope in views:
            q = select(R.c.element, R.c.bucket_s, R.c.passed, R.c.late).where(
                R.c.model_key == key, R.c.grain == grain, R.c.scope == scope, R.c.period >= first, R.c.period <= last)
            if campaign_id is not None:
                q = q.where(R.c.campaign_id == campaign_id)
            parts.append(q)
    if not parts:
        return []
    u = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    return db.session.execute(select(u.c.element, u.c.bucket_s, func.sum(u.c.passed), func.sum(u.c.late))
                              .group_by(u.c.element, u.c.bucket_s)).all()
