"""Chinese first, English second (Flask-Babel); the choice is kept in the session. Also the one set of Jinja filters
that turn stored values into what people read: times in Beijing time with the zone named, region and scope names
instead of codes, durations as 15天, event kinds and yes/no in words, service error messages in the UI language."""
import re
from datetime import date, datetime

from flask import request, session

LANGUAGES = ("zh", "en")


def select_locale() -> str:
    lang = session.get("lang") if request else None
    return lang if lang in LANGUAGES else "zh"


def init_i18n(app, babel) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    from flask_babel import get_locale

    for name, fn in (("shanghai", shanghai), ("beijing_time", beijing_time), ("region_name", region_name),
                     ("scope_name", scope_name), ("duration_zh", duration_zh), ("event_kind_label", event_kind_label),
                     ("yes_no", yes_no), ("user_message", user_message), ("shown", shown),
                     ("industry_name", industry_name), ("lang_part", lang_part),
                     ("process_name", process_name), ("file_size", file_size)):
        app.jinja_env.filters[name] = fn
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["task_title"] = task_title
    app.jinja_env.globals["user_message"] = user_message
    app.jinja_env.globals["province_choices"] = province_choices


def _lang() -> str:
    from flask_babel import get_locale

    return "zh" if str(get_locale() or "zh") == "zh" else "en"


def _as_datetime(value):
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return value


def shanghai(value) -> str:
    """A UTC datetime shown in Asia/Shanghai, in Chinese date format when the UI is Chinese."""
    from app.services.clock import SHANGHAI

    value = _as_datetime(value)
    if value is None or value == "":
        return ""
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value.year}年{value.month}月{value.day}日" if _lang() == "zh" else value.isoformat()
    local = value.astimezone(SHANGHAI)
    if _lang() == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return local.strftime("%Y-%m-%d %H:%M")


def beijing_time(value) -> str:
    """As `shanghai`, with the zone named: 2026年11月25日 10:00（北京时间） / 2026-11-25 10:00 (Beijing time).
    Accepts datetimes and ISO strings (naive ones are taken as UTC, as stored)."""
    from datetime import timezone

    value = _as_datetime(value)
    if value is None or value == "":
        return ""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    text = shanghai(value)
    if isinstance(value, datetime):
        text += "（北京时间）" if _lang() == "zh" else " (Beijing time)"
    return text


def region_name(code) -> str:
    """A GB/T 2260 code (`330000`) as its name (浙江省); an unknown code is given back."""
    from app.services.labels import region_name as name

    return (name(code, _lang()) or str(code)) if code else ""


def province_choices() -> list[tuple[str, str]]:
    """(code, name) of the provinces, for a filter whose options read as names."""
    from app.services.labels import provinces

    return provinces(_lang())


def scope_name(scope) -> str:
    """`province:330000` → 浙江省, `soe:sinopec` → the group's name (services/labels.py)."""
    from app.services.labels import scope_name as name

    return name(scope, _lang())


_ISO_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_UNITS = (("年", "year"), ("个月", "month"), ("周", "week"), ("天", "day"), ("小时", "hour"), ("分钟", "minute"),
          ("秒", "second"))


def duration_zh(value) -> str:
    """An ISO-8601 duration in words: P15D → 15天 (15 days), PT2H → 2小时, P1M → 1个月; anything else unchanged."""
    if not value:
        return ""
    m = _ISO_DURATION.match(str(value).strip())
    if not m or not any(m.groups()):
        return str(value)
    zh = _lang() == "zh"
    parts = []
    for n, (unit_zh, unit_en) in zip(m.groups(), _UNITS, strict=True):
        if n:
            parts.append(f"{int(n)}{unit_zh}" if zh else f"{int(n)} {unit_en}{'' if int(n) == 1 else 's'}")
    return "".join(parts) if zh else " ".join(parts)


