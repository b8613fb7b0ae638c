"""The registry of service-task operators (issue 18 part 2): what a diagram may name in
`spiffworkflow:serviceTaskOperator`, with typed parameters, checked at deploy (`workflows/service_calls.py` gets
`spec()` as data) and offered by the editor's properties panel. Each parameter's value is an expression evaluated
in the sandbox when the task runs (a quoted text is a constant).

Running a service task records its request (the engine carries out nothing); after the step the request is queued
in the outbox (`enqueue_pending`, keyed by the task id: at most one effect per task) and the drain carries it out
after the commit (`services/operator_runs.py`)."""
from datetime import datetime

from app.services import outbox
from workflows.service_calls import TYPES, completed_calls

OPERATORS: dict[str, dict] = {}
_TEXTS = ("label", "label_en")  # every parameter's name as people read it, Chinese first (the editor shows these)


class OperatorRegistrationError(ValueError):
    """An operator cannot be registered as given (the message names the operator and what is missing)."""


def register(name: str, title: str, title_en: str, params: dict[str, dict]) -> None:
    """Add an operator diagrams may name. Each parameter: `type` (one of workflows.service_calls.TYPES),
    `required`, `label` and `label_en` (its name in Chinese and in English: the properties panel never shows a
    parameter's identifier), and optionally `help` / `help_en` (`backquoted` parts are what a person types, shown
    as code). Refused with `OperatorRegistrationError`, registering nothing, when any of it is missing: a parameter
    without its labels would reach the Chinese UI as an English identifier."""
    def refuse(why: str):
        raise OperatorRegistrationError(f"service-task operator {name!r}: {why}")

    if not isinstance(name, str) or not name.isidentifier():
        refuse("its name must be an identifier (letters, digits, _)")
    if name in OPERATORS:
        refuse("already registered")
    for key, text in (("title", title), ("title_en", title_en)):
        if not isinstance(text, str) or not text.strip():
            refuse(f"needs a {key}")
    if not isinstance(params, dict):
        refuse("its parameters must be a dict of name -> description")
    for p, info in params.items():
        if not isinstance(p, str) or not p.isidentifier():
            refuse(f"parameter name {p!r} must be an identifier")
        if not isinstance(info, dict):
            refuse(f"parameter {p!r} needs a description (type, required, label, label_en)")
        if info.get("type") not in TYPES:
            refuse(f"parameter {p!r} needs a type, one of {', '.join(TYPES)}")
        if not isinstance(info.get("required"), bool):
            refuse(f"parameter {p!r} needs required: true or false")
        for key in _TEXTS:
            if not isinstance(info.get(key), str) or not info[key].strip():
                lang = "Chinese" if key == "label" else "English"
                refuse(f"parameter {p!r} has no {lang} label ({key}): the editor would show its name")
    OPERATORS[name] = {"title": title, "title_en": title_en,
                       "params": {p: {"type": i["type"], "required": i["required"], "label": i["label"].strip(),
                                      "label_en": i["label_en"].strip(), "help": i.get("help") or "",
                                      "help_en": i.get("help_en") or i.get("help") or ""}
                                  for p, i in params.items()}}


def unregister(name: str) -> None:
    """Take an operator out of the registry (for whoever registered it for a while, e.g. a test)."""
    OPERATORS.pop(name, None)


register("notify", "发送通知", "Send a notice", {
    "recipients": {"type": "str", "required": True, "label": "接收人", "label_en": "Recipients",
                   "help": "填 `enterprise`（本案企业）或一个角色名，如 `provincial_reviewer`（本案范围内的人员）",
                   "help_en": "`enterprise` (the case's enterprise) or a role, e.g. `provincial_reviewer` (within the "
                              "case's scope)"},
    "template": {"type": "str", "required": True, "label": "通知内容", "label_en": "Text",
                 "help": "可用 `{case_id}`（案件编号）、`{enterprise}`（企业名称）、`{tier}`（梯度）",
                 "help_en": "May use `{case_id}`, `{enterprise}`, `{tier}`"},
})
register("render_document", "生成文书", "Render a document", {
    "template": {"type": "str", "required": False, "label": "文书正文", "label_en": "Text",
                 "help": "可用 `{case_id}`（案件编号）、`{enterprise}`（企业名称）、`{tier}`（梯度）；"
                         "未选文书模板时必填",
                 "help_en": "May use `{case_id}`, `{enterprise}`, `{tier}`; needed without a document template"},
    "filename": {"type": "str", "required": False, "label": "文件名", "label_en": "File name",
                 "help": "以 `.docx` 结尾，与文书正文一起用",
                 "help_en": "Ending in `.docx`, with the text"},
    # issue 19: an official document from a template administrators edit (DOCX and PDF, versioned)
    "template_key": {"type": "str", "required": False, "label": "文书模板", "label_en": "Document template",
                     "help": "填 `certification_notice`（认定通知书）；给出时生成 DOCX 和 PDF",
                     "help_en": "`certification_notice` (the certification notice); given, a DOCX and a PDF are made"},
})


def spec() -> dict:
    """Names and parameter types, as plain data for the engine adapter's deploy check."""
    return {name: {p: {"type": i["type"], "required": i["required"]} for p, i in op["params"].items()}
            for name, op in OPERATORS.items()}


def catalogue() -> list[dict]:
    """What the editor's properties panel offers: each operator's titles and parameters with their labels."""
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
