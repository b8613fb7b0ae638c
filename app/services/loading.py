"""Bulk onboarding from YAML (`flask load FILE.yaml`): all or nothing, every bad row named by its position."""
import re
from datetime import date

import yaml
from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.errors import Invalid
from app.extensions import db
from app.models import (
    DEPARTMENTS,
    ROLES,
    TIERS,
    Campaign,
    CampaignDeadline,
    Enterprise,
    Region,
    SoeGroup,
    TierRecord,
    User,
)
from app.services import industries, system_events
from app.services.auth import hash_password
from app.services.campaigns import campaign_by_year, parse_date
from app.services.credit_code import credit_code_error

MAX_BYTES = 50 * 1024 * 1024
NOTICE_DEADLINE_TIERS = ("excellent", "lighthouse")  # the tiers the notice sets application dates for


class _NoAliasLoader(yaml.SafeLoader):
    """Anchors and aliases are refused: they are how YAML bombs expand."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed", event.start_mark)
        return super().compose_node(parent, index)


class LoadError(Invalid):
    pass


def parse_yaml(text: str | bytes) -> dict:
    if len(text) > MAX_BYTES:
        raise LoadError("file too large", errors={"file": f"more than {MAX_BYTES} bytes"})
    try:
        doc = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, RecursionError, ValueError) as exc:  # deep nesting; a bad date (2028-13-01)
        raise LoadError(f"malformed YAML: {exc}", errors={"file": str(exc)}) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise LoadError("the file must be a mapping with campaigns/soe_groups/enterprises/users",
                        errors={"file": "not a mapping"})
    unknown = set(doc) - {"campaigns", "regions", "soe_groups", "enterprises", "users", "calendar"}
    if unknown:
        raise LoadError(f"unknown sections: {', '.join(sorted(unknown))}", errors={"file": "unknown sections"})
    return doc


def _date(value, where, field, errors):
    try:
        return parse_date(value)
    except ValueError:
        errors.append(f"{where}: {field} {value!r} is not a date (YYYY-MM-DD)")
        return None


def load(text: str | bytes) -> dict:
    """Load a document into the session (flushed, not committed). Raises LoadError listing every bad row."""
    doc = parse_yaml(text)
    with db.session.no_autoflush:
        return _load(doc)


def _load(doc: dict) -> dict:
    errors: list[str] = []
    counts = {"campaigns": 0, "soe_groups": 0, "enterprises": 0, "users": 0}
    if "calendar" in doc:
        counts["calendar_years"] = _calendar(doc["calendar"], errors)
    for i, row in enumerate(doc.get("campaigns") or []):
        _campaign(row, f"campaigns[{i}]", errors) and counts.__setitem__("campaigns", counts["campaigns"] + 1)
    for i, row in enumerate(doc.get("regions") or []):
        _region(row, f"regions[{i}]", errors)
    for i, row in enumerate(doc.get("soe_groups") or []):
        where = f"soe_groups[{i}]"
        if not isinstance(row, dict) or not row.get("key") or not row.get("name"):
            errors.append(f"{where}: needs key and name")
            continue
        grp = db.session.get(SoeGroup, str(row["key"])) or SoeGroup(key=str(row["key"]))
        grp.name = str(row["name"])
        db.session.add(grp)
        counts["soe_groups"] += 1
    db.session.flush()
    for i, row in enumerate(doc.get("enterprises") or []):
        if _enterprise(row, f"enterprises[{i}]", errors):
            counts["enterprises"] += 1
    db.session.flush()
    for i, row in enumerate(doc.get("users") or []):
        if _user(row, f"users[{i}]", errors):
            counts["users"] += 1
    if errors:
        raise LoadError(f"{len(errors)} bad row(s); nothing was written: " + "; ".join(errors[:20]),
                        errors={"rows": errors})
    db.session.flush()
    return counts


def _campaign(row, where, errors) -> bool:
    if not isinstance(row, dict) or not isinstance(row.get("year"), int):
        errors.append(f"{where}: needs an integer year")
        return False
    camp = campaign_by_year(row["year"], required=False)
    if camp is None:
        camp = Campaign(year=row["year"], deadlines=[])
        db.session.add(camp)
    camp.name = row.get("name", camp.name)
    camp.branch_industries = list(row.get("branch_industries", camp.branch_industries or
                                          ["petrochemicals", "non_ferrous_metals"]))
    periods = row.get("notice_periods", camp.notice_periods or {"excellent": "P7D", "lighthouse": "P7D"})
    if not isinstance(periods, dict) or not all(
            (t in TIERS and isinstance(v, str) and v.startswith("P"))
            or (t == "advanced_working_days" and isinstance(v, int) and 1 <= v <= 60) for t, v in periods.items()):
        errors.append(f"{where}: notice_periods maps a tier to an ISO-8601 duration such as P7D "
                      "(and advanced_working_days to a number of working days)")
    else:
        camp.notice_periods = dict(periods)
    per_tier = {t: {} for t in TIERS}
    for tier in NOTICE_DEADLINE_TIERS:
        for field in ("application_deadline", "recommendation_deadline"):
            if field in row:
                per_tier[tier][field] = row[field]
    for tier, values in (row.get("deadlines") or {}).items():
        if tier not in TIERS or not isinstance(values, dict):
            errors.append(f"{where}: deadlines for unknown tier {tier!r}")
            continue
        per_tier[tier].update(values)
    for tier, values in per_tier.items():
        if not values:
            continue
        dl = camp.deadline_for(tier) or CampaignDeadline(tier=tier)
        if dl not in camp.deadlines:
            camp.deadlines.append(dl)
        for field in ("application_deadline", "recommendation_deadline"):
            if field in values:
                setattr(dl, field, _date(values[field], where, field, errors))
    return True


def _calendar(rows, errors) -> int:
    """Working-day calendar years the library does not ship yet: `[{year, source, holidays: [{date, name}],
    workdays: [dates]}]`. A year the library covers is refused (it stays the source there); a loaded year is
    immutable (deadlines of running cases were dated with it): loading it again is accepted only unchanged."""
    from app.models.calendar import CalendarDay, CalendarYear
    from app.services import clock, workdays

    if not isinstance(rows, list):
        errors.append("calendar: a list of years ({year, source, holidays, workdays})")
        return 0
    first, last = workdays.library_years()
    added, seen = 0, set()
    for i, row in enumerate(rows):
        where = f"calendar[{i}]"
        if not isinstance(row, dict) or not isinstance(row.get("year"), int) or isinstance(row.get("year"), bool):
            errors.append(f"{where}: needs an integer year")
            continue
        year = row["year"]
        where = f"{where} ({year})"
        bad = len(errors)
        unknown = set(row) - {"year", "source", "holidays", "workdays"}
        if unknown:
            errors.append(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
        if year in seen:
            errors.append(f"{where}: year {year} is listed twice")
        seen.add(year)
        if not 1949 <= year <= 2100:
            errors.append(f"{where}: year {year} is not a plausible calendar year")
        elif first <= year <= last:
            errors.append(f"{where}: {workdays.LIBRARY} covers {first}–{last}; it stays the source for year {year}")
        source = row.get("source")
        if not isinstance(source, str) or not source.strip() or len(source) > 500:
            errors.append(f"{where}: needs a source (the notice's number and title, or 'illustrative: ...'; "
                          "at most 500 characters)")
        days: dict[date, tuple[str, str | None]] = {}
        holidays, extra = row.get("holidays") or [], row.get("workdays") or []
        if not isinstance(holidays, list) or not isinstance(extra, list):
            errors.append(f"{where}: holidays and workdays are lists")
            continue
        for j, h in enumerate(holidays):
            if not isinstance(h, dict) or not isinstance(h.get("name"), str) or not h["name"].strip() \
                    or len(h["name"]) > 64:
                errors.append(f"{where}: holidays[{j}] needs a date and a name (at most 64 characters)")
                continue
            d = _calendar_day(h.get("date"), f"holidays[{j}]", where, year, days, errors)
            if d is not None:
                days[d] = ("holiday", h["name"].strip())
        for j, value in enumerate(extra):
            d = _calendar_day(value, f"workdays[{j}]", where, year, days, errors)
            if d is not None and d.weekday() < 5:
                errors.append(f"{where}: workdays[{j}] {d.isoformat()} is a {d.strftime('%A')}: a make-up working "
                              "day (调休) is a Saturday or Sunday")
            elif d is not None:
                days[d] = ("workday", None)
        if len(errors) > bad:
            continue
        existing = db.session.get(CalendarYear, year)
        if existing is not None:
            stored = {c.day: (c.kind, c.name) for c in
                      db.session.scalars(select(CalendarDay).where(CalendarDay.year == year))}
            if existing.source != source.strip() or stored != days:
                errors.append(f"{where}: year {year} is loaded already ({existing.source}); a loaded year is not "
                              "changed, as running cases' deadlines were dated with it")
            continue
        db.session.add(CalendarYear(year=year, source=source.strip(), loaded_at=clock.now()))
        db.session.flush()
        db.session.add_all(CalendarDay(day=d, year=year, kind=k, name=n) for d, (k, n) in sorted(days.items()))
        added += 1
    return added


def _calendar_day(value, what, where, year, days, errors) -> date | None:
    d = _date(value, where, what, errors)
    if d is None:
        if value is None:
            errors.append(f"{where}: {what} needs a date")
        return None
    if d.year != year:
        errors.append(f"{where}: {what} {d.isoformat()} is outside year {year}")
        return None
    if d in days:
        errors.append(f"{where}: {what} {d.isoformat()} is listed twice")
        return None
    return d


def _region(row, where, errors) -> None:
    """Quota inputs of a province: its 2024 rank by industrial value added, its 2024 excellent-factory count."""
    region = db.session.get(Region, str(row.get("code") or "")) if isinstance(row, dict) else None
    if region is None:
        errors.append(f"{where}: unknown region code {row.get('code') if isinstance(row, dict) else row!r}")
        return
    for field in ("iva_rank_2024", "excellent_2024"):
        if field in row:
            value = row[field]
            if value is not None and (not isinstance(value, int) or value < 0):
                errors.append(f"{where} ({region.code}): {field} must be a non-negative integer or null")
                continue
            setattr(region, field, value)
            if f"{field}_source" in row or value is None:  # where the figure comes from (services/quota_inputs.py)
                source = row.get(f"{field}_source") if value is not None else None
                setattr(region, f"{field}_source", str(source).strip()[:500] or None if source else None)


def _enterprise(row, where, errors) -> bool:
    if not isinstance(row, dict):
        errors.append(f"{where}: not a mapping")
        return False
    code = str(row.get("credit_code") or "")
    where = f"{where} ({code or 'no credit_code'})"
    err = credit_code_error(code)
    if err:
        errors.append(f"{where}: invalid unified social credit code: {err}")
        return False
    province = db.session.get(Region, str(row.get("province") or ""))
    if province is None or province.kind not in ("province", "xpcc"):
        errors.append(f"{where}: unknown province {row.get('province')!r} (a GB/T 2260 province code)")
        return False
    city = row.get("city")
    if city is not None:
        city = str(city)
        if not re.fullmatch(r"\d{6}", city) or city[:2] != province.code[:2]:
            errors.append(f"{where}: city {city!r} is not in province {province.code}")
            return False
    group = row.get("soe_group")
    if group is not None and db.session.get(SoeGroup, str(group)) is None:
        errors.append(f"{where}: unknown soe_group {group!r}")
        return False
    if not row.get("name") or not row.get("industry"):
        errors.append(f"{where}: needs name and industry")
        return False
    industry = industries.resolve(row["industry"])
    if industry is None:
        errors.append(f"{where}: unknown industry {row['industry']!r} ({industries.HINT})")
        return False
    ent = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code.upper()))
    if ent is None:
        ent = Enterprise(credit_code=code.upper(), tiers=[])
        db.session.add(ent)
    ent.name, (ent.industry, ent.industry_division) = str(row["name"]), industry
    ent.province_code, ent.city_code, ent.soe_group_key = province.code, city, group
    ent.legal_person = bool(row.get("legal_person", True))
    ent.declarations = dict(row.get("declarations") or {})
    for j, t in enumerate(row.get("tiers") or []):
        if not isinstance(t, dict) or t.get("tier") not in TIERS or not isinstance(t.get("year"), int):
            errors.append(f"{where}: tiers[{j}] needs a known tier and an integer year")
            continue
        if not any(r.tier == t["tier"] and r.year == t["year"] for r in ent.tiers):
            ent.tiers.append(TierRecord(tier=t["tier"], year=t["year"], source=t.get("source", "imported")))
    return True


def _user(row, where, errors) -> bool:
    if not isinstance(row, dict) or not row.get("username"):
        errors.append(f"{where}: needs a username")
        return False
    where = f"{where} ({row['username']})"
    role = row.get("role")
    if role not in ROLES:
        errors.append(f"{where}: unknown role {role!r}")
        return False
    fields = {"role": role, "province_code": None, "soe_group_key": None, "enterprise_id": None,
              "department": None, "expertise": list(row.get("expertise") or [])}
    if role in ("provincial_reviewer", "co_department_reviewer", "provincial_admin"):
        region = db.session.get(Region, str(row.get("province") or ""))
        if region is None or region.kind not in ("province", "xpcc"):
            errors.append(f"{where}: {role} needs a known province")
            return False
        fields["province_code"] = region.code
        if role == "co_department_reviewer":
            if row.get("department") not in DEPARTMENTS:
                errors.append(f"{where}: department must be one of {', '.join(DEPARTMENTS)}")
                return False
            fields["department"] = row["department"]
    elif role == "soe_reviewer":
        if db.session.get(SoeGroup, str(row.get("soe_group") or "")) is None:
            errors.append(f"{where}: soe_reviewer needs a known soe_group")
            return False
        fields["soe_group_key"] = str(row["soe_group"])
    elif role == "enterprise":
        code = str(row.get("enterprise") or "").upper()
        ent = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
        if ent is None:
            errors.append(f"{where}: unknown enterprise {row.get('enterprise')!r}")
            return False
        fields["enterprise_id"] = ent.id
    elif role == "expert":
        if row.get("province"):
            if db.session.get(Region, str(row["province"])) is None:
                errors.append(f"{where}: unknown province {row['province']!r}")
                return False
            fields["province_code"] = str(row["province"])
        if row.get("enterprise"):  # the expert's own employer: recused from its cases
            code = str(row["enterprise"]).upper()
            ent = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
            if ent is None:
                errors.append(f"{where}: unknown enterprise {row['enterprise']!r}")
                return False
            fields["enterprise_id"] = ent.id
    user = db.session.scalar(select(User).where(User.username == str(row["username"])))
    if row.get("password") and user is not None and check_password_hash(user.password_hash, str(row["password"])):
        pass  # unchanged: no new hash, no event
    elif row.get("password"):
        try:
            fields["password_hash"] = hash_password(str(row["password"]), str(row["username"]))
        except Invalid as exc:
            errors.append(f"{where}: {exc.errors.get('password') or exc.message}")
            return False
    elif user is None:
        errors.append(f"{where}: a new user needs a password")
        return False
    created = user is None
    if user is None:
        user = User(username=str(row["username"]))
        db.session.add(user)
    visible = {k: v for k, v in fields.items() if k != "password_hash"}
    changed = {k: v for k, v in visible.items() if created or getattr(user, k) != v}
    for k, v in fields.items():
        setattr(user, k, v)
    if changed or "password_hash" in fields and not created:
        system_events.append(None, "user.created" if created else "user.changed", user.username,
                             dict(changed, password_changed="password_hash" in fields and not created))
    return True
