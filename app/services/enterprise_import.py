"""Importing enterprises from XLSX or CSV (the template's Chinese headers): a dry run that names every bad cell by
row, column and reason and counts what would be created, updated or left unchanged; then a commit that is all or
nothing (it checks the whole file again and writes only when no row is bad).

Checks are set-based: the existing enterprises, regions and SOE groups are read once, not per row; rows are written
with Core executemany, so 50,000 rows take seconds (bench/enterprise_import.py).

Who: an administrator (any province) or a provincial administrator (its province only: another province's row is an
error, and so is a credit code registered in another province)."""
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, select, update

from app.errors import Forbidden, Invalid, TooLarge
from app.extensions import db
from app.models import Enterprise, Region, SoeGroup, User
from app.services import downloads, industries, people, spreadsheet, system_events
from app.services.credit_code import _SHAPE, check_char

# (field, the template's Chinese header, required)
COLUMNS = (("credit_code", "统一社会信用代码", True), ("name", "企业名称", True), ("province", "所在省份", True),
           ("city", "所在城市", False), ("industry", "所属行业", True), ("legal_person", "是否独立法人", False),
           ("soe_group", "所属中央企业集团", False))
HEADER = {f: h for f, h, _ in COLUMNS}
MAX_ROWS = 100_000
MAX_NAME = 200
TRUE, FALSE = {"是", "y", "yes", "true", "1", "独立法人"}, {"否", "n", "no", "false", "0", "分支机构", "非独立法人"}
FIELDS = ("name", "province_code", "city_code", "industry", "industry_division", "legal_person", "soe_group_key")
EXAMPLE = ["91330100MA2B000018", "杭州示范智能装备有限公司", "浙江省", "330100", "装备制造", "是", ""]

# English reasons by code; the blueprints show them in the UI language (their catalogs hold the Chinese)
REASONS = {
    "required": "required",
    "length": "has %(n)s characters; a unified social credit code has 18",
    "alphabet": "has characters outside the GB 32100 alphabet (no I, O, S, V, Z) or a malformed region part",
    "check_digit": "check digit is %(got)s, expected %(expected)s",
    "duplicate": "the same credit code is in row %(other)s",
    "exists": "an enterprise with this credit code exists already; edit it instead",
    "other_province": "belongs to another province",
    "registered_elsewhere": "already registered in another province (%(province)s); change it on the enterprise's "
                            "page",
    "unknown_region": "unknown province %(value)s (a province's name or its GB/T 2260 code)",
    "unknown_city": "unknown city %(value)s (a six-digit GB/T 2260 code)",
    "city_not_in_province": "city %(value)s is not in %(province)s",
    "unknown_industry": "unknown industry %(value)s (a key or name of the industry list, or a GB/T 4754-2017 "
                        "division code such as C34)",
    "boolean": "%(value)s is neither 是 nor 否",
    "unknown_soe_group": "unknown central SOE group %(value)s",
    "formula": "a formula; paste the values instead",
    "too_long": "longer than %(n)s characters",
    "unknown_header": "unknown column %(value)s",
    "missing_header": "the column is missing",
    "empty": "the file has no rows below the header",
}


@dataclass
class Report:
    create: int = 0
    update: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)
    new_rows: list = field(default_factory=list)
    changed_rows: list = field(default_factory=list)
    codes: dict = field(default_factory=dict)  # credit code -> name, every good row
    accounts: int = 0
    passwords_token: str | None = None
    one_time_passwords: list | None = None  # (username, password) when the caller asked for them inline (the API)

    def add(self, row: int, fld: str, code: str, **params):
        self.errors.append({"row": row, "column": HEADER.get(fld, fld), "field": fld, "code": code,
                            "params": {k: str(v) for k, v in params.items()},
                            "message": REASONS[code] % {k: str(v) for k, v in params.items()}})

    def as_json(self) -> dict:
        out = {"create": self.create, "update": self.update, "unchanged": self.unchanged,
               "errors": [{k: e[k] for k in ("row", "column", "field", "code", "message")} for e in self.errors]}
        if self.passwords_token:
            out["accounts"] = self.accounts
        return out


def require_importer(actor: User) -> str | None:
    """The province the actor is limited to (None: every province); Forbidden for anyone else."""
    if actor.role == "admin":
        return None
    if actor.role == "provincial_admin" and actor.province_code:
        return actor.province_code
    raise Forbidden("only an administrator or a provincial administrator manages enterprises")


