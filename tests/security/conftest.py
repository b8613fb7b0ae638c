import pytest
from sqlalchemy import text

from app.extensions import db


@pytest.fixture(autouse=True)
def _db(db_context):
    db.session.execute(text("DELETE FROM login_failures"))
    db.session.commit()
    yield
    db.session.rollback()
    db.session.execute(text("DELETE FROM login_failures"))
    db.session.commit()