def event_kind_label(kind) -> str:
    """An event or notification kind (`task.completed`, `certified_list_published`) in words; a kind without a
    translation is shown as 其他事件 rather than as its code."""
    from flask_babel import gettext

    if not kind:
        return ""
    text = gettext(str(kind))
    if text != kind or _lang() == "en":
        return text if text != kind else str(kind).replace("_", " ").replace(".", ": ")
    return gettext("Other event")


def industry_name(key) -> str:
    from app.services.industries import name

    return name(key, _lang())


_BILINGUAL = re.compile(r"^(.*[\u4e00-\u9fff）)][^A-Za-z]*?)\s+([A-Za-z].*)$")


def lang_part(value) -> str:
    """A bilingual name ("先进级认定 Advanced certification") in the UI language's half; other text unchanged."""
    m = _BILINGUAL.match(str(value or ""))
    if not m:
        return str(value or "")
    return m.group(1).strip() if _lang() == "zh" else m.group(2).strip()


def process_name(key) -> str:
    """A process model key (`advanced_certification`) as its name in the UI language; other keys unchanged."""
    from app.services.processes import BUILTIN

    return lang_part(BUILTIN[key][1]) if key in BUILTIN else str(key or "")


def file_size(n) -> str:
    n = int(n or 0)
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} 字节" if _lang() == "zh" else f"{n} bytes"


def yes_no(value) -> str:
    from flask_babel import gettext

    return gettext("Yes") if value else gettext("No")


def shown(value) -> str:
    """A value for a page: None as —, booleans as 是/否, lists joined; never a Python repr."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, list | tuple):
        return "、".join(shown(v) for v in value) if _lang() == "zh" else ", ".join(shown(v) for v in value)
    return str(value)


# service messages built with values (file names, types, limits): their Chinese form
_PATTERNS = (
    (re.compile(r"^file type '?\(?([^';)]*)\)?'? is not allowed; allowed: (.*)$", re.I),
     "不允许上传“{0}”类型的文件；允许的类型：{1}"),
    (re.compile(r"^(?:the )?file (?:is )?larger than (\d+) MB.*$", re.I), "文件超过 {0} MB 的上限"),
    (re.compile(r"^no such .*$", re.I), "找不到该内容，或您无权查看。"),
)
_STATUS_ZH = {200: "操作已完成。", 400: "请求有误，请检查后重试。", 401: "请先登录。",
              403: "您没有权限进行此操作或查看此页面。",
              404: "找不到该内容，或您无权查看。", 405: "不支持此操作方式。",
              409: "该内容已被他人更改或已处理，请刷新后重试。",
              413: "上传的文件太大。", 415: "不支持此文件类型。", 422: "输入有误，请检查后重试。",
              500: "服务器出错了，请稍后重试。", 503: "服务暂时不可用，请稍后重试。"}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def user_message(error, status: int | None = None, fallback: str | None = None) -> str:
    """A service error's message (or a flashed message) in the UI language: a message already in Chinese as it is,
    its translation when the catalog has one, a known pattern with its values, else in Chinese the plain meaning of
    its status code or `fallback` (never English in the Chinese UI)."""
    from flask_babel import gettext

    message = str(getattr(error, "message", error) or "")
    status = status or getattr(error, "status", None) or 400
    if not message or _CJK.search(message):
        return message
    translated = gettext(message)
    if _lang() == "en" or translated != message:
        return translated
    for pattern, zh in _PATTERNS:
        m = pattern.match(message)
        if m:
            return zh.format(*(g.replace(", ", "、") for g in m.groups()))
    return fallback or _STATUS_ZH.get(int(status), _STATUS_ZH[400])


def task_title(task) -> str:
    """A task's title in the UI language (the diagram's name is Chinese; `title_en` comes from its properties)."""
    get = task.get if isinstance(task, dict) else (lambda k: getattr(task, k, None))
    if _lang() == "en" and get("title_en"):
        return get("title_en")
    return get("title")
