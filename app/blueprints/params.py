"""Integers from URLs and forms, bounded: what no database column can hold does not exist (issue 17 item 10).

`BoundedInt` replaces Werkzeug's `int` converter for every blueprint (installed in `install` before any route is
added): an id beyond a 32-bit signed integer (PostgreSQL's INTEGER) does not match the rule, so it answers 404
instead of overflowing the database driver. `query_int` and `form_int` read one integer from the query string or a
form: digits only (no "²" or "٣" that `str.isdigit` lets through), within bounds, else `Invalid` (422) naming the
field."""
from werkzeug.routing import IntegerConverter

from app.errors import Invalid

MAX_INT = 2**31 - 1


def _at_most(limit: int) -> str:
    """A regular expression for the decimal numbers 0..limit (no sign): shorter numbers, or as long with a smaller
    digit at some place and the same before it."""
    digits = str(limit)
    parts = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        if d != "0":
            rest = len(digits) - i - 1
            parts.append(digits[:i] + (f"[0-{int(d) - 1}]" if d != "1" else "0") + (rf"\d{{{rest}}}" if rest else ""))
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


class BoundedInt(IntegerConverter):
    """Werkzeug's int converter whose pattern itself stops at MAX_INT. (Its own `max` is checked after the match,
    and a path refused there answers 405 where a sibling rule has other methods: the pattern must not match.)"""

    regex = _at_most(MAX_INT)

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (Werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_INT if max is None else max, signed=signed)
        if signed:
            self.regex = r"-?" + _at_most(MAX_INT)


def install(app) -> None:
    app.url_map.converters["int"] = BoundedInt


def parse_int(raw, lo: int = 0, hi: int = MAX_INT) -> int | None:
    """The integer written in `raw` (ASCII digits, an optional minus sign) within [lo, hi], else None."""
    text = str(raw).strip() if raw is not None else ""
    digits = text[1:] if text.startswith("-") else text
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        return None
    value = int(text)
    return value if lo <= value <= hi else None


def query_int(args, name: str, default: int | None = None, lo: int = 1, hi: int = MAX_INT) -> int | None:
    """An integer query parameter (absent or blank: the default); anything else is 422 naming it."""
    raw = args.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    value = parse_int(raw, lo, hi)
    if value is None:
        raise Invalid(f"{name} must be a whole number from {lo} to {hi}", errors={name: "integer"})
    return value


form_int = query_int  # the same rule for a form field (request.form)
