"""What every demo shares: its command line, where figures go, and how results are printed."""
import argparse
import os
import sys

# the demos run from a checkout without installing too
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(description, argv=None):
    """``--quick`` (seconds: what the tests run) and ``--out DIR`` (figures)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny run in a few seconds (used by the tests)")
    parser.add_argument("--out", default=None, help="folder for the PNG figures (default: out/<demo>)")
    args = parser.parse_args(argv)
    return args


def out_dir(args, name):
    """The folder for this demo's figures, created if needed."""
    path = args.out or os.path.join("out", name)
    os.makedirs(path, exist_ok=True)
    return path


def figure_path(folder, filename):
    return os.path.join(folder, filename)


def headline(label, value, unit=""):
    """Print one headline number in a form that is easy to read and to grep."""
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"  {label}: {text}{(' ' + unit) if unit else ''}", flush=True)
