"""Chinese first, English second (Flask-Babel); the choice is kept in the session."""
from flask import request, session

LANGUAGES = ("zh", "en")


def select_locale() -> str:
    lang = session.get("lang") if request else None
    return lang if lang in LANGUAGES else "zh"


def init_i18n(app, babel) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.filters["shanghai"] = shanghai
    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["task_title"] = task_title


def shanghai(value) -> str:
    """A UTC datetime shown in Asia/Shanghai, in Chinese date format when the UI is Chinese."""
    from flask_babel import get_locale

    from app.services.clock import SHANGHAI

    if value is None:
        return ""
    local = value.astimezone(SHANGHAI)
    if str(get_locale() or "zh") == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return local.strftime("%Y-%m-%d %H:%M")


def task_title(task) -> str:
    """A task's title in the UI language (the diagram's name is Chinese; `title_en` comes from its properties)."""
    from flask_babel import get_locale

    get = task.get if isinstance(task, dict) else (lambda k: getattr(task, k, None))
    if str(get_locale() or "zh") == "en" and get("title_en"):
        return get("title_en")
    return get("title")
