r"""One self-contained web page to explore a trained VAE or CVAE: see μ and σ move.

:func:`write_explorer` writes a single HTML file that a learner opens from disk (no
server, no network: the page's Content-Security-Policy forbids every request). It holds

- the model's weights (float32, base64) and a forward pass in plain JavaScript that
  mirrors the ops (``minivae/explorer/nn.js``: dense, each activation, the sigmoid of
  the Bernoulli decoder), so the page encodes and decodes by itself;
- a sample of held-out digits: their pixels and their posterior means μ and
  log-variances, computed here by NumPy;
- the page (``minivae/explorer/page.html``, ``explorer.css``; ``pad.js``, which turns a
  drawing into the encoder's input; ``plane.js``, which draws the plane; ``explorer.js``,
  which draws every view from one state; ``controls.js``, which changes that state): the
  latent plane with the held-out μ as dots over the prior's shading and the digit decoded
  at z beside a Bernoulli draw of it, a pad to draw a digit and see its cloud (μ, σ, the
  KL of each coordinate, −log p(x | z), the one-sample ELBO, samples z = μ + σ·ε with
  their ε) also zoomed to the scale of σ, the label buttons of a CVAE, a walk between two
  points, keys for all of it, and notes that point to docs/derivations.md.

The page's JavaScript answers ``minivae.encode(pixels, label) -> {mu, logvar}``,
``minivae.decode(z, label) -> pixels`` and ``minivae.terms(pixels, label, eps) ->
{kl, klPerDim, recon, elbo}`` (recon = −log p(x | z) in nats at z = μ + σ·ε, elbo =
−recon − kl), equal to :meth:`VAE.encode`, :meth:`VAE.decode` and the terms of
:meth:`VAE.loss_terms_and_grads` to float32 rounding (tested in headless Chromium).
Several models of the same data go into one page with a button for each.

**The plane.** For a code of more than 2 numbers the page shows the two coordinates of
z along which the held-out μ spread most (the largest standard deviation of μ over the
sample; ties go to the lower index). Coordinates, not a PCA plane: a diagonal
Gaussian's 1σ and 2σ ellipses are then exact in the picture (axis-aligned, semi-axes
σ_i and σ_j), and each axis is one number the encoder outputs. The other coordinates
are held at values the page shows and lets the learner change; they start at the mean
of the held-out μ.
"""
from __future__ import annotations

import base64
import html
import json
import math
import os
import re
from importlib import resources

import numpy as np

from ._checks import check_positive_int
from .backend import to_numpy
from .checkpoint import write_atomically
from .layers import Dense, Identity, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .models import CVAE, VAE

__all__ = ["MAX_PAGE_BYTES", "choose_plane", "explorer_html", "page_size", "pad_geometry", "write_explorer"]

#: the page's parts, package data under minivae/explorer/
ASSETS = ("page.html", "explorer.css", "nn.js", "pad.js", "plane.js", "explorer.js", "controls.js")
#: held-out digits embedded by default: keeps the pages of the default models under ~5 MB
DEFAULT_POINTS = 500
#: the largest page written, in bytes. The page's data is one string of base64 text that
#: the browser hands to JSON.parse, then decodes array by array: V8 (Chromium, Node) refuses
#: any string past 2**29 - 24 characters (about 537 million), and the page holds the text,
#: the parsed copy and the decoded arrays at once. A 178.5 MB page (a 784-6000-2000-2 VAE)
#: opened in headless Chromium 156 in 7 s on the 2-core development machine; 200 MB keeps
#: well below the string limit. A phone may give up sooner (the default pages weigh 0.2 to 4 MB).
MAX_PAGE_BYTES = 200_000_000
_LAYER_TYPES = ((ReLU, "relu"), (LeakyReLU, "leaky_relu"), (Sigmoid, "sigmoid"), (Tanh, "tanh"),
                (Softplus, "softplus"), (Identity, "linear"))


# ---------------------------------------------------------------------- what the page embeds
def _b64(a, dtype):
    """Little-endian bytes of ``a`` as ``dtype``, in base64 text."""
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode("ascii")


def _layers(block):
    """A block (Sequential) as the list of layer records that nn.js reads."""
    out = []
    for layer in block.layers:
        if isinstance(layer, Dense):
            W, b = to_numpy(layer.params["W"]), to_numpy(layer.params["b"])
            out.append({"type": "dense", "in": int(W.shape[0]), "out": int(W.shape[1]),
                        "W": _b64(W, np.float32), "b": _b64(b, np.float32)})
            continue
        for cls, name in _LAYER_TYPES:
            if type(layer) is cls:
                record = {"type": name}
                if name == "leaky_relu":
                    record["negative_slope"] = float(layer.negative_slope)
                out.append(record)
                break
        else:
            raise TypeError(f"the explorer cannot write a {type(layer).__name__} layer into JavaScript")
    return out


