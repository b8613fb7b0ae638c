"""The case list of the roles that see many cases (provincial and SOE reviewers, national and SASAC reviewers,
administrators, auditors): search by enterprise name or credit code, filters by tier, status, region and campaign,
newest first, paginated, within the one scope rule (`scope.case_filter`).

A page is a fixed number of statements: the page of rows (narrow columns joined to the enterprise, never the
serialized state), the total, and the names of the regions and campaigns on the page. Search by name matches a part
of the name, by credit code the start of the code (`cases.list_cases`, which the API uses, applies the same
`search_clause`). Cost at 500,000 cases: `python -m bench.case_list` (docs/PERFORMANCE.md).
"""
import re
from dataclasses import dataclass, replace

from sqlalchemy import false, func, select, union

from app.errors import Forbidden
from app.extensions import db
from app.models import TIERS, Campaign, Case, Enterprise, EnterpriseNameGram, ProcessModel, ProcessVersion, Region, User
from app.services.scope import case_filter

READERS = ("provincial_reviewer", "soe_reviewer", "national_reviewer", "sasac_reviewer", "admin", "auditor")
PAGE_SIZES = (20, 50, 100)
FINAL = ("certified", "rejected", "withdrawn", "expired", "cultivating", "accepted")
COUNT_CAP = 10_000  # counted exactly up to here; beyond, the page says "more than 10,000"
BROAD_COUNT_CAP = 1_000  # the same for a broad name search (walked case by case)
PROBE = 1_000  # how far the search counts the enterprises holding each piece of the text
FEW = 50  # a piece held by at most this many enterprises ends the probing
MAX_PROBES = 8
CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2,18}$")  # the start of a unified social credit code (GB 32100 alphabet)


def require_reader(actor: User) -> None:
    if actor.role not in READERS:
        raise Forbidden("the case list is for reviewers who oversee many cases, administrators and auditors")


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    tier: str | None = None
    status: str | None = None
    region: str | None = None  # a province or city code; shown by its name
    campaign: int | None = None  # the campaign year
    page: int = 1
    per_page: int = 50

    @classmethod
    def parse(cls, args) -> "Filters":
        """From query-string values; anything unknown falls back to its default (never an error page)."""
        def number(name, default):
            try:
                return max(1, int(args.get(name) or default))
            except (TypeError, ValueError):
                return default

        per_page = number("per_page", 50)
        year = (args.get("campaign") or "").strip()
        tier = args.get("tier") or None
        q = (args.get("q") or "").strip()[:100] or None
        region = (args.get("region") or "").strip()
        return cls(q=q, tier=tier if tier in TIERS else None, status=(args.get("status") or "").strip()[:40] or None,
                   region=region if region.isdigit() and len(region) == 6 else None,
                   campaign=int(year) if year.isdigit() and len(year) == 4 else None, page=number("page", 1),
                   per_page=per_page if per_page in PAGE_SIZES else 50)

    def args(self, **change) -> dict:
        f = replace(self, **change)
        out = {"q": f.q, "tier": f.tier, "status": f.status, "region": f.region, "campaign": f.campaign,
               "page": f.page if f.page != 1 else None, "per_page": f.per_page if f.per_page != 50 else None}
        return {k: v for k, v in out.items() if v is not None}


def _fold(text: str) -> str:
    """ASCII letters lower-cased, as the gram triggers and SQLite's lower() do (other characters unchanged)."""
    return "".join(c.lower() if c.isascii() else c for c in text)


def enterprises_named(text: str):
    """A select of the ids of the enterprises whose name contains `text` (ASCII case ignored)."""
    return _named(text)[0]


def _name_match(text: str):
    return Enterprise.name.icontains(text.strip(), autoescape=True)


def _named(text: str):
    """(select of enterprise ids, broad): on the index of two-character pieces (`enterprise_name_grams`, migration
    0021) the enterprises holding the query's rarest piece (each piece's count probed up to PROBE rows; a piece
    held by few enough ends the probing), then the whole text checked on those. `broad`: even the rarest piece is
    held by more than PROBE enterprises, or the text has no piece (one character)."""
    t = _fold(text.strip())
    grams = list(dict.fromkeys(t[i:i + 2] for i in range(len(t) - 1)))[:MAX_PROBES]
    if not grams:
        return select(Enterprise.id).where(_name_match(text)), True
    best, best_n = None, None
    for g in grams:
        n = db.session.scalar(select(func.count()).select_from(
            select(EnterpriseNameGram.enterprise_id).where(EnterpriseNameGram.gram == g).limit(PROBE + 1).subquery()))
        if not n:
            return select(Enterprise.id).where(false()), False
        if best_n is None or n < best_n:
            best, best_n = g, n
        if n <= FEW:
            break
    return select(Enterprise.id).where(
        Enterprise.id.in_(select(EnterpriseNameGram.enterprise_id).where(EnterpriseNameGram.gram == best)),
        _name_match(text)), best_n > PROBE


def _code_start(text: str) -> str | None:
    """The text as the start of a credit code, when it looks like one (a name seldom holds a digit: a code-shaped
    text with a digit is searched as a code only)."""
    code = text.strip().upper()
    return code if CODE.match(code) else None


def _digit_code(text: str) -> bool:
    code = _code_start(text)
    return bool(code and any(c.isdigit() for c in code))


