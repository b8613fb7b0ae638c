"""The registry of service-task operators (issue 18 part 2): what a diagram may name in
`spiffworkflow:serviceTaskOperator`, with typed parameters, checked at deploy (`workflows/service_calls.py` gets
`spec()` as data) and offered by the editor's properties panel. Each parameter's value is an expression evaluated
in the sandbox when the task runs (a quoted text is a constant).

Running a service task records its request (the engine carries out nothing); after the step the request is queued
in the outbox (`enqueue_pending`, keyed by the task id: at most one effect per task) and the drain carries it out
after the commit (`services/operator_runs.py`)."""
from datetime import datetime

from app.services import outbox
from workflows.service_calls import completed_calls

OPERATORS = {
    "notify": {
        "title": "发送通知", "title_en": "Send a notice",
        "params": {
            "recipients": {"type": "str", "required": True,
                           "help": "enterprise（本案企业）或一个角色名，如 provincial_reviewer（本案范围内）"},
            "template": {"type": "str", "required": True, "help": "通知内容；可用 {case_id}、{enterprise}、{tier}"},
        }},
    "render_document": {
        "title": "生成文书", "title_en": "Render a document",
        "params": {
            "template": {"type": "str", "required": False,
                         "help": "文书正文；可用 {case_id}、{enterprise}、{tier}（未给文书模板时必填）"},
            "filename": {"type": "str", "required": False, "help": "文件名，以 .docx 结尾（与正文一起用）"},
            # issue 19: an official document from a template administrators edit (DOCX and PDF, versioned)
            "template_key": {"type": "str", "required": False,
                             "help": "文书模板：certification_notice（认定通知书）；给出时生成 DOCX 和 PDF"},
        }},
}


def spec() -> dict:
    """Names and parameter types, as plain data for the engine adapter's deploy check."""
    return {name: {p: {"type": i["type"], "required": i["required"]} for p, i in op["params"].items()}
            for name, op in OPERATORS.items()}


def catalogue() -> list[dict]:
    """What the editor's properties panel offers."""
    return [{"name": name, "title": op["title"], "title_en": op["title_en"],
             "params": [{"name": p, **i} for p, i in op["params"].items()]} for name, op in OPERATORS.items()]


def enqueue_pending(case, wf, actor_id: int | None, now: datetime) -> int:
    """Queue the requests of the instance's completed service tasks not queued yet; returns how many are new."""
    new = 0
    for call in completed_calls(wf):
        key = f"service:{case.id}:{call['task']}"
        item = outbox.enqueue("service", key, {"operator": call["operator"], "params": call["params"],
                                               "element": call["element"], "actor_id": actor_id},
                              case_id=case.id, now=now)
        new += item.created_at == now
    return new