def choose_plane(mu):
    """The two coordinates of z the page shows, and where it holds the others.

    Parameters
    ----------
    mu : array, shape (n, latent_dim), latent_dim >= 2
        Posterior means of held-out examples.

    Returns
    -------
    dims : list of 2 int
        The coordinates with the largest standard deviation of ``mu`` over the examples,
        largest first (ties: the lower index first).
    spread : list of float, shape (latent_dim,)
        That standard deviation, for every coordinate.
    held : list of float, shape (latent_dim,)
        The mean of ``mu`` over the examples: where the other coordinates start.
    """
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 2 or mu.shape[1] < 2 or mu.shape[0] < 1:
        raise ValueError(f"mu must have shape (n, latent_dim) with n >= 1 and latent_dim >= 2; got {mu.shape}")
    spread = mu.std(axis=0)
    dims = sorted(range(mu.shape[1]), key=lambda j: (-spread[j], j))[:2]
    return [int(j) for j in dims], spread.tolist(), mu.mean(axis=0).tolist()


def _plane_extent(mu, dims):
    """Half-width of the square the plane shows: at least 3 (the prior's 3σ), rounded up to 0.5."""
    reach = float(np.quantile(np.abs(mu[:, dims]), 0.995)) * 1.15 if mu.size else 0.0
    return max(3.0, math.ceil(reach * 2.0) / 2.0)


def pad_geometry(X, side):
    """Where the drawing pad puts a stroke so that it looks like the data.

    The page scales a drawing so that the longer side of its ink's bounding box is
    ``box`` pixels, and moves it so that its centre of mass lies at ``center`` (the way
    MNIST itself was made). Both are medians over the images ``X``, shape (n, side²),
    of pixels in [0, 1] (ink: a pixel above a quarter of the image's maximum).

    Returns
    -------
    dict
        ``{"box": float, "center": [row, col], "pen": float}``; ``pen`` is the stroke's
        width in pixels of the image.
    """
    imgs = np.clip(np.asarray(X, dtype=np.float64), 0.0, 1.0).reshape(-1, side, side)
    boxes, centers = [], []
    rows = np.arange(side, dtype=np.float64)
    for img in imgs:
        total = img.sum()
        if total <= 0:
            continue
        r, c = np.nonzero(img > 0.25 * img.max())
        boxes.append(max(r.max() - r.min() + 1, c.max() - c.min() + 1))
        centers.append(((img.sum(axis=1) @ rows) / total, (img.sum(axis=0) @ rows) / total))
    if not boxes:
        return {"box": 0.7 * side, "center": [(side - 1) / 2] * 2, "pen": max(1.5, side / 10)}
    center = np.median(np.array(centers), axis=0)
    # 8x8 digits are drawn about 1.5 pixels thick, MNIST's 28x28 about 2.8
    return {"box": float(np.median(boxes)), "center": [float(center[0]), float(center[1])],
            "pen": max(1.5, side / 10)}


def _check_inputs(model, X, y, n_points):
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a VAE or CVAE (the explorer shows mu and sigma); got {type(model).__name__}")
    if model.latent_dim < 2:
        raise ValueError(f"the explorer shows a plane of the code: model.latent_dim must be >= 2; "
                         f"got {model.latent_dim}")
    side = math.isqrt(model.input_dim)
    if side * side != model.input_dim:
        raise ValueError(f"the explorer draws square images: model.input_dim must be a square number "
                         f"(64 for 8x8, 784 for 28x28); got {model.input_dim}")
    if not hasattr(X, "shape") or not hasattr(X, "dtype"):
        raise TypeError(f"X must be an array of held-out images, shape (n, {model.input_dim}); got {type(X).__name__}")
    if X.ndim != 2 or X.shape[1] != model.input_dim or X.shape[0] < 1:
        raise ValueError(f"X must have shape (n, {model.input_dim}) with n >= 1; got {tuple(X.shape)}")
    if isinstance(model, CVAE) and y is None:
        raise TypeError(f"a CVAE encodes each digit with its label: give y, shape ({X.shape[0]},)")
    if y is not None and (not hasattr(y, "shape") or tuple(y.shape) != (X.shape[0],)):
        raise ValueError(f"y must have shape ({X.shape[0]},): one label per image; "
                         f"got {tuple(getattr(y, 'shape', ())) or type(y).__name__}")
    return side, check_positive_int(n_points, "n_points")


