"""The start of every benchmark database: empty (a PostgreSQL schema is dropped and made again), migrated to the
heads, the demo world loaded. Call inside the benchmark app's context."""


def fresh_database(url: str) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db
    from app.services import demo
    from app.uow import unit_of_work

    if url.startswith("postgresql"):
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(revision="heads")
    with unit_of_work():
        demo.load_demo()
