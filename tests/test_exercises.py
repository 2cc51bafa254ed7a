"""The exercises (minivae.exercises): solutions pass, every catalogued mistake fails with its own
diagnosis, the numbers are read when no mistake matches, and the command line behaves for
learners and autograders alike.
"""
import contextlib
import inspect
import io
import json
from pathlib import Path

import numpy as np
import pytest

from minivae import ops
from minivae.cli import main
from minivae.exercises import BY_NAME, CATALOGUE, EXERCISES
from minivae.exercises.checker import check_exercise
from minivae.exercises.workbook import source

MISTAKES = [m for ex in EXERCISES for m in CATALOGUE.get(ex.name, ())]

#: a workbook made of the library's own functions: the answer key
LIBRARY_WORKBOOK = """\
from minivae.ops import (dense_backward, relu_backward, sigmoid_backward, tanh_backward, mse, bce_with_logits,
                         kl_standard_normal, reparameterize_backward)
from minivae.models.sparse import kl_sparsity
from minivae.exercises.solutions import adam_step, contractive_penalty, vae_backward
from minivae.ops import conv2d_backward
"""


def run(*argv):
    """``main(argv)`` with stdout and stderr captured: ``(status, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["exercises", *map(str, argv)])
    return status, out.getvalue(), err.getvalue()


def workbook(tmp_path, text):
    (tmp_path / "workbook.py").write_text(text, encoding="utf-8")
    return tmp_path


# ---------------------------------------------------------------------- the answer key and the catalogue
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_the_library_passes_every_exercise(exercise):
    result = check_exercise(exercise, exercise.solution)
    assert result.status == "passed", (result.problem, result.diagnosis)
    assert result.max_rel_error <= 1e-6 and result.cases >= 4


def test_the_catalogue_has_the_classic_mistakes_the_course_needs():
    keys = [m.key for m in MISTAKES]
    assert len(keys) >= 25 and len(set(keys)) == len(keys)
    assert {e.name for e in EXERCISES} == set(CATALOGUE), "every exercise has catalogued mistakes"
    named = {"db_averaged", "dW_divided_by_B", "dW_transposed", "mse_gradient_without_B", "kl_summed_over_batch",
             "reparam_variance_for_std", "kl_missing_half", "reparam_missing_half", "sigmoid_slope_of_output",
             "mse_sign_flipped", "adam_without_bias_correction", "adam_step_count_stuck", "vae_without_kl_branch",
             "vae_mu_head_only", "bce_from_log_sigmoid"}
    assert named <= set(keys)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.key)
def test_each_catalogued_mistake_fails_with_its_own_diagnosis(mistake):
    result = check_exercise(BY_NAME[mistake.exercise], mistake.fn)
    assert result.status == "failed" and result.problem
    assert result.diagnosis == (f"This is a classic mistake: {mistake.what} Reread docs/derivations.md "
                                f"{mistake.section}.")
    assert [m.key for m in MISTAKES if m.what in result.diagnosis] == [mistake.key]


# ---------------------------------------------------------------------- reading the numbers
def test_an_uncatalogued_lost_one_over_B_is_read_from_the_numbers():
    def kl(mu, logvar):
        value, _, dlogvar = ops.kl_standard_normal(mu, logvar)
        return value, mu.copy(), dlogvar  # 1/B forgotten in dmu only: not in the catalogue

    result = check_exercise(BY_NAME["kl_standard_normal"], kl)
    assert result.status == "failed" and "dmu is wrong" in result.problem and "numeric" in result.problem
    assert result.diagnosis.startswith("Your dmu is 5 = B times the true one everywhere (B = 5, the batch size).")
    assert result.diagnosis.endswith("Reread docs/derivations.md §5.1 (KL divergence between N(μ, σ²) and N(0, 1)).")


def test_a_leaky_relu_is_wrong_where_x_is_negative():
    result = check_exercise(BY_NAME["relu_backward"], lambda dout, c: dout * np.where(c.x > 0, 1.0, 0.01))
    assert "exactly 0 where x < 0" in result.problem
    assert result.diagnosis.startswith("Your dx is wrong exactly where x < 0 (and right where x > 0).")


def test_a_wrong_shape_a_wrong_dtype_and_an_exception_are_reported():
    def shaped(dout, cache):
        dx, dW, db = ops.dense_backward(dout, cache)
        return dx, dW, db[:, None]

    assert "db has shape" in check_exercise(BY_NAME["dense_backward"], shaped).problem
    f32 = check_exercise(BY_NAME["tanh_backward"], lambda d, c: (d * (1 - c.out**2)).astype(np.float32))
    assert "dtype float32" in f32.problem
    raised = check_exercise(BY_NAME["dense_backward"], lambda dout, c: (dout @ c.W, c.x.T @ dout, dout.sum(0)),
                            workbook=__file__)
    assert "raised ValueError" in raised.problem and f"{Path(__file__).name}, line" in raised.problem
    assert "matrix product" in raised.diagnosis


def test_writing_into_an_input_or_returning_it_fails():
    def in_place(dout, cache):
        dout[cache.x < 0] = 0.0
        return dout.copy()

    assert "wrote into its argument dout" in check_exercise(BY_NAME["relu_backward"], in_place).problem
    same = check_exercise(BY_NAME["reparameterize_backward"], lambda dz, c: (dz, 0.5 * dz * c.std * c.eps))
    assert "is its argument dz itself" in same.problem


def test_a_meaning_test_speaks_where_the_numbers_alone_would_not():
    def negative(mu, logvar):
        value, dmu, dlogvar = ops.kl_standard_normal(mu, logvar)
        return -value, dmu, dlogvar

    assert "a KL divergence is never negative" in check_exercise(BY_NAME["kl_standard_normal"], negative).problem


# ---------------------------------------------------------------------- the workbook
def test_each_stub_has_the_library_name_signature_and_a_docstring_that_points_to_the_maths():
    namespace = {}
    exec(compile(source(EXERCISES, "w"), "workbook.py", "exec"), namespace)
    positional = (inspect.Parameter.POSITIONAL_OR_KEYWORD,)
    for e in EXERCISES:
        stub = namespace[e.name]
        mine = [p.name for p in inspect.signature(stub).parameters.values() if p.kind in positional]
        lib = [p.name for p in inspect.signature(e.solution).parameters.values() if p.kind in positional]
        assert mine == lib, e.name
        doc = stub.__doc__
        assert f"docs/derivations.md {e.section}" in doc and "Solution: the library's own source" in doc
        assert "Returns" in doc and "Parameters" in doc
        if ", cache" in e.signature:  # a backward whose forward half comes from the library
            assert "The forward half comes from the library" in doc and "named tuple" in doc
        with pytest.raises(NotImplementedError):
            stub(*[None] * len(mine))


def test_start_writes_the_stubs_and_check_calls_them_not_started(tmp_path):
    status, out, _ = run("start", tmp_path)
    assert status == 0 and f"wrote {len(EXERCISES)} exercises" in out
    text = (tmp_path / "workbook.py").read_text()
    assert [line.split("(")[0][4:] for line in text.splitlines() if line.startswith("def ")] == list(BY_NAME)
    status, out, _ = run("check", tmp_path, "--json")
    assert status == 1
    assert json.loads(out) == [{"exercise": n, "status": "not started", "max_rel_error": None, "diagnosis": None}
                               for n in BY_NAME]


def test_start_never_overwrites_without_force_and_hands_out_a_subset(tmp_path):
    run("start", tmp_path)
    (tmp_path / "workbook.py").write_text("# my work\n")
    status, _, err = run("start", tmp_path, "--only", "mse")
    assert status == 2 and "exists already" in err and "--force" in err
    assert (tmp_path / "workbook.py").read_text() == "# my work\n"
    assert run("start", tmp_path, "--only", "mse", "relu_backward", "--force")[0] == 0
    status, out, _ = run("check", tmp_path)
    assert status == 1 and "relu_backward" in out and "mse" in out and "dense_backward" not in out
    status, out, _ = run("check", tmp_path, "--only", "tanh_backward", "--json")
    assert json.loads(out)[0]["status"] == "not started" and "no function tanh_backward" in out
    status, _, err = run("start", tmp_path, "--only", "relu")
    assert status == 2 and "no exercise called 'relu'" in err


def test_a_workbook_that_does_not_import_gives_one_line(tmp_path):
    workbook(tmp_path, "import numpy as np\n\ndef relu_backward(dout, cache)\n    return dout\n")
    status, out, err = run("check", tmp_path)  # a verdict, on stdout: nothing on stderr for a grader to trip on
    assert status == 1 and err == ""
    line = "the workbook does not import: workbook.py, line 3: SyntaxError: expected ':': def relu_backward(dout, cache)"
    assert line in out.splitlines()
    status, out, _ = run("check", tmp_path, "--json", "--only", "relu_backward")
    assert status == 1 and "line 3" in json.loads(out)[0]["diagnosis"]
    workbook(tmp_path, "x = 1\nimport no_such_module_for_minivae\n")
    status, out, err = run("check", tmp_path)
    assert err == "" and "workbook.py, line 2: ModuleNotFoundError" in out and "Traceback" not in out


def test_the_exit_status_and_json_serve_an_autograder(tmp_path):
    workbook(tmp_path, LIBRARY_WORKBOOK)
    status, out, _ = run("check", tmp_path)
    assert status == 0 and f"{len(EXERCISES)} passed." in out
    workbook(tmp_path, LIBRARY_WORKBOOK + "\ndef mse(pred, target):\n    d = pred - target\n"
                                          "    return (d * d).sum() / len(d), 2 * d\n")
    status, out, _ = run("check", tmp_path, "--json")
    rows = json.loads(out)
    assert status == 1 and all(set(r) == {"exercise", "status", "max_rel_error", "diagnosis"} for r in rows)
    wrong = [r for r in rows if r["status"] != "passed"]
    assert [r["exercise"] for r in wrong] == ["mse"] and wrong[0]["status"] == "failed"
    trap = next(m for m in MISTAKES if m.key == "mse_gradient_without_B")
    assert wrong[0]["max_rel_error"] > 0.5 and trap.what in wrong[0]["diagnosis"]
    assert "§0 (Notation and conventions: the one reduction)" in wrong[0]["diagnosis"]
    assert run("check", tmp_path, "--only", "relu_backward", "kl_sparsity")[0] == 0
    assert run("check", tmp_path / "nowhere")[0] == 2


# ---------------------------------------------------------------------- the docs say what the code does
ROOT = Path(__file__).resolve().parent.parent
DENSE_WITH_MEAN = """
import numpy as np

