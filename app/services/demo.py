"""The demo world: reference data, users, the built-in diagrams. Idempotent."""
from pathlib import Path

import yaml

from app.services import bpmn_sync, loading

DEMO_FILE = Path(__file__).resolve().parent.parent / "data" / "demo.yaml"


def load_demo() -> list[dict]:
    """Load the demo world and deploy the shipped diagrams, forms and decision tables (`bpmn_sync.sync`, as
    `flask bpmn sync`); returns the demo logins."""
    text = DEMO_FILE.read_text(encoding="utf-8")
    loading.load(text)
    bpmn_sync.sync()
    doc = yaml.safe_load(text)
    return [{"username": u["username"], "password": u["password"], "role": u["role"]} for u in doc["users"]]


# -- sample cases: something in every inbox of the demo (the run command loads them; the tests do not) ----------------
# (owner, tier, steps): each step completes the case's open task of that element as the user named, with form data
# filled from the task's JSON Schema (decisions approve); "publish" puts the case on its certifier's certified list.
# acme is left without a case so that a visitor can apply by hand.
SAMPLE_CASES = [
    ("hz-precision", "basic", [("self_assessment", "hz-precision")]),
    ("ningbo-parts", "advanced", [("application", "ningbo-parts"), ("certifier_review", "zj-reviewer")]),
    ("sinopec-ningbo", "advanced", [("application", "sinopec-ningbo"), ("certifier_review", "sinopec-reviewer"),
                                    ("publish", "sinopec-reviewer")]),
    ("qingdao-home", "lighthouse", [("application", "qingdao-home")]),
    ("sinopec-plant", "excellent", []),
]


def load_sample_cases(year: int = 2026, seed: int = 2026) -> list[str]:
    """Open and advance the sample cases through the services (so their histories are real, hash-chained events),
    unless the database holds any case already. Returns one line per case; the caller commits."""
    import io
    import random

    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Case, HumanTask, User
    from app.services import attachments, cases, lists, simulation, tasks

    if db.session.scalar(select(func.count()).select_from(Case)):
        return []
    rng = random.Random(seed)

    def user(name: str) -> User:
        return db.session.scalar(select(User).where(User.username == name))

    done = []
    for owner, tier, steps in SAMPLE_CASES:
        case = cases.create_case(user(owner), tier, year)
        for element, actor_name in steps:
            actor = user(actor_name)
            if element == "publish":
                lists.publish_certified(actor, tier, year, [case.id])
                continue
            task_id = db.session.scalar(select(HumanTask.id).where(
                HumanTask.case_id == case.id, HumanTask.state == "open", HumanTask.element == element))
            view = tasks.get_task(actor, task_id, with_timeline=False)

            def upload(actor=actor, case_id=case.id):
                pdf = io.BytesIO(b"%PDF-1.4\n% Tierflow demo material\n%%EOF\n")
                return attachments.upload(actor, case_id, "示例材料.pdf", pdf).id

            data = simulation._form_data(view["form"] or {}, rng, upload)
            if "decision" in data:
                data["decision"] = "approve"
            tasks.complete(actor, task_id, data)
        db.session.refresh(case)
        done.append(f"case {case.id}: {owner} {tier} — {case.status}")
    return done
