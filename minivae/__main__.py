"""``python -m minivae``: the command line (see :mod:`minivae.cli`, or ``python -m minivae --help``)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
