"""Who sees what of a case's history, per event kind (issue 17 item 5): one rule used by the case page, the
timeline, `GET /api/v1/cases/{id}/events`, replay and attachment downloads. The table is in docs/SECURITY.md
("Who sees what").

- The applicant (role `enterprise`) sees people as their role and department, never a username except its own
  enterprise's; never the objector (the objection's events, its evidence files and their upload events); never which
  experts were drawn or recused (`expert.drawn`) nor an individual expert's step (its score and vote), only the
  panel's consolidated result.
- An expert sees another expert's step of a panel (a `result_key` task outside a department) only once it has
  completed its own step of that panel in the same round; it does not see the draw either.
- Every other role that may see the case (reviewers, national staff, administrators, auditors) sees everything,
  the objector included.
"""
from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseEvent, CaseStep, Objection, User
from app.services import processes

OBJECTION_ACTIONS = ("objection.lodged",)
OBJECTION_MESSAGES = ("objection_lodged",)


def panel_of(element: str) -> str:
    """`expert_review_2` belongs to the panel `expert_review` (the members' elements end in their number)."""
    head, _, tail = element.rpartition("_")
    return head if tail.isdigit() and head else element


@dataclass
class Seen:
    """What one user may see of one case; built once per page or answer (`for_case`)."""

    actor: User
    case_id: int
    enterprise_id: int
    evidence: set[int] = field(default_factory=set)  # attachment ids lodged as objection evidence
    individual: set[str] = field(default_factory=set)  # elements of individual experts' steps
    own_rounds: set[tuple[str, int]] = field(default_factory=set)  # (panel, round) the expert has answered
    steps_by_seq: dict[int, CaseStep] = field(default_factory=dict)
    own_people: set[int] = field(default_factory=set)  # the applicant enterprise's accounts

    @property
    def sees_everything(self) -> bool:
        return self.actor.role not in ("enterprise", "expert")

    @property
    def sees_identities(self) -> bool:
        """Usernames of people outside the applicant's own enterprise."""
        return self.actor.role != "enterprise"

    # -- steps ------------------------------------------------------------------------------------------------
    def step(self, s: CaseStep) -> bool:
        if self.sees_everything or s.element not in self.individual:
            return True
        if self.actor.role == "enterprise":
            return False  # the consolidated result only
        return s.actor_id == self.actor.id or (panel_of(s.element), s.round) in self.own_rounds

    # -- events -----------------------------------------------------------------------------------------------
    def is_objection(self, ev: CaseEvent) -> bool:
        if ev.action in OBJECTION_ACTIONS:
            return True
        if ev.action == "message.received" and ev.element in OBJECTION_MESSAGES:
            return True
        return ev.action == "attachment.uploaded" and (ev.data or {}).get("attachment") in self.evidence

    def event(self, ev: CaseEvent) -> str:
        """"full", "anonymous" (shown without who did it) or "hidden"."""
        if self.sees_everything:
            return "full"
        if ev.action == "expert.drawn":
            return "hidden"
        if ev.action == "task.completed":
            s = self.steps_by_seq.get(ev.seq)
            if s is not None and not self.step(s):
                return "hidden"
        if self.actor.role == "enterprise":
            if self.is_objection(ev):
                return "hidden" if ev.action == "attachment.uploaded" else "anonymous"
            return "anonymous" if ev.actor_id is not None and ev.actor_id not in self.own_people else "full"
        return "full"

    def event_json(self, ev: CaseEvent, as_json) -> dict | None:
        """The API's form of an event for this user: None when hidden; `actor_id` and the objection's files
        removed when anonymous (`"redacted": true`: the hash no longer recomputes for this reader)."""
        how = self.event(ev)
        if how == "hidden":
            return None
        out = as_json(ev)
        if how == "anonymous":
            out["actor_id"] = None
            out["redacted"] = True
            if self.is_objection(ev) and isinstance(out.get("data"), dict):
                out["data"] = {k: v for k, v in out["data"].items() if k not in ("attachments", "lodged_by")}
        return out

    # -- files and data ---------------------------------------------------------------------------------------
    def attachment(self, attachment_id: int) -> bool:
        return self.actor.role != "enterprise" or attachment_id not in self.evidence

    def data(self, data: dict) -> dict:
        """Process data as this user may read it (replay): individual expert results removed unless visible."""
        if self.sees_everything:
            return data
        hidden = {el for el in self.individual if not any(
            s.element == el and self.step(s) for s in self.steps_by_seq.values())}
        if self.actor.role == "enterprise":
            hidden = set(self.individual)
        out = {k: v for k, v in data.items() if k not in hidden}
        if self.actor.role == "enterprise" and isinstance(out.get("objection"), dict):
            out["objection"] = {k: v for k, v in out["objection"].items() if k != "attachments"}
        return out


def redact_case_json(seen: Seen, out: dict) -> dict:
    """`cases.case_json` as this user may read it: the applicant never learns who holds or was drawn for an open
    task (an expert task's scope names the expert)."""
    if seen.sees_identities:
        return out
    tasks = [dict(t, claimed_by=None, scope=t["scope"].split(":")[0] if t["role"] == "expert" else t["scope"])
             for t in out["open_tasks"]]
    return dict(out, open_tasks=tasks)


def redact_replay(seen: Seen, ev: CaseEvent, out: dict) -> dict:
    """A replay answer (services/replay.state_json) as this user may read it: the event hidden or anonymised per
    kind, individual expert results and objection files out of the data and its diff, holders' names withheld
    from the applicant."""
    if seen.sees_everything:
        return out
    how = seen.event(ev)
    event = out["event"]
    if how == "hidden":
        event = {"seq": ev.seq, "at": event["at"], "action": ev.action, "redacted": True}
    elif how == "anonymous":
        event = dict(event, actor_id=None, actor=None, redacted=True)
        if seen.is_objection(ev) and isinstance(event.get("data"), dict):
            event["data"] = {k: v for k, v in event["data"].items() if k != "attachments"}
    data = seen.data(out["data"])
    hidden = set(out["data"]) - set(data)
    diff = {part: {k: v for k, v in values.items() if k.split(".")[0] not in hidden}
            for part, values in out["diff"].items()}
    open_tasks = out["open_tasks"]
    if not seen.sees_identities:
        open_tasks = [dict(t, claimed_by=None, claimed_by_name=None) for t in open_tasks]
    return dict(out, event=event, data=data, diff=diff, open_tasks=open_tasks)


def for_case(actor: User, case: Case) -> Seen:
    """The visibility of `case` for `actor` (who may already see the case: the scope rule is checked before)."""
    seen = Seen(actor=actor, case_id=case.id, enterprise_id=case.enterprise_id)
    if seen.sees_everything:
        return seen
    for files in db.session.scalars(select(Objection.attachments).where(Objection.case_id == case.id)):
        seen.evidence.update(files or [])
    info = processes.version_info(case.process_version_id)
    seen.individual = {el for el, props in info.properties.items()
                       if props.get("result_key") and not props.get("department")}
    seen.steps_by_seq = {s.seq: s for s in db.session.scalars(
        select(CaseStep).where(CaseStep.case_id == case.id).order_by(CaseStep.seq))}
    if actor.role == "expert":
        seen.own_rounds = {(panel_of(s.element), s.round) for s in seen.steps_by_seq.values()
                           if s.actor_id == actor.id and s.element in seen.individual and not s.abandoned}
    if actor.role == "enterprise":
        seen.own_people = set(db.session.scalars(select(User.id).where(User.enterprise_id == case.enterprise_id)))
    return seen
