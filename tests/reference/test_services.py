"""Reference data managed by administrators: campaigns (deadlines, notice periods, branch industries), the expert
pool (conflicts, the active flag, home regions) and the quota inputs with their sources. Service level, on the real
database; everything is flushed, never committed, and rolled back after each test."""
from datetime import date

import pytest
from sqlalchemy import select

from app.errors import Forbidden, Invalid
from app.extensions import db
from app.models import Campaign, ExpertConflict, Region, SystemEvent
from app.models.scheduling import DeadlineExtension
from app.services import campaign_admin, cases, eligibility, expert_pool, experts, quota_inputs, quotas
from tests.conftest import user


def _events(action):
    return list(db.session.scalars(select(SystemEvent).where(SystemEvent.action == action)
                                   .order_by(SystemEvent.seq)))


def _settings(**over):
    data = {"name": "2027年度智能工厂梯度培育", "branch_industries": ["petrochemicals"],
            "notice_periods": {"excellent": "7", "lighthouse": "10", "advanced_working_days": "5"},
            "deadlines": {"excellent": {"application_deadline": "2028-07-14", "recommendation_deadline": "2028-07-28"},
                          "lighthouse": {"application_deadline": "2028-07-14",
                                         "recommendation_deadline": "2028-07-28"}}}
    data.update(over)
    return data


def _form(campaign: Campaign, **over):
    d = campaign_admin.describe(campaign)
    data = {"name": d["name"], "branch_industries": d["branch_industries"], "notice_periods": d["notice_periods"],
            "deadlines": d["deadlines"]}
    data["deadlines"] = dict(data["deadlines"], **over.pop("deadlines", {}))  # the other tiers' dates kept
    data.update(over)
    return data


# -- campaigns ---------------------------------------------------------------------------------------------------
def test_an_administrator_creates_a_campaign_as_an_event():
    camp = campaign_admin.create_campaign(user("admin"), dict(_settings(), year="2027"))
    assert camp.deadline_for("excellent").application_deadline == date(2028, 7, 14)
    assert camp.notice_periods == {"excellent": "P7D", "lighthouse": "P10D", "advanced_working_days": 5}
    assert camp.branch_industries == ["petrochemicals"]
    ev = _events("campaign.created")[-1]
    assert ev.actor_id == user("admin").id and ev.subject == "2027" and ev.data["before"] is None
    assert ev.data["after"]["deadlines"]["lighthouse"]["recommendation_deadline"] == "2028-07-28"


def test_bad_campaign_input_names_each_field_and_writes_nothing():
    before = db.session.scalar(select(SystemEvent.seq).order_by(SystemEvent.seq.desc()).limit(1))
    with pytest.raises(Invalid) as exc:
        campaign_admin.create_campaign(user("admin"), dict(_settings(
            name=" ", branch_industries=["petrochemicals", "shipbuilding"],
            notice_periods={"excellent": "0", "lighthouse": "P7D", "advanced_working_days": "x"},
            deadlines={"excellent": {"application_deadline": "2028-07-30", "recommendation_deadline": "2028-07-01"},
                       "lighthouse": {"application_deadline": "14/07/2028"}}), year="2026"))
    errors = exc.value.errors
    assert errors["year"] == "this campaign year exists already"
    assert errors["name"] == "required"
    assert errors["branch_industries"] == "unknown industry: shipbuilding"
    assert "notice_periods.excellent" in errors and "notice_periods.advanced_working_days" in errors
    assert errors["deadlines.excellent.recommendation_deadline"] == "on or after the application deadline"
    assert errors["deadlines.lighthouse.application_deadline"] == "a date (YYYY-MM-DD)"
    assert db.session.scalar(select(SystemEvent.seq).order_by(SystemEvent.seq.desc()).limit(1)) == before


