"""Bulk onboarding: open the basic self-assessment case of a campaign for every enterprise of a province (or of a
list of credit codes) that has none yet (issue 8, the provincial onboarding path).

The rules are `cases.create_case`'s: basic eligibility (`eligibility.unmet_rules`), one basic case per enterprise
and campaign (a rejected, withdrawn or expired one does not count), the application deadline (when the campaign
sets one for basic; a province's extension counts), the newest deployed version of the basic process. The result
per case is what `create_case` writes: the case row (status, scope columns, `lock_version` 2, chain head), the
inbox row of the enterprise's open task, the `case.created` event hash-chained from the genesis with its state
hash, reproducible digest and replay op as `events.append` computes them.

How it stays fast: the state after the start is the same for every basic case except the start data and the task
UUIDs. Each batch starts the engine once with placeholder data, cuts the serialized state into a template (a UUID
or a placeholder is a slot), and renders each case's state with fresh UUIDs and its own data; the first case of
every batch is also started for real and its digest compared with the rendered one (a diagram whose start depends
on the data, or a serializer change, stops the run instead of writing wrong states). Rows go in with SQLAlchemy
Core executemany, one transaction per batch (`open_batch` in the caller's unit of work: `app/jobs/onboarding.py`
loops over the batches and commits each): a crash loses the open batch only, and a re-run skips the enterprises that
have their case. Case ids are allocated before the rows are built (the state holds its
case id): PostgreSQL draws them from the sequence, SQLite takes the write lock first and counts on from max(id).
"""
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, insert, select, text, update

from app.errors import Forbidden, Ineligible, Invalid
from app.extensions import db
from app.models import Campaign, Case, CaseEvent, Enterprise, HumanTask, Region, User
from app.services import cases, clock, deadlines, eligibility, events, instances, processes
from app.services.campaigns import campaign_by_year, end_of_day
from app.services.scope import resolve_role, task_scope
from workflows.errors import EngineError
from workflows.instance import Instance

TIER = "basic"
DEFAULT_BATCH = 5000
CASES, TASKS, EVENTS, ENTERPRISES = Case.__table__, HumanTask.__table__, CaseEvent.__table__, Enterprise.__table__
_SLOT = "@@tierflow-slot:{}@@"
_TOKENS = re.compile(r'"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"|"@@tierflow-slot:(\w+)@@"')
_SCALARS = (str, int, float, bool, type(None))


@dataclass
class Result:
    campaign: int
    province: str | None
    created: int = 0
    skipped_existing: int = 0  # already had a basic case in this campaign
    ineligible: int = 0
    outside_scope: int = 0  # SOE group members: their organizer is the group's reviewer, not the province
    deadline_passed: int = 0  # provinces whose application deadline has passed (a nationwide run skips them)
    batches: int = 0
    rows: dict = field(default_factory=lambda: {"cases": 0, "human_tasks": 0, "case_events": 0})
    seconds: float = 0.0

    @property
    def rows_written(self) -> int:
        return sum(self.rows.values())


# -- who and what --------------------------------------------------------------------------------------------------
def _recommenders() -> dict[str, str]:
    """Region code -> the province that recommends for it (cities mapped up), as create_case maps them."""
    return {code: (prov or code) for code, prov in db.session.execute(select(Region.code, Region.province_code))}


def _authorize(actor: User, province: str | None) -> str | None:
    if actor.role == "admin":
        return province
    if actor.role == "provincial_reviewer":
        if province is not None and province != actor.province_code:
            raise Forbidden("a provincial reviewer opens cases for the enterprises of their own province only")
        return actor.province_code
    raise Forbidden("only an administrator or the province's reviewer opens basic cases in bulk")


def _enterprise_ids(codes: list[str], actor: User, province: str | None, regions: dict) -> tuple[list[int], set]:
    """The enterprises named by credit code and their provinces; an unknown code or one outside the actor's reach
    refuses the run."""
    wanted = sorted({str(c).strip().upper() for c in codes if str(c).strip()})
    found: dict[str, tuple] = {}
    for i in range(0, len(wanted), 900):
        chunk = wanted[i:i + 900]
        for row in db.session.execute(select(ENTERPRISES.c.credit_code, ENTERPRISES.c.id,
                                             ENTERPRISES.c.province_code, ENTERPRISES.c.soe_group_key)
                                      .where(ENTERPRISES.c.credit_code.in_(chunk))):
            found[row[0]] = row
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise Invalid(f"{len(unknown)} unknown credit code(s): {', '.join(unknown[:10])}",
                      errors={"credit_codes": unknown[:100]})
    if province is not None:
        outside = [c for c, r in found.items() if regions.get(r[2], r[2]) != province
                   or (actor.role != "admin" and r[3])]
        if outside:
            raise Forbidden(f"{len(outside)} enterprise(s) are outside province {province}: {', '.join(outside[:10])}")
    return sorted(r[1] for r in found.values()), {regions.get(r[2], r[2]) for r in found.values()}


