"""Figures of numbers: the latent space as points, training curves, ROC curves, histograms."""
from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .common import finish, host

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
    Z = host(Z, "Z")
    if Z.ndim != 2 or Z.shape[1] < 2:
        raise ValueError(f"Z must have shape (n, k) with k >= 2 latent dimensions; got shape {Z.shape}")
    if Z.shape[0] == 0:
        raise ValueError("Z is empty: it needs at least one code (row)")
    if labels is not None:
        labels = host(labels, "labels")
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
    return finish(fig, path, title)


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
    return finish(fig, path, title)


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
    s = host(scores, "scores").ravel()
    y = host(labels, "labels").ravel()
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
    return finish(fig, path, title)


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
        v = host(values, f"values_by_name[{name!r}]").ravel()
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
    return finish(fig, path, title)
