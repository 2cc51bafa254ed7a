r"""The variational autoencoder (Kingma and Welling, 2014): a generative model of the data.

Derivations in docs/derivations.md §9: the ELBO (§9.1), the loss for each likelihood
(§9.2), its whole gradient (§9.3), and the importance-weighted bound that
:meth:`VAE.log_likelihood` estimates (§9.5). The conditional VAE (§9.4) subclasses
:class:`VAE` in :mod:`minivae.models.cvae`: everything below takes an optional
*condition* ``c`` (the one-hot labels of a CVAE, ``None`` for a plain VAE) that is
concatenated to the encoder's input and to the code the decoder reads.
"""
from __future__ import annotations

import math

from .. import ops
from .._checks import check_choice, check_finite, check_number, check_positive_int
from ..backend import asarray, module_for
from ..layers import ACTIVATIONS
from ..progress import progress_bar
from .base import Model, mlp

LIKELIHOODS = ("bernoulli", "gaussian")
LOG_2PI = math.log(2.0 * math.pi)


def logmeanexp(a, axis=0):
    r"""Stable :math:`\log \frac{1}{K}\sum_k w_k` from the log-weights ``a`` :math:`= \log w` along ``axis`` (§9.5).

    With :math:`\log w_{\max}` the largest,
    :math:`\log w_{\max} + \log\frac1K\sum_k e^{\log w_k - \log w_{\max}}` keeps every
    exponent :math:`\le 0`, so nothing overflows and the largest term is exactly 1
    (log-weights of -800 would otherwise all underflow to 0, even in float64, and give
    -inf).
    """
    from ..backend import array_module

    xp = array_module(a)
    m = a.max(axis=axis, keepdims=True)
    out = m + xp.log(xp.exp(a - m).mean(axis=axis, keepdims=True))
    return out.squeeze(axis)


def _check_sigma(sigma, dtype):
    r"""``sigma`` as a float, refused unless :math:`1/(2\sigma_x^2)` and :math:`\log(2\pi\sigma_x^2)` are finite.

    The Gaussian loss scales the squared error by :math:`1/(2\sigma_x^2)` in the model's
    dtype, so ``sigma`` (:math:`\sigma_x`, §0) must be at least :math:`1/\sqrt{\mathrm{max}}` of that dtype
    (about 5.4e-20 for float32, where that scale stays below half the largest float); and
    :math:`\sigma_x^2` must be finite.
    """
    finfo, name = module_for("numpy").finfo, module_for("numpy").dtype(dtype).name
    sigma = check_number(sigma, "sigma", low=0.0, low_open=True)
    low = 1.0 / math.sqrt(float(finfo(dtype).max))
    high = math.sqrt(float(finfo("float64").max))
    if not low <= sigma < high:
        raise ValueError(f"sigma must be a finite number in [{low:.2g}, {high:.2g}) for a {name} "
                         f"model (below it 1/(2 sigma^2) overflows; above it sigma^2 does); got {sigma!r}")
    return sigma


