"""Every formula a student reads renders: docs/derivations.md and the docstrings' maths.

Students read ``docs/derivations.md`` on GitHub, whose Markdown pass runs before its
maths renderer and can eat a backslash (``\\,``, ``\\\\``) or turn ``_`` into emphasis. So
the doc writes display maths as ```` ```math ```` blocks and inline maths as
``$`...`$``, where Markdown leaves the text alone (GitHub's documentation on writing
mathematical expressions), and no bare ``$`` is left. The docstrings' ``.. math::``
blocks and ``:math:`` roles are taken as Sphinx would hand them to its renderer.

Each formula is then parsed by KaTeX, a real TeX-to-HTML renderer, in one Node process
for all of them (``tests/js``; ``.ci/run`` installs it with ``npm ci``). Without Node or
KaTeX the rendering test skips and says what is missing; the extraction tests run anyway.
"""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "derivations.md"
JS = ROOT / "tests" / "js"
CODE_SPAN = re.compile(r"(`+)(.*?)\1")
ROLE = re.compile(r":math:`([^`]*)`")
FENCE = re.compile(r"^\s*(```+|~~~+)\s*(\w*)")


# ----------------------------------------------------------------------------- extraction
def markdown_formulas(text, name="doc"):
    """``(formulas, problems)`` of a Markdown text.

    formulas: ``[(where, tex, display), ...]`` from ```` ```math ```` blocks (display)
    and ``$`...`$`` spans (inline). problems: ``[(where, message), ...]`` for maths
    GitHub's Markdown could spoil: a ``$`` outside those two forms and outside code, a
    ``|`` inside a formula in a table row (it ends the cell), a fence never closed.
    """
    formulas, problems = [], []
    lines = text.split("\n")
    n = 0
    while n < len(lines):
        line = lines[n]
        fence = FENCE.match(line)
        if fence:
            marker, info = fence.groups()
            start, body = n + 2, []  # 1-based number of the block's first line
            n += 1
            while n < len(lines) and not lines[n].strip().startswith(marker):
                body.append(lines[n])
                n += 1
            if n == len(lines):
                problems.append((f"{name}:{start - 1}", f"the {marker} block opened here is never closed"))
            if info == "math":
                formulas.append((f"{name}:{start}", textwrap.dedent("\n".join(body)).strip(), True))
            n += 1
            continue
        where = f"{name}:{n + 1}"
        rest, last = [], 0
        for span in CODE_SPAN.finditer(line):  # code spans, left to right as Markdown reads them
            start, end = span.span()
            if line[start - 1:start] == "$" and line[end:end + 1] == "$" and len(span.group(1)) == 1:
                formulas.append((where, span.group(2), False))  # $`...`$: inline maths
                start, end = start - 1, end + 1
                if line.lstrip().startswith("|") and "|" in span.group(2):
                    problems.append((where, "a '|' in a formula splits a table cell (write \\vert or \\mid)"))
            rest.append(line[last:start])
            last = end
        rest.append(line[last:])
        if "$" in "".join(rest):
            problems.append((where, "a '$' outside ```math and $`...`$ (GitHub's Markdown may spoil it): "
                             + line.strip()))
        n += 1
    return formulas, problems


