"""The one place that commits: a unit of work around each request handler, CLI command and scheduler job."""
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app.errors import Conflict, Unavailable
from app.extensions import db


@contextmanager
def unit_of_work():
    try:
        yield db.session
        db.session.commit()
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
