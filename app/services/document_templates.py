"""Document templates (issue 19 part 3), versioned like diagrams: the shipped files in BPMN_DIR/documents/<key>.txt
are loaded by `bpmn sync` (a changed file is a new version, an unchanged one writes nothing), administrators edit
them in the browser (each save a new version, the earlier kept); the latest version is the one in force.
A save is checked by rendering it with sample values: a template that cannot render is refused, line named."""
import hashlib
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import DocumentTemplate, User
from app.services import clock, documents_render, system_events
from app.services.documents_render import Table, chinese_date
from app.settings import settings

KEYS = ("announcement", "summary_table", "letter", "certification_notice")
TITLES = {"announcement": "公示公告", "summary_table": "推荐汇总表", "letter": "推荐函",
          "certification_notice": "认定通知书"}
MAX_BODY = 20_000
SHIPPED = "shipped in bpmn/documents"
COLUMNS = {  # each kind's table: (row key, heading, relative width)
    "announcement": [("priority", "序号", 1), ("enterprise", "企业名称", 3.8),
                     ("credit_code", "统一社会信用代码", 4.4), ("project_name", "智能工厂名称", 3.6),
                     ("region", "所在地区", 2.6)],
    "summary_table": [("priority", "推荐顺序", 1.2), ("enterprise", "申报主体", 4),
                      ("credit_code", "统一社会信用代码", 4.4), ("project_name", "智能工厂名称", 4),
                      ("region", "所在地区", 2.4), ("industry", "所属行业", 2),
                      ("contact", "联系人及电话", 3.6), ("remarks", "备注", 2)],
    "letter": [("priority", "推荐顺序", 1.2), ("enterprise", "申报主体", 4),
               ("project_name", "智能工厂名称", 4), ("region", "所在地区", 2.6)],
}
TEMPLATE_NAMES = [  # what a template may read (the template page lists them)
    ("year", "年度"), ("tier_name", "梯度级别（如 先进级）"), ("recommender", "推荐或认定单位的地区或集团名称"),
    ("issuer", "落款单位"), ("count", "名单中的企业数"), ("notice_start", "公示开始日期"),
    ("notice_end", "公示结束日期（按工作日历计算）"), ("notice_length", "公示期长度（如 5个工作日）"),
    ("notice_url", "公示页面地址"), ("contact", "联系人及电话"), ("today", "生成日期"),
    ("enterprise", "企业名称（认定通知书）"), ("credit_code", "统一社会信用代码（认定通知书）"),
    ("project_name", "智能工厂名称（认定通知书）"), ("decided_on", "认定日期（认定通知书）"),
]


def require_admin(actor: User) -> None:
    if actor.role != "admin":
        raise Forbidden("only administrators edit document templates")


def _hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def latest(key: str) -> DocumentTemplate:
    row = db.session.scalar(select(DocumentTemplate).where(DocumentTemplate.key == key)
                            .order_by(DocumentTemplate.version.desc()).limit(1))
    if row is None:
        if key not in KEYS:
            raise NotFound("no such document template")
        row = _load_shipped(key, None)  # a database older than the template: its shipped file, once
    return row


def versions(key: str) -> list[DocumentTemplate]:
    if key not in KEYS:
        raise NotFound("no such document template")
    return list(db.session.scalars(select(DocumentTemplate).where(DocumentTemplate.key == key)
                                   .order_by(DocumentTemplate.version.desc())))


def get_version(key: str, version: int) -> DocumentTemplate:
    row = db.session.scalar(select(DocumentTemplate).where(DocumentTemplate.key == key,
                                                           DocumentTemplate.version == version))
    if row is None:
        raise NotFound("no such template version")
    return row


def overview() -> list[dict]:
    """Every template key with its version in force (the administrators' page)."""
    return [{"key": k, "title": TITLES[k], "latest": latest(k)} for k in KEYS]


def check(key: str, body) -> str:
    """The body, checked: text of a sensible size that renders with the sample values of its kind."""
    if key not in KEYS:
        raise NotFound("no such document template")
    if not isinstance(body, str) or not body.strip():
        raise Invalid("模板正文不能为空", errors={"body": "模板正文不能为空"})
    if len(body) > MAX_BODY:
        raise Invalid(f"模板正文不能超过{MAX_BODY}个字符", errors={"body": f"不能超过{MAX_BODY}个字符"})
    body = body.replace("\r\n", "\n")
    documents_render.fill(body, sample_context(key))
    return body


