"""Diagram validation cost against its size (issue 17 item 9): N chained exclusive gateways, each with a condition
and a default flow, parsed and checked as a deploy does (`workflows.parsing.parse_bpmn` + `check_bundle`), beside
the floor measured in the same run: lxml parsing the same bytes (the least any validation must do).

    .venv/bin/python -m bench.validation [--sizes 1000,2000,4000,8000] [--profile N]

Linear means: time / N stays flat as N doubles. Target: 8,000 gateways well under a second.
"""
import argparse
import cProfile
import pstats
import time

from bench.rows import emit, row


def chained_gateways(n: int, kind: str = "exclusive") -> bytes:
    """A start event, n gateways in a chain, an end event. Exclusive: gateway i has a condition `x > i` and a
    default flow, both to gateway i+1. Parallel: both flows of gateway i go to gateway i+1, so every gateway after
    the first is a join of two flows (what the loop-join check walks)."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
             '20100524/MODEL" id="d" targetNamespace="x"><bpmn:process id="p" isExecutable="true">'
             '<bpmn:startEvent id="start"><bpmn:outgoing>s0</bpmn:outgoing></bpmn:startEvent>'
             '<bpmn:sequenceFlow id="s0" sourceRef="start" targetRef="g0"/>']
    tag = f"{kind}Gateway"
    for i in range(n):
        nxt = f"g{i + 1}" if i + 1 < n else "end"
        incoming = "<bpmn:incoming>s0</bpmn:incoming>" if i == 0 else (
            f"<bpmn:incoming>a{i - 1}</bpmn:incoming><bpmn:incoming>b{i - 1}</bpmn:incoming>")
        default = f' default="b{i}"' if kind == "exclusive" else ""
        cond = (f"<bpmn:conditionExpression>x &gt; {i}</bpmn:conditionExpression>" if kind == "exclusive" else "")
        parts.append(f'<bpmn:{tag} id="g{i}"{default}>{incoming}<bpmn:outgoing>a{i}</bpmn:outgoing>'
                     f'<bpmn:outgoing>b{i}</bpmn:outgoing></bpmn:{tag}>'
                     f'<bpmn:sequenceFlow id="a{i}" sourceRef="g{i}" targetRef="{nxt}">{cond}</bpmn:sequenceFlow>'
                     f'<bpmn:sequenceFlow id="b{i}" sourceRef="g{i}" targetRef="{nxt}"/>')
    parts.append(f'<bpmn:endEvent id="end"><bpmn:incoming>a{n - 1}</bpmn:incoming><bpmn:incoming>b{n - 1}'
                 '</bpmn:incoming></bpmn:endEvent></bpmn:process></bpmn:definitions>')
    return "".join(parts).encode()


def outcome(xml: bytes, max_elements: int) -> str:
    """What a deploy answers: 'accepted' or the first refusal's message."""
    from workflows.errors import DiagramError
    from workflows.parsing import check_bundle, parse_bpmn

    try:
        problems = check_bundle(parse_bpmn(xml, max_elements=max_elements))
    except DiagramError as exc:
        return "refused: " + exc.errors[0]["message"][:70]
    return "accepted" if not problems else "refused: " + problems[0]["message"][:70]


def prescan_only(xml: bytes):
    from workflows.parsing import prescan
    from workflows.xml import load_xml

    return prescan(load_xml(xml))


def floor(xml: bytes):
    from workflows.xml import load_xml

    return load_xml(xml)


def best_of(fn, xml, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(xml)
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,2000,4000,8000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", type=int, default=0, help="profile one validation of this many gateways")
    args = ap.parse_args()
    from workflows.parsing import DEFAULT_MAX_ELEMENTS

    if args.profile:
        xml = chained_gateways(args.profile, "parallel")
        prof = cProfile.Profile()
        prof.runcall(outcome, xml, 10**9)
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
        return
    outcome(chained_gateways(10), DEFAULT_MAX_ELEMENTS)  # imports
    rows = []
    print(f"{'kind':>9} {'gateways':>8} {'KB':>6} {'deploy ms':>10} {'prescan ms':>11} {'µs/gw':>6} {'lxml ms':>8}  "
          f"answer (MAX_DIAGRAM_ELEMENTS={DEFAULT_MAX_ELEMENTS})")
    for kind in ("exclusive", "parallel"):
        for n in (int(s) for s in args.sizes.split(",")):
            xml = chained_gateways(n, kind)
            answer = outcome(xml, DEFAULT_MAX_ELEMENTS)
            t = best_of(lambda x: outcome(x, DEFAULT_MAX_ELEMENTS), xml, args.repeat)
            p = best_of(prescan_only, xml, args.repeat)
            f = best_of(floor, xml, args.repeat)
            print(f"{kind:>9} {n:>8} {len(xml) // 1024:>6} {t * 1000:>10.1f} {p * 1000:>11.1f} {p / n * 1e6:>6.1f} "
                  f"{f * 1000:>8.1f}  {answer}")
            rows.append(row(f"deploy check, {n} chained {kind} gateways", "python -m bench.validation",
                            f"{t * 1000:.0f} ms (prescan {p * 1000:.0f} ms)", f"{f * 1000:.1f} ms (lxml parse)",
                            "8,000 well under 1 s", "ok" if t < 1 else "over"))
    emit(*rows)


if __name__ == "__main__":
    main()