# -- the template ----------------------------------------------------------------------------------------------------
def _cut(text: str) -> tuple[str, dict[str, int]]:
    """The text as a `str.format` template: every task UUID becomes `{u<n>}` (n-th distinct UUID, its quotes kept),
    every placeholder value `{d_<key>}` (replaced by the JSON of the value), other braces doubled."""
    parts: list[str] = []
    uuids: dict[str, int] = {}
    pos = 0
    for m in _TOKENS.finditer(text):
        parts.append(text[pos:m.start()].replace("{", "{{").replace("}", "}}"))
        parts.append(f'"{{u{uuids.setdefault(m.group(1), len(uuids))}}}"' if m.group(1) else f"{{d_{m.group(2)}}}")
        pos = m.end()
    parts.append(text[pos:].replace("{", "{{").replace("}", "}}"))
    return "".join(parts), uuids


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def _uuid4s(n: int) -> list[str]:
    """n random version-4 UUIDs (as uuid.uuid4 makes them, from one read of os.urandom)."""
    h = os.urandom(16 * n).hex()
    return [f"{s[:8]}-{s[8:12]}-4{s[13:16]}-{_VARIANT[s[16]]}{s[17:20]}-{s[20:32]}"
            for s in (h[i:i + 32] for i in range(0, 32 * n, 32))]


def _encode(data: dict) -> dict[str, str]:
    """Start data as the template's format fields: `d_<key>` -> the value's JSON."""
    return {f"d_{k}": json.dumps(v, ensure_ascii=False) for k, v in data.items()}


class _Template:
    """The serialized state after the start, and the text its digest hashes, cut at every task UUID and every
    start-data value; the inbox rows and the status it implies."""

    def __init__(self, info, data_keys: list[str], rec, now: datetime):
        self.info = info
        sentinel = {k: _SLOT.format(k) for k in data_keys}
        try:
            inst = Instance.start(info.bundle, sentinel, now)
        except EngineError as exc:
            raise Invalid(f"the process could not start: {exc}") from None
        if inst.completed or inst.waiting_timers() or inst.waiting_messages():
            raise Invalid("bulk creation needs a process that starts into human tasks only (no timers, messages "
                          "or immediate completion); use create_case")
        self.ready = inst.human_tasks()
        self.dues = [instances.duration(t.due) for t in self.ready]
        self.status = instances.status_of(rec, inst, [t.properties for t in self.ready])
        state = inst.dump()
        self.parts, uuids = _cut(state)
        self.n_uuids = len(uuids)
        self.names = [f"u{i}" for i in range(self.n_uuids)]
        self.task_slots = [uuids[t.uuid] for t in self.ready]  # the ready tasks' UUID slots, in order
        self.digest_parts, none = _cut(events.digest_text(json.loads(state)))
        self.digest_ok = not none

    def render(self, values: dict[str, str]) -> tuple[str, str, list[str]]:
        """(state, its reproducible digest, the ready tasks' new UUIDs) for one case's encoded start data."""
        ids = _uuid4s(self.n_uuids)
        fields = dict(zip(self.names, ids, strict=True))
        fields.update(values)
        state = self.parts.format_map(fields)
        if self.digest_ok:
            digest = hashlib.sha256(self.digest_parts.format_map(fields).encode()).hexdigest()
        else:
            digest = events.state_digest(state)
        return state, digest, [ids[i] for i in self.task_slots]

    def check(self, rec, data: dict, now: datetime) -> None:
        """Start one case for real: its digest and replay op must be the rendered state's."""
        real = Instance.start(self.info.bundle, data, now).dump()
        rendered, digest, _ = self.render(_encode(data))
        ok = events.state_digest(real) == digest == events.state_digest(rendered) and \
            events.replay_info(rec, "case.created", None, real) == {"op": "start", "data": data}
        if not ok:
            raise Invalid("the basic process's start state depends on more than its start data; bulk creation "
                          "refused (use create_case)")


# -- one batch --------------------------------------------------------------------------------------------------------
def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


_LOCK_KEY = 0x7469657266  # PostgreSQL advisory lock of the bulk path ("tierf"), plus the campaign id


