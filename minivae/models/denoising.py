"""The denoising autoencoder: corrupt the input, reconstruct the clean one (docs/derivations.md §7.2)."""
from __future__ import annotations

from .._checks import check_choice, check_number
from ..backend import Random, asarray
from .autoencoder import Autoencoder

#: the corruptions of Vincent et al. (2010), and the noise level each uses by default
CORRUPTIONS = ("gaussian", "masking", "salt_and_pepper")
DEFAULT_NOISE = {"gaussian": 0.3, "masking": 0.3, "salt_and_pepper": 0.2}


def _draw(rng, kind, shape, dtype, backend):
    """Draw ``"normal"`` or ``"uniform"`` numbers from a minivae ``Random`` or a NumPy/CuPy ``Generator``."""
    if isinstance(rng, Random):
        a = rng.normal(shape, dtype) if kind == "normal" else rng.uniform(shape, dtype)
    elif hasattr(rng, "standard_normal") and hasattr(rng, "random"):
        a = rng.standard_normal(shape, dtype=dtype) if kind == "normal" else rng.random(shape, dtype=dtype)
    else:
        raise TypeError(
            "rng must be a NumPy Generator (numpy.random.default_rng(seed)), a minivae.backend.Random "
            f"or None; got {type(rng).__name__}"
        )
    return asarray(a, dtype=dtype, backend=backend)


