"""Lists in the browser: a certifier publishes its certified list; a recommender ranks and submits its list."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.blueprints.params import parse_int
from app.errors import ServiceError
from app.services import campaigns, lists
from app.uow import unit_of_work

bp = Blueprint("lists_web", __name__, url_prefix="/lists")
KINDS = {"certified": ("advanced",), "recommendation": ("excellent", "lighthouse")}


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return render_template("web/error.html", error=exc), exc.status


def _campaign_year() -> int:
    years = campaigns.years()
    year = parse_int(request.values.get("campaign"), 1)
    return year if year is not None else (years[0] if years else 0)


@bp.get("/")
@login_required
def index():
    user = current_user._get_current_object()
    kind = request.args.get("kind", "certified" if user.role == "soe_reviewer" else "recommendation")
    if kind not in KINDS:
        kind = "recommendation"
    tier = request.args.get("tier", KINDS[kind][0])
    if tier not in KINDS[kind]:
        tier = KINDS[kind][0]
    view = None
    if user.role in lists.CERTIFIERS and (kind == "certified" or user.role in lists.RECOMMENDERS.get(tier, ())):
        view = lists.candidates(user, kind, tier, _campaign_year())
    published = lists.visible_lists(user) if user.role in ("national_reviewer", "admin", "auditor",
                                                            "sasac_reviewer", *lists.CERTIFIERS) else []
    typed = {}
    if view and kind == "recommendation":  # the list as it stands: its ranks, and the cases left off it
        typed = {c.id: ("yes", str(view["ranks"][c.id])) if c.id in view["ranks"] else
                 ("no", "") if c.id in view["not_recommended"] else ("", "") for c in view["cases"]}
    return render_template("lists/index.html", view=view, kind=kind, tier=tier, kinds=KINDS, published=published,
                           typed=typed, errors={}, scope_names=_scope_names(published))


def _scope_names(published) -> dict:
    from app.services import exports

    return exports.recommender_names(lst.scope for lst in published)


@bp.app_template_filter("recommender_name")
def _recommender_name(scope: str) -> str:
    """province:330000 → 浙江省; soe:sinopec → the group's name (never the raw scope on a page)."""
    from app.services import exports

    return exports.recommender_name(scope)


def _choices(form, waiting: list) -> tuple[dict, dict, list[int], list[int]]:
    """The page's choices: ({case id: (choice, rank text)}, {case id: error}, recommended in rank order, not
    recommended). Every waiting case needs a choice; a recommended one a whole-number rank, each rank once."""
    typed, errors, ranked, left = {}, {}, [], []
    for c in waiting:
        choice, rank = form.get(f"choice_{c.id}", ""), form.get(f"rank_{c.id}", "").strip()
        typed[c.id] = (choice, rank)
        name = c.enterprise.name
        if choice == "no":
            left.append(c.id)
        elif choice != "yes":
            errors[c.id] = _("%(name)s: choose 'recommend' with a rank or 'do not recommend'.", name=name)
        elif parse_int(rank, 1) is None:
            errors[c.id] = _("%(name)s: the rank is a whole number from 1.", name=name)
        else:
            ranked.append((parse_int(rank, 1), c.id))
    seen: dict[int, int] = {}
    for rank, cid in ranked:
        if rank in seen:
            errors[cid] = _("Rank %(rank)s is given twice.", rank=rank)
        seen.setdefault(rank, cid)
    return typed, errors, [cid for _r, cid in sorted(ranked)], left


def _service_message(exc: ServiceError) -> str:
    """The service's refusal in the page's language, where we know its kind; else its own words."""
    errs = getattr(exc, "errors", None) or {}
    if "campaign" in errs:
        return _("The recommendation deadline has passed: the list is frozen.")
    if isinstance(errs.get("case_ids"), dict):
        quota = errs["case_ids"].get("quota")
        if quota is not None:
            return _("The list exceeds the quota of %(n)s.", n=quota)
        return _("The quota cannot be computed yet and the list is longer than fits every value (at most %(n)s).",
                 n=errs["case_ids"].get("quota_floor") or 0)
    if errs.get("case_ids") == "frozen":
        return _("This list is frozen: its cases have learned their outcome.")
    return exc.message


@bp.post("/")
@login_required
def submit():
    user = current_user._get_current_object()
    kind, tier = request.form.get("kind"), request.form.get("tier")
    if kind != "certified":
        return _recommendation(user, tier)
    ids = [n for n in (parse_int(v, 1) for v in request.form.getlist("case")) if n is not None]
    try:
        with unit_of_work():
            lst = lists.publish_certified(user, tier, _campaign_year(), ids)
            flash(_("The list was recorded with %(n)s case(s).", n=len(lst.entries)), "info")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("lists_web.index", kind=kind, tier=tier))


def _recommendation(user, tier):
    """Choices → a confirmation page showing who will be recommended and who not → the list recorded. A blank or a
    bad rank gives the form again with what was typed and the case named; the service refuses an undecided case
    as well (`not_recommended`)."""
    kind = "recommendation"
    if tier not in KINDS[kind]:
        tier = KINDS[kind][0]
    view = lists.candidates(user, kind, tier, _campaign_year())
    typed, errors, ranked, left = _choices(request.form, view["cases"])
    if request.form.get("edit") == "1":  # back from the confirmation: the form with the choices as they were
        return render_template("lists/index.html", view=view, kind=kind, tier=tier, kinds=KINDS,
                               published=(pub := lists.visible_lists(user)), typed=typed, errors={},
                               scope_names=_scope_names(pub))
    if errors:
        return render_template("lists/index.html", view=view, kind=kind, tier=tier, kinds=KINDS,
                               published=(pub := lists.visible_lists(user)), typed=typed, errors=errors,
                               scope_names=_scope_names(pub)), 422
    by_id = {c.id: c for c in view["cases"]}
    if request.form.get("confirm") != "1" and request.form.get("final") != "1":
        return render_template("lists/confirm.html", view=view, tier=tier, recommended=[by_id[c] for c in ranked],
                               not_recommended=[by_id[c] for c in left], typed=typed)
    try:
        with unit_of_work():
            lst = lists.recommend(user, tier, view["campaign"], ranked, not_recommended=left,
                                  final=request.form.get("final") == "1")
            flash(_("The list was recorded: %(yes)s recommended, %(no)s not recommended.", yes=len(ranked),
                    no=len(left)) + " " + (_("It is final: the cases have learned their outcome.")
                                           if lst.frozen_at else
                                           _("You may change it until the recommendation deadline.")), "info")
    except ServiceError as exc:
        flash(_service_message(exc), "error")
    return redirect(url_for("lists_web.index", kind=kind, tier=tier))


@bp.get("/<int:list_id>")
@login_required
def detail(list_id):
    """One list as it stands: each entry's current status, and the date and reason of any revocation."""
    lst = lists.get_list(current_user._get_current_object(), list_id)
    return render_template("lists/detail.html", lst=lst, states=lists.entry_states(lst), verified=lists.verify(lst),
                           rows={r["case_id"]: r for r in _export_rows(lst)})


def _export_rows(lst):
    from app.services import exports

    return exports.rows(lst)


@bp.get("/<int:list_id>/export")
@login_required
def export(list_id):
    import io

    from flask import send_file

    from app.services import exports

    lst = lists.get_list(current_user._get_current_object(), list_id)
    data, mime, name = exports.render(lst, request.args.get("format", "xlsx"))
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name)