def _take_write_lock(campaign_id: int) -> None:
    """Two bulk runs never pick the same enterprises: SQLite: a write first, so this transaction holds the
    database's write lock until it commits (which also keeps ids counted on from max(id) free); PostgreSQL: a
    transaction-scoped advisory lock per campaign, taken before the enterprises are chosen."""
    if _postgres():
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY + campaign_id})
    else:
        db.session.execute(update(CASES).where(CASES.c.id == -1).values(lock_version=CASES.c.lock_version)
                           .execution_options(synchronize_session=False))


def _new_ids(n: int) -> list[int]:
    if _postgres():
        return list(db.session.scalars(text(
            "SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, :n)"), {"n": n}))
    top = db.session.scalar(select(db.func.coalesce(db.func.max(CASES.c.id), 0)))
    return list(range(top + 1, top + 1 + n))


_ENT_COLUMNS = (ENTERPRISES.c.id, ENTERPRISES.c.credit_code, ENTERPRISES.c.legal_person, ENTERPRISES.c.industry,
                ENTERPRISES.c.province_code, ENTERPRISES.c.city_code, ENTERPRISES.c.soe_group_key)


def _has_case(campaign_id: int):
    return exists().where(CASES.c.enterprise_id == ENTERPRISES.c.id, CASES.c.campaign_id == campaign_id,
                          CASES.c.tier == TIER, CASES.c.status.not_in(cases.OPEN_STATUSES_EXCLUDED))


def _insert_rows(case_rows: list[dict], task_rows: list[dict], event_rows: list[dict]) -> None:
    if case_rows:
        db.session.execute(insert(CASES), case_rows)
        db.session.execute(insert(TASKS), task_rows)
        db.session.execute(insert(EVENTS), event_rows)


@dataclass
class Run:
    """A bulk run between its batches: what `prepare` checked and where `open_batch` goes on."""
    actor: User
    camp: Campaign
    province: str | None
    ids: list[int] | None  # the enterprises of a credit-code list, else None (every enterprise of the province)
    region_codes: list[str] | None
    regions: dict
    batch: int
    now: datetime
    result: Result
    started: float
    last_id: int = 0
    pos: int = 0
    closed: dict = field(default_factory=dict)  # province -> its application deadline has passed

    def is_closed(self, prov: str) -> bool:
        if prov not in self.closed:
            has_deadline = self.camp.deadline_for(TIER) is not None
            day = deadlines.effective_dates(self.camp, TIER, prov)["application_deadline"] if has_deadline else None
            self.closed[prov] = bool(day and self.now >= end_of_day(day))
        return self.closed[prov]


def prepare(actor: User, campaign_year, province: str | None = None, credit_codes: list[str] | None = None,
            batch: int = DEFAULT_BATCH) -> Run:
    """Check a bulk run of the basic cases of `campaign_year` for every enterprise of `province` (or of
    `credit_codes`; neither: every enterprise, administrators only) that has none; reads only. The caller then
    calls `open_batch` in one transaction per batch until it answers False."""
    if batch < 1:
        raise Invalid("the batch size must be positive", errors={"batch": "positive"})
    t0 = time.perf_counter()
    camp = campaign_by_year(campaign_year)
    province = _authorize(actor, province)
    regions = _recommenders()
    if province is not None and province not in regions:
        raise Invalid("unknown province", errors={"province": "unknown region code"})
    ids, named = None, {province} if province else set()
    if credit_codes is not None:
        ids, named = _enterprise_ids(credit_codes, actor, province, regions)
    run = Run(actor=actor, camp=camp, province=province, ids=ids,
              region_codes=[c for c, p in regions.items() if p == province] if province else None,
              regions=regions, batch=batch, now=clock.now(), result=Result(campaign=camp.year, province=province),
              started=t0)
    # the application deadline, per province (cities mapped up); a named province or list refuses outright
    if camp.deadline_for(TIER) is not None:
        shut = sorted(p for p in named if run.is_closed(p))
        if shut:
            raise Ineligible(f"the application deadline for basic in campaign {camp.year} has passed "
                             f"({', '.join(shut)})", errors={"rules": [{"rule": "application_deadline"}]})
    if ids is None:
        run.result.skipped_existing = _count_existing(camp.id, run.region_codes)
    return run


