import pytest
from sqlalchemy import text

from app.extensions import db


@pytest.fixture(autouse=True)
def _db(db_context):
    """As in tests/services, and the campaign deadlines and users' e-mail addresses put back afterwards (an
    extension of a whole tier moves `campaign_deadlines`; reminder tests give users addresses)."""
    saved = db.session.execute(text("SELECT id, application_deadline, recommendation_deadline "
                                    "FROM campaign_deadlines")).all()
    db.session.rollback()
    yield
    db.session.rollback()
    for row in saved:
        db.session.execute(text("UPDATE campaign_deadlines SET application_deadline = :a, "
                                "recommendation_deadline = :r WHERE id = :i"),
                           {"a": row.application_deadline, "r": row.recommendation_deadline, "i": row.id})
    db.session.execute(text("UPDATE users SET email = NULL WHERE email IS NOT NULL"))
    db.session.commit()


@pytest.fixture(scope="session")
def api_app(app):
    """The application with the scheduling API calls (app/blueprints/scheduling.py) registered, on the test
    database. (The product registers them once tests/security/test_matrix.py has their authorization rules.)"""
    from app import create_app
    from app.blueprints import scheduling

    keys = ("SQLALCHEMY_DATABASE_URI", "TESTING", "PASSWORD_HASH_METHOD", "UPLOAD_DIR", "SECRET_KEY")
    application = create_app({k: app.config[k] for k in keys})
    if "scheduling_api" not in application.blueprints:
        scheduling.register(application)
    return application


@pytest.fixture
def api_client(api_app):
    return api_app.test_client()


@pytest.fixture
def api_headers(api_client):
    from tests.conftest import token

    return lambda username: token(api_client, username)
