def register(app):
    from app.blueprints import params  # bounded <int:...> for every blueprint: installed before any route

    params.install(app)
    from app.blueprints import api, audit, auth, dashboard, inbox, web

    app.register_blueprint(auth.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(api.bp)
    audit.register(app)  # the audit pages and the replay/rewind API calls
    inbox.register(app)  # the reviewer's inbox pages and the bulk decision API call
    app.register_blueprint(dashboard.bp)
    from app.blueprints import scheduling  # deadline extensions, reminders, the working-day calendar

    scheduling.register(app)
    from app.blueprints import lists_web  # certified and recommendation lists

    app.register_blueprint(lists_web.bp)
    from app.blueprints import admin  # process versions, the editor, migration of running cases
    admin.register(app)
    from app.blueprints import notices  # public notices and objections in the browser

    app.register_blueprint(notices.bp)
    from app.blueprints import api_people, people  # accounts: the administrator's pages and the API

    app.register_blueprint(people.bp)
    app.register_blueprint(api_people.bp)
    from app.blueprints import enterprises  # enterprises and their import (系统管理)

    enterprises.register(app)
    from app.blueprints import reference  # experts, campaigns and quota inputs (系统管理)

    app.register_blueprint(reference.bp)
    from app.blueprints import reference_api  # the same as JSON under /api/v1

    app.register_blueprint(reference_api.bp)
    from app.blueprints import case_list  # the case list of the roles that oversee many cases (issue 15)

    app.register_blueprint(case_list.bp)
    from app.blueprints import errors  # error pages in the UI language, the login-required message

    errors.register(app)
    from app.blueprints import incidents, notifications  # incidents (admins) and in-app notifications (everyone)

    incidents.register(app)
    notifications.register(app)
    from app.blueprints import handover  # reassignment and corrections (issue 18)

    handover.register(app)
    from app.blueprints import documents  # official documents: generation, downloads, the templates (issue 19)

    documents.register(app)
    from app.blueprints import heatmap  # the process heatmap: its page and API call (issue 19)

    heatmap.register(app)
