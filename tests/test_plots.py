"""minivae.plots: each picture is drawn, saved as a real PNG, and the ROC maths is right."""
from statistics import NormalDist

import numpy as np
import pytest

from minivae import plots

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG


def _images(fig):
    return sum(len(ax.images) for ax in fig.axes)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_image_grid_draws_every_image_and_saves_a_png(tmp_path, dtype):
    X = np.random.default_rng(0).uniform(size=(12, 64)).astype(dtype)
    fig = plots.image_grid(X, ncols=4, path=tmp_path / "sub" / "grid.png", title="twelve")
    assert _images(fig) == 12
    assert _is_png(tmp_path / "sub" / "grid.png")


def test_reconstructions_has_one_row_per_stack(tmp_path):
    X = np.random.default_rng(0).uniform(size=(6, 784))
    fig = plots.reconstructions(rows=[("noisy", X), ("denoised", X), ("clean", X)], n=6,
                                path=tmp_path / "r.png")
    assert _images(fig) == 18
    assert _is_png(tmp_path / "r.png")


def test_a_feature_count_that_is_not_square_needs_a_shape():
    X = np.zeros((3, 60))
    with pytest.raises(ValueError, match="shape"):
        plots.image_grid(X)
    assert _images(plots.image_grid(X, shape=(6, 10))) == 3


def test_latent_manifold_decodes_the_inverse_normal_cdf_of_a_grid(tmp_path):
    seen = []

    def decode(Z):
        seen.append(np.array(Z))
        return np.zeros((len(Z), 64))

    n = 5
    fig = plots.latent_manifold(decode, n=n, shape=(8, 8), path=tmp_path / "m.png")
    Z = np.concatenate(seen)
    assert Z.shape == (n * n, 2)
    # the grid runs through the quantiles (i + 1) / (n + 1), never the infinite ends
    q = np.array([NormalDist().inv_cdf((i + 1) / (n + 1)) for i in range(n)])
    assert np.allclose(np.unique(np.round(Z[:, 0], 12)), np.sort(q))
    assert np.allclose(np.unique(np.round(Z[:, 1], 12)), np.sort(q))
    assert _is_png(tmp_path / "m.png") and fig.axes


def test_latent_scatter_projects_codes_wider_than_two_and_checks_labels(tmp_path):
    Z = np.random.default_rng(0).normal(size=(40, 5))
    fig = plots.latent_scatter(Z, np.arange(40) % 10, path=tmp_path / "s.png")
    assert _is_png(tmp_path / "s.png") and fig.axes
    with pytest.raises(ValueError, match="labels"):
        plots.latent_scatter(Z, np.arange(39) % 10)


def test_training_curves_and_histogram_and_strip_save(tmp_path):
    history = {"epoch": [1, 2, 3], "loss": [3.0, 2.0, 1.5], "recon": [2.5, 1.6, 1.2],
               "kl": [0.5, 0.4, 0.3], "val_loss": [3.1, 2.2, 1.7]}
    plots.training_curves(history, path=tmp_path / "t.png")
    plots.histogram({"plain": np.random.rand(100), "sparse": np.random.rand(100) ** 4}, path=tmp_path / "h.png")
    plots.interpolation_strip(np.random.rand(8, 64), path=tmp_path / "i.png")
    assert all(_is_png(tmp_path / f) for f in ("t.png", "h.png", "i.png"))


def test_roc_auc_matches_scikit_learn_with_ties():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=300)
    scores = np.round(rng.normal(size=300) + labels, 1)  # rounding makes many ties
    fpr, tpr, auc = plots.roc_curve(scores, labels)
    assert auc == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores), abs=1e-12)
    assert fpr[0] == tpr[0] == 0.0 and fpr[-1] == tpr[-1] == 1.0


def test_roc_auc_is_one_for_perfect_scores_and_zero_for_inverted():
    labels = np.array([0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert plots.roc_curve(scores, labels)[2] == 1.0
    assert plots.roc_curve(-scores, labels)[2] == 0.0
    assert plots.roc_curve(np.zeros(5), labels)[2] == 0.5  # all tied: the diagonal


def test_roc_plot_and_its_bad_inputs(tmp_path):
    labels = np.array([0, 1, 0, 1])
    fig = plots.roc_plot({"score": (np.array([0.1, 0.9, 0.3, 0.7]), labels)}, path=tmp_path / "roc.png")
    assert _is_png(tmp_path / "roc.png") and "1.00" in " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    with pytest.raises(ValueError, match="labels"):
        plots.roc_curve(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="both"):
        plots.roc_curve(np.zeros(3), np.zeros(3))
