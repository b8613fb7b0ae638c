"""Import circles inside `app/` and imports that point back up the layers, measured with grimp (import-linter's
graph library; imports inside functions count too).

    .venv/bin/python scripts/import_cycles.py          # prints them; exit 1 when there is any

Layers, top to bottom: the app factory `app` (app/__init__.py) > entry floors (`app.blueprints`, `app.cli`,
`app.jobs`) > `app.services` > `app.models` > `workflows`. An import from a lower layer into a higher one is an
arrow back up."""
import sys
from pathlib import Path

import grimp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
LAYERS = [("app",), ("app.blueprints", "app.cli", "app.jobs"), ("app.services",), ("app.models",), ("workflows",)]


def layer(module: str) -> int | None:
    best = None
    for rank, names in enumerate(LAYERS):
        for name in names:
            if module == name or module.startswith(name + "."):
                if name != "app" or module == "app":  # the factory is the package module itself
                    best = rank
    return best


def circles(graph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in modules}
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter[0]
                counter[0] += 1
                stack.append(node)
                on.add(node)
            recurse = False
            for j in range(i, len(edges[node])):
                nxt = edges[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(out)


def main() -> int:
    graph = grimp.build_graph("app", "workflows", include_external_packages=False, cache_dir=None)
    modules = {m for m in graph.modules if m == "app" or m.startswith("app.")}
    found = circles(graph, modules)
    for comp in found:
        print(f"circle of {len(comp)} module(s): {', '.join(comp)}")
        for a in comp:
            for b in sorted(graph.find_modules_directly_imported_by(a) & set(comp)):
                lines = sorted({d['line_number'] for d in graph.get_import_details(importer=a, imported=b)})
                print(f"    {a} -> {b} (line {', '.join(map(str, lines))})")
    up = []
    for a in sorted(graph.modules):
        la = layer(a)
        for b in sorted(graph.find_modules_directly_imported_by(a)):
            lb = layer(b)
            if la is not None and lb is not None and lb < la:
                lines = sorted({d['line_number'] for d in graph.get_import_details(importer=a, imported=b)})
                up.append(f"{a} -> {b} (line {', '.join(map(str, lines))})")
    for line in up:
        print("arrow back up: " + line)
    print(f"{len(found)} circle(s), {len(up)} arrow(s) back up")
    return 1 if found or up else 0


if __name__ == "__main__":
    raise SystemExit(main())