def _add(key: str, body: str, author_id: int | None, message: str) -> DocumentTemplate:
    last = db.session.scalar(select(func.max(DocumentTemplate.version)).where(DocumentTemplate.key == key)) or 0
    row = DocumentTemplate(key=key, version=last + 1, body=body, author_id=author_id, created_at=clock.now(),
                           content_hash=_hash(body), message=message[:200])
    db.session.add(row)
    db.session.flush()
    return row


def save(actor: User, key: str, body, message: str | None = None) -> DocumentTemplate:
    """A new version of the template (an unchanged body is refused: nothing to save)."""
    require_admin(actor)
    body = check(key, body)
    if _hash(body) == latest(key).content_hash:
        raise Invalid("模板内容没有变化", errors={"body": "与当前版本相同，无需保存"})
    row = _add(key, body, actor.id, (message or "").strip() or "edited")
    system_events.append(actor.id, "document_template.saved", key,
                         {"version": row.version, "content_hash": row.content_hash})
    return row


def preview(actor: User, key: str, body) -> str:
    """The plain text the body gives with sample values (nothing saved)."""
    require_admin(actor)
    body = check(key, body)
    text = documents_render.fill(body, sample_context(key))
    return documents_render.to_text(documents_render.layout(text), sample_table(key))


def _shipped_body(key: str) -> str | None:
    path = Path(settings().bpmn_dir) / "documents" / f"{key}.txt"
    return path.read_text(encoding="utf-8").replace("\r\n", "\n") if path.exists() else None


def _load_shipped(key: str, actor_id: int | None) -> DocumentTemplate:
    body = _shipped_body(key)
    if body is None:
        raise NotFound(f"no shipped template {key}")
    return _add(key, body, actor_id, SHIPPED)


def sync_shipped(actor_id: int | None = None) -> list[dict]:
    """`bpmn sync`: each shipped template whose text differs from the latest version becomes a new version;
    one `document_templates.synced` system event when anything changed."""
    out = []
    for key in KEYS:
        body = _shipped_body(key)
        if body is None:
            continue
        check(key, body)
        last = db.session.scalar(select(DocumentTemplate).where(DocumentTemplate.key == key)
                                 .order_by(DocumentTemplate.version.desc()).limit(1))
        changed = last is None or (last.content_hash != _hash(body) and last.message == SHIPPED)
        # an administrator's edit is newer than the file it started from: a sync never overwrites it
        if changed:
            last = _add(key, body, actor_id, SHIPPED)
        out.append({"kind": "document_template", "key": key, "version": last.version, "deployed": changed})
    if any(i["deployed"] for i in out):
        system_events.append(actor_id, "document_templates.synced", "documents",
                             {"deployed": [{"key": i["key"], "version": i["version"]} for i in out if i["deployed"]]})
    return out


def to_json(row: DocumentTemplate) -> dict:
    return {"key": row.key, "version": row.version, "body": row.body, "author_id": row.author_id,
            "created_at": row.created_at.isoformat(), "content_hash": row.content_hash, "message": row.message}


def table(kind: str, rows: list[dict]) -> Table | None:
    cols = COLUMNS.get(kind)
    if not cols:
        return None
    return Table([h for _k, h, _w in cols], [[str(r.get(k) or "") for k, _h, _w in cols] for r in rows],
                 [w for _k, _h, w in cols])


def sample_context(key: str) -> dict:
    """Values to check and preview a template with (no database row is read)."""
    rows = sample_rows()
    today = chinese_date(date(2025, 8, 1))
    return {"year": 2025, "tier_name": "卓越级", "recommender": "浙江省", "issuer": "浙江省工业和信息化主管部门",
            "contact": "张三 0571-12345678", "today": today, "notice_url": "https://example.gov.cn/notices",
            "count": len(rows), "entries": rows, "notice_start": today, "notice_end": chinese_date(date(2025, 8, 8)),
            "notice_length": "7天", "enterprise": rows[0]["enterprise"], "credit_code": rows[0]["credit_code"],
            "project_name": rows[0]["project_name"], "decided_on": today, "case_id": 1}


def sample_rows() -> list[dict]:
    return [{"priority": 1, "enterprise": "某某智能装备有限公司", "credit_code": "91330100123456788G",
             "project_name": "某某智能装备数字化车间", "region": "浙江省 杭州市", "industry": "装备制造",
             "contact": "李四 0571-87654321", "remarks": ""}]


def sample_table(key: str) -> Table | None:
    return table(key, sample_rows())