class VAE(Model):
    r"""A variational autoencoder, trained by minimising the negative ELBO.

    ::

                          ┌─ Dense ─> mu ─────┐
        x ─encoder─> h ───┤                   ├─> z = mu + exp(logvar/2)·eps ─decoder─> out
           Dense→act→…    └─ Dense ─> logvar ─┘        eps ~ N(0, I)        Dense→act→…→Dense

        out: logits (bernoulli) or means (gaussian) of p(x | z)
        loss = recon + beta·kl     (nats per example, averaged over the batch)
        recon = -log p(x | z)      kl = KL( N(mu, exp(logvar)) || N(0, I) )

    The encoder maps ``x`` to the mean ``mu`` and log-variance ``logvar`` of a diagonal
    Gaussian :math:`q(z \mid x)`; a code ``z`` drawn from it by the reparameterization
    trick (§5.2) is decoded into the parameters of :math:`p(x \mid z)`. The loss is the
    negative evidence lower bound (§9.1, §9.2), estimated with one draw of ``eps``:

    .. math::
        L = \frac{1}{B}\sum_b \Big[-\log p(x_b \mid z_b)
            + \beta\,\mathrm{KL}\big(q(z \mid x_b) \,\Vert\, N(0, I)\big)\Big]

    With ``beta=1`` it is exactly the negative ELBO in nats per example (for
    ``likelihood="gaussian"`` *with* its normalising constant; see below).

    Parameters
    ----------
    input_dim, hidden_dims, latent_dim, seed, dtype
        See :class:`~minivae.models.base.Model`. The encoder is
        ``input_dim -> hidden_dims...`` (each Dense followed by ``activation``); the two
        heads ``mu`` and ``logvar`` are Dense layers ``hidden_dims[-1] -> latent_dim``
        (with ``hidden_dims=()`` they read the input directly); the decoder mirrors the
        encoder, ``latent_dim -> reversed(hidden_dims)... -> input_dim``, with a linear
        last layer.
    likelihood : {"bernoulli", "gaussian"}
        ``"bernoulli"``: the decoder emits one logit per feature, :math:`p(x \mid z) =
        \prod_d \operatorname{sigmoid}(l_d)^{x_d}(1-\operatorname{sigmoid}(l_d))^{1-x_d}`, the reconstruction term is
        :func:`~minivae.ops.bce_with_logits` and ``x`` must lie in [0, 1]. For binary
        ``x`` this is an exact log-likelihood; grey levels are accepted (the usual
        practice) but then it is a cross-entropy, not a normalised density.
        ``"gaussian"``: the decoder emits the mean :math:`\hat x` of
        :math:`N(\hat x, \sigma_x^2 I)` with the fixed ``sigma`` :math:`= \sigma_x` below, and
        ``recon`` is its full negative log-density, **constant included**:

        .. math:: -\log N(x; \hat x, \sigma_x^2 I) = \frac{\lVert x - \hat x\rVert^2}{2\sigma_x^2}
                  + \frac{D}{2}\log(2\pi\sigma_x^2)

        The constant does not change any gradient, but with it the loss *is* the
        negative ELBO in nats, comparable across models and with :meth:`log_likelihood`.
    beta : float >= 0
        Weight of the KL term (Higgins et al., 2017); 1 gives the ELBO.
    sigma : float > 0
        :math:`\sigma_x`, the standard deviation of the Gaussian likelihood (ignored for
        Bernoulli; not the latent :math:`\sigma = e^{\mathrm{logvar}/2}`). It sets
        how much reconstruction weighs against the KL: a latent direction pays for its
        KL only where the data vary by more than ``sigma`` (exactly so for a linear
        decoder), and that depends on the data and on :math:`D`. With pixels in [0, 1]
        and ``sigma=1``, a VAE on the 8x8 digits (largest variance along a direction
        0.70) ignores its code, one on the MNIST subset (12 directions above 1) keeps a
        KL of about 6 nats (§9.2); ``sigma`` around 0.1–0.3 suits pixel intensities.
    activation : {"relu", "leaky_relu", "sigmoid", "tanh", "softplus", "linear"}
        After every hidden Dense layer of the encoder and the decoder.

    Notes
    -----
    ``logvar`` is used as it is, never clipped: a clip inside the loss would make the
    gradient that of another function. Predicting the log-variance keeps it well behaved
    (§5.2): the KL's gradient in ``logvar`` is bounded below by :math:`-1/(2B)`.

    Examples
    --------
    >>> from minivae import VAE
    >>> from minivae.datasets import load_digits
    >>> X, _ = load_digits()
    >>> vae = VAE(64, hidden_dims=(128,), latent_dim=8)
    >>> history = vae.fit(X, epochs=5, verbose=False)      # history["recon"], ["kl"]
    >>> samples = vae.sample(16)                             # (16, 64) pixel probabilities
    """

    _config_keys = Model._config_keys + ("likelihood", "beta", "sigma", "activation")

    def __init__(self, input_dim, hidden_dims=(), latent_dim=2, *, likelihood="bernoulli", beta=1.0,
                 sigma=1.0, activation="relu", seed=0, dtype="float32"):
        super().__init__(input_dim, hidden_dims, latent_dim, seed=seed, dtype=dtype)
        self._set_options(likelihood, beta, sigma, activation)
        c = self._condition_dim()
        enc_sizes = (self.input_dim + c, *self.hidden_dims)
        h = enc_sizes[-1]
        self.blocks["encoder"] = mlp(enc_sizes, activation, self.rng, self.dtype, last_activation=activation)
        self.blocks["mu"] = mlp((h, self.latent_dim), activation, self.rng, self.dtype)
        self.blocks["logvar"] = mlp((h, self.latent_dim), activation, self.rng, self.dtype)
        dec_sizes = (self.latent_dim + c, *self.hidden_dims[::-1], self.input_dim)
        self.blocks["decoder"] = mlp(dec_sizes, activation, self.rng, self.dtype)
        self._pack_params()

    def _set_options(self, likelihood, beta, sigma, activation):
        """Check and keep the VAE's own options (the ConvVAE shares them)."""
        self.likelihood = check_choice(likelihood, "likelihood", LIKELIHOODS)
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self.beta = check_number(beta, "beta", low=0.0)
        if self.beta == float("inf"):
            raise ValueError("beta must be finite")
        self.sigma = _check_sigma(sigma, self.dtype)
        self._unit_targets = likelihood == "bernoulli"

    # ------------------------------------------------------------------ conditioning hooks
    # A plain VAE has no condition; the CVAE overrides these two (§9.4).
    def _condition_dim(self):
        """Width of the condition concatenated to the encoder's input and to ``z``."""
        return 0

    def _condition(self, y):
        """The condition for prepared labels ``y``: ``None`` here, one-hot rows in a CVAE."""
        return None

    def _join(self, a, c):
        """``a`` with the condition ``c`` appended as extra columns (``a`` itself if none)."""
        return a if c is None else self.xp.concatenate([a, c.astype(a.dtype, copy=False)], axis=1)

    # ------------------------------------------------------------------ the pieces of the loss
    def _encode_batch(self, x, c):
        """``(mu, logvar)`` of :math:`q(z \\mid x)` for one batch (forward caches kept)."""
        h = self.encoder.forward(self._join(x, c))
        return self.blocks["mu"].forward(h), self.blocks["logvar"].forward(h)

    def _decode_batch(self, z, c):
        """The decoder's raw output for codes ``z``: logits (bernoulli) or means (gaussian)."""
        return self.decoder.forward(self._join(z, c))

    def _mean_of(self, out):
        """The mean of :math:`p(x \\mid z)`: probabilities for Bernoulli, the output for Gaussian."""
        return ops.sigmoid(out) if self.likelihood == "bernoulli" else out

    def _recon(self, out, x):
        r"""``(recon, dout)``: :math:`\frac1B\sum_b -\log p(x_b \mid z_b)` and its gradient (§9.2).

        ``x`` was checked to lie in [0, 1] for Bernoulli by ``_prepare`` (or by ``fit``).
        """
        if self.likelihood == "bernoulli":
            return ops.bce_with_logits(out, x, check_target=False)
        s2 = self.sigma * self.sigma
        sq, dsq = ops.mse(out, x)
        const = 0.5 * self.input_dim * math.log(2.0 * math.pi * s2)
        return sq * (0.5 / s2) + const, dsq * (0.5 / s2)

    def _log_px_given_z(self, out, x):
        r"""Per-row :math:`\log p(x \mid z)` in nats, normalising constants included: shape (n,)."""
        xp = self.xp
        if self.likelihood == "bernoulli":
            e = xp.exp(-xp.abs(out))
            return -(xp.maximum(out, 0) + xp.log1p(e) - x * out).sum(axis=-1)
        s2 = self.sigma * self.sigma
        diff = x - out
        return -(diff * diff).sum(axis=-1) * (0.5 / s2) - 0.5 * self.input_dim * math.log(2.0 * math.pi * s2)

    def _check_eps(self, eps, B):
        if not hasattr(eps, "shape") or not hasattr(eps, "dtype"):
            raise TypeError(f"eps must be an array of shape ({B}, {self.latent_dim}); got {type(eps).__name__}")
        if eps.dtype.kind != "f":
            raise TypeError(f"eps must hold floating-point numbers; got dtype {eps.dtype}")
        if tuple(eps.shape) != (B, self.latent_dim):
            raise ValueError(f"eps must have shape (B, latent_dim) = ({B}, {self.latent_dim}) "
                             f"for a batch of {B}; got {tuple(eps.shape)}")
        eps = asarray(eps, dtype=self.dtype, backend=self.backend)
        check_finite(eps, "eps")
        return eps

    # ------------------------------------------------------------------ the loss
    def loss_terms_and_grads(self, x, y=None, *, eps=None, rng=None, check=True, grads=True):
        r"""The negative ELBO on a batch, its parts, and (``grads=True``) its gradient (§9.3).

        .. math::
            L = \underbrace{\frac1B\sum_b -\log p(x_b \mid z_b)}_{\texttt{recon}}
              + \beta \underbrace{\frac1B\sum_b \mathrm{KL}\big(q(z\mid x_b)\Vert p(z)\big)}_{\texttt{kl}},
            \qquad z_b = \mu_b + e^{\mathrm{logvar}_b/2}\odot\varepsilon_b

        Backward: decoder -> ``dz`` -> :func:`~minivae.ops.reparameterize_backward`
        -> ``dmu``, ``dlogvar``, plus :math:`\beta` times the KL's own gradients (the two
        branches of §0) -> the heads -> their two input gradients summed -> encoder.

        Parameters
        ----------
        x : array, shape (B, input_dim)
        y : None
            (Labels, for the CVAE.)
        eps : array, shape (B, latent_dim), optional
            The standard normal noise of the reparameterization. Default: drawn from the
            model's generator. Pin it to make the loss a deterministic function of the
            parameters (gradient checks).
        rng : None
            A VAE corrupts no input; pin its noise with ``eps``.
        check : bool
            Validate ``x`` (and ``y``); ``fit`` validates once and passes ``False``.
        grads : bool
            Also run the backward pass.

        Returns
        -------
        terms : dict of 0-d arrays
            ``"loss"``, ``"recon"`` (:math:`-\log p(x\mid z)`) and ``"kl"`` (unweighted;
            ``loss = recon + beta * kl``), each per example, averaged over the batch.
        grads : dict or None
            Keyed like :attr:`params`.
        """
        if rng is not None:
            raise TypeError(f"{type(self).__name__} takes no rng (it corrupts no input); "
                            "pin the latent noise with eps= instead")
        if check:
            x, y = self._prepare(x, y, name="x")
        B = x.shape[0]
        eps = self.rng.normal((B, self.latent_dim), dtype=self.dtype) if eps is None else self._check_eps(eps, B)
        c = self._condition(y)
        mu, logvar = self._encode_batch(x, c)
        z, z_cache = ops.reparameterize(mu, logvar, eps)
        out = self._decode_batch(z, c)
        recon, dout = self._recon(out, x)
        kl, dmu_kl, dlogvar_kl = ops.kl_standard_normal(mu, logvar)
        terms = {"loss": recon + self.beta * kl, "recon": recon, "kl": kl}
        if not grads:
            return terms, None
        return terms, self._backward(dout, z_cache, dmu_kl, dlogvar_kl)

    def _backward(self, dout, z_cache, dmu_kl, dlogvar_kl):
        """The backward pass of :meth:`loss_terms_and_grads`, from ``dout`` to every parameter (§9.3).

        A method of its own so that the exercise ``vae_backward`` (minivae.exercises) can
        hand a learner exactly this wiring, and train a VAE with the learner's version.
        """
        dzc = self.decoder.backward(dout)          # (B, latent_dim [+ n_classes])
        dz = dzc[:, :self.latent_dim]              # the labels are not parameters: drop their columns
        dmu, dlogvar = ops.reparameterize_backward(dz, z_cache)
        dmu += self.beta * dmu_kl                  # mu and logvar feed two branches: add (§0)
        dlogvar += self.beta * dlogvar_kl
        dh = self.blocks["mu"].backward(dmu) + self.blocks["logvar"].backward(dlogvar)
        self.encoder.backward(dh, need_input_grad=False)  # the data need no gradient
        return self._collect_grads()

    # ------------------------------------------------------------------ batched inference (shared)
    def _map(self, fn, X, c, batch_size, desc=None):
        """Apply ``fn(xb, cb)`` batch by batch and concatenate (tuples part by part).

        ``desc``: show a progress bar with this label (on stderr); ``None``: no bar.
        """
        batch_size = check_positive_int(batch_size, "batch_size")
        outs = []
        # an empty X still goes through fn once, so the result is empty with the right width
        starts = range(0, X.shape[0], batch_size) or range(1)
        for s in progress_bar(starts, desc=desc, enabled=desc is not None, unit="batch"):
            outs.append(fn(X[s:s + batch_size], None if c is None else c[s:s + batch_size]))
        if isinstance(outs[0], tuple):
            return tuple(self.xp.concatenate(parts) for parts in zip(*outs))
        return self.xp.concatenate(outs)

    def _inputs(self, X, y, name="X", *, check_range=False):
        """Validate ``X`` (finite; in [0, 1] too when ``check_range`` and Bernoulli) and labels.

        Returns ``X`` on the model's backend and dtype, and the condition of the labels.
        Zero rows are allowed: every caller answers example by example.
        """
        X, y = self._prepare(X, y, name=name, check_range=check_range, allow_empty=True)
        return X, self._condition(y)

    def _encode(self, X, y, batch_size):
        X, c = self._inputs(X, y)
        return self._map(self._encode_batch, X, c, batch_size)

    def _decode(self, Z, y, batch_size):
        Z = self._check_codes(Z)
        c = self._condition(self._prepare_labels(y, Z.shape[0]))
        return self._map(lambda zb, cb: self._mean_of(self._decode_batch(zb, cb)), Z, c, batch_size)

    def _reconstruct(self, X, y, batch_size):
        X, c = self._inputs(X, y)

        def rec(xb, cb):
            mu, _ = self._encode_batch(xb, cb)
            return self._mean_of(self._decode_batch(mu, cb))

        return self._map(rec, X, c, batch_size)

    def _sample(self, n, y):
        Z = self.rng.normal((n, self.latent_dim), dtype=self.dtype)
        return self._decode(Z, y, 1024)

    def _interpolate(self, x_a, y_a, x_b, y_b, steps, y_path):
        steps = check_positive_int(steps, "steps", minimum=2)
        ends = []
        for name, x, y in (("x_a", x_a, y_a), ("x_b", x_b, y_b)):
            if hasattr(x, "ndim") and x.ndim == 1:
                x = x.reshape(1, -1)
            X, c = self._inputs(x, y, name=name)
            if X.shape[0] != 1:
                raise ValueError(f"{name} must be one example, shape ({self.input_dim},); got {tuple(x.shape)}")
            ends.append(self._encode_batch(X, c)[0])
        t = self.xp.linspace(0.0, 1.0, steps, dtype=self.dtype).reshape(-1, 1)
        Z = (1.0 - t) * ends[0] + t * ends[1]
        return self._decode(Z, y_path, 1024)

    def _log_weights(self, xb, cb, K):
        r"""Log importance weights :math:`\log p(x,z_k) - \log q(z_k\mid x)`, shape (K, b) (§9.5)."""
        xp = self.xp
        b, J = xb.shape[0], self.latent_dim
        mu, logvar = self._encode_batch(xb, cb)
        eps = self.rng.normal((K, b, J), dtype=self.dtype)
        z = mu + xp.exp(0.5 * logvar) * eps                                   # (K, b, J)
        log_q = -0.5 * (eps * eps + logvar + LOG_2PI).sum(axis=-1)           # log N(z; mu, sigma^2)
        log_pz = -0.5 * (z * z + LOG_2PI).sum(axis=-1)                        # log N(z; 0, I)
        cK = None if cb is None else xp.broadcast_to(cb, (K, *cb.shape)).reshape(K * b, -1)
        out = self._decode_batch(z.reshape(K * b, J), cK).reshape(K, b, self.input_dim)
        log_px = self._log_px_given_z(out, xb)                                 # broadcasts over K
        return log_px + log_pz - log_q

    def _log_likelihood(self, X, y, n_samples, batch_size, progress=False):
        K = check_positive_int(n_samples, "n_samples")
        if batch_size is None:
            batch_size = max(1, 2 ** 17 // (K * max(1, self.input_dim // 64)))
        X, c = self._inputs(X, y, check_range=True)
        with module_for("numpy").errstate(over="ignore", invalid="ignore"):  # an overflow is named below
            ll = self._map(lambda xb, cb: logmeanexp(self._log_weights(xb, cb, K), axis=0), X, c, batch_size,
                           desc=f"log p(x), K={K}" if progress else None)
        return self._finite_result(ll, "the log-likelihood", X)

    def _elbo(self, X, y, n_samples, batch_size, progress=False):
        K = check_positive_int(n_samples, "n_samples")
        X, c = self._inputs(X, y, check_range=True)
        xp = self.xp

        def per_example(xb, cb):
            mu, logvar = self._encode_batch(xb, cb)
            kl = 0.5 * (mu * mu + (xp.expm1(logvar) - logvar)).sum(axis=1)  # expm1: never < 0 (§5.1)
            b, J = mu.shape
            eps = self.rng.normal((K, b, J), dtype=self.dtype)
            z = (mu + xp.exp(0.5 * logvar) * eps).reshape(K * b, J)
            cK = None if cb is None else xp.broadcast_to(cb, (K, *cb.shape)).reshape(K * b, -1)
            out = self._decode_batch(z, cK).reshape(K, b, self.input_dim)
            return self._log_px_given_z(out, xb).mean(axis=0) - kl

        with module_for("numpy").errstate(over="ignore", invalid="ignore"):  # an overflow is named below
            elbo = self._map(per_example, X, c, max(1, batch_size // K), desc=f"ELBO, K={K}" if progress else None)
        return self._finite_result(elbo, "the ELBO", X)

    def _overflow_cause(self):
        if self.likelihood != "gaussian":
            return ""
        return f", and sigma={self.sigma:g} (squared errors weighed by 1/(2 sigma^2) = {0.5 / self.sigma**2:.3g}),"

    # ------------------------------------------------------------------ public inference
    def encode(self, X, *, batch_size=1024):
        """The posterior of each example: ``(mu, logvar)``, each (n, latent_dim), in batches."""
        return self._encode(X, None, batch_size)

    def decode(self, Z, *, batch_size=1024):
        """The mean of :math:`p(x \\mid z)` for codes ``Z`` (n, latent_dim) -> (n, input_dim).

        Probabilities (the sigmoid of the logits) for Bernoulli, the means for Gaussian.
        """
        return self._decode(Z, None, batch_size)

    def reconstruct(self, X, *, batch_size=1024):
        """Decode the posterior mean ``mu`` of each example (no noise): (n, input_dim)."""
        return self._reconstruct(X, None, batch_size)

    def sample(self, n):
        r"""``n`` new examples: :math:`z \sim N(0, I)` from the model's generator, decoded (means)."""
        return self._sample(check_positive_int(n, "n"), None)

    def interpolate(self, x_a, x_b, steps=10):
        """Walk the latent space from ``x_a`` to ``x_b``: (steps, input_dim).

        Both are encoded to their posterior means; ``steps`` evenly spaced points on the
        straight line between the two (ends included) are decoded.
        """
        return self._interpolate(x_a, None, x_b, None, steps, None)

    def log_likelihood(self, X, n_samples=100, *, batch_size=None, progress=False):
        r"""Importance-weighted estimate of :math:`\log p(x)` per example, in nats: shape (n,).

        The bound of Burda et al. (2016), §9.5, with :math:`K` = ``n_samples`` draws
        :math:`z_k \sim q(z \mid x)`:

        .. math::
            \log p(x) \gtrsim \log \frac1K \sum_{k=1}^K
                \frac{p(x \mid z_k)\, p(z_k)}{q(z_k \mid x)}

        Its expectation is a lower bound on :math:`\log p(x)` that equals the ELBO at
        :math:`K = 1`, rises with :math:`K`, and reaches :math:`\log p(x)` as
        :math:`K \to \infty` when the weights are bounded (Burda et al., Theorem 1). Computed with the max subtracted (:func:`logmeanexp`) and
        every normalising constant included (for Bernoulli an exact log-probability of
        binary data; for Gaussian the :math:`\frac D2\log(2\pi\sigma_x^2)` is included).

        Parameters
        ----------
        X : array, shape (n, input_dim)
        n_samples : int
            :math:`K`.
        batch_size : int, optional
            Examples per batch (each batch decodes ``n_samples * batch_size`` codes);
            default keeps that near :math:`2^{17}` rows for 64 features.
        progress : bool
            Show a progress bar over the batches (on stderr).
        """
        return self._log_likelihood(X, None, n_samples, batch_size, progress)

    def elbo(self, X, n_samples=1, *, batch_size=1024, progress=False):
        r"""The ELBO of each example in nats, shape (n,): the negative of the loss (at ``beta=1``).

        :math:`E_q[\log p(x\mid z)] - \mathrm{KL}(q \Vert p)`, with the KL in closed form
        and the expectation averaged over ``n_samples`` draws (normalising constants
        included, as in :meth:`log_likelihood`). ``progress=True`` shows a bar on stderr.
        """
        return self._elbo(X, None, n_samples, batch_size, progress)