def template_xlsx() -> bytes:
    """The import template: the Chinese headers and one example row (an illustrative enterprise)."""
    return spreadsheet.xlsx("企业名单", [h for _, h, _ in COLUMNS], [EXAMPLE], [24, 36, 12, 12, 16, 14, 30])


class _Reference:
    """Everything a row is checked against, read once."""

    def __init__(self, codes: list[str] | None = None):
        """`codes`: read only these enterprises (a form's one row), else all of them (a file's many)."""
        self.regions = {r.code: r for r in db.session.scalars(select(Region))}
        self.province_by_name = {}
        for r in self.regions.values():
            if r.kind in ("province", "xpcc"):
                self.province_by_name[r.name_zh] = r
                short = r.name_zh.removesuffix("省").removesuffix("市").removesuffix("自治区")
                self.province_by_name.setdefault(short, r)
        self.city_by_name = {r.name_zh: r for r in self.regions.values() if r.kind in ("plan_city", "city")}
        self.groups = {}
        for g in db.session.scalars(select(SoeGroup)):
            self.groups[g.key] = g.key
            self.groups[g.name] = g.key
        t = Enterprise.__table__
        stmt = select(t.c.id, t.c.credit_code, *(t.c[f] for f in FIELDS))
        if codes is not None:
            stmt = stmt.where(t.c.credit_code.in_(codes))
        self.existing = {r.credit_code: r for r in db.session.execute(stmt)}

    def province(self, value: str) -> Region | None:
        r = self.regions.get(value)
        if r is not None:
            return r if r.kind in ("province", "xpcc") else None
        return self.province_by_name.get(value)


def _header(cells: list[str], report: Report) -> dict[str, int] | None:
    by_label = {h: f for f, h, _ in COLUMNS} | {f: f for f, _, _ in COLUMNS}
    index: dict[str, int] = {}
    for i, cell in enumerate(cells):
        label = cell.strip().rstrip("*＊").strip()
        if not label:
            continue
        fld = by_label.get(label)
        if fld is None:
            report.add(1, label, "unknown_header", value=label)
        elif fld not in index:
            index[fld] = i
    for fld, _, required in COLUMNS:
        if required and fld not in index:
            report.add(1, fld, "missing_header")
    return None if report.errors else index


def check(actor: User, data: bytes, filename: str = "") -> Report:
    """The dry run: nothing is written."""
    limit = require_importer(actor)
    report = Report()
    ref = _Reference()
    seen: dict[str, int] = {}
    index, data_rows = None, 0
    for number, cells in enumerate(spreadsheet.rows(data, filename), start=1):
        if index is None:
            if not any(cells):
                raise Invalid("the first row must hold the column headers", errors={"file": "no_header"})
            index = _header(cells, report)
            if index is None:
                return report
            continue
        if not any(cells):
            continue
        if number > MAX_ROWS + 1:
            raise TooLarge(f"more than {MAX_ROWS} rows: split the file", errors={"file": "too_many_rows"})
        values = {f: (cells[i] if i < len(cells) else "") for f, i in index.items()}
        _row(number, values, ref, limit, seen, report)
        data_rows += 1
    if index is None:
        raise Invalid("the file is empty", errors={"file": "empty"})
    if not data_rows:
        report.add(2, "file", "empty")
    return report


