"""The checker judges, the learner's code only answers: a workbook runs in a child process
(minivae.exercises.isolation), and whatever it does there (exit, _exit, fork, print, hang,
write into its arguments, replace the checker's functions) is one failed exercise with its
own line, while the report, the exit status and the JSON stay the checker's.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from minivae.cli import exercises as cli
from minivae.exercises import BY_NAME
from minivae.exercises.checker import check_exercise
from minivae.exercises.isolation import TIMEOUT, Session
from minivae.exercises.solutions import adam_step
from tests.test_exercises import LIBRARY_WORKBOOK, run, workbook

ROOT = Path(__file__).resolve().parent.parent

#: one workbook of many functions, each misbehaving in its own way, called through one child
ZOO = '''
import os, sys
import numpy as np
from minivae.exercises.solutions import adam_step as library_adam

print("imported")

def relu_view(dout, cache):
    return dout[...] * (cache.x > 0)

def reparam_view(dz, cache):
    return dz[...], 0.5 * dz * cache.std * cache.eps

def adam_g_squared(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    s["t"] += 1
    s["m"] *= beta1
    s["m"] += (1 - beta1) * g
    g *= g                          # g² for v, written into the caller's gradient: p, m, v all right
    s["v"] *= beta2
    s["v"] += (1 - beta2) * g
    p -= lr * (s["m"] / (1 - beta1 ** s["t"])) / (np.sqrt(s["v"] / (1 - beta2 ** s["t"])) + eps)

def adam_rebinds_p(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    new = p.copy()
    library_adam(new, g, s, lr, beta1, beta2, eps)
    p = new

def adam_betas_swapped(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    library_adam(p, g, s, lr, beta2, beta1, eps)

def adam_abs_g(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    s["t"] += 1
    s["m"] *= beta1
    s["m"] += (1 - beta1) * g
    s["v"] *= beta2
    s["v"] += (1 - beta2) * np.abs(g)
    p -= lr * (s["m"] / (1 - beta1 ** s["t"])) / (np.sqrt(s["v"] / (1 - beta2 ** s["t"])) + eps)

def tanh_writes_dout(dout, cache):
    dout *= 1 - cache.out ** 2
    return dout.copy()

def tanh_exits(dout, cache):
    sys.exit(3)

def tanh_forks(dout, cache):
    os.fork()  # the copy returns too, and ends without replying
    return dout * (1 - cache.out ** 2)

def tanh_prints(dout, cache):
    print("shape", dout.shape)
    return dout * (1 - cache.out ** 2)

def tanh_lambda(dout, cache):
    return lambda: dout

def tanh_raises(dout, cache):
    raise KeyError('w')
'''


def line_of(text, code):
    """The number of the line of ``text`` that is ``code`` (indented)."""
    return [line.strip() for line in text.splitlines()].index(code) + 1


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    path = tmp_path_factory.mktemp("zoo") / "workbook.py"
    path.write_text(ZOO, encoding="utf-8")
    with Session(str(path)) as session:
        defined = session.open()
        assert defined["tanh_raises"] == "function" and session.output() == "imported\n"
        yield session


def check(zoo, exercise, name):
    return check_exercise(BY_NAME[exercise], zoo.function(name), zoo.path)


# ---------------------------------------------------------------------- what is measured in the child
@pytest.mark.parametrize("where", ["here", "child"])
def test_a_view_of_an_argument_is_caught_by_memory_not_identity(zoo, where):
    def reparam_view(dz, cache):
        return dz[...], 0.5 * dz * cache.std * cache.eps  # dz[...] is a new object on dz's memory

    fn = reparam_view if where == "here" else zoo.function("reparam_view")
    result = check_exercise(BY_NAME["reparameterize_backward"], fn)
    assert result.status == "failed" and "the dmu it returned is its argument dz itself (or a view" in result.problem
    if where == "child":  # and a view that is computed with makes new memory: no false alarm
        assert check(zoo, "relu_backward", "relu_view").status == "passed"


def test_adam_that_squares_g_in_place_fails(zoo):
    for result in (check(zoo, "adam_step", "adam_g_squared"),
                   check_exercise(BY_NAME["adam_step"], lambda p, g, s, **kw: (np.multiply(g, g, out=g),
                                                                              adam_step(p, np.sqrt(g), s, **kw))[1])):
        assert result.status == "failed"
        assert "it changed its argument g on step 1 of 4" in result.problem and "g *= g" in result.problem


def test_adam_that_rebinds_p_is_named_as_a_rebinding(zoo):
    result = check(zoo, "adam_step", "adam_rebinds_p")
    assert result.status == "failed"
    assert "it rebound p on step 1 of 4 (p = ...) instead of updating it in place (p -= ...)" in result.problem


@pytest.mark.parametrize("name, rule", [("adam_betas_swapped", "s['m'] does not follow its rule m ← β₁·m"),
                                        ("adam_abs_g", "s['v'] does not follow its rule v ← β₂·v")])
def test_adam_moments_are_judged_by_their_own_rules_before_the_step(zoo, name, rule):
    result = check(zoo, "adam_step", name)
    assert result.status == "failed" and rule in result.problem and "bias correction" not in result.problem


@pytest.mark.parametrize("name, line", [
    ("tanh_writes_dout", "it wrote into its argument dout"),
    ("tanh_exits", f"it raised SystemExit: 3 (workbook.py, line {line_of(ZOO, 'sys.exit(3)')}: sys.exit(3)); "
                   "sys.exit() ends the program"),
    ("tanh_forks", "it called os.fork()"),
    ("tanh_lambda", "it returned a function where arrays or numbers belong"),
    ("tanh_raises", "it raised KeyError: 'w' (workbook.py, line %d: raise KeyError('w'))"
                    % line_of(ZOO, "raise KeyError('w')")),
])
def test_each_misbehaviour_is_one_failed_exercise_with_its_own_line(zoo, name, line):
    result = check(zoo, "tanh_backward", name)
    assert result.status == "failed" and line in result.problem
    assert check(zoo, "tanh_backward", "tanh_prints").status == "passed"  # the child goes on answering


def test_what_a_function_prints_is_captured_per_call(zoo):
    zoo.output()
    assert check(zoo, "tanh_backward", "tanh_prints").status == "passed"
    printed = zoo.output().splitlines()
    assert printed[:2] == ["shape (1, 1)", "shape (5, 3)"] and len(printed) == len(BY_NAME["tanh_backward"]
                                                                                  .make_cases())


# ---------------------------------------------------------------------- the command, as a grader runs it
HOSTILE = '''
import os, sys
import numpy as np
import minivae.exercises.checker as checker
from minivae import ops

checker._judge = lambda *args, **kwargs: (0.0, None)   # "every answer is right"
checker.check_exercise = lambda *args, **kwargs: None
print("hello from the import")
sys.stderr.write("and to stderr\\n")

def dense_backward(dout, cache):
    print("a print in a function")
    return ops.dense_backward(dout, cache)

def relu_backward(dout, cache):
    sys.exit(0)

def sigmoid_backward(dout, cache):
    pid = os.fork()
    return ops.sigmoid_backward(dout, cache)

def tanh_backward(dout, cache):
    return dout                       # wrong: the replaced _judge cannot save it

def mse(pred, target):
    os._exit(0)

def bce_with_logits(logits, target):
    return ops.bce_with_logits(logits, target)   # checked by a fresh child after mse ended the first
'''


def test_json_is_the_checkers_alone_whatever_the_workbook_does(tmp_path, capfd):
    workbook(tmp_path, HOSTILE)
    status, out, err = run("check", tmp_path, "--json")
    leaked = capfd.readouterr()  # the file descriptors 1 and 2 themselves: the child's are its own
    assert status == 1 and err == "" and leaked.out == "" and leaked.err == ""
    rows = {r["exercise"]: r for r in json.loads(out)}  # one report, though it forked
    assert list(rows) == ["dense_backward", "relu_backward", "sigmoid_backward", "tanh_backward", "mse",
                          "bce_with_logits"]
    assert {n for n, r in rows.items() if r["status"] == "passed"} == {"dense_backward", "bce_with_logits"}
    exits = f"it raised SystemExit: 0 (workbook.py, line {line_of(HOSTILE, 'sys.exit(0)')}: sys.exit(0))"
    assert exits in rows["relu_backward"]["diagnosis"]
    assert "it called os.fork()" in rows["sigmoid_backward"]["diagnosis"]
    assert "dx is wrong" in rows["tanh_backward"]["diagnosis"]
    assert rows["mse"]["diagnosis"].startswith("mse ended the process with exit code 0 (on pred (1, 1)")
    assert "hello" not in out and "a print" not in out


def test_a_function_that_never_returns_is_stopped_and_the_others_go_on(tmp_path):
    workbook(tmp_path, "import time\nfrom minivae.ops import mse\n\ndef kl_sparsity(h, rho, beta):\n"
                       "    while True:\n        pass\n\ndef contractive_penalty(h, W, lam):\n    time.sleep(600)\n")
    status, out, err = run("check", tmp_path, "--timeout", "0.3")
    assert status == 1 and err == ""
    assert "kl_sparsity did not return within 0.3 s, and the checker stopped it (on h (1, 1), B = 1" in \
        " ".join(out.split())
    assert "contractive_penalty did not return within 0.3 s" in " ".join(out.split())
    assert "mse passed" in " ".join(out.split())


def test_a_workbook_that_ends_its_process_at_import_fails_every_exercise(tmp_path):
    workbook(tmp_path, "import os\nprint('bye')\nos._exit(0)\n")
    status, out, err = run("check", tmp_path, "--only", "mse", "relu_backward", "--json")
    assert status == 1 and err == ""
    assert [r["diagnosis"] for r in json.loads(out)] == [
        "the workbook does not import: workbook.py ended the process with exit code 0 while it was imported"] * 2


def test_the_text_report_shows_what_each_function_printed_trimmed(zoo):
    from minivae.cli.exercises_report import text
    from minivae.exercises.isolation import KEEP_OUTPUT, _Output

    result = check(zoo, "tanh_backward", "tanh_prints")
    result.output = zoo.output()
    report = text("workbook.py", [result], "imported\n", None)
    assert "      it printed:\n      | shape (1, 1)\n" in report
    assert f"      | ... ({len(result.output.splitlines()) - 8} more lines)" in report
    assert "the workbook printed while it was imported:\n  | imported\n" in report
    flood = _Output()  # what the checker keeps of a flood of output
    flood.add(b"one\ntwo\n" + b"x" * (KEEP_OUTPUT - 8) + b"\n" * 1_234_567)
    result.output = flood.take()
    assert "      | two\n      | x" in text("workbook.py", [result], "", None)
    assert "      | ... (1,234,567 more bytes, not kept)\n" in text("workbook.py", [result], "", None)


# ---------------------------------------------------------------------- Gradescope, and a reader that leaves
#: the keys docs/exercises.md promises for --format gradescope, with their types
GRADESCOPE = {"score": float, "output": str, "tests": list}
GRADESCOPE_TEST = {"name": str, "number": str, "score": float, "max_score": float, "status": str, "output": str}


def test_gradescope_results_follow_the_schema_in_the_docs(tmp_path):
    workbook(tmp_path, LIBRARY_WORKBOOK + "\ndef relu_backward(dout, cache):\n    return dout\n")
    out = tmp_path / "results.json"
    status, printed, err = run("check", tmp_path, "--only", "relu_backward", "mse", "tanh_backward",
                               "--format", "gradescope", "--out", out)
    assert status == 1 and printed == "" and err == ""
    results = json.loads(out.read_text())
    assert {k: type(v) for k, v in results.items()} == GRADESCOPE
    assert all({k: type(v) for k, v in t.items()} == GRADESCOPE_TEST for t in results["tests"])
    assert [(t["name"], t["status"], t["score"]) for t in results["tests"]] == [
        ("relu_backward", "failed", 0.0), ("tanh_backward", "passed", 1.0), ("mse", "passed", 1.0)]
    assert results["score"] == 2.0 and "dx is wrong" in results["tests"][0]["output"]
    docs = (ROOT / "docs/exercises.md").read_text(encoding="utf-8")
    for key in [*GRADESCOPE, *GRADESCOPE_TEST]:
        assert f"`{key}`" in docs
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # the atomic writer follows the umask


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_report_into_a_closed_pipe_ends_quietly(monkeypatch):
    # `check --json | head -1`: the reader is gone before the report is written
    from minivae.cli.exercises_report import emit

    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "w", encoding="utf-8") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        emit("[" * 200000)  # far more than a pipe holds: the write meets the closed end
        stdout.write("]")
        stdout.flush()  # what Python does once more at exit: no second BrokenPipeError either


def test_the_commands_default_time_limit_is_the_checkers():
    assert cli.TIMEOUT == TIMEOUT


# ---------------------------------------------------------------------- the workbook is never lost
def test_start_force_keeps_a_numbered_backup_and_add_appends_stubs(tmp_path):
    mine = "import numpy as np\n\ndef relu_backward(dout, cache):\n    return dout * (cache.x > 0)  # mine\n"
    workbook(tmp_path, mine)
    status, out, _ = run("start", tmp_path, "--add", "relu_backward", "mse", "kl_sparsity")
    assert status == 0 and "added 2 exercises" in out and "already there, left as they are: relu_backward" in out
    text = (tmp_path / "workbook.py").read_text()
    assert text.startswith(mine) and text.count("def relu_backward") == 1
    assert "def mse(pred, target):" in text and "def kl_sparsity(h, rho, beta):" in text
    assert run("start", tmp_path, "--add", "mse")[1].startswith("added 0 exercises")
    for n in (1, 2):
        status, out, _ = run("start", tmp_path, "--force", "--only", "tanh_backward")
        backup = tmp_path / f"workbook-backup-{n}.py"
        assert status == 0 and f"kept the previous workbook as {backup}" in out
    assert (tmp_path / "workbook-backup-1.py").read_text() == text
    assert "def tanh_backward" in (tmp_path / "workbook-backup-2.py").read_text()
    assert oct((tmp_path / "workbook.py").stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    status, _, err = run("start", tmp_path, "--add", "mse", "--force")
    assert status == 2 and "choose one" in err


def test_a_workbook_added_to_still_imports(tmp_path):
    from minivae.exercises.workbook import load

    workbook(tmp_path, "def mse(pred, target):\n    raise NotImplementedError")  # no newline at the end
    run("start", tmp_path, "--add", "relu_backward")
    module = load(str(tmp_path / "workbook.py"))
    for name in ("mse", "relu_backward"):
        with pytest.raises(NotImplementedError):
            getattr(module, name)(None, None)


# ---------------------------------------------------------------------- a reply builds nothing but data
class Sneaky:
    def __reduce__(self):  # unpickled, this would run os.getcwd (any function) in the checker's process
        return os.getcwd, ()


def test_a_reply_is_read_without_building_any_object_the_workbook_chose():
    import io
    import pickle

    from minivae.exercises.child import Foreign, plain
    from minivae.exercises.isolation import _Reader, _unpack

    for chosen in (Sneaky(), np.ones(2)):  # a NumPy array travels as bytes, never as NumPy's own pickle
        with pytest.raises(pickle.UnpicklingError, match="a reply may not hold a .*(getcwd|_reconstruct)"):
            _Reader(io.BytesIO(pickle.dumps(chosen))).load()
    sent = plain((np.arange(6.0).reshape(2, 3), np.float32(2), [1, "a", None], {"k": 1j}, Sneaky(), print))
    back = _unpack(_Reader(io.BytesIO(pickle.dumps(sent))).load())
    assert np.array_equal(back[0], np.arange(6.0).reshape(2, 3)) and back[0].flags.writeable
    assert type(back[1]) is np.float32 and back[2:4] == ([1, "a", None], {"k": 1j})
    assert isinstance(back[4], Foreign) and back[4].kind == "a Sneaky"
    assert back[5].kind == "a builtin_function_or_method"


def test_sys_exit_at_import_is_one_line_too(tmp_path):
    from minivae.exercises.workbook import WorkbookError, load

    workbook(tmp_path, "import sys\n\nsys.exit(2)\n")
    with pytest.raises(WorkbookError, match=r"^workbook.py, line 3: SystemExit: 2$"):
        load(str(tmp_path / "workbook.py"))


def test_where_fork_is_not_used_a_fresh_interpreter_serves_the_same(tmp_path, monkeypatch):
    from minivae.exercises import isolation

    monkeypatch.setattr(isolation, "FORK", False)  # the path taken off Linux
    workbook(tmp_path, "from minivae.ops import tanh_backward\n\ndef mse(pred, target):\n    print('hi')\n"
                       "    raise SystemExit(4)\n")
    with Session(str(tmp_path / "workbook.py")) as session:
        assert session.open()["mse"] == "function"
        assert check_exercise(BY_NAME["tanh_backward"], session.function("tanh_backward")).status == "passed"
        result = check_exercise(BY_NAME["mse"], session.function("mse"), session.path)
        assert "it raised SystemExit: 4 (workbook.py, line 5: raise SystemExit(4))" in result.problem
        assert set(session.output().splitlines()) == {"hi"}
        assert not isinstance(session._child.process, isolation._Forked)


def test_a_profiler_at_work_is_left_in_place():
    import cProfile

    profiler = cProfile.Profile()  # (a C profiler: sys.setprofile could not put it back)
    profiler.enable()
    try:
        result = check_exercise(BY_NAME["adam_step"], adam_step)
    finally:
        profiler.disable()
    assert result.status == "passed" and sys.getprofile() is None
    # (a substring: under mutation testing the function runs under a longer name)
    assert any("_run_adam" in e.code.co_name for e in profiler.getstats() if not isinstance(e.code, str))


def test_floating_point_warnings_in_the_child_are_silenced_as_here(tmp_path):
    workbook(tmp_path, "import numpy as np\n\ndef relu_backward(dout, cache):\n"
                       "    return dout * (np.log(cache.x) * 0 + 1)\n")  # log of negatives: NaN, and a warning
    status, out, err = run("check", tmp_path)
    assert status == 1 and err == "" and "it printed" not in out and "RuntimeWarning" not in out
