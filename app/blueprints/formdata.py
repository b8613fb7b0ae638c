"""Between a JSON Schema form and an HTML form: the fields to render, and posted values back to JSON."""
import math

from app.blueprints.params import parse_int
from app.services import form_rules


def fields(schema: dict, data: dict, lang: str, prefix: str = "") -> list[dict]:
    """A flat description of every field for the template (objects become fieldsets)."""
    out = []
    required = set(schema.get("required", []))
    for name, prop in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        value = (data or {}).get(name)
        title = prop.get("x-title-en") if lang == "en" and prop.get("x-title-en") else prop.get("title", name)
        help_ = prop.get("x-description-en") if lang == "en" and prop.get("x-description-en") else \
            prop.get("description")
        f = {"name": path, "id": "f_" + path.replace(".", "__"), "title": title, "help": help_,
             "required": name in required, "value": value, "type": prop.get("type"),
             "rules": form_rules.rules(prop)}  # stated under the field before anything is typed
        if prop.get("readOnly"):  # computed by the process (a panel's result): shown, never posted
            f["kind"] = "readonly"
            f["display"] = _display(prop, value, lang, {}).get("text") if value is not None else None
        elif prop.get("type") == "object":
            f["kind"] = "object"
            f["children"] = fields(prop, value or {}, lang, prefix=f"{path}.")
        elif prop.get("format") == "attachment":
            f["kind"] = "attachments"
            f["multiple"] = prop.get("type") == "array"
        elif prop.get("type") == "array" and "enum" in (prop.get("items") or {}):
            f["kind"] = "checkboxes"
            f["options"] = [(v, v) for v in prop["items"]["enum"]]
            f["value"] = value or []
        elif "enum" in prop:
            labels = prop.get("x-enum-titles-en" if lang == "en" else "x-enum-titles", {})
            f["kind"] = prop.get("x-widget", "select")
            f["options"] = [(v, labels.get(v, v)) for v in prop["enum"]]
        elif prop.get("type") == "boolean":
            f["kind"] = "checkbox"
        elif prop.get("type") in ("integer", "number"):
            f["kind"] = "number"
            f["min"], f["max"] = prop.get("minimum"), prop.get("maximum")
        else:
            f["kind"] = "textarea" if prop.get("x-widget") == "textarea" else "text"
        out.append(f)
    return out


def parse(schema: dict, form, prefix: str = "") -> dict:
    """Posted form values to JSON typed by the schema; a value that cannot be converted is kept as text so the
    schema validation names the field."""
    out = {}
    for name, prop in (schema.get("properties") or {}).items():
        key = f"{prefix}{name}"
        t = prop.get("type")
        if prop.get("readOnly"):
            continue
        if t == "object":
            out[name] = parse(prop, form, prefix=f"{key}.")
            continue
        if prop.get("format") == "attachment":
            ids = [v for v in form.getlist(key) if v]
            conv = []
            for v in ids:
                n = parse_int(v, 1)  # "²".isdigit() is true, int("²") fails; 10**22 is no attachment id
                conv.append(n if n is not None else v)
            if t == "array":
                out[name] = conv
            elif conv:
                out[name] = conv[0]
            continue
        if t == "array" and "enum" in (prop.get("items") or {}):
            if key in form or f"{key}__present" in form:
                out[name] = [v for v in form.getlist(key) if v]
            continue
        if t == "boolean":
            if key in form or f"{key}__present" in form:
                out[name] = form.get(key) in ("on", "true", "1", "yes")
            continue
        raw = form.get(key)
        if raw is None or raw == "":
            continue
        if t == "integer":
            try:
                out[name] = int(raw)
            except ValueError:
                out[name] = raw
        elif t == "number":
            try:
                out[name] = float(raw)
            except ValueError:
                out[name] = raw
            if isinstance(out[name], float) and not math.isfinite(out[name]):
                out[name] = raw  # "1e309", "nan": no JSON number; the schema names the field
        else:
            out[name] = raw
    return out


def _title(prop: dict, name: str, lang: str) -> str:
    return prop.get("x-title-en") if lang == "en" and prop.get("x-title-en") else prop.get("title", name)


def _display(prop: dict, value, lang: str, files: dict):
    if prop.get("format") == "attachment":
        ids = value if isinstance(value, list) else [value]
        return {"files": [files[i] for i in ids if i in files]}
    if prop.get("type") == "object" and isinstance(value, dict):
        return {"children": [(_title(p, k, lang), _display(p, value[k], lang, files))
                          for k, p in (prop.get("properties") or {}).items() if k in value]}
    if "enum" in prop:
        labels = prop.get("x-enum-titles-en" if lang == "en" else "x-enum-titles", {})
        return {"text": labels.get(value, value)}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, list):
        return {"text": "、".join(str(v) for v in value)}
    return {"text": value}


def readonly(forms: dict, data: dict, current: str | None, lang: str, files: dict) -> list[dict]:
    """What the case already holds, grouped by the form that asked for it (the current form excluded)."""
    sections = []
    for name, schema in forms.items():
        if name == current:
            continue
        props = schema.get("properties") or {}
        items = [(_title(p, k, lang), _display(p, data[k], lang, files)) for k, p in props.items()
                 if k in data and data[k] not in (None, "", [])]
        if items:
            title = schema.get("x-title-en") if lang == "en" and schema.get("x-title-en") else schema.get("title")
            sections.append({"title": title or name, "items": items})
    return sections


SHOWN_APART = ("decision", "review_comment", "comment", "decision_comment", "resolution")  # the timeline's columns


def timeline_items(entries: list[dict], lang: str) -> list[dict]:
    """Each timeline step with its own form's other fields as (label, shown value) pairs and its decision's label
    in the UI language: a step shows only what it produced."""
    out = []
    for e in entries:
        schema = e["schema"] or {}
        props = schema.get("properties") or {}
        files = {f.id: f for f in e["files"]}
        data = {k: v for k, v in e["data"].items() if k not in SHOWN_APART}
        items = [(_title(p, k, lang), _display(p, data[k], lang, files)) for k, p in props.items()
                 if k in data and data[k] not in (None, "", [], False) and p.get("format") != "attachment"]
        titles = e["decision_titles"].get("x-enum-titles-en" if lang == "en" else "x-enum-titles", {})
        title = e["title_en"] if lang == "en" and e["title_en"] else e["title"]
        out.append({**e, "items": items, "title": title,
                    "decision_label": titles.get(e["decision"], e["decision"]) if e["decision"] else None})
    return out
