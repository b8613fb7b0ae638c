"""The OpenAPI 3 document of /api/v1 (the public contract of DESIGN.md)."""
from app.blueprints import openapi_documents, openapi_heatmap, openapi_incidents

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
KEY_PARAM = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
LIST = {"type": "object", "required": ["id", "kind", "tier", "campaign", "scope", "cases"], "properties": {
    "id": {"type": "integer"}, "kind": {"type": "string"}, "tier": {"type": "string"}, "campaign": {"type": "integer"},
    "scope": {"type": "string"}, "details": {"type": "object"},
    "frozen_at": {"type": "string", "nullable": True}, "content_hash": {"type": "string", "nullable": True},
    "verified": {"type": "boolean"},
    "cases": {"type": "array", "items": {"type": "object", "properties": {
        "position": {"type": "integer"}, "case_id": {"type": "integer"}, "status": {"type": "string", "nullable": True},
        "revoked_at": {"type": "string", "nullable": True},
        "revocation_reason": {"type": "string", "nullable": True}}}}}}
OBJECTION = {"type": "object", "required": ["id", "case_id", "reason", "state"], "properties": {
    "id": {"type": "integer"}, "case_id": {"type": "integer"}, "reason": {"type": "string"},
    "attachments": {"type": "array", "items": {"type": "integer"}},
    "state": {"type": "string", "enum": ["open", "upheld", "dismissed"]},
    "resolution": {"type": "string", "nullable": True}}}
TASK = {"$ref": "#/components/schemas/Task"}
USER = {"type": "object", "required": ["id", "username", "role", "active"], "properties": {
    "id": {"type": "integer"}, "username": {"type": "string"}, "role": {"type": "string"},
    "province": {"type": "string", "nullable": True}, "department": {"type": "string", "nullable": True},
    "soe_group": {"type": "string", "nullable": True}, "enterprise_id": {"type": "integer", "nullable": True},
    "enterprise": {"type": "string", "nullable": True}, "active": {"type": "boolean"},
    "must_change_password": {"type": "boolean"}, "locked": {"type": "boolean"},
    "created_at": {"type": "string", "format": "date-time"}}}
USER_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_SCOPE = {"role": {"type": "string"}, "province": {"type": "string"}, "department": {"type": "string"},
          "soe_group": {"type": "string"}, "enterprise": {"type": "string"},
          "expertise": {"type": "array", "items": {"type": "string"}}}
_Q = [{"name": n, "in": "query", "schema": {"type": "string"}}
      for n in ("q", "role", "region", "department", "soe_group")]
