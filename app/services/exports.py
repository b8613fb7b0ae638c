"""Exports of lists: the recommendation summary table (推荐汇总表, attachments 3 and 5) and published certified
lists, as XLSX (openpyxl) and CSV. Columns follow the notice's summary table; every cell goes through
`spreadsheet.safe_cell` (no formula injection)."""
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseList, Enterprise, Region, SoeGroup, User
from app.services import processes, spreadsheet
from workflows.instance import Instance

COLUMNS = [("recommender", "推荐单位"), ("priority", "推荐顺序"), ("enterprise", "申报主体"),
           ("credit_code", "统一社会信用代码"), ("project_name", "智能工厂名称"), ("region", "所在地区"),
           ("industry", "所属行业"), ("contact", "联系人及电话"), ("case_id", "案件编号")]


def _recommender_name(scope: str) -> str:
    kind, _, key = scope.partition(":")
    if kind == "soe":
        grp = db.session.get(SoeGroup, key)
        return grp.name if grp else key
    region = db.session.get(Region, key)
    return region.name_zh if region else key


def rows(lst: CaseList) -> list[dict]:
    """One row per list entry, in priority order; application details come from the case data."""
    recommender = _recommender_name(lst.scope)
    entries = list(lst.entries)
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
        out.append({"recommender": recommender, "priority": entry.position, "enterprise": ent.name,
                    "credit_code": ent.credit_code, "project_name": data.get("project_name", ""),
                    "region": " ".join(r.name_zh for r in (province, region) if r), "industry": ent.industry,
                    "contact": contact, "case_id": case.id})
    return out


def to_csv(lst: CaseList) -> bytes:
    return spreadsheet.csv_bytes([zh for _k, zh in COLUMNS], ([row[k] for k, _zh in COLUMNS] for row in rows(lst)))


def to_xlsx(lst: CaseList) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "推荐汇总表" if lst.kind == "recommendation" else "认定名单"
    author = db.session.get(User, lst.created_by)
    spreadsheet.inert_row(ws, [f"{lst.tier} · {lst.campaign.year} · {_recommender_name(lst.scope)} · "
               f"{lst.created_at:%Y-%m-%d} · {author.username if author else ''}"])
    spreadsheet.inert_row(ws, [zh for _k, zh in COLUMNS])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows(lst):
        spreadsheet.inert_row(ws, [row[k] for k, _zh in COLUMNS])
    for col, width in zip("ABCDEFGHI", (18, 8, 30, 22, 30, 18, 14, 24, 10), strict=True):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()



def render(lst: CaseList, fmt: str) -> tuple[bytes, str, str]:
    """(content, mimetype, file name) of a list in `fmt` (xlsx or csv)."""
    if fmt not in ("xlsx", "csv"):
        from app.errors import Invalid

        raise Invalid("format is xlsx or csv", errors={"format": "xlsx or csv"})
    data = to_xlsx(lst) if fmt == "xlsx" else to_csv(lst)
    mime = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
            else "text/csv; charset=utf-8")
    return data, mime, f"{lst.kind}-{lst.tier}-{lst.campaign.year}-{lst.id}.{fmt}"