def open_batch(run: Run) -> bool:
    """Open the next batch of the run in the caller's transaction (its first statement takes the write lock, so
    call it at the start of one); False when nothing is left (and nothing was written)."""
    result, camp_id = run.result, run.camp.id
    _take_write_lock(camp_id)
    q = select(*_ENT_COLUMNS).where(~_has_case(camp_id)).order_by(ENTERPRISES.c.id)
    if run.ids is not None:
        chunk = run.ids[run.pos:run.pos + run.batch]
        if not chunk:
            return False
        q = q.where(ENTERPRISES.c.id.in_(chunk))
        run.pos += len(chunk)
    else:
        q = q.where(ENTERPRISES.c.id > run.last_id).limit(run.batch)
        if run.region_codes is not None:
            q = q.where(ENTERPRISES.c.province_code.in_(run.region_codes))
    todo = db.session.execute(q).all()
    if run.ids is not None:
        result.skipped_existing += len(chunk) - len(todo)
    elif not todo:
        return False
    else:
        run.last_id = todo[-1].id
    made = _batch(run.actor, run.camp, todo, run.regions, run.now, run.is_closed, result)
    result.batches += 1
    result.created += made[0]
    for k, n in made[1].items():
        result.rows[k] += n
    return True


def _count_existing(campaign_id: int, region_codes: list[str] | None) -> int:
    """Enterprises (of the province) that have their case already."""
    q = select(db.func.count()).select_from(ENTERPRISES).where(_has_case(campaign_id))
    if region_codes is not None:
        q = q.where(ENTERPRISES.c.province_code.in_(region_codes))
    return db.session.scalar(q) or 0


def _batch(actor: User, camp: Campaign, todo: list, regions: dict, now: datetime, is_closed, result: Result):
    """Write the cases of one batch; returns (created, rows written per table)."""
    version_row = processes.version_for_tier(TIER)  # the newest deployed version, as create_case takes it
    info = processes.version_info(version_row.id)
    keep = []
    for ent in todo:
        prov = regions.get(ent.province_code, ent.province_code)
        if actor.role != "admin" and ent.soe_group_key:
            result.outside_scope += 1
        elif is_closed(prov):
            result.deadline_passed += 1
        elif eligibility.unmet_rules(ent, TIER, camp):
            result.ineligible += 1
        else:
            keep.append((ent, prov))
    if not keep:
        return 0, {}
    new_ids = _new_ids(len(keep))
    bases: dict[tuple, tuple[dict, dict]] = {}  # start data by what it depends on besides the case id, encoded
    template = None
    case_rows, task_rows, event_rows = [], [], []
    for (ent, prov), case_id in zip(keep, new_ids, strict=True):
        rec = instances.CaseRecord(
            id=case_id, enterprise_id=ent.id, campaign_id=camp.id, tier=TIER, status="new", province_code=prov,
            city_code=ent.city_code, soe_group_key=ent.soe_group_key, process_version_id=info.id, state="",
            revisions=0, lock_version=1, event_seq=0, last_hash=events.GENESIS, next_timer_at=None,
            created_by=actor.id, created_at=now, updated_at=now, closed_at=None)
        key = (prov, bool(ent.soe_group_key), ent.legal_person, ent.industry, ent.city_code)
        base = bases.get(key)
        if base is None:
            data = cases.start_data(rec, camp, ent)
            if not all(isinstance(v, _SCALARS) for v in data.values()) or \
                    any(isinstance(v, str) and events._UUID.fullmatch(f'"{v}"') for v in data.values()):
                raise Invalid("bulk creation handles start data of plain values only; use create_case")
            base = bases[key] = (data, _encode(data))
        data = dict(base[0])
        data["case_id"] = case_id
        values = dict(base[1])
        values["d_case_id"] = str(int(case_id))
        if template is None:
            template = _Template(info, list(data), rec, now)
            template.check(rec, data, now)
        rec.state, digest, task_uuids = template.render(values)
        rec.status = template.status
        # as instances.save: the inbox rows of the ready tasks, then the chained event
        for t, task_uuid, due in zip(template.ready, task_uuids, template.dues, strict=True):
            role = resolve_role(t.lane or "", rec)
            if role == "expert":
                raise Invalid("bulk creation does not draw experts; use create_case")
            task_rows.append(instances.inbox_row(rec, t, task_uuid, role, task_scope(role, rec, t.properties), due,
                                                 now))
        # the replay op holds the start data, which is what the root task holds after the start (`_Template.check`
        # compares it with `events.replay_info`); both hold plain values only (checked above)
        ev = events.event_row(rec, "case.created", actor.id, now, state=rec.state, digest=digest,
                              data={"tier": TIER, "campaign": camp.year, "enterprise": ent.credit_code},
                              replay={"op": "start", "data": data}, plain=True)
        rec.event_seq, rec.last_hash = ev["seq"], ev["hash"]
        event_rows.append(ev)
        rec.lock_version = 2  # create_case inserts the row, then writes it once with the version check
        case_rows.append(rec.__dict__.copy())
    _insert_rows(case_rows, task_rows, event_rows)
    return len(case_rows), {"cases": len(case_rows), "human_tasks": len(task_rows), "case_events": len(event_rows)}

