"""Figures of images: grids, reconstructions, interpolations, the latent manifold.

Each draws its images as one mosaic on one axes (:func:`_mosaic`): a single picture is
drawn and saved many times faster than one small axes per image.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .common import as_images, finish, grey_range, host

_CELL = 0.8  # inches per image in the grids (80 px at 100 dpi)
_MAX_WIDTH = 10.0  # inches: wider grids get smaller cells
_TITLE = 0.45  # inches above a grid of images for its title
_CAPTION = 0.22  # inches above each row of a grid for the captions of its images


def _mosaic(imgs, nrows, ncols, gap):
    """Tile ``(n, h, w)`` images row by row into one 2-D array, NaN in the gaps and empty cells.

    ``gap`` is the number of pixels between neighbouring cells, one int or a pair
    ``(between rows, between columns)``. Cell ``(r, c)`` holds image ``k = r * ncols + c``
    in the rows ``r * (h + gap_rows) + [0, h)`` and columns ``c * (w + gap_cols) + [0, w)``;
    the result has shape ``(nrows * (h + gap_rows) - gap_rows, ncols * (w + gap_cols) - gap_cols)``.
    """
    n, h, w = imgs.shape
    gap_rows, gap_cols = (gap, gap) if np.ndim(gap) == 0 else gap
    pitch_y, pitch_x = h + gap_rows, w + gap_cols
    mosaic = np.full((nrows * pitch_y - gap_rows, ncols * pitch_x - gap_cols), np.nan)
    for k in range(n):
        r, c = divmod(k, ncols)
        mosaic[r * pitch_y:r * pitch_y + h, c * pitch_x:c * pitch_x + w] = imgs[k]
    return mosaic


def _mosaic_figure(imgs, ncols, *, cell, cmap, captions=None, row_labels=None, left=0.0, title=None):
    """Draw ``(n, h, w)`` images as one mosaic on one Axes: a single ``imshow``, however many images.

    Each image gets a thin light frame (one collection of rectangles) and white paper
    around it, as if it had its own panel; ``captions`` (one per image, drawn above it)
    and ``row_labels`` (one per row, drawn left of it) are text placed at the cell
    positions. The figure is sized so that one image and its gap are ``cell`` inches wide,
    with ``left`` inches of margin for the row labels.
    """
    n, h, w = imgs.shape
    nrows = -(-n // ncols)
    gap = max(1, round(min(h, w) / 14))  # pixels between cells: 1 for 8 x 8 digits, 2 for 28 x 28
    s = cell / (w + gap)  # inches per pixel
    band = math.ceil(_CAPTION / s) if captions is not None else 0  # pixels above each row for its captions
    mosaic = _mosaic(imgs, nrows, ncols, (gap + band, gap))
    H, W = mosaic.shape
    pitch_y, pitch_x = h + gap + band, w + gap
    pad = 0.05  # inches of paper around the mosaic
    left, top = max(left, pad), _TITLE if title else pad
    width, height = left + W * s + pad, top + (H + band) * s + pad
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((left / width, pad / height, W * s / width, (H + band) * s / height))
    vmin, vmax = grey_range(imgs)
    # NaN (the gaps, the empty cells at the end) is drawn transparent: the paper shows through
    ax.imshow(mosaic, cmap=colormaps.get_cmap(cmap).with_extremes(bad=(0, 0, 0, 0)), vmin=vmin, vmax=vmax,
              interpolation="nearest")
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5 - band)  # rows top to bottom, with room for the first row's captions
    ax.set_axis_off()
    corners = [(c * pitch_x - 0.5, r * pitch_y - 0.5) for r, c in (divmod(k, ncols) for k in range(n))]
    ax.add_collection(PatchCollection([Rectangle(xy, w, h) for xy in corners], facecolor="none",
                                      edgecolor="0.8", linewidth=0.5, clip_on=False))
    points = 1 / 72 / s  # pixels per typographic point
    for (x0, y0), text in zip(corners, captions or []):
        ax.text(x0 + w / 2, y0 - 2 * points, text, ha="center", va="bottom", fontsize=9)
    for r, label in enumerate(row_labels or []):
        ax.text(-0.5 - 4 * points, r * pitch_y - 0.5 + h / 2, label, ha="right", va="center", fontsize=10)
    return fig


def _cell_size(ncols):
    return min(_CELL, _MAX_WIDTH / ncols)


def image_grid(images, *, shape=None, ncols=None, titles=None, cmap="gray_r", path=None, title=None):
    """Draw images in a grid: one framed cell per image, filled row by row.

    The whole grid is one picture (one ``imshow`` of the tiled images, NaN in the gaps
    between them) on one axes, with each caption as text above its cell, rather than one
    axes per image, which matplotlib draws many times more slowly.

    Parameters
    ----------
    images : array of shape (n, D), or (n, height, width)
        One image per row, NumPy or CuPy, any real dtype.
    shape : (int, int), optional
        ``(height, width)`` of one image; inferred when ``D`` is a square number.
    ncols : int, optional
        Images per row of the grid (default ``min(n, 10)``).
    titles : sequence of str, optional
        One caption per image (for example the class of a sample).
    cmap : str
        Matplotlib colour map; ``"gray_r"`` draws ink dark on paper.
    path : str or Path, optional
        Where to save the figure (PNG, 100 dpi).
    title : str, optional
        Title of the whole figure.

    Returns
    -------
    matplotlib.figure.Figure
        With one axes, holding one image: the ``(rows, ncols)`` mosaic, cell ``(r, c)``
        showing image ``r * ncols + c`` (the cells after the last image stay empty), and
        ``titles`` as one text each, centred above its cell.

    Raises
    ------
    ValueError
        If ``D`` is not a square number and no ``shape`` is given, or ``titles`` has the
        wrong length.
    """
    imgs = as_images(images, shape, "images")
    n = imgs.shape[0]
    ncols = min(n, 10) if ncols is None else max(1, min(int(ncols), n))
    if titles is not None:
        titles = [str(t) for t in titles]
        if len(titles) != n:
            raise ValueError(f"titles must have one entry per image ({n}); got {len(titles)}")
    fig = _mosaic_figure(imgs, ncols, cell=_cell_size(ncols), cmap=cmap, captions=titles, title=title)
    return finish(fig, path, title, tight=False)


def reconstructions(originals=None, reconstructed=None, *, n=10, shape=None, corrupted=None, rows=None,
                    cmap="gray_r", path=None, title=None):
    """Originals above their reconstructions, one column per example.

    Three ways to call it:

    - ``reconstructions(X, X_hat)``: rows "original" / "reconstruction";
    - ``reconstructions(X, X_hat, corrupted=X_noisy)`` (denoising): rows "corrupted" /
      "reconstruction" / "original";
    - ``reconstructions(rows=[("noisy", A), ("denoised", B), ("clean", C)])``: any labelled rows.

    Parameters
    ----------
    originals, reconstructed : arrays of shape (m, D), optional
        The inputs and the model's reconstructions of them (row ``i`` of each is the same
        example).
    n : int
        How many examples (columns) to show: the first ``min(n, m)``.
    shape : (int, int), optional
        ``(height, width)`` of one image; inferred when ``D`` is a square number.
    corrupted : array of shape (m, D), optional
        The corrupted inputs a denoising autoencoder actually saw; drawn as the first row.
    rows : list of (str, array of shape (m, D)), optional
        Labelled rows, drawn top to bottom; use instead of the positional arguments.
    cmap : str
        Matplotlib colour map.
    path : str or Path, optional
        Where to save the figure (PNG, 100 dpi).
    title : str, optional
        Title of the whole figure.

    Returns
    -------
    matplotlib.figure.Figure
        With one axes, holding one image: the ``(len(rows), min(n, m))`` mosaic, row
        ``r`` showing the first ``min(n, m)`` images of the ``r``-th row, its label as text
        left of it.

    Raises
    ------
    ValueError
        If the rows hold different numbers of examples or pixels, or the shape cannot be inferred.
    TypeError
        If both ``rows`` and the positional arrays are given, or neither.
    """
    if rows is not None:
        if originals is not None or reconstructed is not None or corrupted is not None:
            raise TypeError("give either rows=[(label, images), ...] or originals and reconstructed, not both")
        rows = list(rows)
        if not rows or not all(isinstance(r, (tuple, list)) and len(r) == 2 for r in rows):
            raise ValueError("rows must be a non-empty list of (label, images) pairs")
        named = [(str(label), images, f"rows[{i}] ({str(label)!r})") for i, (label, images) in enumerate(rows)]
    else:
        if originals is None or reconstructed is None:
            raise TypeError("reconstructions needs originals and reconstructed (or rows=[(label, images), ...])")
        named = [("original", originals, "originals"), ("reconstruction", reconstructed, "reconstructed")]
        if corrupted is not None:
            named = [("corrupted", corrupted, "corrupted"), named[1], named[0]]
    labels = [label for label, _, _ in named]
    stacks = [as_images(images, shape, argname) for _, images, argname in named]
    for (_, _, argname), stack in zip(named[1:], stacks[1:]):
        if stack.shape != stacks[0].shape:
            raise ValueError(f"{argname} holds images of shape {stack.shape}, but {named[0][2]} holds "
                             f"{stacks[0].shape}; each row must show the same examples")
    m = stacks[0].shape[0]
    ncols = max(1, min(int(n), m))
    fig = _mosaic_figure(np.concatenate([s[:ncols] for s in stacks]), ncols, cell=_cell_size(ncols + 1), cmap=cmap,
                         row_labels=labels, left=1.0, title=title)
    return finish(fig, path, title)


def interpolation_strip(images, *, shape=None, titles=None, cmap="gray_r", path=None, title=None):
    """One row of images: the decoded points along a path through latent space.

    Parameters
    ----------
    images : array of shape (n, D)
        The decoded images, in path order (left to right).
    shape : (int, int), optional
        ``(height, width)`` of one image; inferred when ``D`` is a square number.
    titles : sequence of str, optional
        One caption per image (for example the mixing weight ``t``).
    cmap : str
        Matplotlib colour map.
    path : str or Path, optional
        Where to save the figure (PNG, 100 dpi).
    title : str, optional
        Title of the whole figure.

    Returns
    -------
    matplotlib.figure.Figure
        As :func:`image_grid` with ``ncols = n``: one axes, the ``n`` images side by side
        in one mosaic, each title above its cell.
    """
    imgs = as_images(images, shape, "images")
    return image_grid(imgs, ncols=imgs.shape[0], titles=titles, cmap=cmap, path=path, title=title)


def latent_manifold(decode, *, n=15, shape=None, cmap="gray_r", path=None, title=None):
    """Decode a grid over a 2-D latent space and tile the images (Kingma & Welling 2014, Fig. 4).

    The grid is even in probability, not in ``z``: with ``u_k = k / (n + 1)`` for
    ``k = 1 .. n`` (the unit interval without its ends) each coordinate is
    ``z = Φ⁻¹(u)``, the inverse CDF of the standard normal prior, so every cell covers the
    same prior mass. Column ``j`` has ``z₁ = Φ⁻¹(u_j)`` (increasing to the right); row
    ``i`` from the top has ``z₂ = Φ⁻¹(u_{n+1-i})`` (increasing upwards).

    Parameters
    ----------
    decode : callable
        ``decode(Z) -> X`` mapping codes of shape ``(n * n, 2)`` (float64 NumPy) to images of
        shape ``(n * n, D)`` (NumPy or CuPy), for example ``model.decode``.
    n : int
        Grid points per axis.
    shape : (int, int), optional
        ``(height, width)`` of one image; inferred when ``D`` is a square number.
    cmap : str
        Matplotlib colour map.
    path : str or Path, optional
        Where to save the figure (PNG, 100 dpi).
    title : str, optional
        Title of the figure.

    Returns
    -------
    matplotlib.figure.Figure
        One axes holding the tiled ``(n * height, n * width)`` image, ticks labelled with ``z``.
    """
    if not callable(decode):
        raise TypeError(f"decode must be a callable mapping (n*n, 2) codes to images; got {type(decode).__name__}")
    n = int(n)
    if n < 2:
        raise ValueError(f"n must be an integer >= 2; got {n}")
    u = np.arange(1, n + 1) / (n + 1)
    inv_cdf = NormalDist().inv_cdf
    z = np.array([inv_cdf(float(p)) for p in u])
    z1, z2 = np.meshgrid(z, z[::-1])  # rows top to bottom: z2 decreasing
    Z = np.stack([z1.ravel(), z2.ravel()], axis=1)  # row i * n + j is grid cell (i, j)
    X = host(decode(Z), "decode(Z)")
    if X.ndim not in (2, 3) or X.shape[0] != n * n:
        raise ValueError(f"decode(Z) must return one image per code, shape ({n * n}, D); got shape {X.shape}")
    imgs = as_images(X, shape, "decode(Z)")
    h, w = imgs.shape[1:]
    mosaic = _mosaic(imgs, n, n, gap=0)  # no gaps: neighbouring codes decode side by side
    vmin, vmax = grey_range(mosaic)
    side = min(8.0, max(4.0, n * w / 28 * 0.55))
    fig = Figure(figsize=(side + 0.8, side + 0.8), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(mosaic, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ticks = sorted({0, n // 2, n - 1})
    ax.set_xticks([(j + 0.5) * w - 0.5 for j in ticks], [f"{z[j]:.2f}" for j in ticks])
    ax.set_yticks([(i + 0.5) * h - 0.5 for i in ticks], [f"{z[::-1][i]:.2f}" for i in ticks])
    # the edge ticks are the prior's quantiles 1/(n+1) and n/(n+1): say so, or ±1.53 is a riddle
    ax.set_xlabel(f"z₁ = Φ⁻¹(u₁),  u₁ = 1/{n + 1}, 2/{n + 1}, …, {n}/{n + 1}")
    ax.set_ylabel(f"z₂ = Φ⁻¹(u₂),  u₂ = 1/{n + 1}, …, {n}/{n + 1}")
    fig.supxlabel(f"Φ⁻¹: the inverse CDF of the prior N(0, 1), so the cells are evenly spaced in probability;\n"
                  f"the edge ticks ±{z[-1]:.2f} are its {100 / (n + 1):.2f} % and {100 * n / (n + 1):.2f} % quantiles",
                  fontsize=8, color="0.3")
    return finish(fig, path, title)


