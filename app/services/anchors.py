"""Anchors: the head hashes of every case chain, written now and then as one JSON line appended to a log file kept
apart from the database (`AUDIT_ANCHOR_FILE`; ship it somewhere the database's owner cannot rewrite).

A line: {"at", "heads": {case_id: [seq, hash]} (the chains that moved since the previous line), "count" (chains
anchored so far), "root" (SHA-256 over the canonical JSON of all heads anchored so far), "prev" (SHA-256 of the
previous line's text, genesis 64 zeros)}. A chain rewritten after an anchor disagrees with it: the event at the
anchored seq no longer has the anchored hash, or is gone.
"""
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, tuple_

from app.extensions import db
from app.models import CaseEvent
from app.services.events import GENESIS, canonical
from app.settings import settings


def path() -> Path:
    return Path(settings().audit_anchor_file)


def current_heads() -> dict[str, list]:
    """{case_id (str): [seq, hash]} of every chain as stored now (the events table, not the cases' own head)."""
    last = (select(CaseEvent.case_id, func.max(CaseEvent.seq).label("seq")).group_by(CaseEvent.case_id)
            .subquery())
    rows = db.session.execute(select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash).join(
        last, (CaseEvent.case_id == last.c.case_id) & (CaseEvent.seq == last.c.seq)))
    return {str(c): [s, h] for c, s, h in rows}


def root_of(heads: dict) -> str:
    return hashlib.sha256(canonical(heads)).hexdigest()


def read() -> list[dict]:
    """Every anchor line, oldest first, each with its line number and the SHA-256 of its text."""
    p = path()
    if not p.exists():
        return []
    out = []
    with p.open(encoding="utf-8") as fh:
        for n, text in enumerate(fh, 1):
            text = text.rstrip("\n")
            if not text:
                continue
            try:
                line = json.loads(text)
            except ValueError:
                line = {"unreadable": True}
            line["_line"], line["_sha"] = n, hashlib.sha256(text.encode()).hexdigest()
            out.append(line)
    return out


def write(now: datetime) -> dict:
    """Append one anchor line with the chains that moved since the last one; returns it."""
    lines = read()
    anchored: dict = {}
    for line in lines:
        anchored.update(line.get("heads") or {})
    heads = current_heads()
    moved = {k: v for k, v in heads.items() if anchored.get(k) != v}
    anchored.update(moved)
    line = {"at": now.isoformat(timespec="seconds"), "heads": moved, "count": len(anchored),
            "root": root_of(anchored), "prev": lines[-1]["_sha"] if lines else GENESIS}
    p = path()
    p.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # O_APPEND: each write lands at the end, whatever else holds the file open
    fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (text + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return line


def verify(case_id: int | None = None) -> list[str]:
    """What disagrees between the anchor log and the chains (empty: all agree). With a case, only its heads."""
    problems: list[str] = []
    anchored: dict = {}
    prev = GENESIS
    pairs: dict[tuple[int, int], tuple[str, int]] = {}  # (case, seq) -> (hash, first line anchoring it)
    for line in read():
        n = line["_line"]
        if line.get("unreadable"):
            problems.append(f"anchor line {n}: not JSON")
            prev = line["_sha"]
            continue
        if line.get("prev") != prev:
            problems.append(f"anchor line {n}: does not follow the line before it (the log was edited)")
        prev = line["_sha"]
        anchored.update(line.get("heads") or {})
        if line.get("root") != root_of(anchored) or line.get("count") != len(anchored):
            problems.append(f"anchor line {n}: its root does not match its heads (the log was edited)")
        for cid, (seq, h) in (line.get("heads") or {}).items():
            if case_id is None or int(cid) == case_id:
                pairs.setdefault((int(cid), int(seq)), (h, n))
    if pairs:
        stored = {}
        keys = list(pairs)
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            stored.update({(c, s): h for c, s, h in db.session.execute(
                select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash)
                .where(tuple_(CaseEvent.case_id, CaseEvent.seq).in_(chunk)))})
        for (cid, seq), (h, n) in sorted(pairs.items(), key=lambda kv: (kv[1][1], kv[0])):
            if (cid, seq) not in stored:
                problems.append(f"anchor line {n}: case {cid} event {seq} was anchored and is gone")
            elif stored[(cid, seq)] != h:
                problems.append(f"anchor line {n}: case {cid} event {seq} no longer has the anchored hash "
                                "(the chain was rewritten)")
    return problems
