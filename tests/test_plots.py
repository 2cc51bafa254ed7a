"""Tests for minivae.plots: figures have the panels they promise, save as PNG, and the
numbers behind them (ROC/AUC, the latent-manifold grid, the PCA projection) are right."""
import subprocess
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from matplotlib.figure import Figure

from minivae import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DTYPES = [np.float32, np.float64]


def n_images(fig):
    return sum(len(ax.images) for ax in fig.axes)


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
def test_image_grid_axes_images_and_png(tmp_path, digits, dtype):
    X = digits[0].astype(dtype)
    path = tmp_path / "deep" / "folder" / "grid.png"  # parents are created
    fig = plots.image_grid(X, ncols=5, path=path, title="twelve digits")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 15  # 3 rows of 5, the last 3 hidden
    assert n_images(fig) == 12
    assert fig.axes[0].images[0].get_array().shape == (8, 8)
    assert fig.axes[0].images[0].get_interpolation() == "nearest"
    assert_png(path)


def test_image_grid_titles_shapes_and_ranges(digits):
    X, y = digits
    fig = plots.image_grid(X[:4], titles=[str(v) for v in y[:4]])
    assert [ax.get_title() for ax in fig.axes] == [str(v) for v in y[:4]]
    fig = plots.image_grid(np.zeros((3, 60)), shape=(6, 10))  # not square, shape given
    assert fig.axes[0].images[0].get_array().shape == (6, 10)
    fig = plots.image_grid(np.zeros((2, 784), np.float32))  # 784 -> 28 x 28 inferred
    assert fig.axes[0].images[0].get_array().shape == (28, 28)
    # pixels in [0, 1] share the [0, 1] grey scale; anything else its own range
    assert fig.axes[0].images[0].get_clim() == (0.0, 1.0)
    fig = plots.image_grid(np.linspace(-2, 3, 2 * 64).reshape(2, 64))
    assert fig.axes[0].images[0].get_clim() == (-2.0, 3.0)


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


@pytest.mark.parametrize("dtype", DTYPES)
def test_reconstructions_rows(tmp_path, digits, dtype):
    X = digits[0].astype(dtype)
    fig = plots.reconstructions(X, 0.9 * X, n=5, path=tmp_path / "r.png", title="AE")
    assert len(fig.axes) == n_images(fig) == 2 * 5
    assert fig.axes[0].get_ylabel() == "original" and fig.axes[5].get_ylabel() == "reconstruction"
    assert_png(tmp_path / "r.png")
    fig = plots.reconstructions(X, 0.9 * X, corrupted=X + 0.1, n=4)
    assert n_images(fig) == 3 * 4
    assert [fig.axes[4 * r].get_ylabel() for r in range(3)] == ["corrupted", "reconstruction", "original"]
    fig = plots.reconstructions(rows=[("noisy", X), ("denoised", X), ("clean", X), ("diff", X - X)], n=20)
    assert n_images(fig) == 4 * 12  # n is capped at the number of examples
    assert fig.axes[36].get_ylabel() == "diff"


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
    fig = plots.interpolation_strip(X, path=tmp_path / "s.png", title="0 -> 1")
    assert len(fig.axes) == n_images(fig) == 7
    assert len({round(ax.get_position().y0, 6) for ax in fig.axes}) == 1
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
    assert n_images(plots.image_grid(X)) == 4
    assert n_images(plots.reconstructions(X, X)) == 8
    assert len(plots.latent_scatter(put(rng.normal(size=(20, 3))), put(rng.integers(0, 2, 20))).axes) == 1
    assert plots.roc_curve(put(np.array([0.1, 0.9])), put(np.array([0, 1])))[2] == 1.0
    assert n_images(plots.latent_manifold(lambda Z: put(np.zeros((len(Z), 64))), n=3)) == 1


def test_importing_minivae_does_not_import_plots():
    code = "import sys, minivae; assert 'minivae.plots' not in sys.modules"
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
