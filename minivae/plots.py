"""Pictures of what the models learned: digits, latent spaces, training curves, ROC curves.

Every function takes NumPy or CuPy arrays (they are copied to the host with
:func:`minivae.backend.to_numpy`), draws on a fresh :class:`matplotlib.figure.Figure`
and returns it. Nothing goes through ``pyplot``: no window pops up, no global state is
touched, and the module works on a machine without a display. Give ``path=`` to also
save the figure (PNG at 100 dpi unless the suffix says otherwise; parent folders are
created)::

    from minivae import plots
    plots.reconstructions(X[:10], model.reconstruct(X[:10]), path="docs/figures/ae.png")

In a notebook, the returned figure shows itself when it is the last value of a cell.

``import minivae`` does not import this module, so the library itself never needs
matplotlib; ``from minivae import plots`` does.

Images are rows of pixels, ``(n, D)``, as the models see them; ``shape=(height, width)``
says how to fold a row into a picture and is inferred when ``D`` is a square number
(64 -> 8 x 8 for scikit-learn's digits, 784 -> 28 x 28 for MNIST). Pixels are drawn
dark on light (``cmap="gray_r"``) and never smoothed (``interpolation="nearest"``), on
one shared grey scale per figure: [0, 1] when every pixel lies in it, else the range of
the data.
"""
from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from .backend import to_numpy

__all__ = [
    "histogram",
    "image_grid",
    "interpolation_strip",
    "latent_manifold",
    "latent_scatter",
    "reconstructions",
    "roc_curve",
    "roc_plot",
    "training_curves",
]

DPI = 100
_CELL = 0.8  # inches per image in the grids (80 px at 100 dpi)
_MAX_WIDTH = 10.0  # inches: wider grids get smaller cells
_TITLE = 0.45  # inches above a grid of images for its title
_CAPTION = 0.22  # inches above each row of a grid for the captions of its images


# ---------------------------------------------------------------------- helpers
def _host(a, name):
    """``a`` as a NumPy array of numbers (float64 for floats and ints alike)."""
    if a is None:
        raise TypeError(f"{name} must be a NumPy or CuPy array; got None")
    arr = to_numpy(a)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold numbers; got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _image_shape(D, shape, name):
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


def _as_images(images, shape, name):
    """Turn ``(n, D)`` rows (or ``(n, h, w)`` pictures, or one ``(D,)`` row) into ``(n, h, w)``."""
    X = _host(images, name)
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
    h, w = _image_shape(X.shape[1], shape, name)
    return X.reshape(X.shape[0], h, w)


def _grey_range(*stacks):
    """One grey scale for a whole figure: [0, 1] for pixel intensities, else the data's range."""
    lo = min(float(np.nanmin(s)) for s in stacks)
    hi = max(float(np.nanmax(s)) for s in stacks)
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


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
    vmin, vmax = _grey_range(imgs)
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


def _finish(fig, path, title, tight=True):
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


# ---------------------------------------------------------------------- images
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
    imgs = _as_images(images, shape, "images")
    n = imgs.shape[0]
    ncols = min(n, 10) if ncols is None else max(1, min(int(ncols), n))
    if titles is not None:
        titles = [str(t) for t in titles]
        if len(titles) != n:
            raise ValueError(f"titles must have one entry per image ({n}); got {len(titles)}")
    fig = _mosaic_figure(imgs, ncols, cell=_cell_size(ncols), cmap=cmap, captions=titles, title=title)
    return _finish(fig, path, title, tight=False)


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
    stacks = [_as_images(images, shape, argname) for _, images, argname in named]
    for (_, _, argname), stack in zip(named[1:], stacks[1:]):
        if stack.shape != stacks[0].shape:
            raise ValueError(f"{argname} holds images of shape {stack.shape}, but {named[0][2]} holds "
                             f"{stacks[0].shape}; each row must show the same examples")
    m = stacks[0].shape[0]
    ncols = max(1, min(int(n), m))
    fig = _mosaic_figure(np.concatenate([s[:ncols] for s in stacks]), ncols, cell=_cell_size(ncols + 1), cmap=cmap,
                         row_labels=labels, left=1.0, title=title)
    return _finish(fig, path, title)


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
    imgs = _as_images(images, shape, "images")
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
    X = _host(decode(Z), "decode(Z)")
    if X.ndim not in (2, 3) or X.shape[0] != n * n:
        raise ValueError(f"decode(Z) must return one image per code, shape ({n * n}, D); got shape {X.shape}")
    imgs = _as_images(X, shape, "decode(Z)")
    h, w = imgs.shape[1:]
    mosaic = _mosaic(imgs, n, n, gap=0)  # no gaps: neighbouring codes decode side by side
    vmin, vmax = _grey_range(mosaic)
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
    return _finish(fig, path, title)


