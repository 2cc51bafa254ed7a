"""Tests for minivae.plots: figures have the panels they promise, save as PNG, and the
numbers behind them (ROC/AUC, the latent-manifold grid, the PCA projection) are right."""
import subprocess
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from matplotlib.figure import Figure

from minivae import plots, to_numpy

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DTYPES = [np.float32, np.float64]


def n_images(fig):
    return sum(len(ax.images) for ax in fig.axes)


def mosaic_cells(fig):
    """The mosaic of an image figure and its cells, found from the all-NaN gap rows and columns.

    Returns the 2-D array and the runs ``[(start, stop), ...]`` of rows and of columns that
    hold pixels: cell ``(r, c)`` is ``A[rows[r][0]:rows[r][1], cols[c][0]:cols[c][1]]``.
    """
    (ax,) = fig.axes
    (img,) = ax.images
    A = np.ma.filled(np.ma.asarray(img.get_array(), dtype=np.float64), np.nan)

    def runs(has_pixels):
        edges = np.flatnonzero(np.diff(np.r_[0, has_pixels.astype(int), 0]))
        return list(zip(edges[::2], edges[1::2]))

    return A, runs(~np.all(np.isnan(A), axis=1)), runs(~np.all(np.isnan(A), axis=0))


def assert_cells_hold(fig, images, ncols):
    """Cell (r, c) of the mosaic is exactly image r * ncols + c; the cells after the last image are empty."""
    A, rows, cols = mosaic_cells(fig)
    n, h, w = images.shape
    assert len(rows) == -(-n // ncols) and len(cols) == ncols
    assert all(b - a == h for a, b in rows) and all(b - a == w for a, b in cols)
    for k in range(len(rows) * ncols):
        (r0, r1), (c0, c1) = rows[k // ncols], cols[k % ncols]
        if k < n:
            np.testing.assert_array_equal(A[r0:r1, c0:c1], images[k])
        else:
            assert np.all(np.isnan(A[r0:r1, c0:c1]))
    return A, rows, cols


def cell_boxes(fig):
    """Each cell's box on the drawn figure, in display pixels: {(r, c): (x0, y0, x1, y1)}, y up."""
    A, rows, cols = mosaic_cells(fig)
    to_display = fig.axes[0].transData.transform
    boxes = {}
    for r, (r0, r1) in enumerate(rows):
        for c, (c0, c1) in enumerate(cols):
            (x0, y0), (x1, y1) = to_display([(c0 - 0.5, r1 - 0.5), (c1 - 0.5, r0 - 0.5)])  # the rows run downwards
            boxes[r, c] = (x0, y0, x1, y1)
    return boxes


def assert_captions_over_cells(fig, captions, ncols):
    """Each caption is one text, centred over its own cell, between it and the row above."""
    fig.draw_without_rendering()
    texts = fig.axes[0].texts
    assert [t.get_text() for t in texts] == list(captions)
    boxes = cell_boxes(fig)
    for k, t in enumerate(texts):
        r, c = divmod(k, ncols)
        x0, y0, x1, y1 = boxes[r, c]
        e = t.get_window_extent()
        assert (e.x0 + e.x1) / 2 == pytest.approx((x0 + x1) / 2, abs=1.0)
        assert y1 <= e.y0 <= y1 + 5  # just above the top of its cell
        if r > 0:
            assert e.y1 <= boxes[r - 1, c][1]  # below the bottom of the cell above


def assert_png(path, max_bytes=150_000):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert 100 < len(data) < max_bytes


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    return rng.random((12, 64)), rng.integers(0, 10, 12)


# ---------------------------------------------------------------------- image grids
@pytest.mark.parametrize("dtype", DTYPES)
def test_image_grid_is_one_mosaic_and_png(tmp_path, digits, dtype):
    X = digits[0].astype(dtype)
    path = tmp_path / "deep" / "folder" / "grid.png"  # parents are created
    fig = plots.image_grid(X, ncols=5, path=path, title="twelve digits")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1 and n_images(fig) == 1  # one picture, however many digits
    assert fig.axes[0].images[0].get_interpolation() == "nearest"
    A, rows, cols = assert_cells_hold(fig, X.reshape(12, 8, 8), ncols=5)  # 3 rows of 5, the last 3 empty
    gaps = [b0 - a1 for (_, a1), (b0, _) in zip(cols, cols[1:])]
    assert len(set(gaps)) == 1 and 1 <= gaps[0] <= 2  # thin, even gaps between the cells
    assert fig.get_suptitle() == "twelve digits"
    assert_png(path)


def test_image_grid_titles_shapes_and_ranges(digits):
    X, y = digits
    titles = [f"read as {v}" for v in y[:7]]
    fig = plots.image_grid(X[:7], ncols=3, titles=titles)
    assert_cells_hold(fig, X[:7].reshape(7, 8, 8), ncols=3)
    assert_captions_over_cells(fig, titles, ncols=3)
    fig = plots.image_grid(np.arange(180.0).reshape(3, 60) / 180, shape=(6, 10))  # not square, shape given
    assert_cells_hold(fig, np.arange(180.0).reshape(3, 6, 10) / 180, ncols=3)
    fig = plots.image_grid(np.zeros((2, 784), np.float32))  # 784 -> 28 x 28 inferred
    _, rows, cols = mosaic_cells(fig)
    assert [b - a for a, b in rows + cols] == [28, 28, 28]
    # pixels in [0, 1] share the [0, 1] grey scale; anything else its own range
    assert fig.axes[0].images[0].get_clim() == (0.0, 1.0)
    fig = plots.image_grid(np.linspace(-2, 3, 2 * 64).reshape(2, 64))
    assert fig.axes[0].images[0].get_clim() == (-2.0, 3.0)


def test_image_grid_draws_frames_and_paper(tmp_path):
    """Ink dark on paper, each cell framed in light grey, white gaps (NaN shows the paper)."""
    from matplotlib.image import imread

    X = np.zeros((3, 64))
    X[0] = 1.0  # one image of ink, two of blank paper
    fig = plots.image_grid(X, ncols=2, path=tmp_path / "g.png")  # 2 x 2 cells, the last one empty
    pixels = imread(tmp_path / "g.png")[..., :3]
    fig.draw_without_rendering()
    boxes = cell_boxes(fig)
    height = pixels.shape[0]

    def grey(x, y):  # the saved pixel at display coordinates (y up): 0 black, 1 white
        return float(pixels[height - 1 - int(y), int(x)].mean())

    x0, y0, x1, y1 = boxes[0, 0]
    middle = (y0 + y1) / 2
    assert grey((x0 + x1) / 2, middle) < 0.02  # pixel value 1 is black ink
    assert grey((x1 + boxes[0, 1][0]) / 2, middle) == 1.0  # the gap between cells is white paper
    x0, y0, x1, y1 = boxes[1, 1]
    assert grey((x0 + x1) / 2, (y0 + y1) / 2) == 1.0  # so is the empty cell
    # across the right edge of the blank cell (0, 1): white, a light grey frame line, white
    across = [grey(x, middle) for x in np.arange(boxes[0, 1][2] - 4, boxes[0, 1][2] + 4)]
    assert across[0] == across[-1] == 1.0 and 0.7 < min(across) < 0.95


def test_image_grid_bad_inputs():
    with pytest.raises(ValueError, match="shape"):
        plots.image_grid(np.zeros((3, 63)))  # 63 is not a square number
    with pytest.raises(ValueError, match="shape"):
        plots.image_grid(np.zeros((3, 64)), shape=(4, 4))
    with pytest.raises(ValueError, match="titles"):
        plots.image_grid(np.zeros((3, 64)), titles=["a"])
    with pytest.raises(ValueError, match="images"):
        plots.image_grid(np.zeros((0, 64)))
    with pytest.raises(TypeError, match="images"):
        plots.image_grid(np.array([["a"] * 4]))


def assert_row_labels(fig, labels):
    """Each row label is one text, left of the first cell of its row and level with it."""
    fig.draw_without_rendering()
    texts = fig.axes[0].texts
    assert [t.get_text() for t in texts] == list(labels)
    boxes = cell_boxes(fig)
    for r, t in enumerate(texts):
        x0, y0, _, y1 = boxes[r, 0]
        e = t.get_window_extent()
        assert e.x1 <= x0 and (e.y0 + e.y1) / 2 == pytest.approx((y0 + y1) / 2, abs=1.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reconstructions_rows(tmp_path, digits, dtype):
    X = digits[0].astype(dtype)
    imgs = X.reshape(12, 8, 8)
    fig = plots.reconstructions(X, 0.9 * X, n=5, path=tmp_path / "r.png", title="AE")
    assert n_images(fig) == 1
    assert_cells_hold(fig, np.concatenate([imgs[:5], 0.9 * imgs[:5]]), ncols=5)
    assert_row_labels(fig, ["original", "reconstruction"])
    assert_png(tmp_path / "r.png")
    fig = plots.reconstructions(X, 0.9 * X, corrupted=X + 0.1, n=4)
    assert_cells_hold(fig, np.concatenate([imgs[:4] + 0.1, 0.9 * imgs[:4], imgs[:4]]), ncols=4)
    assert_row_labels(fig, ["corrupted", "reconstruction", "original"])
    assert fig.axes[0].images[0].get_clim() == pytest.approx((0.9 * X[:4].min(), X[:4].max() + 0.1))  # one scale
    fig = plots.reconstructions(rows=[("noisy", X), ("denoised", X), ("clean", X), ("diff", X - X)], n=20)
    _, rows, cols = mosaic_cells(fig)
    assert (len(rows), len(cols)) == (4, 12)  # n is capped at the number of examples
    assert_row_labels(fig, ["noisy", "denoised", "clean", "diff"])


def test_reconstructions_bad_inputs(digits):
    X = digits[0]
    with pytest.raises(ValueError, match="reconstructed"):
        plots.reconstructions(X, X[:5])
    with pytest.raises(ValueError, match="shape"):
        plots.reconstructions(X[:, :63], X[:, :63])
    with pytest.raises(TypeError, match="rows"):
        plots.reconstructions(X, X, rows=[("a", X)])


def test_interpolation_strip_is_one_row(tmp_path, digits):
    X = digits[0][:7].astype(np.float32)
    titles = [f"t={t:.2f}" for t in np.linspace(0, 1, 7)]
    fig = plots.interpolation_strip(X, titles=titles, path=tmp_path / "s.png", title="0 -> 1")
    assert n_images(fig) == 1
    assert_cells_hold(fig, X.reshape(7, 8, 8), ncols=7)  # one row of seven cells
    assert_captions_over_cells(fig, titles, ncols=7)
    assert_png(tmp_path / "s.png")


# ---------------------------------------------------------------------- latent manifold
@pytest.mark.parametrize("dtype", DTYPES)
def test_latent_manifold_grid_is_inverse_normal_cdf(tmp_path, dtype):
    n, seen = 5, []

    def decode(Z):
        seen.append(Z.copy())
        # tile k shows the constant k / (n*n), so its position in the mosaic can be read back
        return np.repeat(np.arange(len(Z), dtype=dtype)[:, None] / len(Z), 64, axis=1)

    fig = plots.latent_manifold(decode, n=n, path=tmp_path / "m.png", title="manifold")
    (Z,) = seen
    assert Z.shape == (n * n, 2)
    inv = NormalDist().inv_cdf
    lo, hi = inv(1 / (n + 1)), inv(n / (n + 1))
    np.testing.assert_allclose(Z[0], [lo, hi])  # top left: z1 smallest, z2 largest
    np.testing.assert_allclose(Z[n - 1], [hi, hi])  # top right
    np.testing.assert_allclose(Z[-n], [lo, lo])  # bottom left
    np.testing.assert_allclose(Z[-1], [hi, lo])  # bottom right
    np.testing.assert_allclose(Z[n * n // 2], [0.0, 0.0], atol=1e-12)  # the prior's median
    assert len(np.unique(Z[:, 0])) == n and len(np.unique(Z[:, 1])) == n
    (ax,) = fig.axes
    (img,) = ax.images
    mosaic = np.asarray(img.get_array())
    assert mosaic.shape == (n * 8, n * 8)
    for i, j in [(0, 0), (1, 3), (n - 1, n - 1)]:
        assert mosaic[8 * i + 3, 8 * j + 3] == pytest.approx((i * n + j) / (n * n))
    assert "Φ⁻¹" in ax.get_xlabel() and "1/6" in ax.get_xlabel() and "5/6" in ax.get_ylabel()
    # the edge ticks say which quantiles they are (Φ⁻¹(1/6) = -0.97)
    assert f"±{hi:.2f}" in fig.get_supxlabel() and "16.67 %" in fig.get_supxlabel()
    assert_png(tmp_path / "m.png")


def test_latent_manifold_bad_inputs():
    with pytest.raises(TypeError, match="decode"):
        plots.latent_manifold(np.zeros(3))
    with pytest.raises(ValueError, match="decode"):
        plots.latent_manifold(lambda Z: np.zeros((3, 64)), n=4)
    with pytest.raises(ValueError, match="shape"):
        plots.latent_manifold(lambda Z: np.zeros((len(Z), 63)), n=4)


# ---------------------------------------------------------------------- latent scatter
@pytest.mark.parametrize("dtype", DTYPES)
def test_latent_scatter_2d_with_legend(tmp_path, dtype):
    rng = np.random.default_rng(1)
    Z, y = rng.normal(size=(200, 2)).astype(dtype), rng.integers(0, 10, 200)
    fig = plots.latent_scatter(Z, y, path=tmp_path / "z.png", title="latent")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "z₁"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [str(d) for d in range(10)]
    np.testing.assert_allclose(np.sort(ax.collections[0].get_offsets()[:, 0]), np.sort(Z[:, 0]), rtol=1e-6)
    assert_png(tmp_path / "z.png")


def test_latent_scatter_projects_wider_codes_on_principal_components():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(300, 5)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1]) @ np.linalg.qr(rng.normal(size=(5, 5)))[0]
    fig = plots.latent_scatter(Z, rng.integers(0, 3, 300))
    ax = fig.axes[0]
    assert "PC 1" in ax.get_xlabel() and "PC 2" in ax.get_ylabel()
    P = np.asarray(ax.collections[0].get_offsets())
    top = np.sort(np.linalg.eigvalsh(np.cov(Z.T)))[::-1][:2]
    # the projection is onto the top two principal axes: uncorrelated, with their variances
    np.testing.assert_allclose(np.cov(P.T), np.diag(top), atol=1e-8 * top[0])
    assert len(ax.get_legend().get_texts()) == 3


def test_latent_scatter_colorbar_for_many_classes_and_one_hot():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(50, 2))
    assert len(plots.latent_scatter(Z, rng.integers(0, 20, 50)).axes) == 2  # plot + colour bar
    one_hot = np.eye(10)[rng.integers(0, 10, 50)]
    assert len(plots.latent_scatter(Z, one_hot).axes[0].get_legend().get_texts()) == len(np.unique(one_hot.argmax(1)))


def test_latent_scatter_bad_inputs():
    with pytest.raises(ValueError, match="labels"):
        plots.latent_scatter(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="Z"):
        plots.latent_scatter(np.zeros((10, 1)), np.zeros(10))


# ---------------------------------------------------------------------- training curves
@pytest.mark.parametrize("dtype", DTYPES)
def test_training_curves_panels(tmp_path, dtype):
    v = np.array([3.0, 2.0, 1.5], dtype)
    history = {"epoch": [1, 2, 3], "loss": list(v), "recon": list(v - 0.5), "kl": list(v / 10),
               "val_loss": list(v + 0.1), "val_recon": list(v), "val_kl": list(v / 9), "time": [0.1] * 3}
    fig = plots.training_curves(history, path=tmp_path / "c.png", title="VAE")
    assert [ax.get_title() for ax in fig.axes] == ["total loss", "reconstruction", "KL divergence"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["per example"] * 3  # every panel says its unit
    assert plots.training_curves(history, unit="nats per image").axes[2].get_ylabel() == "nats per image"
    for ax in fig.axes:
        assert [line.get_linestyle() for line in ax.get_lines()] == ["-", "--"]  # validation dashed
    np.testing.assert_allclose(fig.axes[2].get_lines()[0].get_ydata(), v / 10, rtol=1e-6)
    assert_png(tmp_path / "c.png")
    assert len(plots.training_curves({"loss": [1.0, 0.5]}).axes) == 1
    fig = plots.training_curves({"epoch": [1, 2], "loss": [2.0, 1.0], "recon": [1.5, 0.8], "penalty": [0.5, 0.2]})
    assert [ax.get_title() for ax in fig.axes] == ["total loss", "reconstruction", "penalty"]


def test_training_curves_bad_inputs():
    with pytest.raises(ValueError, match="history"):
        plots.training_curves({"epoch": [1], "recon": [1.0]})
    with pytest.raises(TypeError, match="history"):
        plots.training_curves([1.0, 2.0])


# ---------------------------------------------------------------------- ROC
@pytest.mark.parametrize("seed", range(5))
def test_roc_curve_matches_sklearn_with_ties(seed):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 300)
    scores = rng.integers(0, 8, 300) + labels * rng.integers(0, 3, 300)  # heavy ties across classes
    fpr, tpr, auc = plots.roc_curve(scores.astype(np.float32), labels)
    assert auc == pytest.approx(metrics.roc_auc_score(labels, scores), abs=1e-12)
    sk_fpr, sk_tpr, _ = metrics.roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    assert len(fpr) == len(np.unique(scores)) + 1
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)


def test_roc_curve_extremes():
    labels = np.array([0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert plots.roc_curve(scores, labels)[2] == 1.0
    assert plots.roc_curve(-scores, labels)[2] == 0.0
    assert plots.roc_curve(np.ones(5), labels)[2] == 0.5  # one big tie: the diagonal
    fpr, tpr, _ = plots.roc_curve(scores, labels.astype(bool))
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)


def test_roc_curve_bad_inputs():
    with pytest.raises(ValueError, match="labels"):
        plots.roc_curve(np.zeros(4), np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="labels"):
        plots.roc_curve(np.zeros(4), np.zeros(4))  # no anomalies
    with pytest.raises(ValueError, match="labels"):
        plots.roc_curve(np.zeros(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="scores"):
        plots.roc_curve(np.array([0.0, np.nan]), np.array([0, 1]))


def test_roc_plot_legend_has_auc(tmp_path):
    rng = np.random.default_rng(4)
    labels = np.r_[np.zeros(80), np.ones(20)]
    curves = {"AE": (rng.normal(size=100) + 2 * labels, labels), "perfect": (labels.astype(np.float32), labels)}
    fig = plots.roc_plot(curves, path=tmp_path / "roc.png", title="anomalies")
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "perfect (AUC 1.000)" in texts and any(t.startswith("AE (AUC 0.") for t in texts)
    assert len(ax.get_lines()) == 3  # two curves and the chance diagonal
    assert_png(tmp_path / "roc.png")
    # the legend sits below the axes, so it hides neither the chance line nor a curve
    fig.draw_without_rendering()
    assert ax.get_legend().get_window_extent().y1 <= ax.get_window_extent().y0


# ---------------------------------------------------------------------- histograms
@pytest.mark.parametrize("dtype", DTYPES)
def test_histogram_overlays_on_shared_bins(tmp_path, dtype):
    rng = np.random.default_rng(5)
    values = {"plain": rng.random((50, 16)).astype(dtype), "sparse": rng.exponential(0.05, 400).astype(dtype)}
    fig = plots.histogram(values, bins=20, path=tmp_path / "h.png", title="activations", xlabel="activation",
                          log=True)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "activation"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["plain (n=800)", "sparse (n=400)"]
    assert ax.get_yscale() == "log"
    assert_png(tmp_path / "h.png")
    with pytest.raises(ValueError, match="values_by_name"):
        plots.histogram({})


# ---------------------------------------------------------------------- backends and imports
def test_plots_accept_backend_arrays(put):
    rng = np.random.default_rng(6)
    X = put(rng.random((4, 64)).astype(np.float32))
    assert_cells_hold(plots.image_grid(X), to_numpy(X).reshape(4, 8, 8), ncols=4)
    assert_cells_hold(plots.reconstructions(X, X), np.tile(to_numpy(X).reshape(4, 8, 8), (2, 1, 1)), ncols=4)
    assert len(plots.latent_scatter(put(rng.normal(size=(20, 3))), put(rng.integers(0, 2, 20))).axes) == 1
    assert plots.roc_curve(put(np.array([0.1, 0.9])), put(np.array([0, 1])))[2] == 1.0
    assert n_images(plots.latent_manifold(lambda Z: put(np.zeros((len(Z), 64))), n=3)) == 1


def test_importing_minivae_does_not_import_plots():
    code = "import sys, minivae; assert 'minivae.plots' not in sys.modules"
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=120)
