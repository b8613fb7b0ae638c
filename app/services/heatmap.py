"""The process heatmap (issue 19): per element of a process model (all its versions, elements matched by id), the
cases that passed it, the cases waiting at it now, the median and p90 time spent there and the share completed
after the due date, within the caller's scope and the filters (campaign, province or SOE group, date range).

Read from the summary `heatmap_cells` (migration 0023; triggers keep it equal to `human_tasks` and `timers`), so a
national view of 500,000 cases is one grouped scan of the summary's rows in key order. Durations are kept in buckets
(16 per doubling: `bucket`): the median and p90 are nearest-rank values of those buckets, low by less than 1/16.
A date range (Asia/Shanghai days, by completion) reads the day and month summary (`heatmap_ranges`, migration 0025;
only a province and an SOE group asked at once read the completed inbox rows, `ix_human_tasks_tier_done`); waiting
always means now, and includes the cases waiting at a message catch event (`message_waits`). A user task's time
runs from its inbox row's creation to its completion; a timer's from when it started waiting to its firing, a
message catch event's from when it started waiting to the message (`note_fired`).
"""
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, insert, select, update

from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.models import Campaign, Case, CaseEvent, HumanTask, ProcessModel, ProcessVersion, SoeGroup, User
from app.models.heatmap import HEATMAP_CELLS as CELLS
from app.models.heatmap import HEATMAP_TIMER_CELLS as TIMERS
from app.services import heatmap_ranges, processes
from app.services.clock import SHANGHAI
from app.services.scope import NATIONAL_READERS
from workflows.xml import load_xml

SCOPED = ("provincial_reviewer", "soe_reviewer")
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
KINDS = {"userTask": "task", "manualTask": "task", "task": "task", "intermediateCatchEvent": "timer",
         "boundaryEvent": "timer", "startEvent": "event", "endEvent": "event", "exclusiveGateway": "gateway",
         "parallelGateway": "gateway", "eventBasedGateway": "gateway", "inclusiveGateway": "gateway",
         "scriptTask": "task", "serviceTask": "task", "callActivity": "task", "subProcess": "task",
         "intermediateThrowEvent": "event", "receiveTask": "task", "sendTask": "task", "businessRuleTask": "task"}


@dataclass(frozen=True)
class Filters:
    campaign: int | None = None  # the campaign year
    province: str | None = None  # a six-digit province code
    soe: str | None = None  # an SOE group key
    since: date | None = None  # Asia/Shanghai days, both ends included
    until: date | None = None


def bucket(seconds: float) -> int:
    """The duration bucket (the arithmetic of the triggers of migration 0023): whole seconds, rounded, with all but
    the top five bits cleared — 16 buckets per doubling, each less than 1/16 of its value wide."""
    d = math.floor(seconds + 0.5)
    if d < 16:
        return max(d, 0)
    shift = d.bit_length() - 5
    return d >> shift << shift


def percentile(counts: list[tuple[int, int]], share: float) -> int | None:
    """Nearest-rank percentile of (value, count) pairs sorted by value."""
    n = sum(c for _, c in counts)
    if not n:
        return None
    rank, seen = max(1, math.ceil(n * share)), 0
    for value, c in counts:
        seen += c
        if seen >= rank:
            return value
    return counts[-1][0]


def model_for_tier(tier: str) -> str:
    """The process model of a tier (the one with the newest version when several name it)."""
    key = db.session.scalar(select(ProcessVersion.model_key).join(ProcessModel)
                            .where(ProcessModel.tier == tier).order_by(ProcessVersion.id.desc()).limit(1))
    if key is None:
        raise NotFound(f"no process model for tier {tier}")
    return key


def _newest(key: str):
    """(id, version) of the model's newest version (the row's diagram and spec are not read here)."""
    v = db.session.execute(select(ProcessVersion.id, ProcessVersion.version).where(ProcessVersion.model_key == key)
                           .order_by(ProcessVersion.version.desc()).limit(1)).first()
    if v is None:
        raise NotFound(f"process model {key} does not exist")
    return v


