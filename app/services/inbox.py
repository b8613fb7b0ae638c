# long-file: the filters, their counts and the page share one filter object and its SQL clauses (one query plan)
"""Reviewer inboxes and the dashboard: inbox filters, counts per filter value, pagination, due badges, bulk
decisions, and the case aggregates of the dashboard.

An inbox page is a fixed number of statements whatever the number of tasks (no N+1): the page of rows, the total,
one grouped count for every facet, the titles of the task kinds, and the names of the claimants. They read
`human_tasks` alone, on its indexes `(role, scope, state, due_at)` for the rows and the covering
`ix_human_tasks_facets` for the counts (the case's province and city are copied onto the task row), and never
deserialize a workflow.

A bulk decision completes each task through `tasks.complete` in its own unit of work: one task failing (taken by
someone else, completed meanwhile, invalid) leaves the others done and itself untouched.
"""
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, select

from app.errors import Forbidden, Invalid, ServiceError
from app.extensions import db
from app.models import Case, Enterprise, HumanTask, Region, User
from app.services import clock, tasks, users
from app.services.clock import SHANGHAI
from app.services.dashboard_counts import (  # noqa: F401
    CERTIFIED,
    DASHBOARD_ROLES,
    FINAL,
    RECOMMENDER_ROLES,
    dashboard,
    require_dashboard,
)
from app.services.scope import acting_clause

DUE_SOON_DAYS = 3
VIEWS = ("group", "mine", "unclaimed")  # the shared queue of my role and scope, claimed by me, claimed by nobody
STATES = ("open", "completed")  # open tasks of my queue, or the tasks I completed
SORTS = ("due", "-due", "case")
PAGE_SIZES = (20, 50, 100)
BULK_LIMIT = 500
PATH_ACTIONS = ("task.completed", "timer.fired", "message.received")


@dataclass(frozen=True)
class Filters:
    view: str = "group"
    state: str = "open"
    tier: str | None = None
    element: str | None = None
    region: str | None = None  # a province or city code (GB/T 2260)
    due_before: date | None = None  # tasks due before the end of this Asia/Shanghai day
    sort: str = "due"
    page: int = 1
    per_page: int = 50
    q: str | None = None  # part of the enterprise's name

    @classmethod
    def parse(cls, args) -> "Filters":
        """Filters from query-string values; anything unknown falls back to its default (never an error page)."""
        def pick(name, allowed, default):
            value = args.get(name) or default
            return value if value in allowed else default

        def number(name, default):
            try:
                value = max(1, int(args.get(name) or default))
            except ValueError:
                return default
            return value if value < 2**31 else default  # beyond any page: not an overflow in OFFSET

        due = None
        if args.get("due_before"):
            try:
                due = date.fromisoformat(args["due_before"])
            except ValueError:
                due = None
        per_page = number("per_page", 50)
        return cls(view=pick("view", VIEWS, "group"), state=pick("state", STATES, "open"),
                   tier=args.get("tier") or None, element=args.get("task") or None,
                   region=(args.get("region") or "").strip() or None, due_before=due,
                   sort=pick("sort", SORTS, "due"), page=number("page", 1),
                   per_page=per_page if per_page in PAGE_SIZES else 50,
                   q=(args.get("q") or "").strip()[:100] or None)

    def args(self, **change) -> dict:
        """Query-string values for a link to these filters with some changed (defaults left out)."""
        f = replace(self, **change)
        out = {"view": f.view, "state": f.state, "tier": f.tier, "task": f.element, "region": f.region,
               "due_before": f.due_before.isoformat() if f.due_before else None, "sort": f.sort,
               "page": f.page, "per_page": f.per_page, "q": f.q}
        defaults = {"view": "group", "state": "open", "sort": "due", "page": 1, "per_page": 50}
        return {k: v for k, v in out.items() if v is not None and defaults.get(k) != v}


@dataclass
class InboxPage:
    filters: Filters
    rows: list
    total: int
    pages: int
    counts: dict = field(default_factory=dict)  # facet -> [(value, label or None, count)]
    claimants: dict = field(default_factory=dict)  # user id -> username
    now: datetime | None = None
    soon_before: datetime | None = None
    counted_at: datetime | None = None  # set when the counts come from the cache of a big queue
    subjects: dict = field(default_factory=dict)  # case id -> (enterprise name, city Region or None)

    def badge(self, task) -> str | None:
        return badge(task.due_at, self.now, self.soon_before)


def soon_cutoff(now: datetime) -> datetime:
    """Due soon = due before the end of the third Asia/Shanghai day after today."""
    today = now.astimezone(SHANGHAI).date()
    return datetime.combine(today + timedelta(days=DUE_SOON_DAYS + 1), time(0, 0), tzinfo=SHANGHAI)