def test_only_an_administrator_manages_campaigns():
    for name in ("zj-reviewer", "miit-1", "auditor", "acme"):
        with pytest.raises(Forbidden):
            campaign_admin.create_campaign(user(name), dict(_settings(), year=2027))
        with pytest.raises(Forbidden):
            campaign_admin.update_campaign(user(name), 2026, _settings())


def test_industry_key_accepts_a_key_or_its_chinese_name_only():
    assert campaign_admin._industry_key("petrochemicals") == "petrochemicals"
    assert campaign_admin._industry_key("有色金属") == "non_ferrous_metals"
    assert campaign_admin._industry_key("Petrochemicals") is None
    assert campaign_admin._industry_key(None) is None and campaign_admin._industry_key(["equipment"]) is None


def test_a_passed_deadline_moves_only_later_and_only_with_a_reason():
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2025))
    assert campaign_admin.passed(camp.deadline_for("excellent").application_deadline)  # 2025-07-18, now 2026-11
    later = {"application_deadline": "2025-07-25", "recommendation_deadline": "2025-08-01"}
    with pytest.raises(Invalid) as exc:
        campaign_admin.update_campaign(user("admin"), 2025, _form(camp, deadlines={"excellent": later}))
    assert exc.value.errors == {"reason": "required: say why the deadline moves (it has passed or open cases hold "
                                          "it)"}
    assert camp.deadline_for("excellent").application_deadline == date(2025, 7, 18)
    earlier = {"application_deadline": "2025-07-10", "recommendation_deadline": "2025-08-01"}
    with pytest.raises(Invalid) as exc:
        campaign_admin.update_campaign(user("admin"), 2025, _form(camp, deadlines={"excellent": earlier},
                                                                  reason="typo"))
    assert exc.value.errors["deadlines.excellent.application_deadline"] == \
        "this deadline has passed: it can only move later"

    campaign_admin.update_campaign(user("admin"), 2025, _form(camp, deadlines={"excellent": later},
                                                              reason="系统故障，延长一周"))
    db.session.expire_all()
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2025))
    assert camp.deadline_for("excellent").application_deadline == date(2025, 7, 25)
    ext = db.session.scalar(select(DeadlineExtension).where(DeadlineExtension.campaign_id == camp.id))
    assert ext.reason == "系统故障，延长一周" and ext.scope == "campaign" and ext.tier == "excellent"
    ev = _events("campaign.changed")[-1]
    assert ev.data["reason"] == "系统故障，延长一周"
    assert ev.data["before"]["deadlines"]["excellent"]["application_deadline"] == "2025-07-18"
    assert ev.data["after"]["deadlines"]["excellent"]["application_deadline"] == "2025-07-25"
    assert ev.data["deadline_moves"][0]["passed"] is True


def test_a_future_deadline_without_open_cases_is_simply_set():
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    earlier = {"application_deadline": "2027-07-09", "recommendation_deadline": "2027-07-30"}
    campaign_admin.update_campaign(user("admin"), 2026, _form(camp, deadlines={"excellent": earlier,
                                                                               "lighthouse": earlier}))
    db.session.expire_all()
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    assert camp.deadline_for("excellent").application_deadline == date(2027, 7, 9)
    assert db.session.scalar(select(DeadlineExtension.id)) is None  # no extension: nothing held the date


def test_a_deadline_open_cases_hold_moves_their_data_with_a_reason():
    case = cases.create_case(user("hz-precision"), "excellent", 2026)
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    later = {"application_deadline": "2027-07-23", "recommendation_deadline": "2027-07-30"}
    with pytest.raises(Invalid) as exc:
        campaign_admin.update_campaign(user("admin"), 2026, _form(camp, deadlines={"excellent": later}))
    assert "reason" in exc.value.errors
    earlier = {"application_deadline": "2027-07-09", "recommendation_deadline": "2027-07-30"}
    with pytest.raises(Invalid) as exc:
        campaign_admin.update_campaign(user("admin"), 2026, _form(camp, deadlines={"excellent": earlier},
                                                                  reason="x"))
    assert exc.value.errors["deadlines.excellent.application_deadline"] == \
        "open cases hold this deadline: it can only move later"
    campaign_admin.update_campaign(user("admin"), 2026, _form(camp, deadlines={"excellent": later},
                                                              reason="专家评审时间调整"))
    from app.services import instances, processes
    from workflows.instance import Instance

    rec = instances.load(case.id)
    data = Instance.load(rec.state, processes.version_info(rec.process_version_id).bundle).case_data()
    assert data["application_deadline_at"].startswith("2027-07-24T00:00:00")
    assert _events("campaign.changed")[-1].data["extensions"][0]["cases"] == [case.id]


