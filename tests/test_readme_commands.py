"""Every command of the README works as written, for a newcomer following it from the top.

The README's set-up lines make a virtual environment and activate it; after that every
command says plain ``python`` (and ``pip``), which then is the environment's own. So:

- the set-up lines (the two that make ``.venv``) activate it before they call ``pip`` or
  ``python``, and no later command names another interpreter (``.venv/bin/python``,
  ``python3``), which would mix two environments;
- every ``python SCRIPT ...`` names a script that exists and runs as ``__main__``, with
  options its argument parser knows (read from the script and the module it takes its
  options from);
- every ``python -m minivae ...`` names real subcommands and options (the CLI's own parser,
  built in this process);
- every extra in ``pip install -e ".[...]"`` exists in setup.cfg, and the README names
  the extras the benchmarks need.

``.ci/run`` runs the test command itself verbatim on a fresh clone (that is how CI
installs and runs this suite), so the set-up pattern is exercised for real there.
"""
from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest

from minivae.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def shell_lines(text):
    """Each line of the README's ```bash blocks, and each inline `python ...` span, as argv lists."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        lines += [line for line in block.split("\n") if line.strip()]
    prose = re.sub(r"```.*?```", "", text, flags=re.S).replace("\n", " ")  # a span may wrap a line
    lines += re.findall(r"`((?:[A-Z_]+=\S+ )?python [^`]+)`", prose)
    commands = []
    for line in lines:
        for part in re.split(r"&&|;", line):  # the set-up lines chain several commands
            argv = shlex.split(part, comments=True)
            while argv and re.match(r"^[A-Z_]+=", argv[0]):  # an environment variable first
                argv = argv[1:]
            if argv:
                commands.append(argv)
    return commands


def _text():
    return README.read_text(encoding="utf-8")


def _setup_lines(text):
    return [line for line in re.findall(r"^.*python3 -m venv .*$", text, flags=re.M) if "```" not in line]


def test_the_set_up_lines_activate_the_environment_before_using_it():
    setups = _setup_lines(_text())
    assert len(setups) == 2, setups  # the demos' line and the test command
    for line in setups:
        steps = [shlex.split(part) for part in line.split("&&")]
        assert steps[0][:3] == ["python3", "-m", "venv"] and steps[1] == [".", f"{steps[0][3]}/bin/activate"], line
        assert all(step[0] in ("pip", "python") for step in steps[2:]), line


def _other_interpreter(argv):
    """A command that runs an interpreter or pip other than the activated environment's."""
    return bool(re.search(r"(^|/)(python3?|pip3?)$", argv[0])) and argv[0] not in ("python", "pip")


def test_no_command_names_another_interpreter():
    """After the set-up, plain ``python``: not ``python3``, not a path to one."""
    for argv in shell_lines(_text()):
        if argv[:3] != ["python3", "-m", "venv"]:
            assert not _other_interpreter(argv), argv


def _known_options(script):
    """Options a script's parser defines, read from it and from the local module it parses with."""
    source = script.read_text(encoding="utf-8")
    for helper in re.findall(r"^from (_[a-z]\w*) import", source, flags=re.M):
        source += (script.parent / f"{helper}.py").read_text(encoding="utf-8")
    leading = re.findall(r"add_argument\(\s*((?:\"-[\w-]+\",\s*)+)", source)
    return {name for group in leading for name in re.findall(r"\"(-[\w-]+)\"", group)}


def _scripts(commands):
    return [argv for argv in commands if argv[0] == "python" and argv[1].endswith(".py")]


def test_every_script_exists_and_knows_its_options():
    scripts = _scripts(shell_lines(_text()))
    assert len({argv[1] for argv in scripts}) >= 10, scripts  # the demos and benchmarks the README names
    for argv in scripts:
        path = ROOT / argv[1]
        assert path.is_file(), argv
        assert 'if __name__ == "__main__":' in path.read_text(encoding="utf-8"), argv
        unknown = [a for a in argv[2:] if a.startswith("--") and a not in _known_options(path)]
        assert not unknown, (argv, unknown)


def _subparser(parser, names):
    """The parser of the subcommand path ``names`` (e.g. ``["train", "cvae"]``), and what follows it."""
    while names:
        choices = next((a.choices for a in parser._actions if hasattr(a.choices, "keys")
                        and a.__class__.__name__ == "_SubParsersAction"), None)
        if not choices or names[0] not in choices:
            return parser, names
        parser, names = choices[names[0]], names[1:]
    return parser, names


def test_every_minivae_command_has_its_subcommands_and_options():
    commands = [argv[3:] for argv in shell_lines(_text()) if argv[:3] == ["python", "-m", "minivae"] and argv[3:]]
    assert len(commands) >= 8, commands
    root = build_parser()
    for args in commands:
        parser, rest = _subparser(root, args)
        assert parser is not root, args
        options = set(parser._option_string_actions)
        unknown = [a for a in rest if a.startswith("-") and a not in options]
        assert not unknown, (args, unknown)
        parser.format_help()  # and its help renders


def test_every_pip_extra_exists_and_the_benchmarks_name_theirs():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    extras = set(cfg["options.extras_require"])
    text = _text()
    named = {e.strip() for group in re.findall(r'pip install -e "\.\[([^\]]+)\]"', text) for e in group.split(",")}
    assert named <= extras and {"bench", "test", "data"} <= named, (named, extras)
    performance = text.split("## Performance")[1].split("\n## ")[0]
    assert '".[bench,data]"' in performance and '".[test,data]"' in performance


def test_shell_lines_split_chains_and_drop_comments():
    """The extraction the tests above rely on."""
    text = ('```bash\nA=1 python x.py --n 2 && pip install y   # note\n```\n'
            'and `python -m minivae train vae --out r` inline')
    assert shell_lines(text) == [["python", "x.py", "--n", "2"], ["pip", "install", "y"],
                                 ["python", "-m", "minivae", "train", "vae", "--out", "r"]]


@pytest.mark.parametrize("line", [".venv/bin/python demos/run_all.py", "python3 demos/run_all.py",
                                  ".venv/bin/pip install -e ."])
def test_a_second_interpreter_is_caught(line):
    """The bug of the first README: set-up through .venv/bin/python, bare python afterwards."""
    assert any(_other_interpreter(argv) for argv in shell_lines(f"```bash\n{line}\n```"))
    assert not any(_other_interpreter(argv) for argv in shell_lines("```bash\npython demos/run_all.py\n```"))


def test_the_summary_groups_the_reasons_tests_were_skipped():
    """``python -m pytest`` ends with one line per reason a test skipped (tests/conftest.py)."""
    from types import SimpleNamespace

    from tests.conftest import skip_reasons

    cupy = ("tests/x.py", 3, "Skipped: CuPy backend unavailable: no CuPy")
    node = ("tests/y.py", 9, "Skipped: Node is not installed")
    reports = [SimpleNamespace(longrepr=r) for r in (cupy, node, cupy, cupy)]
    assert skip_reasons(reports) == [(3, "CuPy backend unavailable: no CuPy"), (1, "Node is not installed")]
