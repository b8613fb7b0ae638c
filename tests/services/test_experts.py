"""Expert draws: recusal by province and by employer, distinct panel members, a reproducible seeded draw."""
from types import SimpleNamespace

from app.extensions import db
from app.services import experts
from tests.conftest import user


def case(enterprise_id, province="330000", seq=1):
    return SimpleNamespace(id=4242, province_code=province, enterprise_id=enterprise_id, event_seq=seq)


def test_recusal_by_province_and_employer():
    acme = user("acme").enterprise_id
    e9 = user("expert-9")
    e9.enterprise_id = acme  # expert-9 works for acme
    db.session.flush()
    try:
        draw = experts.draw(case(acme), "expert_review")
        assert user("expert-8").id in draw["recused"]  # Zhejiang
        assert e9.id in draw["recused"]  # the applicant's own employee
        assert draw["expert"] not in draw["recused"] and e9.id not in draw["candidates"]
        other = experts.draw(case(acme + 1000), "expert_review")  # another enterprise: expert-9 may serve
        assert e9.id in other["candidates"]
    finally:
        db.session.rollback()


def test_the_draw_is_reproducible_and_panels_are_distinct():
    c = case(user("acme").enterprise_id)
    a, b = experts.draw(c, "expert_review_1"), experts.draw(c, "expert_review_1")
    assert a == b  # same seed, same candidates: an auditor can redraw it
    first = experts.draw(c, "expert_review_1")["expert"]
    second = experts.draw(c, "expert_review_2", exclude=[first])["expert"]
    third = experts.draw(c, "expert_review_3", exclude=[first, second])["expert"]
    assert len({first, second, third}) == 3