def test_the_branch_rule_reads_the_campaigns_industry_list():
    plant = user("sinopec-plant").enterprise  # a branch (not a legal person) in petrochemicals, holds advanced
    camp = db.session.scalar(select(Campaign).where(Campaign.year == 2026))
    assert [r["rule"] for r in eligibility.unmet_rules(plant, "excellent", camp)] == []
    campaign_admin.update_campaign(user("admin"), 2026, _form(camp, branch_industries=["non_ferrous_metals"]))
    assert [r["rule"] for r in eligibility.unmet_rules(plant, "excellent", camp)] == ["legal_person"]
    campaign_admin.update_campaign(user("admin"), 2026, _form(camp, branch_industries=["石油化工"]))
    assert camp.branch_industries == ["petrochemicals"]
    assert eligibility.unmet_rules(plant, "excellent", camp) == []


# -- the expert pool -----------------------------------------------------------------------------------------------
def _case(enterprise, seq=1):
    from types import SimpleNamespace

    return SimpleNamespace(id=4343, province_code=enterprise.province_code, enterprise_id=enterprise.id,
                           soe_group_key=enterprise.soe_group_key, event_seq=seq)


def _never_drawn(expert_id, case, n=12):
    for seq in range(n):
        drawn = experts.draw(_case(case, seq), "expert_review")
        assert expert_id not in drawn["candidates"] and drawn["expert"] != expert_id
        assert expert_id in drawn["recused"] or expert_id not in [u for u in drawn["candidates"]]


def test_an_expert_with_a_declared_conflict_is_never_drawn():
    plant = user("sinopec-plant").enterprise
    e9 = user("expert-9")
    assert e9.id in experts.draw(_case(plant), "expert_review")["candidates"]
    expert_pool.add_conflict(user("admin"), e9.id, {"enterprise": plant.credit_code, "note": "前雇主"})
    _never_drawn(e9.id, plant)
    assert e9.id in experts.draw(_case(plant), "expert_review")["recused"]
    other = user("qingdao-home").enterprise
    assert e9.id in experts.draw(_case(other), "expert_review")["candidates"]  # only that enterprise


def test_a_conflict_with_an_soe_group_covers_every_member():
    e10 = user("expert-10")
    expert_pool.add_conflict(user("admin"), e10.id, {"soe_group": "sinopec"})
    _never_drawn(e10.id, user("sinopec-plant").enterprise)
    _never_drawn(e10.id, user("sinopec-ningbo").enterprise)
    assert e10.id in experts.draw(_case(user("acme").enterprise), "expert_review")["candidates"]
    ev = _events("expert.conflict_added")[-1]
    assert ev.subject == "expert-10" and ev.data["after"]["soe_group"] == "sinopec"


def test_an_inactive_expert_is_never_drawn_and_can_return():
    e11 = user("expert-11")
    qingdao = user("qingdao-home").enterprise
    assert e11.id in experts.draw(_case(qingdao), "expert_review")["candidates"]
    expert_pool.set_active(user("admin"), e11.id, False)
    _never_drawn(e11.id, qingdao)
    assert _events("expert.deactivated")[-1].data == {
        "before": {"home_region": "510000", "expertise": ["automotive"], "employer_id": None, "active": True},
        "after": {"home_region": "510000", "expertise": ["automotive"], "employer_id": None, "active": False}}
    expert_pool.set_active(user("admin"), e11.id, True)
    assert e11.id in experts.draw(_case(qingdao), "expert_review")["candidates"]


