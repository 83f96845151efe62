"""cnnlib's modules depend on each other one way: no import circle, lazy imports inside
functions included (config -> lessons -> rundir -> config was one), and each module
imports first in a fresh interpreter."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from testutil import REPO


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted((REPO / "cnnlib").rglob("*.py"))}


def imports(name: str, source: str, is_package: bool = False) -> set[str]:
    """The cnnlib modules that module ``name`` (its text ``source``) imports anywhere, a
    function's lazy import too: ``from a.b import c`` is ``a.b.c`` where that is a module,
    else ``a.b``; relative imports are resolved from ``name``."""
    found = set()
    package = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            for a in node.names:
                target = f"{base}.{a.name}"
                found.add(target if target in MODULES else base)
    return (found & MODULES.keys()) - {name}


def graph() -> dict[str, set[str]]:
    return {name: imports(name, path.read_text(encoding="utf-8"), path.name == "__init__.py")
            for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, 1972)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_circle_through_a_lazy_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    lazy = "import os\n\ndef f():\n    from cnnlib.training.lessons import LESSONS\n"
    assert imports("cnnlib.training.config", lazy) == {"cnnlib.training.lessons"}
    relative = "from . import lessons\nfrom .config import TrainConfig\n"
    assert imports("cnnlib.training.engine", relative) == {"cnnlib.training.lessons",
                                                           "cnnlib.training.config"}
    assert imports("cnnlib.rundir", "from cnnlib.rundir.directory import RunDir\n",
                   is_package=True) == {"cnnlib.rundir.directory"}


def test_no_import_circle_among_cnnlib_modules():
    dependencies = graph()
    assert "cnnlib.training.config" in dependencies["cnnlib.training.lessons"]
    assert "cnnlib.training.config" in dependencies["cnnlib.rundir.directory"]
    assert not {"cnnlib.training.lessons", "cnnlib.training.arguments"} & dependencies[
        "cnnlib.training.config"]
    assert cycles(dependencies) == []


@pytest.mark.parametrize("module", ["cnnlib.training.config", "cnnlib.training.lessons",
                                    "cnnlib.training.arguments", "cnnlib.rundir",
                                    "cnnlib.rundir.directory", "cnnlib.owners", "cnnlib.store",
                                    "cnnlib.jobs"])
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    out = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
