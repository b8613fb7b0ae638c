"""The demo world: reference data, users, the built-in diagrams. Idempotent."""
from pathlib import Path

import yaml

from app.services import loading, processes, quotas

DEMO_FILE = Path(__file__).resolve().parent.parent / "data" / "demo.yaml"


def load_demo() -> list[dict]:
    """Load the demo world and deploy built-in diagrams; returns the demo logins."""
    text = DEMO_FILE.read_text(encoding="utf-8")
    loading.load(text)
    processes.sync_builtin()
    quotas.sync_builtin()
    doc = yaml.safe_load(text)
    return [{"username": u["username"], "password": u["password"], "role": u["role"]} for u in doc["users"]]