# ---------------------------------------------------------------------- latent space
def _pca2(Z):
    """Project ``Z`` (n, k) on its first two principal components; return (P, explained fractions)."""
    Zc = Z - Z.mean(axis=0)
    _, s, Vt = np.linalg.svd(Zc, full_matrices=False)
    V = Vt[:2].T
    V = V * np.where(V[np.abs(V).argmax(axis=0), [0, 1]] < 0, -1.0, 1.0)  # a fixed sign per component
    var = s**2
    frac = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    return Zc @ V, frac


def latent_scatter(Z, labels=None, *, path=None, title=None, s=6.0, alpha=0.7):
    """Scatter the codes of a data set, coloured by class.

    A 2-D latent space is drawn as it is. A wider one is drawn through its first two
    principal components (centred ``Z`` projected on the top right singular vectors from
    ``numpy.linalg.svd``); the axis labels say so and give the share of variance each explains.

    Parameters
    ----------
    Z : array of shape (n, k), k >= 2
        The codes, for example ``model.encode(X)`` (the means ``mu`` for a VAE).
    labels : array of shape (n,) or one-hot (n, n_classes), optional
        The class of each code. Up to ten integer classes get a legend (digits 0-9);
        more, or non-integer values, get a colour bar.
    path : str or Path, optional
        Where to save the figure (PNG, 100 dpi).
    title : str, optional
        Title of the figure.
    s, alpha : float
        Marker size and opacity.

    Returns
    -------
    matplotlib.figure.Figure
        One axes (two with a colour bar).

    Raises
    ------
    ValueError
        If ``Z`` is not 2-D with at least two columns, or ``labels`` has a different length.
    """
    Z = _host(Z, "Z")
    if Z.ndim != 2 or Z.shape[1] < 2:
        raise ValueError(f"Z must have shape (n, k) with k >= 2 latent dimensions; got shape {Z.shape}")
    if Z.shape[0] == 0:
        raise ValueError("Z is empty: it needs at least one code (row)")
    if labels is not None:
        labels = _host(labels, "labels")
        if labels.ndim == 2:
            labels = labels.argmax(axis=1).astype(np.float64)
        labels = labels.ravel()
        if labels.shape[0] != Z.shape[0]:
            raise ValueError(f"labels must have one entry per row of Z ({Z.shape[0]}); got {labels.shape[0]}")
    if Z.shape[1] == 2:
        P, xlabel, ylabel = Z, "z₁", "z₂"
    else:
        P, frac = _pca2(Z)
        xlabel = f"PC 1 of z ({100 * frac[0]:.0f}% of variance)"
        ylabel = f"PC 2 of z ({100 * frac[1]:.0f}% of variance)"
    order = np.random.default_rng(0).permutation(Z.shape[0])  # no class is drawn on top of the rest
    fig = Figure(figsize=(6.2, 5.0), layout="constrained")
    ax = fig.add_subplot()
    classes = None if labels is None else np.unique(labels)
    if labels is None:
        ax.scatter(P[order, 0], P[order, 1], s=s, alpha=alpha, linewidths=0)
    elif len(classes) <= 10 and np.all(classes == np.round(classes)):
        tab10 = colormaps["tab10"]
        index = np.searchsorted(classes, labels)
        ax.scatter(P[order, 0], P[order, 1], c=tab10(index[order]), s=s, alpha=alpha, linewidths=0)
        handles = [Line2D([], [], marker="o", linestyle="", color=tab10(k), label=f"{int(c)}")
                   for k, c in enumerate(classes)]
        ax.legend(handles=handles, title="class", loc="center left", bbox_to_anchor=(1.0, 0.5),
                  frameon=False, handletextpad=0.2)
    else:
        sc = ax.scatter(P[order, 0], P[order, 1], c=labels[order], cmap="viridis", s=s, alpha=alpha,
                        linewidths=0)
        fig.colorbar(sc, ax=ax, label="label")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _finish(fig, path, title)


