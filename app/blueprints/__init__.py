def register(app):
    from app.blueprints import api, auth, web

    app.register_blueprint(auth.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(api.bp)
