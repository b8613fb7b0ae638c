"""Official documents (issue 19 part 3): generating a list's documents and a case's certification notice, the
downloads, and the administrators' template pages (/admin/document-templates: edit, preview, save as a new
version). JSON under /api/v1. Every rule is in services/documents.py and services/document_templates.py."""
from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.api import body, error, token_required
from app.errors import Invalid, ServiceError
from app.extensions import csrf
from app.services import document_templates, documents
from app.uow import unit_of_work

bp = Blueprint("documents", __name__)
api_bp = Blueprint("documents_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # bearer tokens, never cookies
MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf"}


def register(app) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)


def _me():
    return current_user._get_current_object()


# -- JSON API --------------------------------------------------------------------------------------------------------
@api_bp.errorhandler(ServiceError)
def _api_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


@api_bp.post("/lists/<int:list_id>/documents")
@token_required
def api_generate(list_id):
    data = body()
    with unit_of_work():
        out = documents.generate_for_list(g.api_user, list_id, data.get("kind"), data.get("contact"),
                                          site_url=request.url_root)
    return jsonify(out), 201


@api_bp.get("/lists/<int:list_id>/documents")
@token_required
def api_list_documents(list_id):
    return jsonify([documents.to_json(grp) for grp in documents.of_list(g.api_user, list_id)])


@api_bp.post("/cases/<int:case_id>/documents")
@token_required
def api_generate_case(case_id):
    data = body()
    with unit_of_work():
        out = documents.generate_for_case(g.api_user, case_id, data.get("kind"), data.get("contact"),
                                          site_url=request.url_root)
    return jsonify(out), 201


@api_bp.get("/documents/<int:document_id>")
@token_required
def api_download(document_id):
    doc, path = documents.get_file(g.api_user, document_id)
    return send_file(path, mimetype=MIME[doc.format], as_attachment=True, download_name=doc.filename)


@api_bp.get("/document-templates/<key>")
@token_required
def api_template(key):
    document_templates.require_admin(g.api_user)
    return jsonify([document_templates.to_json(v) for v in document_templates.versions(key)])


@api_bp.post("/document-templates/<key>")
@token_required
def api_save_template(key):
    data = body()
    with unit_of_work():
        row = document_templates.save(g.api_user, key, data.get("body"), data.get("message"))
        out = document_templates.to_json(row)
    return jsonify(out), 201


# -- browser ---------------------------------------------------------------------------------------------------------
@bp.errorhandler(ServiceError)
def _page_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


def _flash_error(exc: ServiceError) -> None:
    from app.i18n import user_message

    flash(user_message(exc, exc.status, _("The document was not generated.")), "error")


@bp.post("/lists/<int:list_id>/documents")
@login_required
def generate(list_id):
    try:
        with unit_of_work():
            out = documents.generate_for_list(_me(), list_id, request.form.get("kind"), request.form.get("contact"),
                                              site_url=request.url_root)
        _flash_generated(out)
    except Invalid as exc:
        _flash_error(exc)
    return redirect(url_for("lists_web.detail", list_id=list_id) + "#documents")


@bp.post("/lists/<int:list_id>/notices")
@login_required
def generate_notices(list_id):
    try:
        with unit_of_work():
            out = documents.generate_notices(_me(), list_id, request.form.get("contact"), site_url=request.url_root)
        flash(_("Generated %(n)s certification notices (DOCX and PDF).", n=len(out)), "info")
    except Invalid as exc:
        _flash_error(exc)
    return redirect(url_for("lists_web.detail", list_id=list_id) + "#documents")


@bp.post("/lists/<int:list_id>/cases/<int:case_id>/documents")
@login_required
def generate_case(list_id, case_id):
    try:
        with unit_of_work():
            out = documents.generate_for_case(_me(), case_id, "certification_notice", request.form.get("contact"),
                                              site_url=request.url_root)
        flash(_("Generated: %(title)s, version %(version)s (DOCX and PDF).",
                title=documents.FILE_TITLES[out["kind"]], version=out["version"]), "info")
    except Invalid as exc:
        _flash_error(exc)
    return redirect(url_for("lists_web.detail", list_id=list_id) + "#documents")


@bp.post("/cases/<int:case_id>/documents")
@login_required
def generate_for_case(case_id):
    """The case page's button: a new version of the case's certification notice (asked first, data-confirm)."""
    try:
        with unit_of_work():
            out = documents.generate_for_case(_me(), case_id, "certification_notice", site_url=request.url_root)
        _flash_generated(out)
    except Invalid as exc:
        _flash_error(exc)
    return redirect(url_for("web.case", case_id=case_id) + "#documents")


def _flash_generated(out: dict) -> None:
    flash(_("Generated: %(title)s, version %(version)s (DOCX and PDF).",
            title=documents.FILE_TITLES[out["kind"]], version=out["version"]), "info")


@bp.app_template_global("case_documents")
def case_documents(case):
    """The documents part of the case page (app/templates/web/case.html includes documents/_case_section.html)."""
    return documents.case_section(_me(), case)


@bp.app_template_global("list_documents")
def list_documents(lst):
    """The documents part of the list page (app/templates/lists/detail.html includes documents/_list_section.html)."""
    return documents.list_section(_me(), lst)


@bp.get("/documents/<int:document_id>/download")
@login_required
def download(document_id):
    doc, path = documents.get_file(_me(), document_id)
    return send_file(path, mimetype=MIME[doc.format], as_attachment=True, download_name=doc.filename)


@bp.get("/admin/document-templates")
@login_required
def templates():
    document_templates.require_admin(_me())
    return render_template("documents/templates.html", items=document_templates.overview())


def _edit_page(key: str, text: str, preview: str | None = None, errors=None, status: int = 200):
    return render_template("documents/edit.html", key=key, title=document_templates.TITLES[key], text=text,
                           preview=preview, errors=errors or {}, versions=document_templates.versions(key),
                           names=documents.TEMPLATE_NAMES), status


@bp.get("/admin/document-templates/<key>")
@login_required
def edit(key):
    document_templates.require_admin(_me())
    version = request.args.get("version", type=int)
    row = document_templates.get_version(key, version) if version else document_templates.latest(key)
    return _edit_page(key, row.body)


@bp.post("/admin/document-templates/<key>")
@login_required
def save(key):
    document_templates.require_admin(_me())
    text = request.form.get("body", "")
    if request.form.get("action") == "preview":
        try:
            return _edit_page(key, text, preview=document_templates.preview(_me(), key, text))
        except Invalid as exc:
            return _edit_page(key, text, errors=exc.errors, status=422)
    try:
        with unit_of_work():
            row = document_templates.save(_me(), key, text, request.form.get("message"))
            flash(_("Saved as version %(version)s; new documents use it.", version=row.version), "info")
    except Invalid as exc:
        return _edit_page(key, text, errors=exc.errors, status=422)
    return redirect(url_for("documents.edit", key=key))