def badge(due_at: datetime | None, now: datetime, soon_before: datetime | None = None) -> str | None:
    """"overdue", "due_soon" or None, judged in Asia/Shanghai days."""
    if due_at is None:
        return None
    if due_at <= now:
        return "overdue"
    return "due_soon" if due_at < (soon_before or soon_cutoff(now)) else None


def _region_clause(code: str):
    """Tasks whose case lies in a province (recommending province) or a city (the enterprise's city): columns of
    the task row itself (copied from the case), so the inbox index serves the filter."""
    region = db.session.get(Region, code)
    if region is not None and region.kind in ("province", "xpcc"):
        return HumanTask.province_code == code
    return (HumanTask.city_code == code) | (HumanTask.province_code == code)


def _clauses(actor: User, f: Filters, now: datetime, skip=()) -> list:
    """The where-clauses of the filters; `skip` leaves facets' own filters out (to count their values)."""
    if f.state == "completed":
        out = [HumanTask.state == "completed", HumanTask.completed_by == actor.id]
    else:
        out = [acting_clause(actor), HumanTask.state == "open"]
        if "view" not in skip:
            if f.view == "mine":
                out.append(HumanTask.claimed_by == actor.id)
            elif f.view == "unclaimed":
                out.append(HumanTask.claimed_by.is_(None))
    if f.tier and "tier" not in skip:
        out.append(HumanTask.tier == f.tier)
    if f.element and "element" not in skip:
        out.append(HumanTask.element == f.element)
    if f.due_before and "due" not in skip:
        out.append(HumanTask.due_at < _due_end(f.due_before))
    if f.region and "region" not in skip:
        out.append(_region_clause(f.region))
    if f.q:
        out.append(_name_clause(f.q))
    return out


def _name_clause(text: str):
    """Tasks whose case's enterprise has `text` in its name (the same match as the case list's search)."""
    from app.services.case_list import enterprises_named

    return HumanTask.case_id.in_(select(Case.id).where(Case.enterprise_id.in_(enterprises_named(text))))


def _order(f: Filters):
    """已办 (the tasks I completed): the latest completion first (index `ix_human_tasks_done`). Otherwise plain
    (due_at, id) as in `tasks.inbox`: the inbox index serves the order, no sort of a province's queue (tasks
    without a due date come first on SQLite and last on PostgreSQL, each database's NULL order)."""
    if f.state == "completed":
        return (HumanTask.completed_at.desc(), HumanTask.id.desc())
    if f.sort == "-due":
        return (HumanTask.due_at.desc(), HumanTask.id.desc())
    if f.sort == "case":
        return (HumanTask.case_id, HumanTask.id)
    return (HumanTask.due_at, HumanTask.id)


def _due_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)


