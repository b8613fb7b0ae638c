"""The industry list as data: every GB/T 4754-2017 division of B, C, D under one key; the load file accepts a key,
its Chinese name or a division code and refuses anything else, naming the row."""
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.extensions import db
from app.models import Enterprise
from app.services import industries, loading
from tests.enterprises.helpers import cleanup, code


@pytest.fixture(autouse=True)
def _ents(db_context):
    yield
    cleanup()


def test_every_division_of_the_standard_has_one_key():
    shared = Path("/work/shared/data/industries-gbt4754-2017.yaml")
    ours = industries.industry_list()
    if shared.exists():
        assert set(yaml.safe_load(shared.read_text(encoding="utf-8"))["divisions"]) == set(ours.division_names)
    assert len(ours.division_names) == 41
    used = {"equipment", "automotive", "electronics", "petrochemicals", "non_ferrous_metals", "textiles", "food"}
    assert used <= set(industries.keys())


@pytest.mark.parametrize("value, expected", [("equipment", ("equipment", None)), ("装备制造", ("equipment", None)),
                                             ("C34", ("equipment", "C34")), ("c36", ("automotive", "C36")),
                                             (" 石油化工 ", ("petrochemicals", None)), ("C99", None), ("机械", None),
                                             ("", None), (None, None), (34, None)])
def test_resolve(value, expected):
    assert industries.resolve(value) == expected


def _doc(industry):
    return yaml.safe_dump({"enterprises": [{"credit_code": code(1), "name": "载入测试企业", "province": "330000",
                                            "city": "330100", "legal_person": True, "industry": industry}]},
                          allow_unicode=True)


def test_load_refuses_an_unknown_industry_naming_the_row():
    with pytest.raises(loading.LoadError) as exc:
        loading.load(_doc("钢铁冶炼"))
    assert "enterprises[0]" in exc.value.message and "unknown industry '钢铁冶炼'" in exc.value.message
    db.session.rollback()
    assert db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code(1))) is None


def test_load_accepts_a_division_code():
    loading.load(_doc("C26"))
    db.session.commit()
    ent = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code(1)))
    assert (ent.industry, ent.industry_division) == ("petrochemicals", "C26")
