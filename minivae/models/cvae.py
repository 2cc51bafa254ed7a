r"""The conditional VAE: a VAE told the class of each example.

With the fixed prior :math:`N(0, I)` it is the generative model "M2" of Kingma, Rezende,
Mohamed and Welling (2014) trained on labelled data; Sohn, Lee and Yan (2015), who call
it a conditional VAE, learn a prior network :math:`p(z \mid y)` and name :math:`N(0, I)`
as its relaxation. Derivation in docs/derivations.md §9.4. Everything but the conditioning is inherited
from :class:`~minivae.models.vae.VAE`: the loss, its gradient, the importance-weighted
log-likelihood. The labels enter as one-hot rows appended to the encoder's input and to
the code the decoder reads; they are data, not parameters, so the gradient that flows
back into their columns is simply dropped.
"""
from __future__ import annotations

import numpy

from .._checks import MAX_SIZE, check_positive_int
from ..backend import is_cupy_array, to_numpy
from .vae import VAE


class CVAE(VAE):
    r"""A conditional variational autoencoder: :math:`q(z \mid x, y)` and :math:`p(x \mid z, y)`.

    ::

        x ─┐                              ┌─ Dense ─> mu ─────┐
           ├─ [x, onehot(y)] ─encoder─> h ┤                   ├─> z ─┐
        y ─┤                              └─ Dense ─> logvar ─┘      ├─ [z, onehot(y)] ─decoder─> out
           └──────────────── onehot(y) ──────────────────────────────┘

        loss = recon + beta·kl,   kl = KL( q(z | x, y) || N(0, I) )

    Because the decoder is told the class, the code ``z`` need not store it and keeps
    the *style* (slant, thickness); :meth:`sample` then draws any chosen digit:
    :math:`z \sim N(0, I)` decoded together with its label.

    *Need not* is not *does not*. Storing the class in ``z`` costs at most
    :math:`\log(\text{n\_classes})` nats of KL per example (2.3 for digits, §9.4), which a
    roomy code at ``beta=1`` pays gladly; the decoder then reads the digit from ``z``, and a
    ``z`` drawn from the prior, decoded with the label 7, is often some other digit. On
    the 4,000 training digits of the MNIST subset, with ``latent_dim=8`` and ``beta=1``,
    a classifier trained on real digits reads only 53-71 % of the samples as the digit
    asked for. A code too narrow to spare the nats (``latent_dim=2``: 99 %) or a dearer
    KL (``beta=4``: 98 %, the command line's default there) leaves the class to the label,
    at a price in ELBO (§9.4; ``python benchmarks/cvae_agreement.py`` measures it, and
    :func:`minivae.agreement.label_agreement` does for any CVAE).

    Parameters
    ----------
    input_dim : int
    n_classes : int
        Labels are the integers ``0 .. n_classes - 1``.
    hidden_dims, latent_dim, likelihood, beta, sigma, activation, seed, dtype
        As for :class:`~minivae.models.vae.VAE`. The encoder's first layer reads
        ``input_dim + n_classes`` features, the decoder's ``latent_dim + n_classes``.

    Notes
    -----
    Every method that touches data takes the labels ``y`` (shape ``(n,)``) alongside:
    ``loss(x, y)``, ``fit(X, y, ...)``, ``encode(X, y)``, ``decode(Z, y)``,
    ``reconstruct(X, y)``, ``log_likelihood(X, y)``; ``sample(labels)`` draws one
    example per label. Labels may be any integer dtype, or floats holding whole numbers
    (``3.0`` is read as 3; ``1.5`` is rejected); each must lie in ``[0, n_classes)``.

    Examples
    --------
    >>> from minivae import CVAE
    >>> from minivae.datasets import load_digits
    >>> X, y = load_digits()
    >>> cvae = CVAE(64, 10, hidden_dims=(128,), latent_dim=4)
    >>> history = cvae.fit(X, y, epochs=5, verbose=False)
    >>> sevens = cvae.sample([7] * 8)                        # (8, 64)
    """

    _config_keys = VAE._config_keys + ("n_classes",)
    _needs_labels = True

    def __init__(self, input_dim, n_classes, hidden_dims=(), latent_dim=2, *, likelihood="bernoulli",
                 beta=1.0, sigma=1.0, activation="relu", seed=0, dtype="float32"):
        self.n_classes = check_positive_int(n_classes, "n_classes", maximum=MAX_SIZE)
        super().__init__(input_dim, hidden_dims, latent_dim, likelihood=likelihood, beta=beta, sigma=sigma,
                         activation=activation, seed=seed, dtype=dtype)

    # ------------------------------------------------------------------ the conditioning hooks
    def _condition_dim(self):
        return self.n_classes

    def _condition(self, y):
        """One-hot rows (n, n_classes) in the model's dtype, for prepared integer labels."""
        xp = self.xp
        return xp.eye(self.n_classes, dtype=self.dtype)[xp.asarray(y)]

    def _prepare_labels(self, y, n, name="y"):
        """Check the labels and return them as int64 on the model's backend.

        Raises ``TypeError`` when they are missing or not numbers, and ``ValueError``
        (naming ``y``) for a wrong shape or length, a fractional value, or a class
        outside ``[0, n_classes)``.
        """
        if y is None:
            raise TypeError(f"{type(self).__name__} needs the class labels {name}: integers in "
                            f"[0, {self.n_classes}), one per example, shape ({n},); got None")
        if is_cupy_array(y):
            y = to_numpy(y)
        elif not hasattr(y, "dtype"):
            try:
                y = numpy.asarray(y)
            except (TypeError, ValueError):
                raise TypeError(
                    f"{name} must be an array of integer class labels; got {type(y).__name__}"
                ) from None
        if y.dtype.kind not in "iuf":
            raise TypeError(f"{name} must hold integer class labels in [0, {self.n_classes}); got dtype {y.dtype}")
        if y.ndim != 1 or y.shape[0] != n:
            raise ValueError(f"{name} must have shape ({n},): one label per example; got shape {tuple(y.shape)}")
        if y.dtype.kind == "f":
            if not numpy.isfinite(y).all():
                raise ValueError(f"{name} must hold whole-number class labels; it holds NaN or infinity")
            fractional = y != numpy.round(y)
            if fractional.any():
                raise ValueError(f"{name} must hold whole-number class labels; got {y[fractional][0].item()!r}")
        if y.size and (y.min() < 0 or y.max() >= self.n_classes):
            bad = y[(y < 0) | (y >= self.n_classes)][0]
            raise ValueError(
                f"{name} must lie in [0, {self.n_classes}) (n_classes={self.n_classes}); got {bad.item()!r}"
            )
        return self.xp.asarray(y.astype(numpy.int64))

    def _labels(self, labels, name):
        """Labels given on their own (``sample``): a scalar or a sequence."""
        if labels is None:
            return self._prepare_labels(None, 0, name)
        if not hasattr(labels, "shape"):
            labels = numpy.asarray(labels)
        if labels.ndim == 0:
            labels = labels.reshape(1)
        if labels.ndim != 1 or labels.shape[0] == 0:
            raise ValueError(f"{name} must be a non-empty sequence of class labels, shape (n,); "
                             f"got shape {tuple(labels.shape)}")
        return self._prepare_labels(labels, labels.shape[0], name)

    # ------------------------------------------------------------------ public inference
    def encode(self, X, y, *, batch_size=1024):
        """The posterior ``(mu, logvar)`` of each example given its label, each (n, latent_dim)."""
        return self._encode(X, y, batch_size)

    def decode(self, Z, y, *, batch_size=1024):
        """The mean of :math:`p(x \\mid z, y)` for codes ``Z`` (n, latent_dim) and labels ``y`` (n,)."""
        return self._decode(Z, y, batch_size)

    def reconstruct(self, X, y, *, batch_size=1024):
        """Decode the posterior mean of each example with its own label (no noise)."""
        return self._reconstruct(X, y, batch_size)

    def sample(self, labels):
        r"""One new example per label: :math:`z \sim N(0, I)` decoded with that label.

        Parameters
        ----------
        labels : int or sequence of int, shape (n,)

        Returns
        -------
        array, shape (n, input_dim)
        """
        y = self._labels(labels, "labels")
        return self._sample(y.shape[0], y)

    def interpolate(self, x_a, y_a, x_b, y_b, steps=10, *, label=None):
        """Walk the latent space from ``(x_a, y_a)`` to ``(x_b, y_b)``: (steps, input_dim).

        Each end is encoded with its own label; the points in between are decoded with
        ``label`` (default ``y_a``), so the walk changes the style, not the class.
        """
        label = y_a if label is None else label
        steps = check_positive_int(steps, "steps", minimum=2)
        y_path = self._labels([label] * steps, "label")
        return self._interpolate(x_a, self._labels(y_a, "y_a"), x_b, self._labels(y_b, "y_b"), steps, y_path)

    def log_likelihood(self, X, y, n_samples=100, *, batch_size=None, progress=False):
        r"""Importance-weighted estimate of :math:`\log p(x \mid y)` per example, in nats: (n,).

        As :meth:`VAE.log_likelihood <minivae.models.vae.VAE.log_likelihood>`, with
        :math:`q(z \mid x, y)` and :math:`p(x \mid z, y)` (§9.4, §9.5).
        """
        return self._log_likelihood(X, y, n_samples, batch_size, progress)

    def elbo(self, X, y, n_samples=1, *, batch_size=1024, progress=False):
        """The ELBO of :math:`\\log p(x \\mid y)` for each example, in nats: (n,)."""
        return self._elbo(X, y, n_samples, batch_size, progress)
