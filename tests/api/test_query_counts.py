"""No N+1 on the pages people use most: the statements a page runs do not grow with what it lists."""
import io

from sqlalchemy import event

from app.extensions import db
from tests.security.helpers import browser_login, fresh_client


def statements(fn) -> int:
    seen = []

    def count(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        resp = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert resp.status_code == 200, resp.status_code
    return len(seen)


def upload(client, h, cid, n):
    for i in range(n):
        r = client.post(f"/api/v1/cases/{cid}/attachments", headers=h,
                        data={"file": (io.BytesIO(b"%PDF-1.4 " + bytes(str(i), "ascii")), f"f{i}.pdf")})
        assert r.status_code == 201


def test_case_page_and_events_do_not_grow_with_history(app, client, auth_headers):
    ent = auth_headers("acme")
    cid = client.post("/api/v1/cases", json={"tier": "basic", "campaign": 2026}, headers=ent).get_json()["id"]
    web = fresh_client(app)
    browser_login(web, "acme")
    upload(client, ent, cid, 2)
    small_page = statements(lambda: web.get(f"/cases/{cid}"))
    small_api = statements(lambda: client.get(f"/api/v1/cases/{cid}/events", headers=ent))
    upload(client, ent, cid, 20)  # 20 more events and 20 more files
    assert statements(lambda: web.get(f"/cases/{cid}")) == small_page
    assert statements(lambda: client.get(f"/api/v1/cases/{cid}/events", headers=ent)) == small_api