def _docstrings(path):
    """``(qualified name, docstring)`` of the module and of every class and function in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [(path.stem, ast.get_docstring(tree, clean=True))]
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append((node.name, ast.get_docstring(node, clean=True)))
    return [(name, doc) for name, doc in found if doc]


def docstring_formulas(doc, where):
    """The formulas of one docstring, as Sphinx's MathJax output hands them over.

    A ``.. math::`` block is its argument plus the lines indented below it; blank lines
    split it into equations, and an equation holding ``\\\\`` is wrapped in
    ``split`` (what ``sphinx.ext.mathjax`` does). ``:math:`` roles are inline.
    """
    formulas = []
    lines = doc.split("\n")
    for n, line in enumerate(lines):
        head = re.match(r"^(\s*)\.\. math::(.*)$", line)
        if not head:
            continue
        indent, body = len(head.group(1)), [head.group(2)]
        for more in lines[n + 1:]:
            if more.strip() and len(more) - len(more.lstrip()) <= indent:
                break
            body.append(more)
        block = textwrap.dedent("\n".join(body[1:]))
        text = (body[0].strip() + "\n" + block).strip()
        for part in (p.strip() for p in re.split(r"\n\s*\n", text)):
            if part:
                tex = f"\\begin{{split}}{part}\\end{{split}}" if "\\\\" in part else part
                formulas.append((f"{where} (.. math::)", tex, True))
    for m in ROLE.finditer(doc):
        formulas.append((f"{where} (:math:)", " ".join(m.group(1).split()), False))
    return formulas


def all_formulas():
    doc_found, problems = markdown_formulas(DOC.read_text(encoding="utf-8"), "docs/derivations.md")
    found = list(doc_found)
    for path in sorted((ROOT / "minivae").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for name, doc in _docstrings(path):
            found += docstring_formulas(doc, f"{rel}:{name}")
    return found, problems


# ----------------------------------------------------------------------------- KaTeX
def _katex_or_skip():
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (no `node` on PATH): cannot run KaTeX on the formulas")
    if not (JS / "node_modules" / "katex" / "package.json").exists():
        pytest.skip("KaTeX is not installed: run `npm ci` in tests/js (.ci/run does it in CI)")
    return node


def katex_failures(formulas):
    """Run KaTeX once on every ``(where, tex, display)``; return its failures."""
    node = _katex_or_skip()
    payload = json.dumps([{"where": w, "tex": t, "display": d} for w, t, d in formulas])
    done = subprocess.run([node, str(JS / "check_formulas.js")], input=payload, capture_output=True,
                          text=True, timeout=120, cwd=JS)
    assert done.returncode == 0, f"the KaTeX script failed:\n{done.stderr}"
    return json.loads(done.stdout)


# ----------------------------------------------------------------------------- tests
def test_the_doc_has_no_maths_that_markdown_could_spoil():
    _, problems = all_formulas()
    assert not problems, "\n".join(f"{w}: {msg}" for w, msg in problems)


def test_the_extractors_find_the_formulas():
    """Enough formulas are found (so the rendering test checks something), of each kind."""
    found, _ = all_formulas()
    doc = [f for f in found if f[0].startswith("docs/")]
    code = [f for f in found if f[0].startswith("minivae/")]
    assert sum(d for _, _, d in doc) >= 60 and sum(not d for _, _, d in doc) >= 600, len(doc)
    assert sum(d for _, _, d in code) >= 30 and sum(not d for _, _, d in code) >= 150, len(code)
    assert any("optim.py:Adam" in w and t.startswith("\\begin{split}") for w, t, _ in code)


def test_the_markdown_extractor_reads_each_form_and_flags_a_bare_dollar():
    text = "\n".join([
        "Inline $`a_{b}`$ and `code $x$` and $`c`$.",
        "```math",
        "  x = \\frac{1}{2}",
        "```",
        "```python",
        "cost = '$5'",
        "```",
        "A bare $x_1$ here.",
        "| $`|x|`$ | cell |",
    ])
    formulas, problems = markdown_formulas(text, "t")
    assert formulas[:3] == [("t:1", "a_{b}", False), ("t:1", "c", False), ("t:3", "x = \\frac{1}{2}", True)]
    assert [w for w, _ in problems] == ["t:8", "t:9"]


def test_the_docstring_extractor_splits_equations_like_sphinx():
    doc = textwrap.dedent(r"""
        Text :math:`a +
        b` more.

        .. math:: x = 1

        .. math::

            p &= q \\
            r &= s

            t = u

        After.
    """)
    found = docstring_formulas(doc, "f")
    assert [(t, d) for _, t, d in found] == [
        ("x = 1", True), ("\\begin{split}p &= q \\\\\nr &= s\\end{split}", True), ("t = u", True),
        ("a + b", False)]


def test_every_formula_renders_with_katex():
    found, _ = all_formulas()
    failures = katex_failures(found)
    assert not failures, "\n\n".join(f"{f['where']}:\n  {f['tex']}\n  {f['error']}" for f in failures)


def test_katex_rejects_a_broken_formula():
    """The rendering check can fail: an unclosed brace and an '&' outside an environment."""
    failures = katex_failures([("ok", "\\frac{a}{b}", True), ("brace", "\\frac{a}{b", True),
                               ("amp", "a &= b", True)])
    assert [f["where"] for f in failures] == ["brace", "amp"]
