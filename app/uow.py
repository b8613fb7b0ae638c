"""The one place that commits: a unit of work around each request handler, CLI command and scheduler job.

A step the engine refused at run time (`services.incidents.StepFailed`) is rolled back like any error; then a
second transaction records the incident (the submitted data kept as the task's draft, one event in the case's
chain) and commits it, and the caller gets `Held` (409 `held`): the case stays at its last good state."""
import logging
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app.errors import Conflict, Unavailable
from app.extensions import db
from app.services import incidents

log = logging.getLogger("tierflow.incidents")


@contextmanager
def unit_of_work():
    try:
        yield db.session
        db.session.commit()
    except incidents.StepFailed as exc:
        db.session.rollback()
        raise _record_failure(exc.failure) from None
    except StaleDataError:
        db.session.rollback()
        raise Conflict("the case was changed by someone else at the same time; reload and try again") from None
    except IntegrityError as exc:
        db.session.rollback()
        if _chain_head_taken(exc):
            raise Conflict("the case was changed by someone else at the same time; reload and try again") from None
        raise
    except OperationalError as exc:
        db.session.rollback()
        if "locked" in str(exc).lower() or "could not serialize" in str(exc).lower():
            raise Conflict("the database was busy with a concurrent change; try again") from None
        raise Unavailable("the database refused the change: " + str(exc.orig)[:200]) from None
    except BaseException:
        db.session.rollback()
        raise


def _chain_head_taken(exc: IntegrityError) -> bool:
    """Another step appended the case's next event since this one read the case (PostgreSQL: two parallel tasks of
    one case completed at the same moment): its (case_id, seq) is taken before the case row's version check runs."""
    text = str(exc.orig)
    return "uq_case_events_case_id" in text or "case_events.case_id, case_events.seq" in text


def _record_failure(failure) -> incidents.Held:
    """The second transaction of a failed step: the incident, the draft and the event, committed on their own."""
    try:
        inc = incidents.record(failure)
        db.session.commit()
    except Exception:  # recording must not hide the failure itself: the user still learns the case is held
        db.session.rollback()
        log.exception("case %s: the incident could not be recorded", failure.case_id)
        return incidents.Held(incidents.HELD_MESSAGE, errors={"case_id": failure.case_id})
    log.warning("case %s: incident %s at %s: %s", failure.case_id, inc.id, failure.element, failure.message)
    return incidents.Held(incidents.HELD_MESSAGE, errors={"incident": inc.id, "case_id": failure.case_id})
