"""Issue 16.7 (the panel's consolidated result; the lead overrides it only with a recorded reason, shown to the next
decision-maker), 16.9 (the maturity report for the claimed level and the basic requirements on every application)
and 16.10 (the XPCC recommends lighthouse only when the campaign says so), at the service level on the demo world."""
import pytest
from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.models import Campaign, Region
from app.services import quotas, tasks
from tests.api.test_advanced import complete, my_task, status
from tests.api.test_excellent import application, drawn_expert, panel_review, start, to_expert_panel, username
from tests.conftest import user


def to_expert_lead(client, auth_headers, scores):
    """An excellent case of hz-precision whose three experts have scored: (case id, lead username, lead task)."""
    miit = auth_headers("miit-1")
    cid = to_expert_panel(client, auth_headers)
    panel_review(client, auth_headers, miit, cid, "expert_review", scores=scores)
    lead = username(drawn_expert(client, miit, cid, "expert_review")["expert"])
    return cid, lead, my_task(client, auth_headers(lead), cid, "expert_review")


def test_the_lead_cannot_silently_override_a_rejecting_panel(client, auth_headers):
    cid, lead, task = to_expert_lead(client, auth_headers, scores=(10, 10, 10))  # three experts reject
    view = tasks.get_task(user(lead), task["id"])
    assert view["data"]["panel_result"] == "reject" and view["data"]["panel_mean"] == 10  # the lead sees it
    with pytest.raises(Invalid) as exc:
        tasks.complete(user(lead), task["id"], {"decision": "approve", "review_comment": "同意"})
    assert set(exc.value.errors) == {"override_reason"}
    db.session.rollback()
    assert status(client, auth_headers("miit-1"), cid) == "expert_review"  # nothing moved
    # a posted "panel result" is not believed: the process's own is what counts
    with pytest.raises(Invalid):
        tasks.complete(user(lead), task["id"], {"decision": "approve", "review_comment": "同意",
                                                "panel_result": "approve"})
    db.session.rollback()


def test_an_override_with_a_reason_is_recorded_and_shown_to_the_next_decision_maker(client, auth_headers):
    cid, lead, task = to_expert_lead(client, auth_headers, scores=(10, 10, 10))
    reason = "三位专家对AI应用场景理解有误，经复核申报材料，达到卓越级要求。"
    h = auth_headers(lead)
    complete(client, h, task["id"], {"decision": "approve", "review_comment": "同意", "override_reason": reason})
    miit = auth_headers("miit-1")
    assert status(client, miit, cid) == "onsite_verification"
    events = client.get(f"/api/v1/cases/{cid}/events", headers=miit).get_json()["events"]
    done = [e for e in events if e["element"] == "expert_review" and e["action"] == "task.completed"][-1]
    assert done["data"]["panel_result"] == "reject" and done["data"]["override_reason"] == reason
    assert done["data"]["expert_review_overridden"] is True
    # the next decision-maker (an on-site expert) sees the panel's result and the reason in the case data it reads
    nxt = username(drawn_expert(client, miit, cid, "onsite_verification_1")["expert"])
    view = tasks.get_task(user(nxt), my_task(client, auth_headers(nxt), cid, "onsite_verification_1")["id"])
    (lead_step,) = [s for s in view["timeline"]["steps"] if s["element"] == "expert_review"]
    assert lead_step["data"]["panel_result"] == "reject" and lead_step["data"]["override_reason"] == reason
    assert lead_step["data"]["expert_review_overridden"] is True


def test_agreeing_with_the_panel_needs_no_reason(client, auth_headers):
    cid, lead, task = to_expert_lead(client, auth_headers, scores=(85, 88, 90))
    complete(client, auth_headers(lead), task["id"], {"decision": "approve", "review_comment": "同意"})
    assert status(client, auth_headers("miit-1"), cid) == "onsite_verification"


def test_the_campaign_thresholds_decide_the_panel_result(client, auth_headers):
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    camp.panel_min_mean = 95  # a strict campaign: 85, 88, 90 is not enough
    db.session.commit()
    cid, lead, task = to_expert_lead(client, auth_headers, scores=(85, 88, 90))
    assert tasks.get_task(user(lead), task["id"])["data"]["panel_result"] == "reject"