# ---------------------------------------------------------------------- training
_PANELS = (("loss", "total loss"), ("recon", "reconstruction"), ("kl", "KL divergence"),
           ("penalty", "penalty"))


def training_curves(history, *, path=None, title=None, unit="per example"):
    """Plot the losses recorded by ``fit``, one panel per term, validation dashed.

    Panels: the total loss, then (when recorded) the reconstruction term, the KL term and
    the regulariser's penalty, each on its own axes because their scales differ.

    Parameters
    ----------
    history : dict of str -> list of float
        As returned by ``model.fit``: ``"epoch"`` (optional; default ``1, 2, ...``),
        ``"loss"``, and optionally ``"recon"``, ``"kl"``, ``"penalty"`` and their
        ``"val_"`` counterparts, one value per epoch.
    path : str or Path, optional
        Where to save the figure (PNG, 100 dpi).
    title : str, optional
        Title of the figure.
    unit : str
        The y-label of every panel (for example ``"nats per image"``).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel present (1 to 4), each with the y-label ``unit``.

    Raises
    ------
    ValueError
        If ``history`` has no ``"loss"`` (or ``"val_loss"``) values.
    """
    if not hasattr(history, "get"):
        raise TypeError(f"history must be a dict of lists (as returned by fit); got {type(history).__name__}")
    if not history.get("loss") and not history.get("val_loss"):
        raise ValueError("history must hold a non-empty 'loss' list (one value per epoch), as fit returns")
    panels = [(k, name) for k, name in _PANELS if history.get(k) or history.get(f"val_{k}")]
    fig = Figure(figsize=(3.6 * len(panels), 3.2), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    epochs = list(history.get("epoch") or [])
    for ax, (key, name) in zip(axes, panels):
        for k, style, label in ((key, "-", "training"), (f"val_{key}", "--", "validation")):
            values = [float(v) for v in history.get(k) or []]
            if not values:
                continue
            x = epochs if len(epochs) == len(values) else list(range(1, len(values) + 1))
            ax.plot(x, values, linestyle=style, color="C0" if style == "-" else "C1",
                    marker="o" if len(values) == 1 else None, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    return _finish(fig, path, title)


# ---------------------------------------------------------------------- anomaly detection
def roc_curve(scores, labels):
    """The receiver operating characteristic of an anomaly score, and its area.

    Sort by score, highest first, and lower a threshold :math:`\\tau` past one *distinct*
    score at a time: everything at or above it is called an anomaly. Tied scores enter
    together, so a tie between an anomaly and a normal example gives a diagonal step
    (worth half).

    .. math::

        \\mathrm{TPR}(\\tau) = \\frac{\\#\\{i: s_i \\ge \\tau, y_i = 1\\}}{\\#\\{y_i = 1\\}}, \\qquad
        \\mathrm{FPR}(\\tau) = \\frac{\\#\\{i: s_i \\ge \\tau, y_i = 0\\}}{\\#\\{y_i = 0\\}}

    and the AUC is the area under the (FPR, TPR) polyline by the trapezoid rule: the
    chance that a random anomaly scores above a random normal example, ties counting ½.

    Parameters
    ----------
    scores : array of shape (n,)
        Higher means more anomalous (for example the reconstruction error).
    labels : array of shape (n,)
        1 (or True) for an anomaly, 0 for a normal example; both must occur.

    Returns
    -------
    fpr, tpr : ndarray of shape (m + 1,)
        From (0, 0) to (1, 1), one point per distinct score (``m`` of them).
    auc : float
        Area under the curve, in [0, 1].

    Raises
    ------
    ValueError
        If the lengths differ, a score is not finite, a label is not 0/1, or one class is missing.
    """
    s = _host(scores, "scores").ravel()
    y = _host(labels, "labels").ravel()
    if y.shape[0] != s.shape[0]:
        raise ValueError(f"labels must have one entry per score ({s.shape[0]}); got {y.shape[0]}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite; they hold NaN or infinite values")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 (normal) or 1 (anomaly)")
    n_pos = float(y.sum())
    n_neg = float(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        raise ValueError("labels must contain both anomalies (1) and normal examples (0) for an ROC curve")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # the last index of each distinct score
    tp = np.cumsum(y)[last_of_run]
    fp = (last_of_run + 1) - tp
    tpr = np.r_[0.0, tp / n_pos]
    fpr = np.r_[0.0, fp / n_neg]
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    return fpr, tpr, auc


def roc_plot(curves, *, path=None, title=None):
    """Draw ROC curves, each with its AUC in the legend.

    Parameters
    ----------
    curves : dict of str -> (scores, labels)
        One entry per detector; ``scores`` and ``labels`` as in :func:`roc_curve`.
    path : str or Path, optional
        Where to save the figure (PNG, 100 dpi).
    title : str, optional
        Title of the figure.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: one line per curve and the dotted diagonal of a random guess.
    """
    if not hasattr(curves, "items") or not curves:
        raise ValueError("curves must be a non-empty dict: name -> (scores, labels)")
    fig = Figure(figsize=(4.8, 4.6 + 0.22 * len(curves)), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle=":", color="0.6", label="chance (AUC 0.500)")
    for name, pair in curves.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"curves[{name!r}] must be a pair (scores, labels)")
        fpr, tpr, auc = roc_curve(*pair)
        ax.plot(fpr, tpr, drawstyle="default", label=f"{name} (AUC {auc:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.grid(alpha=0.3)
    # below the axes: inside, the legend would hide part of the chance diagonal or a curve
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    return _finish(fig, path, title)


# ---------------------------------------------------------------------- histograms
def histogram(values_by_name, *, bins=50, path=None, title=None, xlabel=None, density=False, log=False):
    """Overlaid histograms on shared bins, for example hidden activations of a sparse and a plain autoencoder.

    Parameters
    ----------
    values_by_name : dict of str -> array of any shape
        Each array is flattened; NaNs are dropped.
    bins : int or array
        Number of bins, or their edges, shared by every histogram.
    path : str or Path, optional
        Where to save the figure (PNG, 100 dpi).
    title : str, optional
        Title of the figure.
    xlabel : str, optional
        Label of the horizontal axis.
    density : bool
        Draw densities (area 1) instead of counts, to compare sets of different sizes.
    log : bool
        Logarithmic vertical axis (useful when most activations are near zero).

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one histogram per entry.
    """
    if not hasattr(values_by_name, "items") or not values_by_name:
        raise ValueError("values_by_name must be a non-empty dict: name -> array of values")
    data = {}
    for name, values in values_by_name.items():
        v = _host(values, f"values_by_name[{name!r}]").ravel()
        data[name] = v[~np.isnan(v)]
    everything = np.concatenate(list(data.values()))
    if everything.size == 0:
        raise ValueError("values_by_name holds no values to count")
    edges = np.histogram_bin_edges(everything, bins=bins)
    fig = Figure(figsize=(6.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for k, (name, v) in enumerate(data.items()):
        color = f"C{k % 10}"
        ax.hist(v, bins=edges, density=density, log=log, histtype="stepfilled", alpha=0.35, color=color)
        ax.hist(v, bins=edges, density=density, log=log, histtype="step", color=color, linewidth=1.2,
                label=f"{name} (n={v.size})")
    ax.set_xlabel(xlabel if xlabel is not None else "value")
    ax.set_ylabel("density" if density else "count")
    ax.legend(frameon=False)
    return _finish(fig, path, title)
