"""The OpenAPI entry of issue 19: the process heatmap (merged into the document by app/blueprints/openapi.py, which
passes its helpers in: no import back)."""

CELL = {"type": "object", "required": ["passed", "waiting", "median_s", "p90_s", "late_share"], "properties": {
    "passed": {"type": "integer", "description": "cases that completed the element"},
    "waiting": {"type": "integer", "description": "cases waiting at it now (open tasks, waiting timers, message "
                                                  "catch events)"},
    "median_s": {"type": "integer", "nullable": True, "description": "median time spent, seconds (nearest rank; "
                                                                      "buckets under 1/16 wide)"},
    "p90_s": {"type": "integer", "nullable": True, "description": "90th percentile, seconds"},
    "late_share": {"type": "number", "nullable": True, "description": "share completed after the due date"}}}


def paths(_op, KEY_PARAM) -> dict:  # noqa: N803 (the document's name)
    def query(name, schema, text):
        return {"name": name, "in": "query", "required": False, "schema": schema, "description": text}

    return {"/process-models/{key}/heatmap": {"get": _op(
        "The process heatmap: per element of the model (all its versions, matched by id) within the caller's scope "
        "(administrators, auditors, national reviewers: everything; provincial and SOE reviewers: their own)",
        200, {"type": "object", "required": ["elements"], "properties": {
            "elements": {"type": "object", "additionalProperties": CELL},
            "key": {"type": "string"}, "tier": {"type": "string", "nullable": True},
            "campaign": {"type": "integer", "nullable": True}, "province": {"type": "string", "nullable": True},
            "soe": {"type": "string", "nullable": True}}},
        params=[KEY_PARAM,
                query("campaign", {"type": "integer"}, "the campaign year"),
                query("province", {"type": "string"}, "a six-digit province code (or province:<code>)"),
                query("soe", {"type": "string"}, "an SOE group key (or soe:<key>)"),
                query("since", {"type": "string", "format": "date"}, "completed from this Beijing day"),
                query("until", {"type": "string", "format": "date"}, "completed until this Beijing day")],
        errors=(401, 403, 404, 422), tag="processes")}}
