"""Every shipped diagram passes the deploy checks, and the statuses it names fit the cases.status column."""
from pathlib import Path

import pytest

from app.models import Case
from app.services.scope import KNOWN_LANES
from workflows.parsing import check_bundle, is_human, parse_bpmn, task_properties

BPMN = sorted((Path(__file__).resolve().parents[2] / "bpmn").glob("*.bpmn"))
WIDTH = Case.__table__.c.status.type.length


@pytest.mark.parametrize("path", BPMN, ids=[p.stem for p in BPMN])
def test_diagram_checks_and_status_width(path):
    bundle = parse_bpmn(path.read_bytes())
    assert check_bundle(bundle, known_roles=KNOWN_LANES) == []
    statuses = {task_properties(ts).get("status") for ts in bundle.all_task_specs() if is_human(ts)} - {None}
    statuses |= {ts.bpmn_id[5:] for ts in bundle.all_task_specs() if (ts.bpmn_id or "").startswith("wait_")}
    assert statuses and all(len(s) <= WIDTH for s in statuses), [s for s in statuses if len(s) > WIDTH]
