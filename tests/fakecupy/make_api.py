"""Write ``cupy_api.json``: the names and call signatures of CuPy's public API.

The stand-in (``tests/fakecupy``) refuses any name or keyword that is not in that file,
so that code which runs on the stand-in does not call something CuPy lacks. CuPy cannot
be installed here (no GPU, no CUDA), so the list is read from CuPy's *source*: the sdist
of the version below, which holds the Python and Cython files (the wheel holds only the
compiled ones). ``pip download --no-binary :all: cupy`` fetches it but then fails to build
its metadata without CUDA's headers, so fetch the file itself from PyPI's page of the
release (https://pypi.org/project/cupy/14.2.0/#files, ``cupy-14.2.0.tar.gz``)::

    tar xzf cupy-14.2.0.tar.gz
    python tests/fakecupy/make_api.py cupy-14.2.0 > tests/fakecupy/cupy_api.json

What it reads:

- ``cupy/__init__.py``: every ``from MODULE import NAME [as ALIAS]`` is a public name;
  ``from numpy import ...`` names (dtypes, ``finfo``, constants) are NumPy's own objects;
- the module that defines each name: a ``def`` (Python or Cython ``def``/``cpdef``) gives
  its parameters; an assignment from ``create_ufunc``/``create_math_ufunc``/... makes it a
  ufunc (called as ``f(*inputs, out=None, dtype=None, casting=...)``, the keywords of
  ``ufunc.__call__`` in ``cupy/_core/_kernel.pyx``);
- ``cupy/_core/core.pyx``: the methods of ``ndarray``;
- ``cupy/random/_generator_api.pyx`` and ``cupy/random/__init__.py``: ``default_rng`` and
  the methods of ``Generator``;
- ``ElementwiseKernel.__init__`` and ``__call__`` in ``cupy/_core/_kernel.pyx``.
"""
from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

UFUNC_MAKERS = ("create_ufunc", "create_math_ufunc", "create_comparison", "create_arithmetic",
                "_create_float_test_ufunc", "create_reduction_func")
CYTHON_TYPES = r"(?:const\s+)?(?:unsigned\s+)?(?:int|bint|float|double|str|tuple|list|dict|object|" \
               r"Py_ssize_t|size_t|_ndarray_base|ndarray|shape_t|intptr_t|slice|bytes|[A-Z]\w*)\s*\**\s+"


def _params_of(arglist):
    """``"self, a, int axis=-1, *, b=None, **kw"`` -> ``[[name, kind, default or None], ...]``."""
    text = re.sub(r"#.*", "", arglist)
    text = re.sub(r"(?<![\w.=])" + CYTHON_TYPES + r"(?=\w)", "", text)
    text = text.replace(" not None", "")
    fn = ast.parse(f"def f({text}):\n    pass").body[0]
    a = fn.args
    out = []
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for p, d in zip(positional, defaults):
        out.append([p.arg, "positional_or_keyword", None if d is None else ast.unparse(d)])
    if a.vararg:
        out.append([a.vararg.arg, "var_positional", None])
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append([p.arg, "keyword_only", None if d is None else ast.unparse(d)])
    if a.kwarg:
        out.append([a.kwarg.arg, "var_keyword", None])
    if out and out[0][0] in ("self", "cls", "x") and arglist.strip().startswith(("self", "cls")):
        out = out[1:]
    return out


def _find_def(text, name, indent=""):
    """The parameter text of ``def name(...)`` / ``cpdef TYPE name(...)`` at ``indent``, or None."""
    m = re.search(rf"^{indent}(?:c?p?def)\s+(?:[\w.\[\]]+\s+)?{re.escape(name)}\s*\(", text, re.M)
    if m is None:
        return None
    depth, i = 1, m.end()
    while depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    return text[m.end():i - 1]


def _module_file(root, module):
    base = root / Path(*module.split("."))
    for cand in (base.with_suffix(".py"), base.with_suffix(".pyx"), base / "__init__.py"):
        if cand.exists():
            return cand
    return None


