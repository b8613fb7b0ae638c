"""Expert draws by field (issue 16 item 12) and recusal by province (item 1): a panel's members cover the case's
industry, falling back — recorded — to neighbouring fields (same GB/T 4754-2017 section) only when too few are free;
the draw's record lets an auditor redraw it (`experts.redraw`)."""
from types import SimpleNamespace

from app.extensions import db
from app.services import experts
from tests.conftest import user


def case_of(username, seq=1):
    ent = user(username).enterprise
    return SimpleNamespace(id=4343, province_code=ent.province_code, enterprise_id=ent.id, event_seq=seq,
                           soe_group_key=ent.soe_group_key)


def test_a_petrochemical_case_gets_the_petrochemical_expert_first_then_recorded_fallbacks():
    case = case_of("sinopec-plant")  # petrochemicals, Zhejiang
    first = experts.draw(case, "expert_review_1")
    assert first["expert"] == user("expert-9").id  # the only petrochemicals expert (Shanghai: not recused)
    assert first["rule"]["industry"] == "petrochemicals" and first["rule"]["tier_used"] == "exact"
    assert first["rule"]["fallback"] is False
    second = experts.draw(case, "expert_review_2", exclude=[first["expert"]])
    assert second["rule"]["tier_used"] == "neighbour" and second["rule"]["fallback"] is True
    # every candidate of the exact field comes before every neighbour, whatever their load
    tiers = second["rule"]["tiers"]
    assert second["candidates"][:len(tiers["exact"])] == sorted(tiers["exact"], key=second["candidates"].index)


def test_an_electronics_case_never_gets_an_equipment_expert_while_an_electronics_one_is_free():
    case = case_of("qingdao-home")  # electronics, Shandong
    for seq in range(8):
        drawn = experts.draw(case_of("qingdao-home", seq), "expert_review")
        assert drawn["expert"] == user("expert-10").id, seq
    assert experts.draw(case, "x")["rule"]["sections"] == ["C"]


def test_the_draw_is_redrawn_from_its_record_alone():
    case = case_of("sinopec-plant")
    drawn = experts.draw(case, "expert_review_1")
    again = experts.redraw({**drawn})
    assert again["matches"] and again["expert"] == drawn["expert"] and again["candidates"] == drawn["candidates"]
    # the record, not today's pool: an expert deactivated since does not change the redraw
    e9 = user("expert-9")
    e9.active = False
    db.session.flush()
    assert experts.redraw(drawn)["expert"] == e9.id
    tiers = drawn["rule"]["tiers"]  # a record altered afterwards (the exact field's expert moved away) fails
    forged = dict(drawn, rule=dict(drawn["rule"], tiers={"exact": [], "neighbour": tiers["neighbour"],
                                                         "other": tiers["other"] + tiers["exact"]}))
    assert not experts.redraw(forged)["matches"]


def test_a_recorded_draw_event_of_a_real_case_redraws(client, auth_headers):
    from sqlalchemy import select

    from app.models import CaseEvent
    from tests.api.test_excellent import _to_notice

    cid = _to_notice(client, auth_headers)
    draws = list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == cid,
                                                            CaseEvent.action == "expert.drawn")))
    assert len(draws) >= 8  # two panels of three and their leads
    assert all(experts.redraw(ev)["matches"] for ev in draws)


def test_an_expert_of_a_plan_listed_city_is_recused_from_its_provinces_cases():
    e8 = user("expert-8")
    e8.province_code = "330200"  # Ningbo: belongs to Zhejiang
    db.session.flush()
    drawn = experts.draw(case_of("hz-precision"), "expert_review")
    assert e8.id in drawn["recused"] and e8.id not in drawn["candidates"]
