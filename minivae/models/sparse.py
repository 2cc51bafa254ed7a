"""The sparse autoencoder: a penalty that keeps most code units quiet (docs/derivations.md §7.3)."""
from __future__ import annotations

import math

from .._checks import check_choice, check_number
from ..backend import array_module
from .autoencoder import Autoencoder

PENALTIES = ("kl", "l1")


def kl_sparsity(h, rho, beta):
    r"""The KL sparsity penalty on a batch of sigmoid codes, and its gradient (§7.3).

    With :math:`\hat\rho_j = \frac1B \sum_b h_{bj}`, the mean activation of unit
    :math:`j` over the batch,

    .. math::

        P = \beta \sum_j \mathrm{KL}(\rho \,\Vert\, \hat\rho_j), \qquad
        \mathrm{KL}(\rho \,\Vert\, \hat\rho) = \rho \log\frac{\rho}{\hat\rho}
            + (1 - \rho) \log\frac{1 - \rho}{1 - \hat\rho}

    .. math::

        \frac{\partial P}{\partial h_{bj}}
        = \frac{\partial P}{\partial \hat\rho_j} \frac{\partial \hat\rho_j}{\partial h_{bj}}
        = \frac{\beta}{B}\left(-\frac{\rho}{\hat\rho_j} + \frac{1 - \rho}{1 - \hat\rho_j}\right)

    The same value for every example :math:`b` of the batch: each one moves the mean
    by :math:`1/B`. :math:`P` is a property of the batch, not a sum of per-example terms,
    so it is added to the loss once per batch (no further mean over :math:`b`). As
    :math:`\mathrm{KL}(\rho \Vert \cdot)` is convex, its mean over random batches exceeds
    the penalty at the whole data set's rates :math:`\bar\rho_j`, by about
    :math:`\tfrac12 \mathrm{KL}''(\bar\rho_j)\, \mathrm{Var}(h_j)/B` per unit, and the
    mean of its gradients is the gradient of that excess away from the whole-data
    gradient (§7.3).

    Parameters
    ----------
    h : array, shape (B, J), values in [0, 1]
        The code (sigmoid outputs).
    rho : float in (0, 1)
        The target mean activation :math:`\rho`.
    beta : float >= 0
        The weight :math:`\beta`.

    Returns
    -------
    P : 0-d array
    dh : array, shape (B, J)

    Notes
    -----
    :math:`\hat\rho_j` is clipped to :math:`[\epsilon_{\mathrm{mach}}, 1 - \epsilon_{\mathrm{mach}}]`
    (the machine epsilon of ``h``'s dtype) before the logarithms. This only matters when
    *every* example saturates unit :math:`j` (in float32, :math:`\operatorname{sigmoid}(a) = 1` exactly
    for :math:`a \gtrsim 17`), where :math:`\log(1 - \hat\rho)` would be :math:`-\infty`
    and the loss infinite. The gradient keeps the formula above at the clipped value, a large
    finite push back towards :math:`\rho`, rather than the zero slope of the clipped
    function, which would leave a saturated unit stuck forever. Inside the clip range
    (every case a gradient check can see) value and gradient are exact.
    """
    xp = array_module(h)
    B = h.shape[0]
    tiny = _eps_of(h)
    rho_hat = xp.clip(h.mean(axis=0), tiny, 1.0 - tiny)  # (J,)
    # math.log for the constants: Python floats keep float32 arrays in float32
    kl = rho * (math.log(rho) - xp.log(rho_hat)) + (1.0 - rho) * (math.log(1.0 - rho) - xp.log(1.0 - rho_hat))
    P = beta * kl.sum()
    drho_hat = beta * (-rho / rho_hat + (1.0 - rho) / (1.0 - rho_hat))  # (J,)
    dh = xp.broadcast_to(drho_hat * (1.0 / B), h.shape).copy()  # the same row for every example
    return P, dh


