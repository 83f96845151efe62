"""cnnlib is a library: it imports with requirements.txt alone and knows no repository.

Every module of the package is imported in a fresh, isolated interpreter
(``python -I``: no PYTHONPATH, no user site, not the working folder) whose
first meta-path finder refuses the dev dependencies and the repository's
other top-level packages. A cnnlib module that imports Streamlit, Playwright,
pytest, hypothesis, the benchmark suite or the tests fails this test, whatever
modules the package holds when it runs (they are found with pkgutil).
"""

import ast
import json
import os
import subprocess
import sys

from testutil import REPO

#: Top-level names cnnlib must never import: the app's framework, the dev
#: dependencies (requirements-dev.txt) and the repository's non-library packages.
FORBIDDEN = ("streamlit", "playwright", "pytest", "hypothesis", "bench", "tests")

IMPORT_EVERY_MODULE = """
import importlib, importlib.abc, json, pkgutil, sys

FORBIDDEN, REPO = {forbidden!r}, {repo!r}


class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in FORBIDDEN:
            raise ModuleNotFoundError(f"cnnlib must not import {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, Refuse())
sys.path.insert(0, REPO)
import cnnlib, cnnlib.training.engine, cnnlib.jobs, cnnlib.store, cnnlib.rundir


def fail(name):
    raise


names = ["cnnlib"] + [m.name for m in pkgutil.walk_packages(cnnlib.__path__, "cnnlib.", onerror=fail)]
for name in names:
    importlib.import_module(name)
try:  # the blocker itself works: the same refusal a cnnlib module would meet
    import streamlit
    refused = False
except ModuleNotFoundError:
    refused = True
print(json.dumps({{"modules": names, "blocker_refuses": refused,
                   "loaded": sorted(m for m in sys.modules if m.partition(".")[0] in FORBIDDEN)}}))
"""


def test_every_cnnlib_module_imports_without_dev_dependencies_or_the_app(tmp_path):
    code = IMPORT_EVERY_MODULE.format(forbidden=FORBIDDEN, repo=str(REPO))
    proc = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["blocker_refuses"] and result["loaded"] == []
    # the walk found the package's modules, not just its __init__
    assert {"cnnlib.paths", "cnnlib.store", "cnnlib.conv.arithmetic"} <= set(result["modules"])


def test_no_cnnlib_function_imports_them_later_either():
    """The import test above sees module-level imports only; an import inside a
    function (TensorFlow's way here) is found in the source."""
    offenders = []
    for path in sorted((REPO / "cnnlib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.relative_to(REPO)}:{node.lineno}: {n}" for n in names
                          if n.partition(".")[0] in FORBIDDEN]
    assert offenders == []


def test_no_cnnlib_file_knows_the_repository_layout():
    """Paths such as ``Path(__file__).parent.parent`` or ``../shared`` tie the
    library to one checkout; cnnlib takes its folders from its caller (paths.py)."""
    offenders = []
    for path in sorted((REPO / "cnnlib").rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        text = path.read_text(errors="replace")
        for needle in ("parent.parent", "parents[", '"shared"', "'shared'", "/shared/"):
            if needle in text:
                offenders.append(f"{path.relative_to(REPO)}: {needle}")
    assert offenders == []
