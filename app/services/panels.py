"""Expert panels: the consolidated result and the lead's override (issue 16.7; rule in docs/ARCHITECTURE.md
"Expert panels: the consolidation rule").

The diagram computes a panel's result (`<panel>_result`, with `<panel>_mean` and `<panel>_approvals`) in the script
task after the panel's join, against the campaign's thresholds (start data `panel_min_mean`,
`panel_min_approval_pct`). The lead step names its panel (user-task property `panel`). Here, when the lead
completes: a decision that differs from the panel's result needs a reason; the result, the lead's decision and the
reason are written with the step so that the next decision-maker sees them (`panel_result`, `override_reason` in
the lead's form, and `<panel>_overridden` / `<panel>_override_reason` in the case data)."""
from app.errors import Invalid

REASON_REQUIRED = "required when the decision differs from the panel's result"


def thresholds(campaign) -> dict:
    """The campaign's panel thresholds as start data (the defaults when a campaign predates them)."""
    return {"panel_min_mean": float(campaign.panel_min_mean if campaign.panel_min_mean is not None else 60),
            "panel_min_approval_pct": int(campaign.panel_min_approval_pct
                                          if campaign.panel_min_approval_pct is not None else 60)}


def settle(panel: str, process_data: dict, data: dict) -> None:
    """Check and complete the lead's posted `data` (changed in place) against the panel's computed result; Invalid
    naming `override_reason` when the decision differs from it without a reason. A case whose panel predates
    computed results (no `<panel>_result`) is left as it was."""
    result = process_data.get(f"{panel}_result")
    if result is None:
        return
    reason = (data.get("override_reason") or "").strip()
    overridden = data.get("decision") != result
    if overridden and len(reason) < 2:
        exc = Invalid("the decision differs from the panel's result: give the reason for overriding it",
                      errors={"override_reason": REASON_REQUIRED})
        exc.details = {"override_reason": (REASON_REQUIRED, {})}
        raise exc
    data.update({"panel_result": result, "panel_mean": process_data.get(f"{panel}_mean"),
                 "panel_approvals": process_data.get(f"{panel}_approvals"),
                 "override_reason": reason if overridden else None,
                 f"{panel}_overridden": overridden, f"{panel}_override_reason": reason if overridden else None})