def _eps_of(a):
    """Machine epsilon of ``a``'s floating dtype (2**-52 for float64, 2**-23 for float32)."""
    return 2.0 ** -(52 if a.dtype.itemsize == 8 else 23)


def l1_sparsity(h, beta):
    r"""The L1 sparsity penalty and its gradient (§7.3).

    .. math::

        P = \frac{\beta}{B} \sum_b \sum_j |h_{bj}|, \qquad
        \frac{\partial P}{\partial h_{bj}} = \frac{\beta}{B} \operatorname{sign}(h_{bj})

    A per-example sum averaged over the batch, like every loss in minivae. For sigmoid
    codes :math:`h > 0`, so it is simply :math:`\beta` times the mean total activation.

    Parameters
    ----------
    h : array, shape (B, J)
    beta : float >= 0

    Returns
    -------
    P : 0-d array
    dh : array, shape (B, J)
    """
    xp = array_module(h)
    B = h.shape[0]
    P = beta * xp.abs(h).sum() / B
    dh = xp.sign(h) * (beta / B)
    return P, dh


class SparseAutoencoder(Autoencoder):
    r"""An autoencoder whose sigmoid code units are pushed to fire rarely.

    ::

        x (B, D) ──encoder──> a (B, J) ──sigmoid──> h (B, J) ──decoder──> x̂ (B, D) ──> ℓ(x̂, x)
                                                    │
                                                    ├──> ρ̂_j = (1/B) Σ_b h_bj ──> β Σ_j KL(ρ ‖ ρ̂_j)  ("kl")
                                                    └──> (β/B) Σ_b Σ_j |h_bj|                        ("l1")

    The code is a sigmoid layer, so each unit's activation lies in (0, 1) and its mean
    over the data is a firing rate. The KL penalty (Ng, CS294A lecture notes) asks every
    unit to fire on average at rate :math:`\rho`, small: each unit then specialises in
    a few kinds of input (docs/derivations.md §7.3).

    .. math::

        L = \frac{1}{B} \sum_b \ell(\hat x_b, x_b) + \beta \sum_{j=1}^{J}
            \mathrm{KL}(\rho \,\Vert\, \hat\rho_j), \qquad
        \hat\rho_j = \frac1B \sum_b h_{bj}

    .. math::

        \frac{\partial P}{\partial h_{bj}} = \frac{\beta}{B}\left(-\frac{\rho}{\hat\rho_j}
            + \frac{1 - \rho}{1 - \hat\rho_j}\right)

    The gradient couples the examples of a batch through :math:`\hat\rho_j`: it is the
    same for every example :math:`b` (see :func:`kl_sparsity`). It is added to what
    flows back from the decoder into the code and then passes through the sigmoid and
    the encoder like any code gradient.

    **Reduction.** The KL penalty is a property of the batch (of its mean activations),
    not a per-example sum, so it is added **once per batch**. Because
    :math:`\mathrm{KL}(\rho \Vert \cdot)` is convex, its value on a batch is biased upwards
    by about :math:`\tfrac12 \mathrm{KL}''(\bar\rho_j)\, \mathrm{Var}(h_j)/B` per unit
    (:math:`\bar\rho_j` its rate on the whole data set): at most :math:`1/(2B)` for a unit
    firing at :math:`\rho`, and at most
    :math:`\tfrac12 \big[\rho(1 - \bar\rho_j)/\bar\rho_j + (1 - \rho)\bar\rho_j/(1 - \bar\rho_j)\big]/B`
    in general (2.48/B at :math:`\rho = 0.05`, :math:`\bar\rho_j = 0.01`). Its gradient is
    biased too, by the gradient of that excess, which has no fixed sign. Compare penalties
    only at equal batch sizes (§7.3). The L1
    penalty is a per-example sum averaged over the batch, like every loss in minivae.

    Parameters
    ----------
    input_dim, hidden_dims, latent_dim, activation, loss, seed, dtype
        As for :class:`~minivae.models.autoencoder.Autoencoder`. The code activation is
        always ``"sigmoid"``; ``latent_dim`` is the number of sparse units :math:`J`.
    sparsity : float in (0, 1), default 0.05
        The target mean activation :math:`\rho` (used by ``"kl"``).
    sparsity_weight : float >= 0, default 3.0
        :math:`\beta`, the value in Ng's notes, where it weighs the penalty against half a
        squared error: kept because it works here, not derived. Both terms are in nats: the reconstruction
        is the BCE of one example (about 20 nats for an 8×8 digit), the KL compares firing
        rates, summed over units. The KL is flat near its minimum
        (:math:`\mathrm{KL}(0.05 \Vert 0.1) \approx 0.017` nats), so a small
        :math:`\beta` cannot hold the rates against the reconstruction's pull: on the
        digits (``SparseAutoencoder(64, (32,), 32)``, 30 epochs of ``Adam(3e-3)``, batches of 64) :math:`\beta = 1`
        leaves the mean rate near 0.07, :math:`\beta = 3` brings it to about 0.057 for
        :math:`\rho = 0.05` (a plain sigmoid code sits near 0.5), at a reconstruction cost
        of about 3.5 nats per example. With ``loss="mse"``, whose errors are much smaller
        than BCE's nats, lower :math:`\beta`.
    penalty : {"kl", "l1"}

    Raises
    ------
    ValueError
        For ``sparsity`` outside (0, 1), a negative ``sparsity_weight`` or an unknown
        ``penalty``.

    Examples
    --------
    >>> from minivae import Adam, SparseAutoencoder
    >>> from minivae.datasets import load_digits
    >>> X, y = load_digits()
    >>> sae = SparseAutoencoder(64, (32,), 32, sparsity=0.05)
    >>> history = sae.fit(X, epochs=30, batch_size=64, optimizer=Adam(3e-3), verbose=False)
    >>> rates = sae.mean_activation(X)        # (32,), each near 0.05
    """

    _config_keys = tuple(k for k in Autoencoder._config_keys if k != "code_activation") + (
        "sparsity", "sparsity_weight", "penalty")

    def __init__(self, input_dim, hidden_dims=(), latent_dim=2, *, sparsity=0.05, sparsity_weight=3.0,
                 penalty="kl", activation="relu", loss="bce", seed=0, dtype="float32"):
        sparsity = check_number(sparsity, "sparsity (the target mean activation rho)", low=0.0, high=1.0,
                                low_open=True, high_open=True)
        sparsity_weight = check_number(sparsity_weight, "sparsity_weight", low=0.0)
        if sparsity_weight == float("inf"):
            raise ValueError("sparsity_weight must be finite; got inf")
        check_choice(penalty, "penalty", PENALTIES)
        super().__init__(input_dim, hidden_dims, latent_dim, activation=activation, loss=loss,
                         code_activation="sigmoid", seed=seed, dtype=dtype)
        self.sparsity = sparsity
        self.sparsity_weight = sparsity_weight
        self.penalty = penalty

    def _penalty(self, x_in, code, grads):
        """The sparsity penalty on the sigmoid code ``h = code`` (B, J): ``(P, dP/dh, {})``."""
        if self.penalty == "kl":
            P, dh = kl_sparsity(code, self.sparsity, self.sparsity_weight)
        else:
            P, dh = l1_sparsity(code, self.sparsity_weight)
        return P, (dh if grads else None), {}

    def mean_activation(self, X, batch_size=1024):
        r"""The firing rate of each code unit over a data set: :math:`\hat\rho_j = \frac1n \sum_i h_{ij}`.

        Parameters
        ----------
        X : array, shape (n, input_dim)

        Returns
        -------
        rho_hat : array, shape (latent_dim,), on the model's backend
        """
        codes = self.encode(X, batch_size=batch_size)
        if codes.shape[0] == 0:
            raise ValueError("X is empty: the mean activation needs at least one example (row)")
        return codes.mean(axis=0)
