"""`flask simulate`: a campaign year on the injectable clock with synthetic actors, in a throwaway database;
the same seed gives the same run, line for line."""
import re

import pytest

from app.services import simulation
from app.services.errors import ServiceError


def run(app, tmp_path, name, seed=5, n=12):
    r = app.test_cli_runner().invoke(args=["simulate", "--campaign", "2026", "--enterprises", str(n), "--seed",
                                           str(seed), "--database", f"sqlite:///{tmp_path / name}"])
    assert r.exit_code == 0, r.output
    return [line for line in r.output.splitlines() if not line.startswith("INFO ")]  # alembic's log aside


def test_a_seeded_campaign_year_is_repeatable(app, tmp_path):
    first = run(app, tmp_path, "a.sqlite3")
    assert first == run(app, tmp_path, "b.sqlite3")
    summary = dict(re.findall(r"(\w[\w ]*?) (\d+)", first[-1].removeprefix("summary: ")))
    assert summary["enterprises"] == "12" and summary["cases"] == "12" and int(summary["tasks done"]) > 12
    assert any(" excellent started" in line for line in first)
    assert any("recommendation list" in line for line in first)
    stamps = [line[:16] for line in first[:-1]]
    assert stamps == sorted(stamps)  # what happened, when, in order
    assert first != run(app, tmp_path, "c.sqlite3", seed=6)


def test_a_seed_already_simulated_in_the_database_is_refused(app, tmp_path):
    run(app, tmp_path, "d.sqlite3", n=2)
    with pytest.raises(ServiceError, match="already simulated"):
        simulation.run_fresh(f"sqlite:///{tmp_path / 'd.sqlite3'}", 2026, 2, 5)
