"""The OpenAPI entries of issue 19 part 3: official documents of lists and cases, their files, the templates
(merged into the document by app/blueprints/openapi.py, which passes its helpers in: no import back)."""


def paths(_op, _json, ID, ERR) -> dict:
    FILE = {"type": "object", "required": ["attachment_id", "sha256"], "properties": {
        "attachment_id": {"type": "integer"}, "sha256": {"type": "string"}}}
    GENERATED = {"type": "object", "required": ["attachment_id", "sha256"], "properties": {
        "attachment_id": {"type": "integer", "description": "the DOCX (download: GET /documents/{id})"},
        "sha256": {"type": "string"}, "kind": {"type": "string"}, "version": {"type": "integer"},
        "pdf": FILE}}
    VERSION = {"type": "object", "properties": {
        "kind": {"type": "string"}, "version": {"type": "integer"}, "created_at": {"type": "string"},
        "created_by": {"type": "integer", "nullable": True},
        "files": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "attachment_id": {"type": "integer"}, "sha256": {"type": "string"}, "filename": {"type": "string"},
            "size": {"type": "integer"}}}}}}
    TEMPLATE = {"type": "object", "properties": {
        "key": {"type": "string"}, "version": {"type": "integer"}, "body": {"type": "string"},
        "author_id": {"type": "integer", "nullable": True}, "created_at": {"type": "string"},
        "content_hash": {"type": "string"}, "message": {"type": "string", "nullable": True}}}
    KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string", "enum": [
        "announcement", "summary_table", "letter", "certification_notice"]}}
    contact = {"type": "string", "maxLength": 200, "description": "contact person and telephone printed on it"}
    return {
        "/lists/{id}/documents": {
            "post": _op("Generate a list's official document (公示公告, 推荐汇总表, 推荐函) as DOCX and PDF: a new "
                        "version each time; the list's certifier or an administrator", 201, GENERATED,
                        _json({"type": "object", "required": ["kind"], "properties": {
                            "kind": {"type": "string", "enum": ["announcement", "summary_table", "letter"]},
                            "contact": contact}}),
                        params=[ID], errors=(401, 403, 404, 422), tag="lists"),
            "get": _op("Every generated version of the list's documents", 200, {"type": "array", "items": VERSION},
                       params=[ID], errors=(401, 404), tag="lists")},
        "/cases/{id}/documents": {"post": _op(
            "Generate a certified or accepted case's certification notice (认定通知书) as DOCX and PDF, attached to "
            "the case; its certifier or an administrator", 201, GENERATED,
            _json({"type": "object", "required": ["kind"], "properties": {
                "kind": {"type": "string", "enum": ["certification_notice"]}, "contact": contact}}),
            params=[ID], errors=(401, 403, 404, 422), tag="cases")},
        "/documents/{id}": {"get": {**_op("Download a generated document file (DOCX or PDF)", 200, params=[ID],
                                          tag="lists"), "responses": {
            "200": {"description": "the file", "content": {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                    "schema": {"type": "string", "format": "binary"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
            "401": ERR, "404": ERR}}},
        "/document-templates/{key}": {
            "get": _op("The versions of a document template, newest first (administrators)", 200,
                       {"type": "array", "items": TEMPLATE}, params=[KEY], errors=(401, 403, 404), tag="processes"),
            "post": _op("Save a new version of a document template (administrators); 422 naming the line that "
                        "cannot render", 201, TEMPLATE,
                        _json({"type": "object", "required": ["body"], "properties": {
                            "body": {"type": "string"}, "message": {"type": "string"}}}),
                        params=[KEY], errors=(401, 403, 404, 422), tag="processes")},
    }
