"""GET /api/v1/process-models/{key}/heatmap (issue 19): the contract's shape, the scope (403), bad parameters (422
naming each), and the page at /dashboard/heatmap."""
import pytest

from app.services import cases
from app.uow import unit_of_work
from tests.conftest import user
from tests.security.helpers import PASSWORDS, csrf, fresh_client

URL = "/api/v1/process-models/{}/heatmap"
BASIC = "basic_self_assessment"
CELL_KEYS = {"passed", "waiting", "median_s", "p90_s", "late_share"}


def start(username, tier="basic"):
    with unit_of_work():
        return cases.create_case(user(username), tier, 2026).id


def test_contract_shape_and_scope(client, auth_headers):
    start("acme"), start("qingdao-home")
    r = client.get(URL.format(BASIC) + "?campaign=2026", headers=auth_headers("miit-1"))
    assert r.status_code == 200
    body = r.get_json()
    assert set(body["elements"]) >= {"self_assessment", "organizer_review"}
    for cell in body["elements"].values():
        assert set(cell) == CELL_KEYS
        assert isinstance(cell["passed"], int) and isinstance(cell["waiting"], int)
    assert body["elements"]["self_assessment"]["waiting"] == 2
    assert body["campaign"] == 2026
    one = client.get(URL.format(BASIC) + "?campaign=2026&province=370000", headers=auth_headers("miit-1")).get_json()
    assert one["elements"]["self_assessment"]["waiting"] == 1 and one["province"] == "370000"
    # no filter given: a provincial reviewer gets their own province
    own = client.get(URL.format(BASIC), headers=auth_headers("sd-reviewer")).get_json()
    assert own["elements"]["self_assessment"]["waiting"] == 1 and own["province"] == "370000"


@pytest.mark.parametrize("username, query", [
    ("sd-reviewer", "?province=330000"), ("sd-reviewer", "?soe=sinopec"), ("sinopec-reviewer", "?soe=other"),
    ("acme", ""), ("expert-7", ""), ("zj-admin", ""),
])
def test_outside_scope_is_403(client, auth_headers, username, query):
    r = client.get(URL.format(BASIC) + query, headers=auth_headers(username))
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"


def test_anonymous_401_unknown_model_404(client, auth_headers):
    assert client.get(URL.format(BASIC)).status_code == 401
    r = client.get(URL.format("nothing_here"), headers=auth_headers("admin"))
    assert r.status_code == 404


@pytest.mark.parametrize("query, names", [
    ("?campaign=abc", {"campaign"}), ("?campaign=2026.5", {"campaign"}), ("?campaign=1999", {"campaign"}),
    ("?campaign=2030", {"campaign"}),  # a year in range without a campaign
    ("?province=33", {"province"}), ("?province=３３００００", {"province"}),
    ("?since=2026-13-01", {"since"}), ("?until=yesterday", {"until"}),
    ("?since=2026-12-02&until=2026-12-01", {"since"}),
    ("?province=330000&soe=sinopec", {"soe"}), ("?soe=nobody", {"soe"}),
    ("?campaign=x&province=1&since=y", {"campaign", "province", "since"}),
])
def test_bad_parameters_are_422_naming_them(client, auth_headers, query, names):
    r = client.get(URL.format(BASIC) + query, headers=auth_headers("admin"))
    assert r.status_code == 422, r.get_json()
    assert set(r.get_json()["errors"]) == names


def test_openapi_documents_it(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/process-models/{key}/heatmap"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"key", "campaign", "province"}
    assert set(op["responses"]) >= {"200", "403", "422"}


def _login(client, username):

    r = client.post("/login", data={"username": username, "password": PASSWORDS[username],
                                    "csrf_token": csrf(client, "/login")})
    assert r.status_code == 302


def test_page_in_chinese_with_names_and_figures(app):
    client = fresh_client(app)
    start("hz-precision", "excellent")
    _login(client, "miit-1")
    r = client.get("/dashboard/heatmap?tier=excellent&campaign=2026&province=330000")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "流程热力图" in html and "填写卓越级申报书" in html and "浙江省" in html
    assert 'data-element="application" data-waiting="1"' in html
    assert "excellent_national_review.bpmn" in html  # the diagram the viewer loads


def test_page_keeps_bad_input_and_says_what_is_wrong(app):
    client = fresh_client(app)
    _login(client, "miit-1")
    r = client.get("/dashboard/heatmap?tier=excellent&campaign=1999&since=2026-02-30")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'value="2026-02-30"' in html and 'aria-invalid="true"' in html
    assert "请从列表中选择活动年度。" in html and "请按“年-月-日”填写日期" in html


def test_page_refuses_an_enterprise_and_another_province(app):
    client = fresh_client(app)
    _login(client, "acme")
    assert client.get("/dashboard/heatmap").status_code == 403
    client2 = fresh_client(app)
    _login(client2, "sd-reviewer")
    assert client2.get("/dashboard/heatmap?tier=basic&province=330000").status_code == 403
    assert client2.get("/dashboard/heatmap?tier=basic").status_code == 200
    assert client2.get("/dashboard/heatmap/basic_self_assessment.bpmn").status_code == 200


def test_legend_and_durations_read_as_words():
    from app.blueprints.heatmap import _legend, _level, duration

    assert [label for _lv, label in _legend(1, str, True)] == ["无", "1"]
    assert [label for _lv, label in _legend(8, str, True)] == ["无", "1–2", "3–4", "5–6", "7–8"]
    assert [_level(v, 8) for v in (0, 1, 2, 3, 8)] == [0, 1, 1, 2, 4]
    assert [_level(v, 1) for v in (0, 1)] == [0, 4]
    assert duration(None) == "—"
    assert duration(3 * 86400 + 4 * 3600 + 59) == "3天4小时"
    assert duration(2 * 3600 + 5 * 60) == "2小时5分钟"
    assert duration(0) == "0分钟"


@pytest.mark.parametrize("query", ["?since=9999-12-31", "?until=0001-01-01", "?since=0001-01-01&until=9999-12-31",
                                   "?since=9999-12-30&until=9999-12-31", "?since=0001-01-01&until=0001-01-31",
                                   "?since=1899-12-31&until=1900-01-01"])
def test_the_ends_of_the_calendar_are_an_answer_not_an_error(client, auth_headers, query):
    """Dates at the ends of what a date can hold (a month after 9999-12 does not exist) answer 200."""
    for who, extra in (("admin", ""), ("zj-reviewer", ""), ("sinopec-reviewer", "&province=330000")):
        r = client.get(URL.format(BASIC) + query + extra, headers=auth_headers(who))
        assert r.status_code == 200, (query, who, r.get_json())
        assert all(cell["passed"] >= 0 for cell in r.get_json()["elements"].values())
