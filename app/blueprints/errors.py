"""Error pages people read: 400/403/404/405/413/500 in the UI language (Chinese first) on every browser path, the
JSON error shape under /api/ as before (app/security.py), and the login-required message in the UI language."""
from flask import render_template, request
from flask_babel import lazy_gettext
from werkzeug import exceptions as ex

from app.errors import ServiceError

PAGES = {
    400: (lazy_gettext("The request could not be understood"),
          lazy_gettext("The form may have expired. Go back, reload the page and try again.")),
    403: (lazy_gettext("Not allowed"), lazy_gettext("You are not allowed to see this page or do this.")),
    404: (lazy_gettext("Page not found"),
          lazy_gettext("There is nothing here, or it is not yours to see. Check the address or go back.")),
    405: (lazy_gettext("Not allowed"), lazy_gettext("This page cannot be used this way.")),
    413: (lazy_gettext("The file is too large"),
          lazy_gettext("The upload is larger than the limit. Make the file smaller or split it, then try again.")),
    500: (lazy_gettext("Something went wrong"),
          lazy_gettext("The server could not finish this. Nothing was changed; try again later.")),
}


def _page(exc: ex.HTTPException):
    if request.path.startswith("/api/"):
        from app.security import _api_http_error

        return _api_http_error(exc)
    code = exc.code or 500
    title, text = PAGES.get(code, PAGES[500])
    return render_template("web/error.html", title=title, error=ServiceError(str(text)), status=code), code


def register(app) -> None:
    for exc_class in (ex.BadRequest, ex.Forbidden, ex.NotFound, ex.MethodNotAllowed, ex.RequestEntityTooLarge,
                      ex.InternalServerError):
        app.register_error_handler(exc_class, _page)
    from app.extensions import login_manager

    login_manager.login_message = lazy_gettext("Please log in to see this page.")
    login_manager.login_message_category = "info"
