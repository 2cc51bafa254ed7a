"""The PyTorch peer of minivae's VAE, shared by the benchmarks (one copy).

The architecture of the pytorch/examples VAE (https://github.com/pytorch/examples,
``vae/main.py``): 784 -> 400 (ReLU) -> mu, logvar (20) ; 20 -> 400 (ReLU) -> 784 logits,
Bernoulli likelihood, trained with Adam. The model here emits logits and the loss applies
the sigmoid stably (``binary_cross_entropy_with_logits``), with minivae's reduction: sum
over pixels and latent dimensions, mean over the batch.

Used by ``vae_quality.py`` (does it learn as well?) and ``train_speed.py`` (how fast?).
PyTorch is optional: without it ``torch`` is ``None`` here and nothing else is defined,
so a benchmark checks ``torch is None`` and runs minivae alone.

Weights cross between the libraries as ``{name: (W, b)}`` with NumPy ``W`` of shape
``(in, out)`` (minivae's layout; ``nn.Linear`` keeps ``(out, in)``), for the layer names
``fc1, fc21, fc22, fc3, fc4`` of the original example.
"""
from __future__ import annotations

import time

try:  # optional: the comparison
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

D, H, J = 784, 400, 20
LAYERS = ("fc1", "fc21", "fc22", "fc3", "fc4")

# minivae's parameter names for each layer of the torch model
MINIVAE_NAMES = {"fc1": "encoder.0", "fc21": "mu.0", "fc22": "logvar.0", "fc3": "decoder.0", "fc4": "decoder.2"}


if torch is not None:

    class TorchVAE(nn.Module):
        """The pytorch/examples VAE, emitting logits (the loss applies the sigmoid stably)."""

        def __init__(self, input_dim=D, hidden_dim=H, latent_dim=J):
            super().__init__()
            self.fc1 = nn.Linear(input_dim, hidden_dim)
            self.fc21 = nn.Linear(hidden_dim, latent_dim)
            self.fc22 = nn.Linear(hidden_dim, latent_dim)
            self.fc3 = nn.Linear(latent_dim, hidden_dim)
            self.fc4 = nn.Linear(hidden_dim, input_dim)

        def encode(self, x):
            h = F.relu(self.fc1(x))
            return self.fc21(h), self.fc22(h)

        def decode(self, z):
            return self.fc4(F.relu(self.fc3(z)))

        def forward(self, x):
            mu, logvar = self.encode(x)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            return self.decode(z), mu, logvar

    def torch_loss(logits, x, mu, logvar):
        """Sum over pixels and latent dimensions, mean over the batch: minivae's reduction."""
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kld = 0.5 * torch.sum(mu.pow(2) + logvar.exp() - 1.0 - logvar)
        return (bce + kld) / x.shape[0]

    def make_torch(seed, init_weights=None, *, input_dim=D, hidden_dim=H, latent_dim=J):
        """A :class:`TorchVAE` seeded with ``seed``: PyTorch's default ``nn.Linear`` init, or
        ``init_weights`` (``{name: (W, b)}``, ``W`` of shape (in, out)) copied in."""
        torch.manual_seed(seed)
        model = TorchVAE(input_dim, hidden_dim, latent_dim)
        if init_weights is not None:
            with torch.no_grad():
                for name, (W, b) in init_weights.items():
                    layer = getattr(model, name)
                    layer.weight.copy_(torch.from_numpy(W.T.copy()))
                    layer.bias.copy_(torch.from_numpy(b.copy()))
        return model

    def train_epoch(model, opt, X, batch_size, gen):
        """One epoch: a fresh random permutation, then index, forward, backward, step per batch.

        ``X`` is a torch tensor already on the model's device; ``gen`` a ``torch.Generator``
        (on the CPU: the permutation is drawn there and moved, as a data loader would).
        """
        perm = torch.randperm(X.shape[0], generator=gen).to(X.device)
        for s in range(0, X.shape[0], batch_size):
            xb = X[perm[s:s + batch_size]]
            logits, mu, logvar = model(xb)
            loss = torch_loss(logits, xb, mu, logvar)
            opt.zero_grad()
            loss.backward()
            opt.step()

    def train_torch(model, X_train, *, epochs, batch_size, lr, seed):
        """Train with a new Adam(lr) for ``epochs`` on NumPy ``X_train``; return the seconds."""
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        X = torch.from_numpy(X_train)
        gen = torch.Generator().manual_seed(seed)
        start = time.perf_counter()
        model.train()
        for _ in range(epochs):
            train_epoch(model, opt, X, batch_size, gen)
        return time.perf_counter() - start

    def torch_weights(model):
        """``{name: (W, b)}`` as NumPy copies, ``W`` of shape (in, out)."""
        return {name: (getattr(model, name).weight.detach().cpu().numpy().T.copy(),
                       getattr(model, name).bias.detach().cpu().numpy().copy())
                for name in LAYERS}