def explorer_data(model, X, y=None, *, n_points=DEFAULT_POINTS, seed=0, title=None):
    """The JSON-ready record the page reads: weights, the held-out sample, the plane.

    Parameters are those of :func:`write_explorer`.
    """
    side, n_points = _check_inputs(model, X, y, n_points)
    X = to_numpy(X)
    y = None if y is None else to_numpy(y)
    keep = np.arange(X.shape[0])
    if X.shape[0] > n_points:
        keep = np.sort(np.random.default_rng(seed).choice(X.shape[0], size=n_points, replace=False))
    Xs = X[keep]
    ys = None if y is None else y[keep]
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, in one line
        mu, logvar = model.encode(Xs, ys) if isinstance(model, CVAE) else model.encode(Xs)
    mu, logvar = to_numpy(mu).astype(np.float32), to_numpy(logvar).astype(np.float32)
    bad = ~(np.isfinite(mu).all(axis=1) & np.isfinite(logvar).all(axis=1))
    if bad.any():
        raise ValueError(f"the model's encoder gives a mu or logvar that is not a finite float32 number for "
                         f"{int(bad.sum())} of the {len(bad)} held-out digits (its weights overflow; the largest "
                         f"|weight| is {_largest_weight(model):.3g}): there is no cloud to show")
    dims, spread, held = choose_plane(mu)
    cvae = isinstance(model, CVAE)
    return {
        "format": "minivae-explorer/1",
        "kind": type(model).__name__,
        "title": title or f"{type(model).__name__} {'-'.join(map(str, (model.input_dim, *model.hidden_dims, model.latent_dim)))}",
        "input_dim": model.input_dim, "side": side, "latent_dim": model.latent_dim,
        "n_classes": model.n_classes if cvae else 0,
        "hidden_dims": list(model.hidden_dims), "activation": model.activation, "likelihood": model.likelihood,
        "sigma": float(model.sigma), "beta": float(model.beta),
        "blocks": {name: _layers(model.blocks[name]) for name in ("encoder", "mu", "logvar", "decoder")},
        "heldout": {
            "n": int(len(keep)), "of": int(X.shape[0]),
            "mu": _b64(mu, np.float32), "logvar": _b64(logvar, np.float32),
            "labels": None if ys is None else [int(v) for v in ys],
            "pixels": _b64(np.rint(np.clip(Xs, 0.0, 1.0) * 255.0), np.uint8),
        },
        "plane": {"dims": dims, "spread": spread, "held": held, "extent": _plane_extent(mu, dims),
                  "rule": "the two coordinates of z along which the held-out μ spread most"},
        "pad": pad_geometry(X, side),
    }


def _largest_weight(model):
    return max(float(np.abs(to_numpy(v)).max(initial=0.0)) for v in model.params.values())


