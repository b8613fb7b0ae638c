def register(app):
    from app.blueprints import api, audit, auth, web

    app.register_blueprint(auth.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(api.bp)
    audit.register(app)  # the audit pages and the replay/rewind API calls