def test_a_plan_listed_city_as_home_region_counts_for_its_province():
    e7 = user("expert-7")
    acme = user("acme").enterprise  # Zhejiang
    assert e7.id in experts.draw(_case(acme), "expert_review")["candidates"]
    expert_pool.update_expert(user("admin"), e7.id, {"home_region": "330200", "expertise": ["equipment"]})
    assert e7.id in experts.draw(_case(acme), "expert_review")["recused"]
    assert expert_pool.list_experts(user("admin"), region="330000")[0]["counts_for"] == "330000"
    assert {e["username"] for e in expert_pool.list_experts(user("admin"), region="330000")} == \
        {"expert-7", "expert-8"}


def test_expert_input_is_checked_whole():
    with pytest.raises(Invalid) as exc:
        expert_pool.create_expert(user("admin"), {"username": "expert-7", "home_region": "330100",
                                                  "expertise": ["equipment", "spaceships"],
                                                  "employer": "91330100MA2B000019"})
    assert exc.value.errors == {"username": "this username is taken",
                                "home_region": "a province, a plan-listed city or the XPCC",
                                "expertise": "unknown industry: spaceships",
                                "employer": "no enterprise has this unified social credit code"}
    with pytest.raises(Invalid) as exc:
        expert_pool.add_conflict(user("admin"), user("expert-8").id, {"enterprise": "91330100MA2B000018",
                                                                      "soe_group": "sinopec"})
    assert "enterprise" in exc.value.errors
    with pytest.raises(Invalid):
        expert_pool.add_conflict(user("admin"), user("expert-8").id, {"soe_group": "cnpc"})
    with pytest.raises(Forbidden):
        expert_pool.set_active(user("zj-reviewer"), user("expert-8").id, False)
    assert db.session.scalar(select(ExpertConflict.id)) is None


def test_a_new_expert_gets_a_one_time_password_and_is_drawn():
    new, password = expert_pool.create_expert(user("admin"), {
        "username": "expert-gd-1", "home_region": "440300", "expertise": ["电子信息", "equipment"]})
    assert new.role == "expert" and new.expertise == ["electronics", "equipment"] and len(password) >= 12
    from app.services.auth import authenticate

    assert authenticate("expert-gd-1", password).id == new.id
    assert new.id in experts.draw(_case(user("acme").enterprise), "expert_review")["candidates"]
    assert new.id in experts.draw(_case(user("sinopec-plant").enterprise), "expert_review")["candidates"]
    ev = _events("expert.created")[-1]
    assert ev.data["after"]["home_region"] == "440300" and "password" not in str(ev.data)


# -- quota inputs ----------------------------------------------------------------------------------------------------
def test_the_table_lists_every_province_and_the_xpcc_with_what_is_missing():
    rows = quota_inputs.table(user("admin"))
    assert len(rows) == 32 and rows[-1]["code"] == "660000" and not rows[-1]["needs_figures"]
    assert rows[-1]["excellent_quota"]["quota"] == 5
    by = {r["code"]: r for r in rows}
    assert by["370000"]["excellent_2024"] == 22 and by["370000"]["lighthouse_quota"]["quota"] == 3
    assert by["370000"]["excellent_2024_source"].startswith("青岛新闻网")
    assert by["370000"]["missing"] == ["iva_rank_2024"]
    assert by["370000"]["excellent_quota"] == {"quota": None, "reason": "missing", "version": 1}
    # the demo's illustrative Zhejiang rank has no source: shown as missing, never as a fact
    assert "iva_rank_2024" in by["330000"]["missing"] and by["330000"]["unsourced"] == ["iva_rank_2024"]
    assert by["110000"]["missing"] == ["iva_rank_2024", "excellent_2024"]


