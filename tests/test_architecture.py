"""The layers are a checked contract: import-linter's contracts in pyproject.toml hold, a deliberate violation breaks
them, and no two modules of app/ or workflows/ import each other through a circle."""
import shutil
import subprocess
import sys
from pathlib import Path

import grimp  # comes with import-linter

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache", "--no-logo", "--config", str(root / "pyproject.toml")],
                          cwd=root, capture_output=True, text=True, env={"PYTHONPATH": str(root), "PATH": ""},
                          timeout=300)


def test_the_layer_contracts_hold():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_service_importing_a_view_breaks_the_contract(tmp_path):
    for name in ("app", "workflows"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("static", "translations",
                                                                                    "__pycache__", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    victim = tmp_path / "app" / "services" / "users.py"
    victim.write_text(victim.read_text() + "\n\ndef _sneak():\n    from app.blueprints import api  # noqa\n")
    out = _lint(tmp_path)
    assert out.returncode != 0
    assert "app.services.users -> app.blueprints" in out.stdout.replace("\n", " ") or "app.blueprints" in out.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    modules = sorted(graph.modules)
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        comp.append(m)
                        if m == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_no_import_circles():
    graph = grimp.build_graph("app", "workflows")
    # a package's __init__ importing its own submodules is how packages work, not a circle between floors
    for module in list(graph.modules):
        for child in graph.find_children(module):
            if graph.direct_import_exists(importer=module, imported=child):
                graph.remove_import(importer=module, imported=child)
    assert _cycles(graph) == []


def test_long_files_say_why():
    """No file over ~400 lines in app/ or workflows/ without a one-line reason (`long-file:`) at its top."""
    long = []
    for base in ("app", "workflows"):
        for path in (ROOT / base).rglob("*"):
            if (not path.is_file() or "vendor" in path.parts or "translations" in path.parts
                    or path.suffix not in (".py", ".js", ".html", ".css")):
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            if len(lines) > 420 and not any("long-file:" in line for line in lines[:5]):
                long.append(f"{path.relative_to(ROOT)} ({len(lines)} lines)")
    assert long == []