_elements: dict[int, dict[str, dict]] = {}


def elements_of(version_id: int) -> dict[str, dict]:
    """Element id -> {"name", "kind"} of a version's diagram, in document order (cached: versions are immutable).
    A catch or boundary event is a timer or a message when it holds such a definition."""
    got = _elements.get(version_id)
    if got is None:
        xml = db.session.scalar(select(ProcessVersion.bpmn_xml).where(ProcessVersion.id == version_id))
        got = {}
        for el in load_xml(xml).iter():
            local = el.tag.removeprefix(BPMN) if isinstance(el.tag, str) else ""
            if local in KINDS and el.get("id"):
                kind = KINDS[local]
                if kind == "timer" and el.find(f"{BPMN}timerEventDefinition") is None:
                    kind = "message" if el.find(f"{BPMN}messageEventDefinition") is not None else "event"
                got[el.get("id")] = {"name": (el.get("name") or "").strip(), "kind": kind}
        _elements[version_id] = got
    return got


def require_reader(actor: User) -> None:
    if actor.role not in NATIONAL_READERS + SCOPED:
        raise Forbidden("the process heatmap is for reviewers, administrators and auditors")


def _scope(actor: User, f: Filters) -> Filters:
    """The filters narrowed to what the actor may see; a filter outside it is refused (403)."""
    require_reader(actor)
    if actor.role in NATIONAL_READERS:
        return f
    if actor.role == "provincial_reviewer":
        if f.soe or (f.province and f.province != actor.province_code):
            raise Forbidden("a provincial reviewer sees the heatmap of their own province only")
        return Filters(f.campaign, actor.province_code, None, f.since, f.until)
    if f.soe and f.soe != actor.soe_group_key:
        raise Forbidden("an SOE group reviewer sees the heatmap of their own group only")
    return Filters(f.campaign, f.province, actor.soe_group_key, f.since, f.until)


def _check(f: Filters) -> int | None:
    """The campaign's id; unknown values are 422 naming the parameter."""
    errors = {}
    campaign_id = None
    if f.campaign is not None:
        campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.year == f.campaign))
        if campaign_id is None:
            errors["campaign"] = f"no campaign {f.campaign}"
    if f.province is not None and not (len(f.province) == 6 and f.province.isdigit()):
        errors["province"] = "a six-digit province code"
    if f.soe is not None and db.session.get(SoeGroup, f.soe) is None:
        errors["soe"] = f"no SOE group {f.soe}"
    if f.since and f.until and f.since > f.until:
        errors["since"] = "the range starts after it ends"
    if errors:
        raise Invalid("invalid heatmap filters", errors=errors)
    return campaign_id


def _where(table, key: str, tier: str | None, campaign_id: int | None, f: Filters, actor: User) -> list:
    out = [table.c.model_key == key]
    if campaign_id is not None:
        out.append(table.c.campaign_id == campaign_id)
    if f.province:
        out.append(table.c.province_code == f.province)
    if f.soe:
        out.append(table.c.soe_group_key == f.soe)
    elif actor.role == "provincial_reviewer" and tier != "lighthouse":
        out.append(table.c.soe_group_key == "")  # an SOE group member's case is its group's (scope.case_filter)
    return out


def _range(f: Filters) -> tuple[datetime | None, datetime | None]:
    """The range as instants; clamped to 1900-9000 as the summary's (a day at the calendar's ends has no UTC
    instant on one side)."""
    since = max(f.since, heatmap_ranges.EARLIEST) if f.since else None
    until = min(f.until, heatmap_ranges.LATEST) if f.until else None
    lo = datetime.combine(since, time(0), tzinfo=SHANGHAI) if since else None
    hi = datetime.combine(until + timedelta(days=1), time(0), tzinfo=SHANGHAI) if until else None
    return lo, hi


