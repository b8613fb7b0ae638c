"""The OpenAPI 3 document of /api/v1 (the public contract of DESIGN.md)."""

ERR = {"$ref": "#/components/responses/Error"}


def _op(summary, ok, ok_schema=None, body=None, params=(), errors=(401, 403, 404), tag="cases"):
    op = {"summary": summary, "tags": [tag], "parameters": list(params),
          "responses": {str(ok): {"description": "OK", "content": {"application/json": {
              "schema": ok_schema or {"type": "object"}}}}}}
    for code in errors:
        op["responses"][str(code)] = ERR
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    return op


def _json(schema):
    return {"application/json": {"schema": schema}}


ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
TASK = {"$ref": "#/components/schemas/Task"}


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Tierflow API", "version": "1.0",
                 "description": "智能工厂梯度培育 — cases, tasks and history. Errors are "
                                "{error, message, errors}."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/auth/token": {"post": {**_op("Exchange credentials for a bearer token", 200, {
                "type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}},
                _json({"type": "object", "required": ["username", "password"], "properties": {
                    "username": {"type": "string"}, "password": {"type": "string"}}}), errors=(401, 422, 429),
                tag="auth"), "security": []}},
            "/auth/revoke": {"post": _op("Revoke the token used for this call", 200, tag="auth", errors=(401,))},
            "/me": {"get": _op("The caller, its roles and scope", 200, {"$ref": "#/components/schemas/Me"},
                               errors=(401,), tag="auth")},
            "/cases": {
                "post": _op("Start a case (eligibility checked)", 201, {"$ref": "#/components/schemas/Case"},
                            _json({"type": "object", "required": ["tier", "campaign"], "properties": {
                                "tier": {"type": "string", "enum": ["basic", "advanced", "excellent", "lighthouse"]},
                                "campaign": {"type": "integer"}, "enterprise_id": {"type": "integer"}}}),
                            errors=(401, 403, 422)),
                "get": _op("Cases in the caller's scope", 200, {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer"},
                    "page": {"type": "integer"}}}, params=[
                    {"name": "tier", "in": "query", "schema": {"type": "string"}},
                    {"name": "status", "in": "query", "schema": {"type": "string"}},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                    errors=(401, 422)),
            },
            "/cases/{id}": {"get": _op("One case with its open tasks", 200, {"$ref": "#/components/schemas/Case"},
                                       params=[ID])},
            "/cases/{id}/events": {"get": _op("The ordered, hash-chained history", 200, {
                "type": "object", "properties": {"case_id": {"type": "integer"}, "events": {
                    "type": "array", "items": {"$ref": "#/components/schemas/Event"}}}}, params=[ID])},
            "/cases/{id}/attachments": {"post": _op("Upload a file to the case", 201, {
                "type": "object", "required": ["id", "sha256", "size"], "properties": {
                    "id": {"type": "integer"}, "sha256": {"type": "string"}, "size": {"type": "integer"},
                    "filename": {"type": "string"}}},
                {"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "format": "binary"}}}}}, params=[ID],
                errors=(401, 404, 413, 415, 422))},
            "/attachments/{id}": {"get": {**_op("Download an attachment", 200, params=[ID]), "responses": {
                "200": {"description": "the file", "content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"}}}}, "401": ERR, "404": ERR}}},
            "/tasks": {"get": _op("The caller's inbox, due first", 200, {"type": "object", "properties": {
                "items": {"type": "array", "items": TASK}, "total": {"type": "integer"},
                "page": {"type": "integer"}}}, params=[
                {"name": "tier", "in": "query", "schema": {"type": "string"}},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                errors=(401, 422), tag="tasks")},
            "/tasks/{id}": {"get": _op("A task with its form (JSON Schema) and current data", 200, {
                "allOf": [TASK, {"type": "object", "properties": {"form": {"type": "object", "nullable": True},
                                                                  "data": {"type": "object"}}}]},
                params=[ID], tag="tasks")},
            "/tasks/{id}/claim": {"post": _op("Claim a task", 200, TASK, params=[ID], errors=(401, 403, 404, 409),
                                              tag="tasks")},
            "/tasks/{id}/release": {"post": _op("Release a claimed task", 200, TASK, params=[ID],
                                                errors=(401, 403, 404, 409), tag="tasks")},
            "/tasks/{id}/draft": {"put": _op("Save form data without completing", 200, TASK, _json({
                "type": "object", "properties": {"data": {"type": "object"}}}), params=[ID],
                errors=(401, 403, 404, 409, 422), tag="tasks")},
            "/tasks/{id}/complete": {"post": _op("Complete a task with its form data", 200, TASK, _json({
                "type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}}),
                params=[ID], errors=(401, 403, 404, 409, 422), tag="tasks")},
            "/process-models/{key}/versions": {"post": _op("Deploy a new version (BPMN XML body; admin)", 201, {
                "type": "object", "properties": {"key": {"type": "string"}, "version": {"type": "integer"},
                                                 "content_hash": {"type": "string"}}},
                {"application/xml": {"schema": {"type": "string"}}},
                params=[{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                errors=(401, 403, 413, 422), tag="processes")},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Error": {"description": "an error", "content": {"application/json": {"schema": {
                "type": "object", "required": ["error", "message"], "properties": {
                    "error": {"type": "string"}, "message": {"type": "string"}, "errors": {}}}}}}},
            "schemas": {
                "Me": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "username": {"type": "string"}, "role": {"type": "string"},
                    "roles": {"type": "array", "items": {"type": "string"}}, "scope": {"type": "string"}}},
                "Task": {"type": "object", "required": ["id", "case_id", "name", "title", "role"], "properties": {
                    "id": {"type": "integer"}, "case_id": {"type": "integer"}, "name": {"type": "string"},
                    "title": {"type": "string"}, "role": {"type": "string"}, "scope": {"type": "string"},
                    "state": {"type": "string"}, "tier": {"type": "string"},
                    "due_at": {"type": "string", "format": "date-time", "nullable": True},
                    "claimed_by": {"type": "integer", "nullable": True}}},
                "Case": {"type": "object", "required": ["id", "tier", "status", "process", "open_tasks"],
                         "properties": {
                             "id": {"type": "integer"}, "tier": {"type": "string"}, "status": {"type": "string"},
                             "campaign": {"type": "integer"},
                             "process": {"type": "object", "properties": {"key": {"type": "string"},
                                                                          "version": {"type": "integer"}}},
                             "open_tasks": {"type": "array", "items": TASK}}},
                "Event": {"type": "object", "properties": {
                    "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                    "actor_id": {"type": "integer", "nullable": True}, "action": {"type": "string"},
                    "hash": {"type": "string"}, "prev_hash": {"type": "string"}}},
            },
        },
    }
