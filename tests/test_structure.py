"""The floors of the house: who may import what.

- Code that derives gradients (any module defining a ``*backward`` function or method)
  never imports numpy or cupy: it asks :mod:`minivae.backend` for the array module of
  its inputs, so the same code runs on either.
- Nothing in the library imports another array/autograd framework.
- ``import minivae`` stays light: plotting, scikit-learn, mlxtend, tqdm and threadpoolctl
  are imported only where they are used.
"""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "minivae"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _tree(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_top_levels(tree):
    """Top-level names of every absolute import anywhere in the module (also inside functions)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _defines_backward(tree):
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.endswith("backward")
        for node in ast.walk(tree)
    )


def _rel(path):
    return path.relative_to(PACKAGE).as_posix()


BACKWARD_FILES = [p for p in SOURCES if _defines_backward(_tree(p))]


def test_the_sources_are_found():
    assert (PACKAGE / "backend.py") in SOURCES and (PACKAGE / "ops" / "dense.py") in SOURCES


def test_backward_files_exist_and_include_the_ops():
    rels = {_rel(p) for p in BACKWARD_FILES}
    assert rels, "no file under minivae/ defines a *backward function: the next test would check nothing"
    assert {"ops/dense.py", "ops/activations.py", "ops/gaussian.py", "layers.py"} <= rels, rels


@pytest.mark.parametrize("path", BACKWARD_FILES, ids=_rel)
def test_backward_code_imports_neither_numpy_nor_cupy(path):
    bad = _imported_top_levels(_tree(path)) & {"numpy", "cupy"}
    assert not bad, (
        f"minivae/{_rel(path)} defines a backward and imports {sorted(bad)}; "
        "get the array module from minivae.backend (xp = array_module(x)) instead"
    )


def test_the_import_scanner_sees_imports():
    """The scanner itself: it finds every spelling of an import, at any depth."""
    code = (
        "import numpy as np\n"
        "from cupy import asarray\n"
        "def f():\n"
        "    import numpy.linalg\n"
        "    from cupy.cuda import runtime\n"
        "from . import backend\n"
        "from .backend import array_module\n"
    )
    assert _imported_top_levels(ast.parse(code)) == {"numpy", "cupy"}
    assert _defines_backward(ast.parse("class A:\n    def backward(self, dy):\n        pass\n"))
    assert not _defines_backward(ast.parse("def forward(x):\n    pass\n"))


@pytest.mark.parametrize("path", SOURCES, ids=_rel)
def test_no_other_frameworks(path):
    bad = _imported_top_levels(_tree(path)) & {"torch", "jax", "jaxlib", "tensorflow", "keras", "autograd"}
    assert not bad, f"minivae/{_rel(path)} imports {sorted(bad)}"


def test_import_minivae_stays_light():
    heavy = ["matplotlib", "sklearn", "mlxtend", "tqdm", "threadpoolctl"]
    code = (
        "import json, sys\n"
        "import minivae\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MINIVAE_BACKEND"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"`import minivae` imports {loaded}"