def _done_in_range(key: str, tier: str | None, campaign_id: int | None, f: Filters, actor: User):
    """(element, bucket, passed, late) of the inbox rows completed within the date range (read from the rows)."""
    lo, hi = _range(f)
    # seconds and lateness computed by the database: no datetime is built per row
    if db.engine.dialect.name == "postgresql":
        seconds = func.extract("epoch", HumanTask.completed_at - HumanTask.created_at)
    else:
        seconds = (func.julianday(HumanTask.completed_at) - func.julianday(HumanTask.created_at)) * 86400
    is_late = case((HumanTask.due_at.is_not(None) & (HumanTask.completed_at > HumanTask.due_at), 1), else_=0)
    q = (select(HumanTask.element, seconds, is_late)
         .join(Case, Case.id == HumanTask.case_id).join(ProcessVersion, ProcessVersion.id == Case.process_version_id)
         .where(HumanTask.state == "completed", ProcessVersion.model_key == key))
    if tier:
        q = q.where(HumanTask.tier == tier)
    if lo:
        q = q.where(HumanTask.completed_at >= lo)
    if hi:
        q = q.where(HumanTask.completed_at < hi)
    if campaign_id is not None:
        q = q.where(Case.campaign_id == campaign_id)
    if f.province:  # the case's province, copied on its inbox rows (and in the index)
        q = q.where(HumanTask.province_code == f.province)
    if f.soe:
        q = q.where(Case.soe_group_key == f.soe)
    elif actor.role == "provincial_reviewer" and tier != "lighthouse":
        q = q.where(Case.soe_group_key.is_(None))
    acc: dict[tuple[str, int], list[int]] = {}
    for el, secs, lt in db.session.execute(q):
        cell = acc.setdefault((el, bucket(float(secs))), [0, 0])
        cell[0] += 1
        cell[1] += lt
    return [(el, b, n, late) for (el, b), (n, late) in acc.items()]


def heatmap(actor: User, key: str, filters: Filters = Filters()) -> dict:
    """The contract answer: `{"elements": {id: {"passed","waiting","median_s","p90_s","late_share"}}, ...}`;
    every element of the newest diagram is listed (zeros where nothing happened), elements of older versions only
    where something did."""
    f = _scope(actor, filters)
    newest = _newest(key)
    tier = db.session.scalar(select(ProcessModel.tier).where(ProcessModel.key == key))
    campaign_id = _check(f)
    where = _where(CELLS, key, tier, campaign_id, f, actor)
    waiting = dict(db.session.execute(select(CELLS.c.element, func.sum(CELLS.c.waiting))
                                      .where(*where, CELLS.c.bucket_s == -1).group_by(CELLS.c.element)).all())
    views = heatmap_ranges.scopes(actor, tier, f.province, f.soe) if f.since or f.until else None
    if views is not None:
        done = heatmap_ranges.done(key, campaign_id, views, f.since, f.until)
    elif f.since or f.until:  # a province and a group at once: the summary has no such scope
        done = _done_in_range(key, tier, campaign_id, f, actor)
    else:
        done = db.session.execute(select(CELLS.c.element, CELLS.c.bucket_s, func.sum(CELLS.c.passed),
                                         func.sum(CELLS.c.late))
                                  .where(*where, CELLS.c.bucket_s >= 0).group_by(CELLS.c.element, CELLS.c.bucket_s)
                                  ).all()
    twhere = _where(TIMERS, key, tier, campaign_id, f, actor)
    if f.since:
        twhere.append(TIMERS.c.day >= f.since.isoformat())
    if f.until:
        twhere.append(TIMERS.c.day <= f.until.isoformat())
    fired = db.session.execute(select(TIMERS.c.element, TIMERS.c.bucket_s, func.sum(TIMERS.c.passed), 0)
                               .where(*twhere).group_by(TIMERS.c.element, TIMERS.c.bucket_s)).all()
    buckets: dict[str, list[tuple[int, int]]] = {}
    late: dict[str, int] = {}
    for el, b, n, lt in (*done, *fired):
        if n:
            buckets.setdefault(el, []).append((int(b), int(n)))
            late[el] = late.get(el, 0) + int(lt or 0)
    out = {}
    for el in dict.fromkeys([*elements_of(newest.id), *waiting, *buckets]):
        counts = sorted(buckets.get(el, []))
        passed = sum(c for _, c in counts)
        out[el] = {"passed": passed, "waiting": int(waiting.get(el) or 0),
                   "median_s": percentile(counts, 0.5), "p90_s": percentile(counts, 0.9),
                   "late_share": round(late.get(el, 0) / passed, 4) if passed else None}
    return {"key": key, "tier": tier, "version": newest.version, "campaign": f.campaign,
            "province": f.province, "soe": f.soe,
            "since": f.since.isoformat() if f.since else None, "until": f.until.isoformat() if f.until else None,
            "elements": out}


