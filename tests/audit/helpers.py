"""Building long case histories through the services (the same path as the product)."""
from sqlalchemy import select

from app.extensions import db
from app.models import Case, HumanTask
from app.services import cases, tasks
from app.uow import unit_of_work
from tests.conftest import user
from tests.factories import GOOD_ASSESSMENT

REVIEWER = "zj-reviewer"


def open_task(case_id: int) -> HumanTask:
    (t,) = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "open"))
    return t


def complete(username: str, case_id: int, data: dict) -> dict:
    with unit_of_work():
        return tasks.complete(user(username), open_task(case_id).id, data)


def claim(username: str, case_id: int) -> None:
    with unit_of_work():
        tasks.claim(user(username), open_task(case_id).id)


def basic_case(rounds: int = 2, clock=None, finish: str | None = "approve", claims: bool = True,
               other: bool = False) -> int:
    """A basic case returned `rounds` times (each round: the reviewer claims, returns; the enterprise resubmits
    with a changed answer), then approved (or rejected, or left open with None). The clock moves an hour a step.
    `other`: the Ningbo enterprise applies instead of acme (two cases in one test)."""
    applicant = "ningbo-parts" if other else "acme"
    with unit_of_work():
        case_id = cases.create_case(user(applicant), "basic", 2026).id
    step = (lambda: clock.advance(hours=1)) if clock is not None else (lambda: None)
    step()
    complete(applicant, case_id, GOOD_ASSESSMENT)
    for i in range(rounds):
        step()
        if claims:
            claim(REVIEWER, case_id)
        step()
        complete(REVIEWER, case_id, {"decision": "return", "review_comment": f"第{i + 1}轮：请补充说明。"})
        step()
        complete(applicant, case_id, dict(GOOD_ASSESSMENT, outcomes=f"生产效率提升{30 + i}%。"))
    if finish:
        step()
        complete(REVIEWER, case_id, {"decision": finish, "review_comment": "符合"})
    db.session.expire_all()
    return case_id


def case(case_id: int) -> Case:
    return db.session.get(Case, case_id)


def rechain(case_id: int, mutate) -> None:
    """Rewrite a case's history as an attacker who owns the database would: `mutate(list of event dicts)` edits
    the rows, then every hash is recomputed and the case's head updated, so the chain itself verifies again. The
    append-only trigger is lifted for this one transaction."""
    from sqlalchemy import text

    from app.models import CaseEvent
    from app.services import events
    from tests.conftest import allow_event_writes

    db.session.rollback()
    rows = [{c.name: getattr(e, c.name) for c in CaseEvent.__table__.columns}
            for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                        .order_by(CaseEvent.seq))]
    mutate(rows)
    prev = events.GENESIS
    for r in rows:
        r["prev_hash"] = prev
        r["hash"] = prev = events.chain_hash(prev, events.fields_of(r))
    allow_event_writes()
    db.session.execute(text("DELETE FROM case_events WHERE case_id = :c"), {"c": case_id})
    db.session.execute(CaseEvent.__table__.insert(), rows)
    db.session.execute(text("DELETE FROM audit_maintenance"))
    db.session.execute(text("UPDATE cases SET last_hash = :h, event_seq = :s WHERE id = :c"),
                       {"h": prev, "s": len(rows), "c": case_id})
    db.session.commit()
    db.session.expire_all()