def search_clause(text: str, named=None, walk=False):
    """Cases whose enterprise's name contains `text`, or whose credit code starts with it (an index range on the
    unique code). `named`: `_named(text)` when the caller has it already. `walk`: for a broad name search, the name
    tested on each case's enterprise (correlated, by primary key) as the cases are read newest first, instead of
    gathering every matching enterprise first."""
    code = _code_start(text)
    by_code = select(Enterprise.id).where(Enterprise.credit_code >= code, Enterprise.credit_code < code + "\uffff") \
        if code else None
    if _digit_code(text):
        return Case.enterprise_id.in_(by_code)
    ids, broad = named or _named(text)
    if walk and broad:
        match = select(Enterprise.id).where(Enterprise.id == Case.enterprise_id, _name_match(text)).exists()
        return match | Case.enterprise_id.in_(by_code) if code else match
    return Case.enterprise_id.in_(union(ids, by_code) if code else ids)


def _region_clause(code: str):
    region = db.session.get(Region, code)
    if region is not None and region.kind in ("province", "xpcc"):
        return Case.province_code == code
    return Case.city_code == code


def _clauses(actor: User, f: Filters, named=None, walk=False) -> list:
    """The where-clauses of the filters. `named`: the name match of `f.q` computed once for the page's statements;
    `walk`: a broad name search tested case by case (see `search_clause`)."""
    out = [case_filter(actor)]
    if f.q:
        out.append(search_clause(f.q, named, walk))
    if f.tier:
        out.append(Case.tier == f.tier)
    if f.status:
        out.append(Case.status == f.status)
    if f.region:
        out.append(_region_clause(f.region))
    if f.campaign:
        out.append(Case.campaign_id == (select(Campaign.id).where(Campaign.year == f.campaign).scalar_subquery()))
    return out


def page(actor: User, f: Filters) -> dict:
    """One page of the case list: `rows` (id, tier, status, enterprise name and code, region codes, campaign id,
    created_at, closed_at), `total` (exact up to COUNT_CAP; `more` when there are more), `pages`, the filters as
    applied, the region names and campaign years of the page, and the choices of each filter.

    Three statements on the cases: the capped count, the ids of the page (on an index, sorting ids only), and the
    page's rows by id joined to their enterprises."""
    require_reader(actor)
    named = _named(f.q) if f.q and not _digit_code(f.q) else None
    broad = bool(named and named[1])
    where = _clauses(actor, f, named, walk=broad)
    cap = BROAD_COUNT_CAP if broad else COUNT_CAP  # a broad search is walked: counted less far
    counted = db.session.scalar(select(func.count()).select_from(
        select(Case.id).where(*where).limit(cap + 1).subquery())) or 0
    more = counted > cap
    total = min(counted, cap)
    pages = max(1, -(-total // f.per_page))
    at = f.page if more else min(f.page, pages)
    ids = list(db.session.scalars(select(Case.id).where(*where).order_by(Case.id.desc())
                                  .limit(f.per_page).offset((at - 1) * f.per_page)))
    rows = sorted(db.session.execute(
        select(Case.id, Case.tier, Case.status, Case.province_code, Case.city_code, Case.campaign_id,
               Case.created_at, Case.closed_at, Enterprise.name, Enterprise.credit_code)
        .join(Enterprise, Enterprise.id == Case.enterprise_id).where(Case.id.in_(ids))).all(),
        key=lambda r: -r.id) if ids else []
    codes = {r.province_code for r in rows} | {r.city_code for r in rows if r.city_code}
    regions = {r.code: r for r in db.session.execute(select(Region.code, Region.name_zh, Region.name_en)
                                                     .where(Region.code.in_(codes)))} if codes else {}
    campaigns = campaign_years()
    return {"rows": rows, "total": total, "more": more, "pages": max(pages, at + 1) if more else pages,
            "filters": replace(f, page=at), "regions": regions, "campaigns": campaigns, "choices": choices(actor)}


def campaign_years() -> dict[int, int]:
    """Campaign id -> year (one small table)."""
    return dict(db.session.execute(select(Campaign.id, Campaign.year)).all())


_status_cache: dict = {}


def statuses() -> list[str]:
    """Every case status the deployed diagrams can set (their `status` properties, `wait_<status>` events and
    `end_<status>` ends) and the final ones: the status filter's choices, without scanning the cases."""
    newest = db.session.scalar(select(func.max(ProcessVersion.id))) or 0
    if newest not in _status_cache:
        found = set(FINAL)
        for xml in db.session.scalars(select(ProcessVersion.bpmn_xml).join(
                ProcessModel, ProcessModel.key == ProcessVersion.model_key).where(ProcessModel.tier.is_not(None))):
            text = bytes(xml).decode("utf-8", "replace")
            found |= set(re.findall(r'name="status" value="([a-z_]+)"', text))
            found |= {s.removesuffix("_di") for s in re.findall(r'id="wait_([a-z_]+)"', text)}
            found |= set(re.findall(r'id="end_([a-z]+)"', text))
        _status_cache.clear()
        _status_cache[newest] = sorted(found - {"progress", "reports"})
    return _status_cache[newest]


def choices(actor: User) -> dict:
    """The filters' choices: tiers, statuses, the regions the actor's cases can lie in (a province's cities, or the
    provinces), the campaigns."""
    if actor.role == "provincial_reviewer":
        regions = list(db.session.execute(select(Region.code, Region.name_zh, Region.name_en).where(
            Region.province_code == actor.province_code).order_by(Region.code)))
    else:
        regions = list(db.session.execute(select(Region.code, Region.name_zh, Region.name_en).where(
            Region.kind.in_(("province", "xpcc"))).order_by(Region.code)))
    years = list(db.session.scalars(select(Campaign.year).order_by(Campaign.year.desc())))
    return {"tiers": list(TIERS), "statuses": statuses(), "regions": regions, "campaigns": years}
