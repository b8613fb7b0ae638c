"""What a form field demands, said before the user types (issue 15): lengths, numbers' range, the format a pattern
asks for, how many files, and the files an upload takes (types and size). The task page states them under each
field; the same wording names a broken rule after a submission (`tasks.MESSAGES`).

Every rule is a (message template, params) pair: the template is an English catalog msgid that the page
translates (Chinese first)."""
from app.settings import settings

# patterns of the shipped forms in words: the rule stated up front, the message when it is broken (catalog msgids;
# a pattern not listed is stated as "in the expected format")
PATTERN_HINTS = {
    "^[0-9+\\- ]{7,20}$": {
        "rule": "a phone number: 7 to 20 digits, +, - or spaces, e.g. 0571-87654321",
        "error": "is not a phone number: use 7 to 20 digits, +, - or spaces, e.g. 0571-87654321",
    },
}


def pattern_hint(pattern: str | None) -> dict | None:
    return PATTERN_HINTS.get(pattern or "")


def rules(prop: dict) -> list[tuple[str, dict]]:
    """The rules of one field, in the order a user meets them."""
    out: list[tuple[str, dict]] = []
    if prop.get("format") == "attachment":
        if prop.get("minItems"):
            out.append(("at least %(n)s file(s)", {"n": prop["minItems"]}))
        if prop.get("maxItems"):
            out.append(("at most %(n)s files", {"n": prop["maxItems"]}))
        return out
    lo, hi = prop.get("minLength"), prop.get("maxLength")
    if lo and hi:
        out.append(("%(lo)s to %(hi)s characters", {"lo": lo, "hi": hi}))
    elif lo:
        out.append(("at least %(lo)s characters", {"lo": lo}))
    elif hi:
        out.append(("at most %(hi)s characters", {"hi": hi}))
    if prop.get("pattern"):
        hint = pattern_hint(prop["pattern"])
        out.append((hint["rule"], {}) if hint else ("in the expected format", {}))
    if prop.get("type") in ("integer", "number"):
        if prop.get("minimum") is not None and prop.get("maximum") is not None:
            out.append(("from %(lo)s to %(hi)s", {"lo": prop["minimum"], "hi": prop["maximum"]}))
        elif prop.get("minimum") is not None:
            out.append(("at least %(lo)s", {"lo": prop["minimum"]}))
    if prop.get("type") == "array" and prop.get("minItems"):
        out.append(("choose at least %(n)s", {"n": prop["minItems"]}))
    return out


def upload_limits() -> dict:
    """The file types an upload takes and its size limit, as configured."""
    return {"types": [t.strip().upper() for t in settings().allowed_upload_types if t.strip()],
            "max_mb": settings().max_upload_mb}
