"""Cost of one sandboxed evaluation (issue 17 item 1), beside SpiffWorkflow's default (unsandboxed) environment.

    .venv/bin/python -m bench.sandbox [--n 2000]

Rows: a gateway condition that is provably cheap (evaluated in-process), a condition with a call and a script task
(both in a pooled child process under RLIMIT_CPU/RLIMIT_AS), a child start (paid after a kill, in the background),
and a hostile expression stopped at the 2 s limit. The floor is `TaskDataEnvironment` (plain eval/exec, no limits).
"""
import argparse
import statistics
import time

from bench.rows import emit, row

DATA = {"decision": "approve", "score": 4, "items": list(range(20)), "name": "某某智能装备有限公司" * 3,
        "review": {"comment": "符合要求" * 20, "scores": [80, 85, 90]}}


def per_call_us(fn, n):
    for _ in range(min(n, 50)):
        fn()
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

    from workflows import sandbox_pool
    from workflows.sandbox import RestrictedEnvironment, ScriptPolicyError

    env, plain = RestrictedEnvironment(), TaskDataEnvironment()
    cases = [
        ("condition, cheap (in process)", "eval", "decision == 'approve' and score >= 3"),
        ("condition with a call (child)", "eval", "len(items) > 0 and max(review['scores']) >= 90"),
        ("script task (child)", "exec", "total = sum(items)\nok = total > 10"),
    ]
    rows = []
    for label, mode, src in cases:
        def sandboxed(mode=mode, src=src):
            data = dict(DATA)
            return env.evaluate(src, data) if mode == "eval" else env.execute(src, data)

        def floor(mode=mode, src=src):
            data = dict(DATA)
            return plain.evaluate(src, data) if mode == "eval" else plain.execute(src, data)

        n = args.n if mode == "eval" and "cheap" in label else max(args.n // 10, 50)
        us, fus = per_call_us(sandboxed, n), per_call_us(floor, n)
        print(f"{label:<34} {us:>9.1f} µs   floor {fus:>6.1f} µs (TaskDataEnvironment)")
        rows.append(row(f"sandbox: {label}", "python -m bench.sandbox", f"{us:.1f} µs", f"{fus:.1f} µs (plain eval)"))
    t0 = time.perf_counter()
    sandbox_pool._Child().kill()
    start_ms = (time.perf_counter() - t0) * 1000
    print(f"{'child process start':<34} {start_ms:>9.1f} ms")
    t0 = time.perf_counter()
    try:
        env.evaluate("sum(map(sum, [range(10**6)] * 10**6))", {})
    except ScriptPolicyError as exc:
        reason = exc.message
    stop_s = time.perf_counter() - t0
    print(f"{'hostile expression stopped':<34} {stop_s:>9.2f} s    ({reason})")
    rows.append(row("sandbox: child start / hostile stop", "python -m bench.sandbox", f"{start_ms:.0f} ms / "
                    f"{stop_s:.2f} s", "", "stop within 2 s + grace"))
    emit(*rows)


if __name__ == "__main__":
    main()