def _describe(root, module, name, seen=0):
    """``{"kind": ..., "params": ...}`` for ``name`` defined in ``module``."""
    path = _module_file(root, module)
    if path is None or seen > 4:
        return {"kind": "unknown"}
    text = path.read_text()
    args = _find_def(text, name)
    if args is not None:
        return {"kind": "function", "params": _params_of(args)}
    m = re.search(rf"^{re.escape(name)}\s*=\s*([\w.]+)\s*\(", text, re.M)
    if m and m.group(1).split(".")[-1] in UFUNC_MAKERS:
        return {"kind": "ufunc"}
    m = re.search(rf"^from\s+([\w.]+)\s+import\s+(?:\(?[^)]*?\b(\w+)\s+as\s+)?{re.escape(name)}\b", text, re.M)
    if m:
        return _describe(root, m.group(1), m.group(2) or name, seen + 1)
    m = re.search(rf"^{re.escape(name)}\s*=\s*(?:\w+\s*=\s*)*([\w.]+)\s*$", text, re.M)
    if m:
        target = m.group(1)
        if target.startswith("_core."):  # an alias of a routine of cupy/_core/*.pyx
            return _describe_core(root, target.split(".")[-1], seen + 1)
        return _describe(root, module, target.split(".")[-1], seen + 1)
    m = re.search(rf"^{re.escape(name)}\s*=\s*_GUFunc\(", text, re.M)
    if m:  # matmul: a generalized ufunc, called as f(a, b, out=None, ...)
        return {"kind": "gufunc"}
    if re.search(rf"^(?:cdef\s+)?class\s+{re.escape(name)}\b", text, re.M):
        return {"kind": "class"}
    return {"kind": "unknown"}


def _describe_core(root, name, seen):
    """``name`` defined (or aliased) in one of ``cupy/_core/*.pyx``."""
    for path in sorted((root / "cupy" / "_core").glob("*.pyx")):
        text = path.read_text()
        m = re.search(rf"^(?:cdef\s+\w+\s+)?{re.escape(name)}\s*=\s*([\w.]+)\s*(\(|$)", text, re.M)
        if m and m.group(2) == "(" and m.group(1).split(".")[-1] in UFUNC_MAKERS:
            return {"kind": "ufunc"}
        if m and m.group(2) == "" and seen < 6:
            return _describe_core(root, m.group(1), seen + 1)
        args = _find_def(text, name)
        if args is not None:
            return {"kind": "function", "params": _params_of(args)}
    return {"kind": "unknown"}


def _methods(text, cls_pattern):
    """``{method: params}`` of the class whose header matches ``cls_pattern``."""
    m = re.search(cls_pattern, text, re.M)
    end = re.search(r"^(?:cdef\s+)?class\s", text[m.end():], re.M)
    body = text[m.end():m.end() + end.start()] if end else text[m.end():]
    out = {}
    properties = set(re.findall(r"^    @property\s*\n\s*(?:c?p?def)\s+(?:[\w.]+\s+)?(\w+)\s*\(", body, re.M))
    for name in sorted(set(re.findall(r"^    (?:c?p?def)\s+(?:[\w.]+\s+)?(\w+)\s*\(", body, re.M))):
        if name in properties:
            out[name] = "property"
            continue
        try:
            out[name] = _params_of(_find_def(body, name, indent="    "))
        except SyntaxError:
            out[name] = "unparsed"
    return out


def main(src):
    root = Path(src)
    top = (root / "cupy" / "__init__.py").read_text()
    names = {}
    for node in ast.parse(top).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                public = alias.asname or alias.name
                if public.startswith("_"):
                    continue
                if node.module == "cupy":  # from cupy import cuda, fft, ...: a submodule
                    names[public] = {"kind": "module"}
                elif node.module == "numpy":
                    names[public] = {"kind": "numpy"}
                elif node.module.startswith("cupy"):
                    names[public] = _describe(root, node.module, alias.name)
        elif isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            names[node.name] = {"kind": "function", "params": _params_of(ast.unparse(node.args))}
    for sub in ("cuda", "fft", "linalg", "random", "testing", "polynomial"):
        names.setdefault(sub, {"kind": "module"})
    kernel = (root / "cupy/_core/_kernel.pyx").read_text()
    random_api = (root / "cupy/random/_generator_api.pyx").read_text()
    api = {
        "source": f"CuPy {root.name.split('-')[-1]} (sdist sources, read by tests/fakecupy/make_api.py)",
        "cupy": dict(sorted(names.items())),
        "ndarray": _methods((root / "cupy/_core/core.pyx").read_text(), r"^cdef class _ndarray_base\b.*:$"),
        "ufunc.__call__": ["out", "_where", "dtype", "casting"],
        "ElementwiseKernel.__init__": _methods(kernel, r"^cdef class ElementwiseKernel\b.*:$")["__init__"],
        "ElementwiseKernel.__call__": ["size", "stream", "block_size"],
        "random": {"default_rng": _params_of(_find_def((root / "cupy/random/__init__.py").read_text(),
                                                         "default_rng"))},
        "random.Generator": _methods(random_api, r"^class Generator\b.*:$"),
    }
    json.dump(api, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "cupy-14.2.0")
