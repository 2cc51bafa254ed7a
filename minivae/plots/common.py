"""What every figure of :mod:`minivae.plots` shares: arrays to the host, images from rows, saving."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..backend import to_numpy

DPI = 100


def host(a, name):
    """``a`` as a NumPy array of numbers (float64 for floats and ints alike)."""
    if a is None:
        raise TypeError(f"{name} must be a NumPy or CuPy array; got None")
    arr = to_numpy(a)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold numbers; got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def image_shape(D, shape, name):
    """``(height, width)`` for rows of ``D`` pixels: ``shape`` checked, or inferred from a square ``D``."""
    if shape is None:
        side = math.isqrt(D)
        if side * side != D:
            raise ValueError(
                f"{name} has {D} features per image, which is not a square number, so the image "
                f"shape cannot be guessed; pass shape=(height, width) with height * width = {D}"
            )
        return side, side
    try:
        h, w = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"shape must be a pair (height, width) of integers; got {shape!r}") from None
    if h < 1 or w < 1 or h * w != D:
        raise ValueError(f"shape {tuple(shape)} does not fit {name}: it has {D} features per image, "
                         f"so shape must be (height, width) with height * width = {D}")
    return h, w


def as_images(images, shape, name):
    """Turn ``(n, D)`` rows (or ``(n, h, w)`` pictures, or one ``(D,)`` row) into ``(n, h, w)``."""
    X = host(images, name)
    if X.ndim == 1:
        X = X[None, :]
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: it needs at least one image (row)")
    if X.ndim == 3:
        if shape is not None and tuple(int(s) for s in shape) != X.shape[1:]:
            raise ValueError(f"shape {tuple(shape)} does not match {name}, whose images are {X.shape[1:]}")
        return X
    if X.ndim != 2:
        raise ValueError(f"{name} must have shape (n, D) (one image per row); got shape {X.shape}")
    h, w = image_shape(X.shape[1], shape, name)
    return X.reshape(X.shape[0], h, w)


def grey_range(*stacks):
    """One grey scale for a whole figure: [0, 1] for pixel intensities, else the data's range."""
    lo = min(float(np.nanmin(s)) for s in stacks)
    hi = max(float(np.nanmax(s)) for s in stacks)
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def finish(fig, path, title, tight=True):
    """Add the figure title and save to ``path`` (parents created) when one is given.

    ``tight``: trim the margins to what is drawn (which draws the figure twice); a figure
    whose margins are already set (the image grids) saves in about half the time without.
    """
    if title is not None:
        fig.suptitle(title)
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        trim = {"bbox_inches": "tight", "pad_inches": 0.1} if tight else {}
        fig.savefig(path, dpi=DPI, **trim, **({} if path.suffix else {"format": "png"}))
    return fig