def _facets(actor: User, f: Filters, now: datetime, soon: datetime) -> dict:
    """The counts per filter value from ONE grouped scan of the queue: each facet applies every filter but its own,
    so the groups carry each filtered attribute (tier, task, claimant, region) and, as sums, how many of their tasks
    fall in each due bucket (overdue, due soon, before the chosen day); Python adds them up. The grouping follows the
    covering index ix_human_tasks_facets column for column, so the scan is streamed (no sort, no table lookup): no
    join, no workflow is read. The task titles come from one row per task kind, fetched by id."""
    n_before = func.sum(case((HumanTask.due_at < _due_end(f.due_before), 1), else_=0)) if f.due_before else None
    overdue = HumanTask.due_at <= now
    due_soon = (HumanTask.due_at > now) & (HumanTask.due_at < soon)
    sums = [func.count(), func.sum(case((overdue, 1), else_=0)), func.sum(case((due_soon, 1), else_=0))]
    if f.due_before:
        end = HumanTask.due_at < _due_end(f.due_before)
        sums += [n_before, func.sum(case((overdue & end, 1), else_=0)), func.sum(case((due_soon & end, 1), else_=0))]
    q = (select(HumanTask.tier, HumanTask.element, HumanTask.claimed_by, HumanTask.province_code,
                HumanTask.city_code, func.max(HumanTask.id), *sums)
         .where(*_clauses(actor, f, now, skip=("tier", "element", "view", "due", "region")))
         .group_by(HumanTask.tier, HumanTask.element, HumanTask.claimed_by, HumanTask.province_code,
                   HumanTask.city_code))
    groups = []
    sample: dict = {}
    for tier, element, claimed_by, prov, city, last_id, n, n_over, n_soon, *before in db.session.execute(q):
        sample[element] = max(sample.get(element, 0), last_id)
        view = "mine" if claimed_by == actor.id else "unclaimed" if claimed_by is None else "other"
        # with a due-day filter: the tasks within it, and of those the overdue and due-soon ones
        n_in, over_in, soon_in = (int(x or 0) for x in before) if before else (n, n_over, n_soon)
        groups.append({"tier": tier, "element": element, "view": view, "province": prov, "city": city,
                       "n": n, "in": n_in, "due": {"overdue": int(over_in or 0), "due_soon": int(soon_in or 0)}})
    titles = {e: {"title": t, "title_en": te} for e, t, te in db.session.execute(
        select(HumanTask.element, HumanTask.title, HumanTask.title_en).where(HumanTask.id.in_(list(sample.values()))))
    } if sample else {}
    region = db.session.get(Region, f.region) if f.region else None
    by_province = region is not None and region.kind in ("province", "xpcc")

    def in_region(g) -> bool:
        if by_province:
            return g["province"] == f.region
        return f.region in (g["city"], g["province"])

    def keep(g, skip):
        if "tier" not in skip and f.tier and g["tier"] != f.tier:
            return False
        if "element" not in skip and f.element and g["element"] != f.element:
            return False
        if "view" not in skip and f.state == "open" and f.view != "group" and g["view"] != f.view:
            return False
        if "region" not in skip and f.region and not in_region(g):
            return False
        return True

    def total(key, skip):
        out: dict = {}
        for g in groups:
            n = g["n"] if "due" in skip else g["in"]
            if keep(g, skip) and g[key] and n:
                out[g[key]] = out.get(g[key], 0) + n
        return out

    tiers = total("tier", ("tier",))
    elements = total("element", ("element",))
    views = total("view", ("view",))
    dues: dict = {}
    for g in groups:
        if keep(g, ("view",)):
            for bucket, k in g["due"].items():
                dues[bucket] = dues.get(bucket, 0) + k
    # inside a province: counts per city; elsewhere per (recommending) province
    regions = total("city" if actor.scope.startswith("province:") else "province", ("region",))
    names = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(list(regions))))}
    return {
        "tier": [(t, None, tiers[t]) for t in sorted(tiers)],
        "element": [(e, titles[e], elements[e]) for e in sorted(elements)],
        "view": [("group", None, sum(views.values())), ("mine", None, views.get("mine", 0)),
                 ("unclaimed", None, views.get("unclaimed", 0))],
        "due": [("overdue", None, dues.get("overdue", 0)), ("due_soon", None, dues.get("due_soon", 0))],
        "region": [(code, names.get(code), regions[code]) for code in sorted(regions)],
    }


CACHE_ABOVE = 50_000  # queue size above which the counts per filter value may be up to CACHE_SECONDS old
CACHE_SECONDS = 60
_counts_cache: dict = {}


def _counts(actor: User, f: Filters, now: datetime, soon: datetime) -> tuple[dict, datetime | None]:
    """The counts per filter value, and when they were counted if they come from the cache.

    Counting streams the whole queue from the covering index (~0.7 µs a task on SQLite): exact for a province's
    queue of tens of thousands. Above CACHE_ABOVE open tasks (a national queue at the campaign's peak) the counts
    are kept a minute per queue, user and filters (the page says "counts as of"); the rows and the total are always
    exact."""
    queue = db.session.scalar(select(func.count()).select_from(HumanTask).where(
        acting_clause(actor), HumanTask.state == "open")) or 0
    if queue <= CACHE_ABOVE:
        return _facets(actor, f, now, soon), None
    key = (actor.role, actor.scope, actor.id, replace(f, page=1, per_page=50, sort="due"))
    hit = _counts_cache.get(key)
    if hit and hit[0] + timedelta(seconds=CACHE_SECONDS) > now:
        return hit[1], hit[0]
    if len(_counts_cache) > 1000:
        _counts_cache.clear()
    counts = _facets(actor, f, now, soon)
    _counts_cache[key] = (now, counts)
    return counts, now


