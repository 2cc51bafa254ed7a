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

The figures live in two modules: :mod:`~minivae.plots.images` (grids of digits,
reconstructions, interpolations, the latent manifold) and :mod:`~minivae.plots.charts`
(latent scatter, training curves, ROC curves, histograms).
"""
from .charts import histogram, latent_scatter, roc_curve, roc_plot, training_curves  # noqa: F401
from .images import image_grid, interpolation_strip, latent_manifold, reconstructions  # noqa: F401

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
