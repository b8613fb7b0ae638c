"""The OpenAPI entries of issue 18: incidents, notifications, reassignment, corrections, service-task operators
(merged into the document by app/blueprints/openapi.py, which passes its helpers in: no import back)."""


def paths(_op, _json, ID) -> dict:
    # incidents and notifications (issue 18): incidents are the administrators'; notifications are the caller's own
    INCIDENT = {"type": "object", "required": ["id", "case_id", "element", "message", "created_at"], "properties": {
        "id": {"type": "integer"}, "case_id": {"type": "integer"}, "kind": {"type": "string"},
        "element": {"type": "string", "nullable": True}, "element_name": {"type": "string", "nullable": True},
        "message": {"type": "string"}, "state": {"type": "string", "enum": ["open", "resolved"]},
        "attempts": {"type": "integer"}, "actor_id": {"type": "integer", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "resolved_at": {"type": "string", "format": "date-time", "nullable": True},
        "resolution": {"type": "string", "nullable": True}, "reason": {"type": "string", "nullable": True},
        "data": {"type": "object", "nullable": True}}}
    _REASON = _json({"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}})
    _PREFS = {"type": "object", "properties": {"email": {"type": "object",
                                                         "additionalProperties": {"type": "boolean"}}}}
    INCIDENT_PATHS = {
        "/incidents": {"get": _op("Incidents (administrators): open by default, `resolved` or `all`", 200, {
            "type": "array", "items": INCIDENT},
            params=[{"name": "state", "in": "query", "schema": {"type": "string"}}],
            errors=(401, 403, 422), tag="incidents")},
        "/incidents/{id}": {"get": _op("One incident", 200, INCIDENT, params=[ID], tag="incidents")},
        "/incidents/{id}/retry": {"post": _op(
            "Run the failed step again (after a fix and a migration of the case); 409 `held` when it fails again", 200,
            INCIDENT, params=[ID], errors=(401, 403, 404, 409, 422), tag="incidents")},
        "/incidents/{id}/skip": {"post": _op("Skip the failed step where the diagram allows it, with a reason", 200,
                                             INCIDENT, _REASON, params=[ID], errors=(401, 403, 404, 409, 422),
                                             tag="incidents")},
        "/incidents/{id}/cancel": {"post": _op("Cancel the case (withdrawn) with a reason", 200, INCIDENT, _REASON,
                                               params=[ID], errors=(401, 403, 404, 409, 422), tag="incidents")},
        "/tasks/{id}/reassign": {"post": _op(
            "Hand the task to a colleague of its role and scope (its holder, an administrator, the province's "
            "administrator), with a reason; 422 when `to` lacks the role or scope", 200, {
                "type": "object", "properties": {"id": {"type": "integer"}, "claimed_by": {"type": "integer"},
                                                 "claimed_at": {"type": "string"}}},
            _json({"type": "object", "required": ["to", "reason"], "properties": {
                "to": {"type": "string"}, "reason": {"type": "string"}}}), params=[ID],
            errors=(401, 403, 404, 409, 422), tag="tasks")},
        "/cases/{id}/corrections": {"post": _op(
            "Correct a value of a completed step's form field (administrators), with a reason", 200, {"type": "object"},
            _json({"type": "object", "required": ["element", "field", "value", "reason"], "properties": {
                "element": {"type": "string"}, "field": {"type": "string"}, "value": {},
                "reason": {"type": "string"}}}), params=[ID], errors=(401, 403, 404, 409, 422), tag="cases")},
        "/service-operators": {"get": _op(
            "The service-task operators a diagram may name (spiffworkflow:serviceTaskOperator) and their parameters",
            200, {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}},
            errors=(401, 403), tag="processes")},
        "/notifications": {"get": _op("The caller's in-app notifications, newest first, with the unread count", 200, {
            "type": "object", "required": ["items", "unread"], "properties": {
                "items": {"type": "array", "items": {"type": "object", "required": ["id", "kind", "title", "unread"]}},
                "unread": {"type": "integer"}}},
            params=[{"name": "unread", "in": "query", "schema": {"type": "string"}}], errors=(401, 403),
            tag="notifications")},
        "/notifications/read": {"post": _op("Mark the caller's notifications read (all, or `ids`)", 200, {
            "type": "object", "properties": {"marked": {"type": "integer"}}}, _json({"type": "object", "properties": {
                "ids": {"type": "array", "items": {"type": "integer"}}}}), errors=(401, 403, 422),
            tag="notifications")},
        "/notifications/prefs": {
            "get": _op("The caller's e-mail choice per kind of notification", 200, _PREFS, errors=(401, 403),
                       tag="notifications"),
            "put": _op("Change the caller's e-mail choices", 200, _PREFS, _json(_PREFS), errors=(401, 403, 422),
                       tag="notifications")},
    }
    return INCIDENT_PATHS