class DenoisingAutoencoder(Autoencoder):
    r"""An autoencoder that reconstructs the clean input from a corrupted copy of it.

    ::

                 corrupt q(x̃|x)
        x (B, D) ──────────────> x̃ (B, D) ──encoder──> code (B, J) ──decoder──> x̂ (B, D)
          │        (fresh noise                                                   │
          │         every batch)                                                  │
          └────────────────────── clean target ──────────> ℓ(x̂, x) <──────────────┘

    The encoder only ever sees :math:`\tilde x`; the loss compares the reconstruction
    with the **clean** :math:`x` (Vincent et al., 2008, 2010). Copying its input is no
    longer a solution, so the model must learn how digits look to undo the damage
    (docs/derivations.md §7.2).

    .. math::

        L = \frac{1}{B} \sum_b \ell\big(\mathrm{dec}(\mathrm{enc}(\tilde x_b)),\, x_b\big),
        \qquad \tilde x \sim q(\tilde x \mid x)

    The corruption is not a function of the parameters, so the gradient is the plain
    autoencoder's with :math:`\tilde x` fed to the encoder: nothing new to derive, only
    the noise to pin for a gradient check (``rng=``).

    Corruptions, each drawn independently for every entry :math:`(b, d)`:

    - ``"gaussian"``: :math:`\tilde x = x + \nu \varepsilon`,
      :math:`\varepsilon \sim N(0, 1)`, with :math:`\nu` = ``noise`` (:math:`\ge 0`).
      Not clipped: the encoder may see values outside [0, 1]; only targets must lie there.
    - ``"masking"``: with probability :math:`\nu` = ``noise`` (in [0, 1]) the entry is
      set to 0, else kept: :math:`\tilde x = x \odot \xi`, :math:`\xi_{bd} \sim
      \mathrm{Bernoulli}(1 - \nu)`. About a fraction :math:`\nu` of the pixels vanish.
    - ``"salt_and_pepper"``: with probability :math:`\nu` = ``noise`` the entry is
      replaced, by 0 ("pepper") or 1 ("salt") with probability ½ each. The extremes are
      fixed at 0 and 1, the range every minivae data set is scaled to (the choice of
      Vincent et al.: "the minimum or maximum possible value"); they do not depend on the
      batch, so a corruption never changes with what else is in the batch. For data in
      another range (``loss="mse"``), rescale to [0, 1] or use the other corruptions.

    Parameters
    ----------
    input_dim, hidden_dims, latent_dim, activation, loss, code_activation, seed, dtype
        As for :class:`~minivae.models.autoencoder.Autoencoder`.
    corruption : {"gaussian", "masking", "salt_and_pepper"}
    noise : float, optional
        :math:`\nu`: the standard deviation for ``"gaussian"``, the corrupted fraction for
        the other two. Default: 0.3, 0.3 and 0.2 respectively (levels at which a digit is
        badly damaged yet still recognisable).

    Raises
    ------
    ValueError
        For an unknown ``corruption`` (the message lists the valid ones) or a ``noise``
        out of range.

    Notes
    -----
    ``loss(x, rng=...)`` and ``loss_and_grads(x, rng=...)`` draw the corruption from
    ``rng`` (a NumPy ``Generator`` or a :class:`minivae.backend.Random`); without it they
    draw from the model's own generator ``self.rng``, so every batch in ``fit`` sees new
    noise. Passing a freshly seeded generator to each call makes the loss a deterministic
    function of the parameters.

    Examples
    --------
    >>> from minivae import DenoisingAutoencoder
    >>> from minivae.datasets import load_digits
    >>> X, y = load_digits()
    >>> dae = DenoisingAutoencoder(64, (32,), 16, corruption="masking", noise=0.3)
    >>> history = dae.fit(X, epochs=5, verbose=False)
    >>> X_noisy = dae.corrupt(X[:10])
    >>> X_clean = dae.reconstruct(X_noisy)
    """

    _config_keys = Autoencoder._config_keys + ("corruption", "noise")

    def __init__(self, input_dim, hidden_dims=(), latent_dim=2, *, corruption="gaussian", noise=None,
                 activation="relu", loss="bce", code_activation="linear", seed=0, dtype="float32"):
        check_choice(corruption, "corruption", CORRUPTIONS)
        if noise is None:
            noise = DEFAULT_NOISE[corruption]
        if corruption == "gaussian":
            noise = check_number(noise, "noise (the standard deviation of the Gaussian corruption)", low=0.0)
            if noise == float("inf"):
                raise ValueError(f"noise (the standard deviation of the Gaussian corruption) must be finite; "
                                 f"got {noise}")
        else:
            noise = check_number(noise, f"noise (the fraction of entries {corruption} corrupts)", low=0.0, high=1.0)
        super().__init__(input_dim, hidden_dims, latent_dim, activation=activation, loss=loss,
                         code_activation=code_activation, seed=seed, dtype=dtype)
        self.corruption = corruption
        self.noise = noise

    # ------------------------------------------------------------------ the corruption
    def _corrupt(self, x, rng):
        """Corrupt the checked batch ``x`` (B, D) with noise drawn from ``rng`` (default ``self.rng``)."""
        rng = self.rng if rng is None else rng
        shape, dt, be = tuple(x.shape), self.dtype, self.backend
        if self.corruption == "gaussian":
            return x + self.noise * _draw(rng, "normal", shape, dt, be)
        hit = _draw(rng, "uniform", shape, dt, be) < self.noise  # each entry with probability nu
        if self.corruption == "masking":
            return x * ~hit
        salt = _draw(rng, "uniform", shape, dt, be) < 0.5  # 1 or 0 with probability 1/2 each
        return self.xp.where(hit, salt.astype(dt), x)

    def corrupt(self, X, rng=None):
        r"""Return a corrupted copy of ``X``: what the encoder sees during training.

        Parameters
        ----------
        X : array, shape (n, input_dim)
        rng : numpy.random.Generator or minivae.backend.Random, optional
            Where the noise comes from (default: the model's own generator).

        Returns
        -------
        X_tilde : array, shape (n, input_dim), on the model's backend and dtype
        """
        X = self._as_input(X, "X")
        return self._corrupt(X, rng)

    # ------------------------------------------------------------------ hook
    def _input_for_encoder(self, x, rng):
        """The encoder sees the corrupted :math:`\\tilde x`; the loss still targets the clean ``x``."""
        return self._corrupt(x, rng)
