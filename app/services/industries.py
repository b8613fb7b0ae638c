"""The product's controlled industry list (app/data/industries.yaml): keys with Chinese and English names, each
mapped to its GB/T 4754-2017 divisions. Every place that takes an industry (the load file, the enterprise import,
the enterprise form, the API) resolves it here: a key, the key's Chinese name or a division code; anything else is
refused by the caller, naming the row."""
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "industries.yaml"
HINT = ("a key of the industry list (e.g. equipment), its Chinese name (装备制造) or a GB/T 4754-2017 division code "
        "(C34)")


@dataclass(frozen=True)
class Industry:
    key: str
    name_zh: str
    name_en: str
    divisions: tuple[str, ...]


@dataclass(frozen=True)
class IndustryList:
    source: str
    items: tuple[Industry, ...]
    division_names: dict
    lookup: dict  # every accepted spelling -> (key, division or None)

    def get(self, key: str) -> Industry | None:
        return next((i for i in self.items if i.key == key), None)


@cache
def industry_list() -> IndustryList:
    doc = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    items = tuple(Industry(k, v["zh"], v["en"], tuple(v["divisions"])) for k, v in doc["industries"].items())
    divisions = dict(doc["divisions"])
    lookup: dict[str, tuple[str, str | None]] = {}
    for ind in items:
        lookup[ind.key] = (ind.key, None)
        lookup[ind.name_zh] = (ind.key, None)
        for d in ind.divisions:
            if d not in divisions or d in lookup:
                raise ValueError(f"{DATA_FILE}: division {d} unknown or listed under two keys")
            lookup[d] = (ind.key, d)
    missing = set(divisions) - set(lookup)
    if missing:
        raise ValueError(f"{DATA_FILE}: divisions without a key: {sorted(missing)}")
    return IndustryList(doc["source"], items, divisions, lookup)


def resolve(value) -> tuple[str, str | None] | None:
    """(key, division code or None) for a key, its Chinese name or a division code; None for anything else."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return industry_list().lookup.get(text) or industry_list().lookup.get(text.upper() if len(text) == 3 else text)


def keys() -> list[str]:
    return [i.key for i in industry_list().items]


def name(key: str | None, lang: str = "zh") -> str:
    """The industry's name in the UI language; an unknown key is shown as it is (never happens after migration
    0015)."""
    ind = industry_list().get(key or "")
    if ind is None:
        return key or ""
    return ind.name_zh if lang == "zh" else ind.name_en


def choices(lang: str = "zh") -> list[tuple[str, str]]:
    return [(i.key, i.name_zh if lang == "zh" else i.name_en) for i in industry_list().items]
