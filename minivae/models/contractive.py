"""The contractive autoencoder: penalise how fast the code moves with the input (docs/derivations.md §7.4)."""
from __future__ import annotations

from .._checks import check_number, check_positive_int
from ..layers import Dense
from .autoencoder import Autoencoder


def encoder_jacobian(model, X):
    r"""The Jacobian of the whole encoder at each example, computed exactly.

    .. math:: \mathcal{J}_{bjd} = \frac{\partial h_{bj}}{\partial x_{bd}}

    Built by the chain rule in reverse, layer by layer, from the code down (the layers'
    own derivatives, no finite differences): starting from the identity
    :math:`G = I_J` at the code, a Dense layer maps :math:`G \mapsto G W^\top` and an
    activation :math:`f` maps :math:`G \mapsto G \operatorname{diag}(f'(a))`, where
    :math:`f'(a)` is what the layer's ``backward`` returns for an upstream gradient of
    ones. Cost :math:`O(B \cdot J \cdot \text{width})` per layer: cheap when the code is
    narrow.

    Parameters
    ----------
    model : Autoencoder (any of the family)
    X : array, shape (B, input_dim)

    Returns
    -------
    jacobian : array, shape (B, latent_dim, input_dim), on the model's backend
    """
    x = model._as_input(X, "X")
    xp = model.xp
    layers = model.encoder.layers
    slopes, a = [], x
    for layer in layers:  # forward, remembering each activation's slope f'(a)
        out = layer.forward(a)
        if isinstance(layer, Dense):
            slopes.append(None)
        elif layer.params:
            raise TypeError(f"encoder_jacobian handles Dense layers and activations; got {layer!r}")
        else:
            slopes.append(layer.backward(xp.ones_like(out)))  # (B, width): f'(a) entry by entry
        a = out
    B, J = a.shape
    G = xp.broadcast_to(xp.eye(J, dtype=a.dtype), (B, J, J)).copy()  # d code / d code
    for layer, slope in zip(reversed(layers), reversed(slopes)):
        if slope is None:
            G = G @ layer.params["W"].T  # (B, J, out) @ (out, in) -> (B, J, in)
        else:
            G = G * slope[:, None, :]
    return G


def jacobian_norm(model, X, batch_size=256):
    r"""Mean over the examples of :math:`\Vert \mathcal{J}(x)\Vert_F^2`, for the **whole** encoder.

    .. math::

        \frac1N \sum_{b=1}^{N} \sum_{j,d} \left(\frac{\partial h_{bj}}{\partial x_{bd}}\right)^2

    How much the code moves when the input moves: works for any autoencoder of the
    family, so the plain and the contractive models can be compared.

    Parameters
    ----------
    model : Autoencoder
    X : array, shape (N, input_dim)
    batch_size : int

    Returns
    -------
    float
    """
    X = model._as_input(X, "X")
    if X.shape[0] == 0:
        raise ValueError("X is empty: the mean of ||J||_F^2 needs at least one example (row)")
    batch_size = check_positive_int(batch_size, "batch_size")
    total = 0.0
    for s in range(0, X.shape[0], batch_size):
        J = encoder_jacobian(model, X[s:s + batch_size])
        total += float((J * J).sum())
    return total / X.shape[0]


