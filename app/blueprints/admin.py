"""Process administration: the versions API (`api_bp`, under /api/v1, bearer tokens, the API's error shape) and the
administrator's pages (`bp`, /admin: process list, version page with diagram and diff, the diagram editor, the
migration of running cases). Reads are for administrators, auditors and national reviewers; writes are the
administrator's (checked in the services)."""
import re

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.api import body, error, token_required
from app.blueprints.params import parse_int
from app.errors import Invalid, ServiceError
from app.extensions import csrf
from app.services import case_migrations, clock, drafts, versions
from app.uow import unit_of_work

bp = Blueprint("admin", __name__, url_prefix="/admin")
api_bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # bearer tokens, never cookies


def register(app) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)


def _int(value, name: str) -> int:
    number = parse_int(value) if not isinstance(value, bool) else None
    if number is None:
        raise Invalid(f"{name} must be a version number", errors={name: "integer"})
    return number


def _diagram_input() -> tuple[bytes, dict | None, str | None]:
    """XML as the body, or JSON {"bpmn": "<xml>", "forms": {name: schema}, "message"}."""
    if request.is_json:
        data = body()
        xml = data.get("bpmn")
        forms = data.get("forms")
        if not isinstance(xml, str) or (forms is not None and not isinstance(forms, dict)):
            raise Invalid("send {\"bpmn\": \"<xml>\", \"forms\": {...}}", errors={"bpmn": "a string is required"})
        return xml.encode("utf-8"), forms, data.get("message")
    return request.get_data(), None, request.args.get("message")


# -- JSON API --------------------------------------------------------------------------------------------------------
@api_bp.errorhandler(ServiceError)
def _api_error(exc: ServiceError):
    return error(exc.status, exc.code, exc.message, exc.errors)


@api_bp.get("/process-models")
@token_required
def api_models():
    return jsonify({"items": versions.list_models(g.api_user)})


@api_bp.get("/process-models/<key>/versions")
@token_required
def api_versions(key):
    return jsonify(versions.list_versions(g.api_user, key))


@api_bp.get("/process-models/<key>/versions/<int:version>")
@token_required
def api_version(key, version):
    return jsonify(versions.get_version(g.api_user, key, version))


@api_bp.get("/process-models/<key>/diff")
@token_required
def api_diff(key):
    """?from=A&to=B; `to` defaults to the newest version, `from` to the one before it."""
    versions.require_reader(g.api_user)
    to = _int(request.args.get("to"), "to") if request.args.get("to") else versions.latest_number(key) or 1
    since = _int(request.args.get("from"), "from") if request.args.get("from") else max(to - 1, 1)
    return jsonify(versions.diff(g.api_user, key, since, to))


@api_bp.post("/process-models/<key>/validate")
@token_required
def api_validate(key):
    versions.require_admin(g.api_user)
    xml, forms, _message = _diagram_input()
    problems = versions.validate(g.api_user, key, xml, forms)
    return jsonify({"ok": not problems, "errors": problems})


@api_bp.post("/decision-tables/<key>/validate")
@token_required
def api_validate_decision_table(key):
    """A DMN decision table (the body) checked: well-formed, complete, a supported hit policy, sandboxed cells."""
    versions.require_admin(g.api_user)
    problems = versions.validate_decision_table(g.api_user, request.get_data())
    return jsonify({"ok": not problems, "errors": problems})


@api_bp.post("/process-models/<key>/rollback")
@token_required
def api_rollback(key):
    versions.require_admin(g.api_user)
    data = body()
    with unit_of_work():
        latest = versions.latest_number(key)
        v = versions.rollback(g.api_user, key, _int(data.get("version"), "version"), data.get("message"))
        out = versions.version_json(v)
    return jsonify(out), (201 if out["version"] != latest else 200)


@api_bp.get("/process-models/<key>/migration")
@token_required
def api_migration_plan(key):
    """The dry run: every running case and whether it can move to version ?to= (default: the newest)."""
    versions.require_admin(g.api_user)
    to = _int(request.args.get("to"), "to") if request.args.get("to") else versions.latest_number(key) or 1
    with unit_of_work():  # reads only: this ends the read transaction
        plan = case_migrations.dry_run(g.api_user, key, to)
    return jsonify(plan)


@api_bp.post("/process-models/<key>/migration")
@token_required
def api_migrate(key):
    versions.require_admin(g.api_user)
    data = body()
    to = _int(data.get("to"), "to")
    ids = data.get("case_ids")
    if ids == "all" or ids is None:
        with unit_of_work():
            ids = [i["case_id"] for i in case_migrations.dry_run(g.api_user, key, to)["items"]]
    if not isinstance(ids, list):
        raise Invalid("case_ids must be a list of case ids or \"all\"", errors={"case_ids": "list"})
    return jsonify(case_migrations.migrate_bulk(g.api_user, key, to, ids, clock.now(), unit_of_work))


# -- pages -----------------------------------------------------------------------------------------------------------
@bp.errorhandler(ServiceError)
def _page_error(exc: ServiceError):
    if request.is_json or request.path.endswith((".json", ".dmn", "/validate", "/deploy", "/draft")):
        return error(exc.status, exc.code, exc.message, exc.errors)
    return render_template("web/error.html", error=exc), exc.status


def _user():
    return current_user._get_current_object()


@bp.get("/processes")
@login_required
def processes_page():
    return render_template("admin/processes.html", models=versions.list_models(_user()))


@bp.get("/processes/<key>")
@login_required
def model_page(key):
    return render_template("admin/model.html", model=versions.list_versions(_user(), key))


