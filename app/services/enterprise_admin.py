"""Enterprises for their administrators: the list with search and filters, one enterprise, create and edit. An
administrator sees and changes every province's; a provincial administrator only its own province's (another
province's enterprise is not found). The checks are the import's (enterprise_import._row), so a form and a file
refuse the same things with the same reasons."""
from sqlalchemy import exists, func, or_, select

from app.errors import Invalid, NotFound
from app.extensions import db
from app.models import Enterprise, TierRecord, User
from app.services import industries, system_events
from app.services.enterprise_import import COLUMNS, FIELDS, Report, _Reference, _row, require_importer

PER_PAGE = 50


class FormInvalid(Invalid):
    """Bad form input: `report.errors` hold each field's reason code and parameters (the page translates them)."""

    def __init__(self, report: Report):
        super().__init__("the enterprise was not saved: " + "; ".join(f"{e['column']}: {e['message']}"
                                                                        for e in report.errors),
                         errors={e["field"]: e["message"] for e in report.errors})
        self.report = report


def _scoped(actor: User):
    limit = require_importer(actor)
    q = select(Enterprise)
    return q.where(Enterprise.province_code == limit) if limit else q


def search(actor: User, q: str | None = None, region: str | None = None, industry: str | None = None,
           tier: str | None = None, page: int = 1, per_page: int = PER_PAGE) -> tuple[list[Enterprise], int]:
    """`q`: part of the name or the start of the credit code; `region`: a province or city code; `industry`: a key;
    `tier`: a tier the enterprise holds (any year)."""
    stmt = _scoped(actor)
    text = (q or "").strip()
    if text:
        stmt = stmt.where(or_(Enterprise.name.contains(text, autoescape=True),
                              Enterprise.credit_code.startswith(text.upper(), autoescape=True)))
    if region:
        stmt = stmt.where(or_(Enterprise.province_code == region, Enterprise.city_code == region))
    if industry:
        stmt = stmt.where(Enterprise.industry == industry)
    if tier:
        stmt = stmt.where(exists().where(TierRecord.enterprise_id == Enterprise.id, TierRecord.tier == tier))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Enterprise.province_code, Enterprise.name, Enterprise.id)
                              .limit(per_page).offset((max(page, 1) - 1) * per_page))
    return list(rows), total


def get(actor: User, enterprise_id: int) -> Enterprise:
    ent = db.session.scalar(_scoped(actor).where(Enterprise.id == enterprise_id))
    if ent is None:
        raise NotFound("no such enterprise in your scope")
    return ent


def to_json(ent: Enterprise) -> dict:
    return {"id": ent.id, "credit_code": ent.credit_code, "name": ent.name, "province": ent.province_code,
            "city": ent.city_code, "industry": ent.industry, "industry_name": industries.name(ent.industry),
            "industry_division": ent.industry_division, "legal_person": ent.legal_person,
            "soe_group": ent.soe_group_key, "tiers": sorted({t.tier for t in ent.tiers})}


def form_values(ent: Enterprise | None) -> dict:
    """The form's fields for an enterprise (empty for a new one)."""
    if ent is None:
        return {f: "" for f, _, _ in COLUMNS} | {"legal_person": "是"}
    return {"credit_code": ent.credit_code, "name": ent.name, "province": ent.province_code,
            "city": ent.city_code or "", "industry": ent.industry_division or ent.industry,
            "legal_person": "是" if ent.legal_person else "否", "soe_group": ent.soe_group_key or ""}


def save(actor: User, form: dict, enterprise_id: int | None = None) -> Enterprise:
    """Create (no id) or edit an enterprise from the form's text values; FormInvalid names each bad field. The
    credit code of an existing enterprise does not change (accounts and history name it)."""
    limit = require_importer(actor)
    ent = get(actor, enterprise_id) if enterprise_id is not None else None
    values = {f: str(form.get(f) or "").strip() for f, _, _ in COLUMNS}
    if ent is not None:
        values["credit_code"] = ent.credit_code
    code = values["credit_code"].upper()
    ref = _Reference(codes=[code])
    if ent is not None:
        ref.existing.pop(ent.credit_code, None)  # its own row: neither a duplicate nor registered elsewhere
    report = Report()
    _row(1, values, ref, limit, {}, report)
    if ent is None and code in ref.existing and not any(e["field"] == "credit_code" for e in report.errors):
        report.add(1, "credit_code", "exists")
    if report.errors:
        raise FormInvalid(report)
    row = report.new_rows[0]
    if ent is None:
        ent = Enterprise(credit_code=code, declarations={}, tiers=[])
        db.session.add(ent)
    changed = {f: row[f] for f in FIELDS if getattr(ent, f, None) != row[f]}
    for f in FIELDS:
        setattr(ent, f, row[f])
    db.session.flush()
    if changed:
        system_events.append(actor.id, "enterprise.created" if enterprise_id is None else "enterprise.changed",
                             ent.credit_code, changed)
    return ent



def filter_choices(actor: User) -> dict:
    """What the list's filters offer: the provinces in the actor's scope (code, Chinese, English) and the SOE
    groups' names."""
    from app.models import Region, SoeGroup

    limit = require_importer(actor)
    stmt = select(Region).where(Region.kind.in_(("province", "xpcc"))).order_by(Region.code)
    if limit:
        stmt = stmt.where(Region.code == limit)
    regions = [(r.code, r.name_zh, r.name_en) for r in db.session.scalars(stmt)]
    groups = {g.key: g.name for g in db.session.scalars(select(SoeGroup))}
    names = {r.code: (r.name_zh, r.name_en) for r in db.session.scalars(select(Region))}
    return {"provinces": regions, "groups": groups, "region_names": names}