class ContractiveAutoencoder(Autoencoder):
    r"""An autoencoder whose code is made insensitive to small changes of the input.

    ::

        x (B, D) ──Dense→act→ … ──> u (B, H) ──Dense W (H, J), b──> a ──sigmoid──> h (B, J) ──decoder──> x̂
                                    └──────────────────────┬───────────────────────┘
                              penalty λ ‖∂h/∂u‖²_F = λ Σ_j (h_j(1-h_j))² Σ_i W_ij²
                                          (per example, averaged over the batch)

    The loss adds the squared Frobenius norm of the Jacobian of the code (Rifai et al.,
    2011): the code must vary with the input only along the directions the
    reconstruction needs, and stay flat in all others (docs/derivations.md §7.4).
    For the sigmoid code layer :math:`h = \operatorname{sigmoid}(a)`, :math:`a = uW + c`
    (``b`` is the bias :math:`c`), the Jacobian is
    :math:`\mathcal{J}_{ji} = \partial h_j/\partial u_i = h_j(1 - h_j) W_{ij}`, so with
    :math:`s_j = h_j(1 - h_j)` and :math:`\omega_j = \sum_i W_{ij}^2` (column :math:`j` of
    ``W``, stored as (in, out)):

    .. math::

        P = \frac{\lambda}{B} \sum_b \sum_j s_{bj}^2\, \omega_j

    .. math::

        \frac{\partial P}{\partial h_{bj}} = \frac{\lambda}{B}\, 2 s_{bj} (1 - 2 h_{bj})\, \omega_j,
        \qquad
        \left.\frac{\partial P}{\partial W_{ij}}\right|_{h\ \text{fixed}}
        = \frac{\lambda}{B} \sum_b s_{bj}^2 \cdot 2 W_{ij}

    The first is added to the code's gradient and flows back through the sigmoid and
    the encoder like any code gradient (reaching ``W`` and ``b`` again, and the layers
    below through :math:`u`); the second, the **direct** dependence on ``W`` through
    :math:`\omega_j`, is added to ``W``'s gradient. ``W``'s gradient needs both.

    **What the penalty covers.** It is the Jacobian of the *last* encoder layer with
    respect to *its own input* :math:`u`, the closed form of Rifai et al. With
    ``hidden_dims=()`` that input is :math:`x` and the penalty is the whole encoder's
    :math:`\Vert \mathcal{J}(x)\Vert_F^2`; with hidden layers it is not: the whole Jacobian is
    the product :math:`\partial h/\partial u \cdot \partial u/\partial x`, and the
    layers below, unpenalised, may stretch what the last one contracts (they do get
    gradients from the penalty, through :math:`u`, but only to shrink
    :math:`\partial h/\partial u`). :meth:`jacobian_norm` measures the whole encoder's
    Jacobian either way.

    Parameters
    ----------
    input_dim, hidden_dims, latent_dim, activation, loss, seed, dtype
        As for :class:`~minivae.models.autoencoder.Autoencoder`. The code activation is
        always ``"sigmoid"``.
    contraction : float >= 0, default 0.1
        :math:`\lambda`. 0 gives a plain autoencoder with a sigmoid code. Both terms are
        per example: the BCE in nats (about 20 for an 8×8 digit) and
        :math:`\Vert \mathcal{J}\Vert_F^2`, a few units for a fresh 64-to-16 sigmoid code. On the
        digits (``hidden_dims=()``, ``latent_dim=16``, 30 epochs of ``Adam(3e-3)``)
        :math:`\lambda = 0.1` halves the Jacobian norm of a plain sigmoid-code model
        (about 5.1 to 2.6) for 0.3 nats of reconstruction; :math:`\lambda = 1` divides
        it by 9 for 2.5 nats.

    Raises
    ------
    ValueError
        For a negative (or infinite) ``contraction``.

    Examples
    --------
    >>> from minivae import ContractiveAutoencoder
    >>> from minivae.datasets import load_digits
    >>> X, y = load_digits()
    >>> cae = ContractiveAutoencoder(64, (), 16, contraction=0.1)
    >>> history = cae.fit(X, epochs=10, verbose=False)
    >>> norm = cae.jacobian_norm(X)           # mean ||J||_F^2: smaller than a plain autoencoder's
    """

    _config_keys = tuple(k for k in Autoencoder._config_keys if k != "code_activation") + ("contraction",)

    def __init__(self, input_dim, hidden_dims=(), latent_dim=2, *, contraction=0.1, activation="relu", loss="bce",
                 seed=0, dtype="float32"):
        contraction = check_number(contraction, "contraction", low=0.0)
        if contraction == float("inf"):
            raise ValueError("contraction must be finite; got inf")
        super().__init__(input_dim, hidden_dims, latent_dim, activation=activation, loss=loss,
                         code_activation="sigmoid", seed=seed, dtype=dtype)
        self.contraction = contraction

    @property
    def _code_dense(self):
        """``(index, layer)`` of the encoder's last Dense layer, the one before the code's sigmoid."""
        i = len(self.encoder.layers) - 2
        return i, self.encoder.layers[i]

    def _penalty(self, x_in, code, grads):
        """``(P, dP/dh, {"encoder.<i>.W": direct dP/dW})`` for the sigmoid code ``h = code`` (B, J)."""
        i, dense = self._code_dense
        W = dense.params["W"]  # (m, J)
        lam, B = self.contraction, code.shape[0]
        s = code * (1.0 - code)  # sigma'(a) = h (1 - h), (B, J)
        w = (W * W).sum(axis=0)  # squared norm of each column of W, (J,)
        s2 = s * s
        P = (s2 * w).sum() * (lam / B)
        if not grads:
            return P, None, {}
        dcode = s * (1.0 - 2.0 * code) * w * (2.0 * lam / B)  # through s_bj = h (1 - h)
        dW = W * s2.sum(axis=0) * (2.0 * lam / B)  # through omega_j = sum_i W_ij^2
        return P, dcode, {f"encoder.{i}.W": dW}

    def jacobian_norm(self, X, batch_size=256):
        r"""Mean of :math:`\Vert \mathcal{J}(x)\Vert_F^2` over ``X`` for the whole encoder (see :func:`jacobian_norm`)."""
        return jacobian_norm(self, X, batch_size=batch_size)