def inbox_page(actor: User, f: Filters) -> InboxPage:
    """One page of the inbox with the counts per filter value (each count applies every other filter)."""
    now = clock.now()
    soon = soon_cutoff(now)
    where = _clauses(actor, f, now)
    total = db.session.scalar(select(func.count()).select_from(HumanTask).where(*where)) or 0
    pages = max(1, -(-total // f.per_page))
    page = min(f.page, pages)
    rows = list(db.session.scalars(select(HumanTask).where(*where).order_by(*_order(f))
                                   .limit(f.per_page).offset((page - 1) * f.per_page)))
    counts, counted_at = _counts(actor, f, now, soon)
    claimants = users.usernames(r.claimed_by for r in rows)
    return InboxPage(filters=replace(f, page=page), rows=rows, total=total, pages=pages, counts=counts,
                     claimants=claimants, now=now, soon_before=soon, counted_at=counted_at, subjects=_subjects(rows))


def _subjects(rows) -> dict:
    """Whose case each row of the page is: the enterprise's name and city, one statement for the page's rows."""
    case_ids = {r.case_id for r in rows}
    if not case_ids:
        return {}
    found = db.session.execute(select(Case.id, Enterprise.name, Case.city_code).join(
        Enterprise, Enterprise.id == Case.enterprise_id).where(Case.id.in_(case_ids))).all()
    cities = {r.code: r for r in db.session.scalars(select(Region).where(
        Region.code.in_({c for _i, _n, c in found if c})))} if found else {}
    return {i: (name, cities.get(city)) for i, name, city in found}


# -- bulk decisions ---------------------------------------------------------------------------------------------------

def bulk_kind(actor: User, task_ids) -> list[HumanTask]:
    """The open tasks of the caller's queue among `task_ids` (one query), checked to be of one kind (same element
    and form): a decision means the same thing for each. Tasks the caller may not act on are left to
    `tasks.complete` to refuse one by one, so their kind is never revealed."""
    ids = _ids(task_ids)
    rows = list(db.session.scalars(select(HumanTask).where(
        HumanTask.id.in_(ids), acting_clause(actor))))
    kinds = {(r.element, r.form) for r in rows}
    if len(kinds) > 1:
        raise Invalid("the tasks are not of one kind: choose tasks of the same step and form",
                      errors={"task_ids": "tasks of different kinds"})
    order = {i: n for n, i in enumerate(ids)}
    return sorted(rows, key=lambda r: order[r.id])


def _ids(task_ids) -> list[int]:
    if not isinstance(task_ids, list) or not task_ids:
        raise Invalid("task_ids must be a non-empty list of task ids", errors={"task_ids": "required"})
    if any(isinstance(i, bool) for i in task_ids):
        raise Invalid("task_ids must be integers", errors={"task_ids": "integers"})
    try:
        ids = list(dict.fromkeys(int(i) for i in task_ids))
    except (TypeError, ValueError):
        raise Invalid("task_ids must be integers", errors={"task_ids": "integers"}) from None
    if len(ids) > BULK_LIMIT:
        raise Invalid(f"at most {BULK_LIMIT} tasks at once", errors={"task_ids": f"at most {BULK_LIMIT}"})
    return ids


def bulk_complete(actor: User, task_ids, data, transaction) -> list[dict]:
    """Complete each task with the same data, each in its own `transaction()` (the caller's unit of work).

    Returns one result per id in the order given: `{"id", "ok", "status", "error", "errors", "case"}`. A task
    that fails is rolled back alone and reported; the others are committed.
    """
    if actor.role == "auditor":
        raise Forbidden("auditors read; they do not decide tasks")
    if not isinstance(data, dict):
        raise Invalid("data must be an object", errors={"data": "must be an object"})
    ids = _ids(task_ids)
    bulk_kind(actor, ids)
    results = []
    for task_id in ids:
        try:
            with transaction():
                done = tasks.complete(actor, task_id, dict(data))
            results.append({"id": task_id, "ok": True, "status": 200, "error": None, "errors": {},
                            "case": done["case"]})
        except ServiceError as exc:
            results.append({"id": task_id, "ok": False, "status": exc.status, "error": exc.message,
                            "errors": exc.errors or {}, "case": None})
    return results


# -- dashboard: app/services/dashboard_counts.py (re-exported here for the pages and services that read it) ---------

# -- case page --------------------------------------------------------------------------------------------------------

def case_positions(case: Case, open_elements, history) -> dict:
    """Where a case stands on its diagram: `current` = the elements of its open human tasks; `path` = the elements
    of the steps its history records as done (completed tasks, fired timers, received messages) and, once closed,
    the end event named by the diagram convention `end_<status>`. The viewer marks only ids its diagram has."""
    current = sorted(set(open_elements))
    done = {e.element for e in history if e.element and e.action in PATH_ACTIONS}
    if case.closed_at is not None:
        done.add(f"end_{case.status}")
    return {"current": current, "path": sorted(done - set(current))}


def case_data(case: Case) -> dict:
    """What the case holds now (read-only view on the case page; this one does load the workflow)."""
    from app.services import processes
    from workflows.instance import Instance

    return Instance.load(case.state, processes.version_info(case.process_version_id).bundle).case_data()