@bp.get("/processes/<key>/versions/<int:version>")
@login_required
def version_page(key, version):
    user = _user()
    v = versions.get_version(user, key, version)
    other = request.args.get("diff")
    diff = versions.diff(user, key, _int(other, "diff"), version) if other else None
    all_versions = versions.list_versions(user, key)["items"]
    return render_template("admin/version.html", v=v, diff=diff, versions=all_versions)


@bp.get("/processes/<key>/versions/<int:version>/diagram.bpmn")
@login_required
def version_xml(key, version):
    v = versions.get_version(_user(), key, version)
    return v["bpmn_xml"], 200, {"Content-Type": "application/xml; charset=utf-8"}


@bp.get("/processes/new")
@login_required
def new_diagram():
    versions.require_admin(_user())
    key = (request.args.get("key") or "").strip()
    if not key or not re.fullmatch(r"[a-z][a-z0-9_]{1,63}", key):
        if key:
            flash(_("A key is 2 to 64 lower-case letters, digits or underscores."), "error")
        return redirect(url_for("admin.processes_page"))
    return redirect(url_for("admin.editor", key=key))


@bp.get("/processes/<key>/edit")
@login_required
def editor(key):
    user = _user()
    versions.require_admin(user)
    return render_template("admin/editor.html", key=key, roles=sorted(versions.known_roles()),
                           form_names=versions.form_names())


@bp.get("/processes/<key>/source.json")
@login_required
def editor_source(key):
    """What the editor opens: the draft if there is one, else the latest version, else a new executable diagram."""
    return jsonify(drafts.source(_user(), key))


@bp.post("/processes/<key>/draft")
@login_required
def save_draft(key):
    versions.require_admin(_user())
    xml, forms, _message = _diagram_input()
    with unit_of_work():
        out = drafts.save(_user(), key, xml, forms or {}, clock.now())
    return jsonify(out)


@bp.post("/processes/<key>/validate")
@login_required
def validate(key):
    versions.require_admin(_user())
    xml, forms, _message = _diagram_input()
    problems = versions.validate(_user(), key, xml, forms)
    return jsonify({"ok": not problems, "errors": problems,
                    "warnings": versions.warnings(_user(), key, xml, forms) if not problems else []})


@bp.post("/processes/<key>/deploy")
@login_required
def deploy(key):
    versions.require_admin(_user())  # before reading the body: a non-administrator learns nothing of its checks
    xml, forms, message = _diagram_input()
    with unit_of_work():
        out = versions.version_json(versions.deploy(_user(), key, xml, message, forms))
    return jsonify(out), 201


@bp.post("/processes/<key>/rollback")
@login_required
def rollback(key):
    versions.require_admin(_user())
    with unit_of_work():
        v = versions.rollback(_user(), key, _int(request.form.get("version"), "version"))
        number = v.version
    flash(_("Version %(n)s is now the newest version.", n=number), "success")
    return redirect(url_for("admin.model_page", key=key))


@bp.get("/processes/<key>/migration")
@login_required
def migration_page(key):
    user = _user()
    versions.require_admin(user)
    to = request.args.get("to")
    model = versions.list_versions(user, key)
    with unit_of_work():
        plan = case_migrations.dry_run(user, key, _int(to, "to")) if to else None
    return render_template("admin/migration.html", model=model, plan=plan)


@bp.post("/processes/<key>/migration")
@login_required
def migrate(key):
    user = _user()
    versions.require_admin(user)
    to = _int(request.form.get("to"), "to")
    ids = [int(i) for i in request.form.getlist("case_id") if str(i).isdigit()]
    out = case_migrations.migrate_bulk(user, key, to, ids, clock.now(), unit_of_work)
    flash(_("%(n)s cases moved to version %(v)s; %(f)s could not move.", n=len(out["migrated"]), v=to,
            f=len(out["failed"])), "success" if not out["failed"] else "error")
    for f in out["failed"]:
        flash(f"#{f['case_id']}: {f['message']}", "error")
    return redirect(url_for("admin.migration_page", key=key, to=to))


# -- DMN decision tables (quotas) --------------------------------------------------------------------------------------
@bp.get("/decision-tables")
@login_required
def tables_page():
    return render_template("admin/tables.html", tables=versions.decision_tables(_user()))


@bp.get("/decision-tables/<table>/edit")
@login_required
def table_editor(table):
    user = _user()
    versions.require_admin(user)
    versions.decision_table_xml(user, table)  # 404 for an unknown table
    return render_template("admin/table_editor.html", table=table)


@bp.get("/decision-tables/<table>/source.dmn")
@login_required
def table_source(table):
    return versions.decision_table_xml(_user(), table), 200, {"Content-Type": "application/xml; charset=utf-8"}


def _dmn_input() -> tuple[bytes, str | None]:
    if request.is_json:
        data = body()
        if not isinstance(data.get("dmn"), str):
            raise Invalid("send {\"dmn\": \"<xml>\"}", errors={"dmn": "a string is required"})
        return data["dmn"].encode("utf-8"), data.get("message")
    return request.get_data(), None


@bp.post("/decision-tables/<table>/validate")
@login_required
def table_validate(table):
    user = _user()
    versions.require_admin(user)
    xml, _message = _dmn_input()
    problems = versions.validate_decision_table(user, xml)
    return jsonify({"ok": not problems, "errors": problems})


@bp.post("/decision-tables/<table>/deploy")
@login_required
def table_deploy(table):
    user = _user()
    versions.require_admin(user)
    xml, message = _dmn_input()
    with unit_of_work():
        out = versions.deploy_decision_table(user, table, xml, message)
    return jsonify(out), 201 if out["new"] else 200