def _row(number: int, values: dict, ref: _Reference, limit: str | None, seen: dict, report: Report) -> None:
    bad = len(report.errors)
    for fld, value in values.items():
        if value.startswith("="):
            report.add(number, fld, "formula")
            values[fld] = ""
    for fld, _, required in COLUMNS:
        if required and not values.get(fld) and not any(e["row"] == number and e["field"] == fld
                                                        for e in report.errors[bad:]):
            report.add(number, fld, "required")
    code = values.get("credit_code", "").upper()
    if code:
        if len(code) != 18:
            report.add(number, "credit_code", "length", n=len(code))
        elif not _SHAPE.match(code):
            report.add(number, "credit_code", "alphabet")
        elif code[17] != check_char(code[:17]):
            report.add(number, "credit_code", "check_digit", got=code[17], expected=check_char(code[:17]))
        elif code in seen:
            report.add(number, "credit_code", "duplicate", other=seen[code])
        else:
            seen[code] = number
    name = values.get("name", "")
    if len(name) > MAX_NAME:
        report.add(number, "name", "too_long", n=MAX_NAME)
    province = None
    if values.get("province"):
        province = ref.province(values["province"])
        if province is None:
            report.add(number, "province", "unknown_region", value=values["province"])
        elif limit is not None and province.code != limit:
            report.add(number, "province", "other_province")
    city = values.get("city") or None
    if city and province is not None:
        region = ref.regions.get(city) or ref.city_by_name.get(city)
        if region is not None:
            city = region.code
            if region.recommender_code != province.code:
                report.add(number, "city", "city_not_in_province", value=values["city"], province=province.name_zh)
        elif not (city.isdigit() and len(city) == 6 and city[2:] != "0000" and city.endswith("00")):
            report.add(number, "city", "unknown_city", value=city)
        elif city[:2] != province.code[:2]:
            report.add(number, "city", "city_not_in_province", value=city, province=province.name_zh)
    industry = None
    if values.get("industry"):
        industry = industries.resolve(values["industry"])
        if industry is None:
            report.add(number, "industry", "unknown_industry", value=values["industry"])
    legal = values.get("legal_person", "").lower()
    if legal and legal not in TRUE | FALSE:
        report.add(number, "legal_person", "boolean", value=values["legal_person"])
    group = None
    if values.get("soe_group"):
        group = ref.groups.get(values["soe_group"])
        if group is None:
            report.add(number, "soe_group", "unknown_soe_group", value=values["soe_group"])
    existing = ref.existing.get(code)
    if existing is not None and province is not None and existing.province_code != province.code:
        other = ref.regions.get(existing.province_code)
        if limit is not None and existing.province_code != limit:
            report.add(number, "credit_code", "other_province")
        else:
            report.add(number, "credit_code", "registered_elsewhere", province=other.name_zh if other else "")
    if len(report.errors) > bad:
        return
    report.codes[code] = name
    row = {"name": name, "province_code": province.code, "city_code": city, "industry": industry[0],
           "industry_division": industry[1], "legal_person": legal not in FALSE, "soe_group_key": group}
    if existing is None:
        report.create += 1
        report.new_rows.append(dict(row, credit_code=code, declarations={}))
    elif all(getattr(existing, f) == row[f] for f in FIELDS):
        report.unchanged += 1
    else:
        report.update += 1
        report.changed_rows.append({"_id": existing.id} | {f"v_{f}": v for f, v in row.items()})


def commit(actor: User, data: bytes, filename: str = "", accounts: bool = False, inline: bool = False) -> Report:
    """Check the whole file again and write it when no row is bad; with any error nothing is written (the report
    says why). With `accounts`, one enterprise account per row that has none (people.create_enterprise_accounts);
    their one-time passwords become an XLSX the actor downloads once (`report.passwords_token`), or with `inline`
    (the API) are answered once in the report and stored nowhere (`report.one_time_passwords`). Flushes; the
    caller's unit of work commits."""
    report = check(actor, data, filename)
    if report.errors:
        return report
    t = Enterprise.__table__
    if report.new_rows:
        db.session.execute(insert(t), report.new_rows)
    if report.changed_rows:
        db.session.execute(update(t).where(t.c.id == bindparam("_id"))
                           .values({f: bindparam(f"v_{f}") for f in FIELDS}), report.changed_rows)
    if accounts:
        _accounts(actor, report, inline)
    system_events.append(actor.id, "enterprises.imported", filename[:200] or "upload",
                         {"create": report.create, "update": report.update, "unchanged": report.unchanged,
                          "accounts": report.accounts})
    db.session.expire_all()
    return report


def _accounts(actor: User, report: Report, inline: bool = False) -> None:
    codes, ids = list(report.codes), []
    for i in range(0, len(codes), 500):  # SQLite's bound-parameter limit
        ids += db.session.scalars(select(Enterprise.id).where(Enterprise.credit_code.in_(codes[i:i + 500])))
    made = people.create_enterprise_accounts(actor, ids)
    report.accounts = len(made)
    if inline:
        report.one_time_passwords = made
    elif made:
        content = spreadsheet.xlsx("一次性密码", ["用户名（统一社会信用代码）", "企业名称", "一次性密码"],
                                   [[u, report.codes.get(u, ""), p] for u, p in made], [26, 40, 18])
        report.passwords_token = downloads.store(actor, "passwords", "enterprise-accounts.xlsx", content)