# ---------------------------------------------------------------------- the page
def _b64_len(n_bytes):
    return 4 * ((n_bytes + 2) // 3)


def _code_bytes():
    return sum(len(_asset(name).encode("utf-8")) for name in ASSETS)


def page_size(model, n_points):
    """The size in bytes of the page of ``model`` with ``n_points`` held-out digits, within a few kB.

    Computed from the shapes alone (before any array is encoded), so that a page too large
    to open is refused at once: the base64 text of every weight array (float32), of the
    digits' pixels (one byte each), their mu and logvar (float32), and the page's own code
    (once). ``model`` may be a list of models, for a page that switches between them.
    """
    models = list(model) if isinstance(model, (list, tuple)) else [model]
    total = _code_bytes()
    for m in models:
        weights = sum(_b64_len(4 * int(np.prod(v.shape))) for v in m.params.values())
        heldout = _b64_len(n_points * m.input_dim) + 2 * _b64_len(4 * n_points * m.latent_dim) + 3 * n_points
        total += weights + heldout + 2_000 + 120 * len(m.params)
    return total



def check_page_size(model, n_points, limit=None):
    """Refuse (``ValueError``, one line with both sizes) a page larger than ``MAX_PAGE_BYTES``."""
    limit = MAX_PAGE_BYTES if limit is None else limit
    size = page_size(model, n_points)
    if size > limit:
        models = list(model) if isinstance(model, (list, tuple)) else [model]
        what = (f"this {type(models[0]).__name__} ({models[0].n_params():,} weights)" if len(models) == 1
                else f"these {len(models)} models ({sum(m.n_params() for m in models):,} weights)")
        raise ValueError(f"the page of {what} would be {size / 1e6:,.0f} MB; a browser cannot open a page past "
                         f"{limit / 1e6:,.0f} MB (the page's data is one string: Chromium's limit is "
                         f"2**29 - 24 characters)")
    return size


def _asset(name):
    return (resources.files("minivae") / "explorer" / name).read_text(encoding="utf-8")


def _as_list(model, title):
    models = list(model) if isinstance(model, (list, tuple)) else [model]
    if not models:
        raise ValueError("model must be a VAE or CVAE, or a list of them; got an empty list")
    titles = list(title) if isinstance(title, (list, tuple)) else [title] * len(models)
    if len(titles) != len(models):
        raise ValueError(f"title must be one string per model ({len(models)}); got {len(titles)}")
    for m in models[1:]:
        if getattr(m, "input_dim", None) != getattr(models[0], "input_dim", None):
            raise ValueError(f"the models of one page must read the same data: input_dim {models[0].input_dim} "
                             f"and {getattr(m, 'input_dim', type(m).__name__)}")
    return models, titles


def explorer_html(model, X, y=None, *, n_points=DEFAULT_POINTS, seed=0, title=None):
    """The whole page as one string of HTML (see :func:`write_explorer`)."""
    models, titles = _as_list(model, title)
    if hasattr(X, "shape") and len(X.shape) == 2 and all(isinstance(m, VAE) for m in models):
        n = min(check_positive_int(n_points, "n_points"), X.shape[0])
        check_page_size(models, n)
    records = [explorer_data(m, X, y, n_points=n_points, seed=seed, title=t) for m, t in zip(models, titles)]
    data = records[0] if len(records) == 1 else {"format": "minivae-explorer/1", "models": records}
    page, *inlined = (_asset(name) for name in ASSETS)
    for name, text in zip(ASSETS[1:], inlined):
        if "</" in text:  # would end the inline <style> or <script> early
            raise ValueError(f"minivae/explorer/{name} must not contain '</'")
    # inside <script type="application/json"> only "</script" could end the block: escape every "<"
    data_json = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    parts = {name.replace(".", "_"): text for name, text in zip(ASSETS[1:], inlined)}
    heading = records[0]["title"] + (f" (and {len(records) - 1} more)" if len(records) > 1 else "")
    parts.update(title=html.escape(heading), style=parts.pop("explorer_css"), data=data_json)
    return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], page)


def write_explorer(model, X, y=None, path="explorer.html", *, n_points=DEFAULT_POINTS, seed=0, title=None):
    """Write a self-contained HTML page to explore ``model``; return its path.

    Open the file in any browser, straight from disk. The page makes no network request.
    A page larger than :data:`MAX_PAGE_BYTES` is refused (``ValueError``) before anything
    is computed or written.

    Parameters
    ----------
    model : VAE or CVAE, or a list of them
        With ``latent_dim >= 2`` and square images (``input_dim`` = side²). Several models
        of the same data (say beta = 0.5, 1 and 4) make one page with a switch between
        them; it weighs about the sum of their pages (the code is shared).
    X : array, shape (n, input_dim)
        Held-out images, pixels in [0, 1]; ``n_points`` of them (drawn with ``seed``)
        are encoded and shown as dots, their μ from :meth:`VAE.encode`.
    y : array of int, shape (n,), optional
        Their digits: the dots' colours; required for a CVAE, which encodes each image
        with its label.
    path : str
        The file to write (parent folders are created); written to a temporary file,
        then renamed.
    n_points : int
        How many held-out images to embed (each costs about side² bytes).
    seed : int
        Chooses which images when there are more than ``n_points``.
    title : str or list of str, optional
        The page's heading, one per model (default: the kind and the layer widths).

    Examples
    --------
    >>> from minivae import VAE
    >>> from minivae.datasets import load_digits
    >>> from minivae.explore import write_explorer
    >>> X, y = load_digits()
    >>> vae = VAE(64, hidden_dims=(64,), latent_dim=2)
    >>> _ = vae.fit(X, epochs=5, verbose=False)
    >>> write_explorer(vae, X, y, "explorer.html")   # doctest: +SKIP
    """
    text = explorer_html(model, X, y, n_points=n_points, seed=seed, title=title)
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomically(path, lambda f: f.write(text.encode("utf-8")), what="an explorer page")
    return path
