"""The minimal browser path: my tasks, a task's form, a case page, starting an application."""
from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints import formdata, landing
from app.blueprints.inbox import inbox_context
from app.errors import Invalid, ServiceError
from app.services import (
    attachments,
    audit,
    case_history,
    cases,
    form_rules,
    inbox,
    incidents,
    lineage,
    tasks,
)
from app.uow import unit_of_work

bp = Blueprint("web", __name__)
# eligibility rules with a translated sentence in the catalogs (app/translations/terms.jinja)
RULE_TERMS = ("requires_basic", "requires_advanced", "requires_excellent", "legal_person", "already_holds",
              "one_case_per_campaign", "application_deadline", "no_campaign")


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


@bp.get("/")
@login_required
def home():
    user = current_user._get_current_object()
    landed = landing.page(user, request.args, RULE_TERMS)  # every role but the reviewers has its own landing page
    if landed is not None:
        return landed
    ctx = inbox_context(user, request.args)
    ctx["dashboard"] = user.role in inbox.DASHBOARD_ROLES
    return render_template("web/home.html", **ctx)


@bp.post("/cases")
@login_required
def start_case():
    user = current_user._get_current_object()
    try:
        with unit_of_work():
            case = cases.create_case(user, request.form.get("tier"), request.form.get("campaign"))
            first = cases.open_tasks(case)
            target = url_for("web.task", task_id=first[0].id) if first else url_for("web.case", case_id=case.id)
    except ServiceError as exc:
        for rule in (exc.errors or {}).get("rules", []):
            term = rule["rule"]  # a catalog msgid (terms.jinja), translated at run time
            flash(_(term) if term in RULE_TERMS else rule["message"], "error")
        if not (exc.errors or {}).get("rules"):
            flash(exc.message, "error")
        return redirect(url_for("web.home"))
    return redirect(target)


def _translated(exc: Invalid) -> dict:
    details = getattr(exc, "details", None) or {}
    out = {}
    for field, msg in (exc.errors or {}).items():
        if field in details:
            template, params = details[field]
            out[field] = _(template, **params)
        else:
            out[field] = msg if isinstance(msg, str) else exc.message
    return out or {"data": exc.message}


def _render_task(user, task_id, errors=None, data=None, status=200):
    view = tasks.get_task(user, task_id)
    lang = str(get_locale() or "zh")
    case = view["case"]
    if data is not None:  # a form sent back: what was typed, and the process's read-only values (a panel's result)
        shown = {k: view["data"][k] for k, p in ((view["form"] or {}).get("properties") or {}).items()
                 if p.get("readOnly") and k in view["data"]}
        data = {**data, **shown}
    form_fields = formdata.fields(view["form"] or {}, data if data is not None else view["data"], lang)
    files = attachments.of_case(user, case.id)
    steps = formdata.timeline_items(view["timeline"]["steps"], lang)
    return render_template("web/task.html", task=view["task"], case=case, form=view["form"], fields=form_fields,
                           errors=errors or {}, files=files, may_act=view["may_act"], lang=lang,
                           upload_limits=form_rules.upload_limits(),
                           timeline=view["timeline"], steps=steps,
                           departments=formdata.timeline_items(view["timeline"]["departments"], lang)), status


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id):
    return _render_task(current_user._get_current_object(), task_id)


@bp.post("/tasks/<int:task_id>")
@login_required
def task_action(task_id):
    user = current_user._get_current_object()
    action = request.form.get("action", "submit")
    view = tasks.task_form(user, task_id)  # the form only: the instance is restored by the step (or the re-render)
    data = formdata.parse(view["form"] or {}, request.form)
    if action == "upload":
        return _upload(user, task_id, view, data)
    try:
        with unit_of_work():
            if action == "draft":
                tasks.save_draft(user, task_id, data)
            elif action == "claim":
                tasks.claim(user, task_id)
            elif action == "release":
                tasks.release(user, task_id)
            else:
                done = tasks.complete(user, task_id, data)
    except incidents.Held:  # rolled back; the incident, the draft and the event are recorded (app/uow.py)
        flash(_("This case is held: the system could not carry out this step. An administrator has been informed; "
                "your input is kept as a draft."), "held")
        return redirect(url_for("web.task", task_id=task_id))
    except Invalid as exc:
        return _render_task(user, task_id, errors=_translated(exc), data=data, status=422)
    if action == "draft":
        flash(_("Draft saved."), "info")
        return redirect(url_for("web.task", task_id=task_id))
    if action in ("claim", "release"):
        return redirect(url_for("web.task", task_id=task_id))
    flash(_("Submitted."), "info")
    return redirect(url_for("web.case", case_id=done["case"]["id"]))


def _upload(user, task_id, view, data):
    """Upload from the task form: what was typed is kept as a draft first, and the new file is ticked."""
    with unit_of_work():
        tasks.save_draft(user, task_id, data)
    f = request.files.get("file")
    if f is None or not f.filename:
        flash(_("Choose a file first."), "error")
        return redirect(url_for("web.task", task_id=task_id))
    slots = [k for k, p in ((view["form"] or {}).get("properties") or {}).items()
             if p.get("format") == "attachment" and p.get("type") == "array"]
    try:
        with unit_of_work():
            att = attachments.upload(user, view["case"].id, f.filename, f.stream)
            if len(slots) == 1:
                tasks.save_draft(user, task_id, dict(data, **{slots[0]: [*data.get(slots[0], []), att.id]}))
    except ServiceError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
        return redirect(url_for("web.task", task_id=task_id))
    flash(_("Uploaded %(name)s (SHA-256 %(sha)s).", name=att.filename, sha=att.sha256), "info")
    return redirect(url_for("web.task", task_id=task_id))


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id):
    user = current_user._get_current_object()
    lang = str(get_locale() or "zh")
    page = case_history.case_page(user, case_id, lang)
    steps = formdata.timeline_items(page["timeline"]["steps"], lang)
    return render_template("web/case.html", case=page["case"], info=page["info"], history=page["history"],
                           actors=page["actors"], anonymous=page["anonymous"], files=page["files"],
                           evidence=page["evidence"], titles=page["titles"],
                           timeline=page["timeline"], steps=steps,
                           departments=formdata.timeline_items(page["timeline"]["departments"], lang), **page["where"])


@bp.get("/cases/<int:case_id>/diagram.bpmn")
@login_required
def case_diagram(case_id):
    """The BPMN XML of the case's process version, for the viewer on the case page (within the case's scope)."""
    c = cases.get_case(current_user._get_current_object(), case_id)
    return Response(audit.diagram_xml(c.process_version_id), mimetype="application/xml")


@bp.get("/enterprises/<int:enterprise_id>")
@login_required
def enterprise(enterprise_id):
    view = lineage.lineage(current_user._get_current_object(), enterprise_id)
    return render_template("web/enterprise.html", view=view, rule_terms=RULE_TERMS)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id):
    att, path = attachments.get(current_user._get_current_object(), attachment_id)
    return send_file(path, mimetype=att.content_type, as_attachment=True, download_name=att.filename)
