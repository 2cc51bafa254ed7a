"""Progress bars for the loops that take seconds: tqdm, written to stderr, off unless asked for.

A loop shows a bar when its caller passes ``progress=True`` (the library's default is
silence); the command line and the demos ask for one unless given ``--quiet``. tqdm's own
switch works too: ``TQDM_DISABLE=1`` hides every bar.
"""
from __future__ import annotations

import sys


def progress_bar(iterable, *, total=None, desc=None, enabled=True, unit="it"):
    """``iterable`` wrapped in a tqdm bar on stderr (removed when done), or itself when not ``enabled``."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm  # imported here: `import minivae` stays light

    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True, file=sys.stderr)