def dense_backward(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)
"""


def fenced_after(text, marker):
    """The first fenced block after ``marker`` in ``text``."""
    rest = text[text.index(marker):]
    start = rest.index("```") + len(rest[rest.index("```"):].split("\n", 1)[0]) + 1
    return rest[start:rest.index("```", start)]


@pytest.mark.parametrize("doc", ["README.md", "docs/exercises.md"])
def test_the_diagnosis_shown_in_the_docs_is_the_real_output(tmp_path, doc):
    workbook(tmp_path, DENSE_WITH_MEAN)
    status, out, _ = run("check", tmp_path)
    shown = fenced_after((ROOT / doc).read_text(encoding="utf-8"), "`db = dout.mean(axis=0)`")
    assert status == 1 and shown.strip() and shown.strip() in out


def test_the_docs_list_the_whole_catalogue_and_their_examples_run(tmp_path, monkeypatch, capsys):
    text = (ROOT / "docs/exercises.md").read_text(encoding="utf-8")
    flowing = " ".join(text.split())
    assert all(f"`{m.key}`" in text for m in MISTAKES) and f"{len(MISTAKES)} in all" in flowing
    assert f"knows {len(MISTAKES)} classic mistakes" in " ".join((ROOT / "README.md").read_text().split())
    assert len(EXERCISES) == 13 and "thirteen stubs" in (ROOT / "README.md").read_text(encoding="utf-8")
    exec(fenced_after(text, "The library's own gradient checker"), {})
    assert capsys.readouterr().out.strip() == fenced_after(text, "prints").strip()
    workbook(tmp_path, LIBRARY_WORKBOOK)  # the grader's snippet, run for real in the learner's folder
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    exec(fenced_after(text, "In an nbgrader test cell"), {})
    workbook(tmp_path, "def relu_backward(dout, cache):\n    return dout\n")
    with pytest.raises(AssertionError, match="Your dx is wrong exactly where x < 0"):
        exec(fenced_after(text, "In an nbgrader test cell"), {})
