"""The floors of the house: who may import what.

- Code that derives gradients (any module defining a ``*backward`` function or method)
  never imports numpy or cupy: it asks :mod:`minivae.backend` for the array module of
  its inputs, so the same code runs on either.
- Nothing in the library imports another array/autograd framework.
- ``import minivae`` stays light: plotting, scikit-learn, mlxtend, tqdm and threadpoolctl
  are imported only where they are used.
- The README's reading guide lists the library in an order a student can follow: each
  file imports only from the entries before it, but for the two exceptions it names.
"""
import ast
import json
import re
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


# ---------------------------------------------------------------------------
# the README's reading guide: each file imports only from the ones before it
# ---------------------------------------------------------------------------
README = ROOT / "README.md"
#: modules (or packages) a file may use wherever it stands in the guide: small helpers of no floor
HELPERS = {"_checks", "init", "datasets", "plots", "__init__"}


def _guide_order():
    """Module path -> the number of its entry in the README's reading guide (a folder: all its modules)."""
    text = README.read_text(encoding="utf-8")
    guide = text[text.index("## Reading guide"):text.index("## The tests")]
    items = re.findall(r"^(\d+)\. (.*(?:\n   .*)*)", guide, re.M)
    rank = {}
    for number, item in items:
        folder = "minivae"
        for ref in re.findall(r"`(minivae/[\w/.]+|\w+\.py)`", item):
            if ref.startswith("minivae/"):
                folder = ref.rsplit("/", 1)[0] if ref.endswith(".py") else ref.rstrip("/")
            else:  # a bare name such as `cvae.py` continues the folder of the entry before it
                ref = f"{folder}/{ref}"
            target = ROOT / ref
            for path in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
                rank.setdefault(path, int(number))
    for path in list(rank):  # importing a package imports every module of it
        init = path.parent / "__init__.py"
        if path.parent != PACKAGE:
            rank[init] = max(rank.get(init, 0), rank[path])
    return rank


#: the two exceptions the guide names: fit calls the loop; the ops hand CuPy arrays to their kernels
EXCEPTIONS = {("models/base.py", "train.py")} | {
    (f"ops/{name}.py", "ops/kernels.py") for name in ("activations", "dense", "losses", "gaussian")}


def _internal_imports(path):
    """The minivae modules ``path`` imports (relative imports resolved), at any depth."""
    package = path.relative_to(PACKAGE).parent.parts
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            parts = (*base, *(node.module.split(".") if node.module else ()))
            names = [(*parts, alias.name) for alias in node.names] if not node.module else [parts]
            for target in names:
                for candidate in (PACKAGE.joinpath(*target).with_suffix(".py"), PACKAGE.joinpath(*target, "__init__.py")):
                    if candidate.exists():
                        found.add(candidate)
                        break
    return found


def test_the_reading_guide_lists_the_library_in_import_order():
    rank = _guide_order()
    assert {PACKAGE / "backend.py", PACKAGE / "models" / "cvae.py", PACKAGE / "cli" / "train.py"} <= set(rank), rank
    bad = []
    for path in rank:
        for target in _internal_imports(path):
            first = target.relative_to(PACKAGE).parts[0]
            if first.removesuffix(".py") in HELPERS:  # a helper module, or a module of a helper package
                continue
            if target not in rank:
                bad.append(f"{_rel(path)} imports {_rel(target)}, which the guide does not list")
            elif rank[target] > rank[path] and (_rel(path), _rel(target)) not in EXCEPTIONS:
                bad.append(f"{_rel(path)} (entry {rank[path]}) imports {_rel(target)} (entry {rank[target]})")
    assert not bad, "\n".join(bad)