def page(actor: User, key: str, filters: Filters = Filters()) -> dict:
    """What the page shows: the answer, the newest version and its element names and kinds in diagram order."""
    data = heatmap(actor, key, filters)
    newest = _newest(key)
    names = elements_of(newest.id)
    props = processes.version_info(newest.id).properties
    rows = [{"id": el, "name": names.get(el, {}).get("name") or "", "kind": names.get(el, {}).get("kind", "task"),
             "name_en": (props.get(el) or {}).get("title_en"), **v} for el, v in data["elements"].items()
            if el not in names or names[el]["kind"] in ("task", "timer", "message") or v["passed"] or v["waiting"]]
    return {**data, "version_id": newest.id, "rows": rows}


def choices(actor: User) -> dict:
    """The page's filter options: the tiers with a diagram, the campaign years, the SOE groups (national roles),
    and the actor's own scope (scoped reviewers)."""
    require_reader(actor)
    tiers = [t for t in ("basic", "advanced", "excellent", "lighthouse")
             if db.session.scalar(select(ProcessModel.key).where(ProcessModel.tier == t).limit(1))]
    years = list(db.session.scalars(select(Campaign.year).order_by(Campaign.year.desc())))
    national = actor.role in NATIONAL_READERS
    groups = list(db.session.execute(select(SoeGroup.key, SoeGroup.name).order_by(SoeGroup.key))) if national else []
    return {"tiers": tiers, "campaigns": years, "national": national, "soe_groups": [tuple(g) for g in groups],
            "scope": None if national else (f"province:{actor.province_code}" if actor.role == "provincial_reviewer"
                                            else f"soe:{actor.soe_group_key}")}


def diagram_xml(actor: User, key: str) -> bytes:
    require_reader(actor)
    return db.session.scalar(select(ProcessVersion.bpmn_xml).where(ProcessVersion.id == _newest(key).id))


def note_fired(case, fired: list[tuple[str, datetime | None]], now: datetime) -> None:
    """Count the timers and message catch events that fired in a case at `now` (one upsert each), each timed from
    when it started waiting (its row's `started_at` / `since`); a timer row older than migration 0025 has none and
    is timed from the case's last engine step before the firing. Called before the firing's event is appended."""
    if not fired:
        return
    last_step = None
    if any(started is None for _el, started in fired):
        last_step = db.session.scalar(select(func.max(CaseEvent.at)).where(CaseEvent.case_id == case.id,
                                                                           CaseEvent.state_hash.is_not(None)))
    key = db.session.scalar(select(ProcessVersion.model_key).where(ProcessVersion.id == case.process_version_id))
    day = now.astimezone(SHANGHAI).date().isoformat()
    for el, started in dict(fired).items():
        started = started or last_step
        if started is None:
            continue
        row = dict(model_key=key, campaign_id=case.campaign_id, province_code=case.province_code,
                   soe_group_key=case.soe_group_key or "", element=el,
                   bucket_s=bucket(max(0.0, (now - started).total_seconds())), day=day)
        hit = db.session.execute(update(TIMERS).where(*(TIMERS.c[k] == v for k, v in row.items()))
                                 .values(passed=TIMERS.c.passed + 1))
        if not hit.rowcount:
            db.session.execute(insert(TIMERS).values(**row, passed=1))
