import pytest


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