def test_a_figure_needs_its_source_and_then_yields_its_quota():
    admin = user("admin")
    with pytest.raises(Invalid) as exc:
        quota_inputs.set_inputs(admin, "320000", {"iva_rank_2024": "2", "iva_rank_2024_source": "  "})
    assert exc.value.errors == {"iva_rank_2024_source": "required: where the figure comes from"}
    assert db.session.get(Region, "320000").iva_rank_2024 is None
    row = quota_inputs.set_inputs(admin, "320000", {
        "iva_rank_2024": "2", "iva_rank_2024_source": "国家统计局 分省年度数据 2024 工业增加值",
        "excellent_2024": "15", "excellent_2024_source": "江苏省工信厅 2025-01 通报"})
    assert row["excellent_quota"]["quota"] == 40 and row["lighthouse_quota"]["quota"] == 2 and row["missing"] == []
    assert quotas.quota_for("excellent", "province:320000")[1]["sources"]["iva_rank_2024"].startswith("国家统计局")
    ev = _events("quota_inputs.changed")[-1]
    assert ev.subject == "320000" and ev.data["before"]["iva_rank_2024"] is None and ev.data["after"][
        "iva_rank_2024"] == 2


def test_hostile_quota_input_is_refused_whole():
    admin = user("admin")
    quota_inputs.set_inputs(admin, "320000", {"iva_rank_2024": 2, "iva_rank_2024_source": "NBS"})
    for values, field in (({"iva_rank_2024": "2", "iva_rank_2024_source": "NBS"}, "iva_rank_2024"),  # rank taken
                          ({"iva_rank_2024": "32", "iva_rank_2024_source": "NBS"}, "iva_rank_2024"),
                          ({"iva_rank_2024": "abc", "iva_rank_2024_source": "NBS"}, "iva_rank_2024"),
                          ({"excellent_2024": "-1", "excellent_2024_source": "x"}, "excellent_2024"),
                          ({"excellent_2024": "", "excellent_2024_source": "x"}, "excellent_2024"),
                          ({"excellent_2024": "3", "excellent_2024_source": "x" * 501}, "excellent_2024_source")):
        with pytest.raises(Invalid) as exc:
            quota_inputs.set_inputs(admin, "440000", values)
        assert field in exc.value.errors, values
    assert db.session.get(Region, "440000").iva_rank_2024 is None
    with pytest.raises(Forbidden):
        quota_inputs.set_inputs(user("zj-reviewer"), "330000", {"iva_rank_2024": 1, "iva_rank_2024_source": "x"})
    with pytest.raises(Forbidden):
        quota_inputs.table(user("auditor"))
    from app.errors import NotFound

    for code in ("330200", "999999", None):
        with pytest.raises(NotFound):
            quota_inputs.set_inputs(admin, code, {"iva_rank_2024": 1, "iva_rank_2024_source": "x"})
    with pytest.raises(Invalid):
        quota_inputs.set_inputs(admin, "660000", {"iva_rank_2024": 1, "iva_rank_2024_source": "x"})


def test_clearing_a_figure_clears_its_source_and_its_quota():
    admin = user("admin")
    row = quota_inputs.set_inputs(admin, "370000", {"excellent_2024": "", "excellent_2024_source": ""})
    assert row["excellent_2024"] is None and row["excellent_2024_source"] is None
    assert row["lighthouse_quota"]["quota"] is None and row["lighthouse_quota"]["reason"] == "missing"


def test_a_load_file_may_give_each_figure_its_source():
    from app.services import loading

    loading.load('regions:\n  - {code: "320000", iva_rank_2024: 2, iva_rank_2024_source: "国家统计局 2024"}\n'
                 '  - {code: "370000", excellent_2024: null}\n')
    by = {r["code"]: r for r in quota_inputs.table(user("admin"))}
    assert by["320000"]["iva_rank_2024_source"] == "国家统计局 2024" and "iva_rank_2024" not in by["320000"]["missing"]
    assert by["370000"]["excellent_2024"] is None and by["370000"]["excellent_2024_source"] is None
