"""Exports of lists: a recommender's summary table (推荐汇总表) and published certified lists, as XLSX (through the
shared writer, services/spreadsheet.py) and CSV.

The columns are OUR layout, not the notice's: the notice's summary tables (附件3 卓越级, 附件5 领航级) are known to
be filled in priority order, but no source with their exact columns exists in our research
(shared/data/program-research.yaml, `recommendation_summary_table.columns: unknown`). We offer the columns an
official summary table needs — 推荐单位, 推荐顺序, 申报主体, 统一社会信用代码, 智能工厂名称, 所在地区, 所属行业,
联系人及电话, 备注 — and add 状态 (each entry's current status): the 备注 of a revoked entry (an objection upheld)
gives the date and reason of the revocation. The list itself (its entries and their order) never changes."""
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseList, Enterprise, Region, SoeGroup
from app.services import industries, processes, spreadsheet
from app.services.clock import SHANGHAI
from workflows.instance import Instance

COLUMNS = [("recommender", "推荐单位"), ("priority", "推荐顺序"), ("enterprise", "申报主体"),
           ("credit_code", "统一社会信用代码"), ("project_name", "智能工厂名称"), ("region", "所在地区"),
           ("industry", "所属行业"), ("contact", "联系人及电话"), ("remarks", "备注"), ("status", "状态")]
WIDTHS = [18, 8, 30, 22, 30, 18, 14, 24, 36, 12]
CATALOG = Path(__file__).resolve().parent.parent / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=1)
def _zh() -> dict:
    """The Chinese names of statuses, read from the UI's catalog (one wording everywhere)."""
    from babel.messages.pofile import read_po

    with open(CATALOG, "rb") as f:
        return {m.id: m.string for m in read_po(f, locale="zh") if m.id and isinstance(m.id, str) and m.string}


def status_zh(status: str | None) -> str:
    return _zh().get(status or "", status or "")


def recommender_name(scope: str) -> str:
    kind, _, key = scope.partition(":")
    if kind == "soe":
        grp = db.session.get(SoeGroup, key)
        return grp.name if grp else key
    region = db.session.get(Region, key)
    return region.name_zh if region else key


def recommender_names(scopes) -> dict[str, str]:
    """{scope: name} for many scopes in two statements (a page of lists)."""
    scopes = set(scopes)
    groups = [s.partition(":")[2] for s in scopes if s.startswith("soe:")]
    codes = [s.partition(":")[2] for s in scopes if not s.startswith("soe:")]
    names = {f"soe:{g.key}": g.name for g in db.session.scalars(select(SoeGroup).where(SoeGroup.key.in_(groups)))} \
        if groups else {}
    if codes:
        names.update({f"province:{r.code}": r.name_zh
                      for r in db.session.scalars(select(Region).where(Region.code.in_(codes)))})
    return {s: names.get(s, s.partition(":")[2]) for s in scopes}


def rows(lst: CaseList) -> list[dict]:
    """One row per list entry, in priority order; application details come from the case data, the status and any
    revocation from the case as it is now."""
    from app.services.lists import entry_states

    recommender = recommender_name(lst.scope)
    entries = list(lst.entries)
    states = entry_states(lst)
    # the cases, their enterprises and regions in two statements, not three per entry
    found = {case.id: (case, ent) for case, ent in db.session.execute(
        select(Case, Enterprise).join(Enterprise, Enterprise.id == Case.enterprise_id)
        .where(Case.id.in_([e.case_id for e in entries])))} if entries else {}
    codes = {c for _case, ent in found.values() for c in (ent.city_code, ent.province_code) if c}
    regions = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(codes)))} if codes else {}
    out = []
    for entry in entries:
        case, ent = found[entry.case_id]
        region = regions.get(ent.city_code) if ent.city_code else None
        province = regions.get(ent.province_code)
        data = Instance.load(case.state, processes.version_info(case.process_version_id).bundle).case_data()
        contact = " ".join(x for x in (data.get("contact_name"), data.get("contact_phone")) if x)
        st = states.get(case.id, {})
        remarks = ""
        if st.get("revoked_at"):
            remarks = f"{st['revoked_at'].astimezone(SHANGHAI):%Y-%m-%d} 撤销：{st.get('revocation_reason') or ''}"
        out.append({"recommender": recommender, "priority": entry.position, "enterprise": ent.name,
                    "credit_code": ent.credit_code, "project_name": data.get("project_name", ""),
                    "region": " ".join(r.name_zh for r in (province, region) if r),
                    "industry": industries.name(ent.industry), "contact": contact, "remarks": remarks,
                    "status": status_zh(st.get("status")), "case_id": case.id})
    return out


def to_csv(lst: CaseList) -> bytes:
    return spreadsheet.csv_bytes([zh for _k, zh in COLUMNS], ([row[k] for k, _zh in COLUMNS] for row in rows(lst)))


def to_xlsx(lst: CaseList) -> bytes:
    sheet = "推荐汇总表" if lst.kind == "recommendation" else "认定名单"
    return spreadsheet.xlsx(sheet, [zh for _k, zh in COLUMNS],
                            [[row[k] for k, _zh in COLUMNS] for row in rows(lst)], WIDTHS)


def render(lst: CaseList, fmt: str) -> tuple[bytes, str, str]:
    """(content, mimetype, file name) of a list in `fmt` (xlsx or csv)."""
    if fmt not in ("xlsx", "csv"):
        from app.errors import Invalid

        raise Invalid("format is xlsx or csv", errors={"format": "xlsx or csv"})
    data = to_xlsx(lst) if fmt == "xlsx" else to_csv(lst)
    mime = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
            else "text/csv; charset=utf-8")
    return data, mime, f"{lst.kind}-{lst.tier}-{lst.campaign.year}-{lst.id}.{fmt}"