# people (issue 14): administrators, a provincial_admin within its province (other accounts answer 404). A user
# holding a one-time password gets 403 `password_change_required` from every call but /me, /me/password and
# /auth/revoke until it has chosen its own password.
PEOPLE_PATHS = {
    "/users": {
        "get": _op("Accounts the caller manages (admin; provincial_admin: its province's enterprise, provincial and "
                   "co-department accounts), filtered", 200, {"type": "object", "properties": {
                       "items": {"type": "array", "items": USER}, "total": {"type": "integer"},
                       "page": {"type": "integer"}}},
                   params=[*_Q, {"name": "active", "in": "query", "schema": {"type": "string",
                                                                            "enum": ["true", "false", "1", "0"]}},
                           {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                   errors=(401, 403, 422), tag="people"),
        "post": _op("Create an account; answers its one-time password once (it must be changed at the first "
                    "login)", 201, {"type": "object", "required": ["id", "one_time_password"], "properties": {
                        "id": {"type": "integer"}, "username": {"type": "string"},
                        "one_time_password": {"type": "string"}}},
                    _json({"type": "object", "required": ["username", "role"],
                           "properties": {"username": {"type": "string"}, **_SCOPE}}),
                    errors=(401, 403, 409, 422), tag="people"),
    },
    "/users/{id}": {"patch": _op("Change role and scope, deactivate (sessions and tokens end at once) or reactivate",
                                 200, USER, _json({"type": "object", "properties": {**_SCOPE,
                                                                                   "active": {"type": "boolean"}}}),
                                 params=[USER_ID], errors=(401, 403, 404, 409, 422), tag="people")},
    "/users/{id}/reset-password": {"post": _op(
        "A new one-time password (answered once); the user's sessions and tokens end", 200, {
            "type": "object", "required": ["one_time_password"],
            "properties": {"one_time_password": {"type": "string"}}}, params=[USER_ID], errors=(401, 403, 404),
        tag="people")},
    "/users/{id}/unlock": {"post": _op("Forget the account's failed logins (login throttling)", 200, USER,
                                       params=[USER_ID], errors=(401, 403, 404), tag="people")},
    "/me/password": {"post": {**_op("Change the caller's password; its other sessions and tokens end", 204,
                                    body=_json({"type": "object", "required": ["current", "new"], "properties": {
                                        "current": {"type": "string"}, "new": {"type": "string"}}}),
                                    errors=(401, 422), tag="people"),
                              "responses": {"204": {"description": "changed"}, "401": ERR, "422": ERR}}},
    "/me/sessions": {"get": _op("The caller's active browser sessions and API tokens", 200, {
        "type": "object", "properties": {"sessions": {"type": "array", "items": {"type": "object"}},
                                         "tokens": {"type": "array", "items": {"type": "object"}}}},
        errors=(401, 403), tag="people")},
    "/me/sessions/{id}/revoke": {"post": _op("End one of the caller's browser sessions", 200, params=[USER_ID],
                                             errors=(401, 403, 404), tag="people")},
    "/me/tokens/{id}/revoke": {"post": _op("Revoke one of the caller's API tokens", 200, params=[USER_ID],
                                           errors=(401, 403, 404), tag="people")},
}
IMPORT_REPORT = {"type": "object", "required": ["create", "update", "unchanged", "errors"], "properties": {
    "create": {"type": "integer"}, "update": {"type": "integer"}, "unchanged": {"type": "integer"},
    "errors": {"type": "array", "items": {"type": "object", "required": ["row", "column", "message"], "properties": {
        "row": {"type": "integer"}, "column": {"type": "string"}, "field": {"type": "string"},
        "code": {"type": "string"}, "message": {"type": "string"}}}},
    "accounts": {"type": "integer"},
    "one_time_passwords": {"type": "array", "items": {"type": "object", "required": ["username", "one_time_password"],
                                                       "properties": {"username": {"type": "string"},
                                                                      "one_time_password": {"type": "string"}}}}}}
QUOTA_ROW = {"type": "object", "required": ["code", "missing"], "properties": {
    "code": {"type": "string"}, "iva_rank_2024": {"type": "integer", "nullable": True},
    "iva_rank_2024_source": {"type": "string", "nullable": True},
    "excellent_2024": {"type": "integer", "nullable": True},
    "excellent_2024_source": {"type": "string", "nullable": True},
    "missing": {"type": "array", "items": {"type": "string"}},
    "excellent_quota": {"type": "object"}, "lighthouse_quota": {"type": "object"}}}


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Tierflow API", "version": "1.0",
                 "description": "智能工厂梯度培育 — cases, tasks and history. Errors are "
                                "{error, message, errors}. A user holding a one-time password (a new or reset "
                                "account) gets 403 `password_change_required` from every call but /me, "
                                "/me/password and /auth/revoke until it has chosen its own password."},
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
                    {"name": "q", "in": "query", "schema": {"type": "string"},
                     "description": "part of the enterprise's name or the start of its credit code"},
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
            "/lists": {
                "post": _op("Publish a certified list (advanced) or submit a ranked recommendation list (excellent, "
                            "lighthouse) within the quota, by the deadline", 201, LIST, _json({
                                "type": "object", "required": ["tier", "campaign", "case_ids"], "properties": {
                                    "kind": {"type": "string", "enum": ["certified", "recommendation"]},
                                    "tier": {"type": "string"}, "campaign": {"type": "integer"},
                                    "case_ids": {"type": "array", "items": {"type": "integer"}},
                                    "not_recommended": {"type": "array", "items": {"type": "integer"}},
                                    "final": {"type": "boolean"}}}),
                            errors=(401, 403, 409, 422), tag="lists"),
                "get": _op("The lists the caller may see", 200, {"type": "object", "properties": {
                    "items": {"type": "array", "items": LIST}}}, params=[
                    {"name": "tier", "in": "query", "schema": {"type": "string"}}], errors=(401, 403), tag="lists"),
            },
            "/lists/{id}": {"get": _op("One list", 200, LIST, params=[ID], tag="lists"),
                            # H4: the list amendment window
                            "put": _op("Amend a recommendation list (add, remove, reorder) until the recommendation "
                                       "deadline; the quota applies to the list as it stands", 200, LIST, _json({
                                           "type": "object", "required": ["case_ids"], "properties": {
                                               "case_ids": {"type": "array", "items": {"type": "integer"}},
                                               "not_recommended": {"type": "array", "items": {"type": "integer"}},
                                               "final": {"type": "boolean"}}}),
                                       params=[ID], errors=(401, 403, 404, 409, 422), tag="lists")},
            "/lists/{id}/export": {"get": {**_op("The list as XLSX or CSV (the summary table)", 200, params=[
                ID, {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["xlsx", "csv"]}}],
                errors=(401, 404, 422), tag="lists"), "responses": {
                "200": {"description": "the file", "content": {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}},
                    "text/csv": {"schema": {"type": "string"}}}},
                "401": ERR, "404": ERR, "422": ERR}}},
            "/notices": {"get": _op("Cases in their public notice (open to every logged-in user)", 200, {
                "type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}},
                errors=(401,), tag="notices")},
            "/cases/{id}/objections": {
                "post": _op("Lodge an objection during the public notice (JSON, or multipart with evidence files)",
                            201, OBJECTION, {**_json({
                                "type": "object", "required": ["reason"],
                                "properties": {"reason": {"type": "string"}}}),
                                "multipart/form-data": {"schema": {
                                    "type": "object", "required": ["reason"], "properties": {
                                        "reason": {"type": "string"},
                                        "file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}},
                    params=[ID], errors=(401, 403, 404, 409, 422), tag="notices"),
                "get": _op("The objections of a case", 200, {"type": "object", "properties": {
                    "items": {"type": "array", "items": OBJECTION}}}, params=[ID], tag="notices"),
            },
            "/enterprises": {"get": _op(
                "Enterprises (administrators: all; a provincial administrator: its province's)", 200, {
                    "type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}},
                                                     "total": {"type": "integer"}, "page": {"type": "integer"}}},
                params=[{"name": "q", "in": "query", "schema": {"type": "string"},
                         "description": "part of the name or the start of the credit code"},
                        {"name": "region", "in": "query", "schema": {"type": "string"}},
                        {"name": "industry", "in": "query", "schema": {"type": "string"}},
                        {"name": "tier", "in": "query", "schema": {"type": "string"},
                         "description": "a tier the enterprise holds"},
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                errors=(401, 403, 422), tag="enterprises")},
            "/enterprises/import": {"post": _op(
                "Import enterprises from XLSX or CSV (the template's Chinese headers): commit=0 is the dry run; "
                "commit=1 writes every row, or nothing (422) when a row is bad; accounts=1 (with commit=1) also "
                "creates one enterprise account per enterprise without one (username = credit code) and answers "
                "their one-time passwords once", 200, IMPORT_REPORT,
                {"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "format": "binary"}}}}},
                params=[{"name": "commit", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}},
                        {"name": "accounts", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}}],
                errors=(401, 403, 413, 415, 422), tag="enterprises")},
            "/enterprises/{id}": {"get": _op("An enterprise's path through the tiers and its eligibility", 200, {
                "type": "object", "required": ["enterprise", "tiers", "cases", "eligibility"], "properties": {
                    "enterprise": {"type": "object"}, "tiers": {"type": "array", "items": {"type": "object"}},
                    "cases": {"type": "array", "items": {"type": "object"}}, "eligibility": {"type": "object"},
                    "campaign": {"type": "integer", "nullable": True}}}, params=[ID], tag="enterprises")},
            "/calendar": {"get": _op("The working-day calendar in use (library, years; years loaded as data)", 200,
                                     errors=(401,), tag="scheduling")},
            "/reminders": {"get": _op("The caller's task reminders", 200, errors=(401,), tag="scheduling")},
            "/quota-inputs": {"get": _op(
                "The 31 provinces and the XPCC: 2024 figures with their sources, what is missing, the quotas "
                "(admin)", 200, {"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": QUOTA_ROW}}}, errors=(401, 403), tag="reference")},
            "/quota-inputs/{code}": {"put": _op(
                "Set a province's figures; each needs its source; a blank figure is cleared (admin)", 200, QUOTA_ROW,
                _json({"type": "object", "properties": {
                    "iva_rank_2024": {"type": "integer", "nullable": True, "minimum": 1, "maximum": 31},
                    "iva_rank_2024_source": {"type": "string", "nullable": True, "maxLength": 500},
                    "excellent_2024": {"type": "integer", "nullable": True, "minimum": 0},
                    "excellent_2024_source": {"type": "string", "nullable": True, "maxLength": 500}}}),
                params=[{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                errors=(401, 403, 404, 422), tag="reference")},
            "/campaigns": {"get": _op(
                "Campaigns: deadlines per tier, notice periods, the industries whose branches may apply (admin)", 200,
                {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {
                    "type": "object", "required": ["year", "deadlines", "notice_periods", "branch_industries"]}}}},
                errors=(401, 403), tag="reference")},
            "/campaigns/{year}/deadlines/extend": {"post": _op(
                "Extend a deadline for a tier, a province or one case, with a reason (admin)", 201, body=_json({
                    "type": "object", "required": ["tier", "reason"], "properties": {
                        "tier": {"type": "string"}, "reason": {"type": "string"},
                        "application_deadline": {"type": "string", "format": "date"},
                        "recommendation_deadline": {"type": "string", "format": "date"},
                        "province": {"type": "string"}, "case_id": {"type": "integer"}}}),
                params=[{"name": "year", "in": "path", "required": True, "schema": {"type": "integer"}}],
                errors=(401, 403, 404, 422), tag="scheduling")},
            "/process-models": {"get": _op("Process models and their latest versions (readers: admin, auditor, "
                                           "national)", 200, errors=(401, 403), tag="processes")},
            "/process-models/{key}/versions/{version}": {"get": _op("One version with its XML and forms", 200,
                params=[KEY_PARAM, {"name": "version", "in": "path", "required": True, "schema": {"type": "integer"}}],
                errors=(401, 403, 404), tag="processes")},
            "/process-models/{key}/diff": {"get": _op("Elements and form fields added, removed and changed", 200,
                params=[KEY_PARAM, {"name": "from", "in": "query", "schema": {"type": "integer"}},
                        {"name": "to", "in": "query", "schema": {"type": "integer"}}],
                errors=(401, 403, 404, 422), tag="processes")},
            "/process-models/{key}/validate": {"post": _op("Validate a diagram without deploying it (admin)", 200,
                body={"application/xml": {"schema": {"type": "string"}}}, params=[KEY_PARAM],
                errors=(401, 403, 413, 422), tag="processes")},
            "/process-models/{key}/rollback": {"post": _op("Deploy an older version's content as the newest (admin)",
                201, body=_json({"type": "object", "required": ["version"], "properties": {
                    "version": {"type": "integer"}, "message": {"type": "string"}}}), params=[KEY_PARAM],
                errors=(401, 403, 404, 422), tag="processes")},
            "/process-models/{key}/migration": {
                "get": _op("Dry run: every running case and whether it can move to version `to` (admin)", 200,
                           params=[KEY_PARAM, {"name": "to", "in": "query", "schema": {"type": "integer"}}],
                           errors=(401, 403, 404, 422), tag="processes"),
                "post": _op("Migrate running cases to version `to`, each in its own transaction (admin)", 200,
                            body=_json({"type": "object", "required": ["to"], "properties": {
                                "to": {"type": "integer"}, "case_ids": {}}}), params=[KEY_PARAM],
                            errors=(401, 403, 404, 409, 422), tag="processes"),
            },
            "/decision-tables/{key}/validate": {"post": _op(
                "Validate a DMN decision table without deploying it (admin): well-formed, complete, sandboxed cells",
                200, body={"application/xml": {"schema": {"type": "string"}}}, params=[KEY_PARAM],
                errors=(401, 403, 413, 422), tag="processes")},
            "/tasks/bulk-complete": {"post": _op(
                "One decision for many tasks of one kind, each completed in its own transaction", 200,
                {"type": "object", "properties": {"results": {"type": "array", "items": {"type": "object"}}}},
                _json({"type": "object", "required": ["task_ids", "data"], "properties": {
                    "task_ids": {"type": "array", "items": {"type": "integer"}}, "data": {"type": "object"}}}),
                errors=(401, 403, 422), tag="tasks")},
            "/cases/{id}/replay": {"get": _op(
                "The case's state after event `at` (auditors; the shown states' digests checked)", 200,
                params=[ID, {"name": "at", "in": "query", "schema": {"type": "integer"}},
                        {"name": "check", "in": "query", "schema": {"type": "string", "enum": ["all"]}}],
                errors=(401, 403, 404, 409, 422), tag="audit")},
            "/cases/{id}/rewind": {"post": _op(
                "Reset an open case to before event `to` with a reason (admin); the chain keeps every event", 200,
                body=_json({"type": "object", "required": ["to", "reason"], "properties": {
                    "to": {"type": "integer"}, "reason": {"type": "string"}}}), params=[ID],
                errors=(401, 403, 404, 409, 422), tag="audit")},
            "/system-events": {"get": _op(
                "The system chain: deployments, user and role changes, verified (auditors, national, admin)", 200,
                params=[{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                errors=(401, 403), tag="audit")},
            **PEOPLE_PATHS,
            **openapi_incidents.paths(_op, _json, ID),  # issue 18
            **openapi_documents.paths(_op, _json, ID, ERR),  # issue 19 part 3: official documents
            **openapi_heatmap.paths(_op, KEY_PARAM),  # issue 19
            "/process-models/{key}/versions": {
                "get": _op("The versions of a model", 200, params=[KEY_PARAM], errors=(401, 403, 404),
                           tag="processes"),
                "post": _op("Deploy a new version (BPMN XML body; admin)", 201, {
                "type": "object", "properties": {"key": {"type": "string"}, "version": {"type": "integer"},
                                                 "content_hash": {"type": "string"}}},
                {"application/xml": {"schema": {"type": "string"}}},
                params=[KEY_PARAM],
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
