"""The plain autoencoder: encoder, bottleneck, decoder, trained to give back its input."""
from __future__ import annotations

from .. import ops
from .._checks import check_choice
from ..backend import module_for
from ..layers import ACTIVATIONS
from .base import Model, mlp

LOSSES = ("bce", "mse")


class Autoencoder(Model):
    r"""An autoencoder trained to reconstruct its input.

    ::

        x (input_dim) ──encoder──> code (latent_dim) ──decoder──> x̂ (input_dim)
          Dense→act→…→Dense[→code_activation]   Dense→act→…→Dense (logits or linear)

    The encoder must squeeze the input through the narrow code, so it has to keep what
    matters; the decoder learns to rebuild the input from it (docs/derivations.md §7).

    Parameters
    ----------
    input_dim, hidden_dims, latent_dim, seed, dtype
        See :class:`~minivae.models.base.Model`. ``hidden_dims=()`` gives a single
        Dense layer each way.
    activation : {"relu", "leaky_relu", "sigmoid", "tanh", "softplus", "linear"}
        Between hidden layers.
    loss : {"bce", "mse"}
        ``"bce"``: the decoder emits logits and the loss is binary cross-entropy
        (inputs must lie in [0, 1]); :meth:`reconstruct` returns probabilities.
        ``"mse"``: a linear output and squared error. Both summed over features and
        averaged over the batch.
    code_activation : str, optional
        Activation of the code layer (default linear).

    Examples
    --------
    >>> from minivae import Autoencoder
    >>> from minivae.datasets import load_digits
    >>> X, y = load_digits()
    >>> ae = Autoencoder(64, hidden_dims=(32,), latent_dim=8)
    >>> history = ae.fit(X, epochs=5, verbose=False)
    """

    _config_keys = Model._config_keys + ("activation", "loss_name", "code_activation")

    def __init__(self, input_dim, hidden_dims=(), latent_dim=2, *, activation="relu", loss="bce",
                 code_activation="linear", seed=0, dtype="float32"):
        super().__init__(input_dim, hidden_dims, latent_dim, seed=seed, dtype=dtype)
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self.code_activation = check_choice(code_activation, "code_activation", ACTIVATIONS)
        self.loss_name = check_choice(loss, "loss", LOSSES)
        self._unit_targets = loss == "bce"
        enc_sizes = (self.input_dim, *self.hidden_dims, self.latent_dim)
        code_act = None if code_activation == "linear" else code_activation
        self.blocks["encoder"] = mlp(enc_sizes, activation, self.rng, self.dtype, last_activation=code_act)
        self.blocks["decoder"] = mlp(enc_sizes[::-1], activation, self.rng, self.dtype)
        self._pack_params()

    def config(self):
        cfg = super().config()
        cfg["loss"] = cfg.pop("loss_name")
        return cfg

    # ------------------------------------------------------------------ hooks for the variants
    def _input_for_encoder(self, x, rng):
        """What the encoder sees (the denoising autoencoder corrupts it here)."""
        return x

    def _penalty(self, x_in, code, grads):
        """A regulariser on the code: ``(value, dcode, direct_grads)``; none here.

        ``dcode`` is the penalty's gradient w.r.t. the code (added to what flows back
        from the decoder); ``direct_grads`` are gradients w.r.t. parameters that the
        penalty touches directly (the contractive penalty's weights).
        """
        return None, None, {}

    # ------------------------------------------------------------------ the loss
    def _reconstruction(self, out, x, check):
        if self.loss_name == "bce":
            return ops.bce_with_logits(out, x, check_target=check)
        return ops.mse(out, x)

    def loss_terms_and_grads(self, x, y=None, *, eps=None, rng=None, check=True, grads=True):
        r"""The loss on a batch, its parts, and (``grads=True``) its gradient.

        .. math:: L = \frac{1}{B}\sum_b \ell(\hat x_b, x_b) + \text{penalty}

        Returns
        -------
        terms : dict of 0-d arrays
            ``"loss"``, ``"recon"`` and, for the regularised variants, ``"penalty"``.
        grads : dict or None
            Keyed like :attr:`params`.
        """
        if eps is not None:
            raise TypeError(f"{type(self).__name__} has no latent noise; eps must be None")
        if check:
            x, _ = self._prepare(x, y, name="x")
        x_in = self._input_for_encoder(x, rng)
        code = self.encoder.forward(x_in)
        out = self.decoder.forward(code)
        recon, dout = self._reconstruction(out, x, check)
        penalty, dcode_pen, direct = self._penalty(x_in, code, grads)
        terms = {"loss": recon if penalty is None else recon + penalty, "recon": recon}
        if penalty is not None:
            terms["penalty"] = penalty
        if not grads:
            return terms, None
        dcode = self.decoder.backward(dout)
        if dcode_pen is not None:
            dcode = dcode + dcode_pen
        self.encoder.backward(dcode, need_input_grad=False)  # the data need no gradient
        g = self._collect_grads()
        for k, v in direct.items():
            g[k] = g[k] + v
        return terms, g

    # ------------------------------------------------------------------ inference
    def encode(self, X, batch_size=1024):
        """The codes of ``X``: (n, input_dim) -> (n, latent_dim), in batches."""
        X = self._as_input(X, "X")
        return self._batched(self.encoder.forward, X, batch_size)

    def decode(self, Z, batch_size=1024):
        """The reconstructions decoded from codes ``Z``: (n, latent_dim) -> (n, input_dim).

        With ``loss="bce"`` these are probabilities (the sigmoid of the logits).
        """
        Z = self._check_codes(Z)
        return self._batched(self._decode_batch, Z, batch_size)

    def _decode_batch(self, z):
        out = self.decoder.forward(z)
        return ops.sigmoid(out) if self.loss_name == "bce" else out

    def reconstruct(self, X, batch_size=1024):
        """Encode then decode ``X`` (no corruption, no noise), in batches."""
        X = self._as_input(X, "X")
        return self._batched(lambda xb: self._decode_batch(self.encoder.forward(xb)), X, batch_size)

    def reconstruction_error(self, X, batch_size=1024):
        """Per-example reconstruction loss, shape (n,): a score for anomaly detection."""
        X, _ = self._prepare(X, allow_empty=True)
        xp = self.xp

        def per_example(xb):
            out = self.decoder.forward(self.encoder.forward(xb))
            if self.loss_name == "bce":
                e = xp.exp(-xp.abs(out))
                return (xp.maximum(out, 0) + xp.log1p(e) - xb * out).sum(axis=1)
            return ((out - xb) ** 2).sum(axis=1)

        with module_for("numpy").errstate(over="ignore", invalid="ignore"):  # an overflow is named below
            err = self._batched(per_example, X, batch_size)
        return self._finite_result(err, "the reconstruction error", X)