def test_an_application_without_the_maturity_report_for_the_claimed_level_is_refused(client, auth_headers):
    ent = auth_headers("hz-precision")
    cid = start(client, ent)
    form = application(client, ent, cid)
    t = my_task(client, ent, cid)["id"]
    missing = {k: v for k, v in form.items() if k not in ("maturity_report", "no_bad_record")}
    bad = complete(client, ent, t, missing, status=422)
    assert {"maturity_report", "no_bad_record"} <= set(bad["errors"])
    bad = complete(client, ent, t, dict(form, maturity_report_level=4), status=422)  # a report for another level
    assert set(bad["errors"]) == {"maturity_report_level"}
    bad = complete(client, ent, t, dict(form, no_bad_record=False), status=422)
    assert set(bad["errors"]) == {"no_bad_record"}
    complete(client, ent, t, form)


@pytest.mark.parametrize("name", ["advanced_application", "excellent_application", "lighthouse_application"])
def test_every_tier_asks_the_basic_requirements_and_the_maturity_report(name):
    import json
    from pathlib import Path

    form = json.loads((Path(__file__).resolve().parents[2] / "bpmn" / "forms" / f"{name}.json").read_text())
    basic = json.loads((Path(__file__).resolve().parents[2] / "bpmn" / "forms" / "basic_self_assessment.json")
                       .read_text())
    requirements = ["above_scale", "sound_operations", "no_bad_record", "secure_controllable", "organisation_talent"]
    assert set(requirements + ["maturity_report", "maturity_report_level"]) <= set(form["required"])
    for r in requirements:
        assert form["properties"][r] == basic["properties"][r]
    assert form["properties"]["maturity_report"]["format"] == "attachment"


def test_the_xpcc_does_not_recommend_lighthouse_unless_the_campaign_says_so():
    xpcc = db.session.get(Region, "660000")
    xpcc.excellent_2024, xpcc.excellent_2024_source = 25, "测试数据"
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    db.session.flush()
    with pytest.raises(Invalid) as exc:
        quotas.quota_for("lighthouse", "province:660000", camp)
    assert "provinces only" in exc.value.message
    assert quotas.quota_for("excellent", "province:660000", camp)[0] == 5  # its excellent quota is unchanged
    assert quotas.quota_for("lighthouse", "province:370000", camp)[0] == 3  # provinces recommend as before
    camp.xpcc_recommends_lighthouse = True
    db.session.flush()
    assert quotas.quota_for("lighthouse", "province:660000", camp)[0] == 3
    db.session.rollback()


def test_the_campaign_page_sets_the_panel_rules_and_the_xpcc_flag(app):
    from tests.security.helpers import browser_login, csrf, fresh_client

    client = fresh_client(app)
    assert browser_login(client, "admin").status_code == 302
    html = client.get("/reference/campaigns/2026").get_data(as_text=True)
    assert "平均分门槛" in html and 'name="panel_min_mean"' in html and 'value="60"' in html
    assert "兵团可推荐领航级" in html
    token = csrf(client, "/reference/campaigns/2026")
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    d = {t: camp.deadline_for(t) for t in ("excellent", "lighthouse")}
    form = {"csrf_token": token, "name": camp.name, "notice_excellent": "7", "notice_lighthouse": "7",
            "notice_advanced_working_days": "5", "branch_industries": ["petrochemicals", "non_ferrous_metals"],
            **{f"{t}_{k}": getattr(d[t], k).isoformat() for t in d for k in ("application_deadline",
                                                                            "recommendation_deadline")},
            "panel_min_mean": "150", "panel_min_approval_pct": "67"}
    r = client.post("/reference/campaigns/2026", data=form)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "请填写0至100之间的数" in page and 'value="150"' in page  # what was typed stays, the error in Chinese
    db.session.expire_all()
    assert db.session.scalar(select(Campaign).where(Campaign.year == 2026)).panel_min_mean == 60
    r = client.post("/reference/campaigns/2026", data=dict(form, panel_min_mean="70",
                                                           xpcc_recommends_lighthouse="on"))
    assert r.status_code == 302
    db.session.expire_all()
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    assert (camp.panel_min_mean, camp.panel_min_approval_pct, camp.xpcc_recommends_lighthouse) == (70, 67, True)
