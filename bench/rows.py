"""One benchmark figure as a table row: each bench module prints its rows as `BENCH-ROW {json}` lines (after its
own human-readable output) so that `python -m bench.table` can run every module in its own process and print one
table."""
import json

PREFIX = "BENCH-ROW "


def row(figure: str, command: str, measured: str, floor: str, target: str = "", verdict: str = "") -> dict:
    return {"figure": figure, "command": command, "measured": measured, "floor": floor, "target": target,
            "verdict": verdict}


def emit(*rows: dict) -> None:
    for r in rows:
        print(PREFIX + json.dumps(r, ensure_ascii=False), flush=True)


def parse(output: str) -> list[dict]:
    return [json.loads(line[len(PREFIX):]) for line in output.splitlines() if line.startswith(PREFIX)]
