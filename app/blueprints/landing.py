"""The landing page of each role at `/` (issue 15, defect 10): administrators a system overview, auditors the audit
search, national reviewers their queue beside the national figures, experts their assigned reviews, enterprises their
applications and the next step of each. Reviewers keep their inbox (`web.home` renders it when `page` answers None).
"""
from flask import render_template
from flask_babel import get_locale

from app.services import campaigns, inbox, landing, lineage


def page(user, args, rule_terms=()):
    """The response of the user's landing page, or None for the reviewers' inbox. `rule_terms`: the eligibility
    rules with a translated sentence (web.RULE_TERMS)."""
    kind = landing.kind(user)
    lang = str(get_locale() or "zh")
    if kind == "audit":  # the audit search itself, at `/`
        from app.blueprints import audit

        return audit.search()
    if kind == "people":  # a provincial administrator's accounts
        from app.blueprints import people

        return people.index()
    if kind == "admin":
        return render_template("landing/admin.html", view=landing.admin_view(user), lang=lang)
    if kind == "expert":
        return render_template("landing/expert.html", view=landing.expert_view(user), lang=lang)
    if kind == "enterprise":
        ent_id = user.enterprise_id
        return render_template(
            "landing/enterprise.html", cases=landing.enterprise_view(user), campaigns=campaigns.newest_first(),
            enterprise=lineage.get_enterprise(user, ent_id) if ent_id else None,
            lineage=lineage.lineage(user, ent_id) if ent_id else None, rule_terms=rule_terms, lang=lang)
    if kind == "national":
        from app.blueprints.inbox import inbox_context

        return render_template("landing/national.html", figures=inbox.dashboard(user),
                               **inbox_context(user, args))
    return None
