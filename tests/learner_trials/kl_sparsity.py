"""kl_sparsity: P = β Σ_j KL(ρ ‖ ρ̂_j), dh = β(−ρ/ρ̂ + (1 − ρ)/(1 − ρ̂))/B in every row."""
import numpy as np

from . import right, wrong

E = "kl_sparsity"


def _kl(rho, rho_hat):
    return rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))


def _slope(rho, rho_hat):
    return -rho / rho_hat + (1 - rho) / (1 - rho_hat)


@right(E)
def tiled(h, rho, beta):
    B = h.shape[0]
    rho_hat = h.mean(axis=0)
    return beta * _kl(rho, rho_hat).sum(), np.tile(beta * _slope(rho, rho_hat) / B, (B, 1))


@right(E)
def with_differences_of_logs(h, rho, beta):
    rho_hat = h.sum(axis=0) / len(h)
    P = beta * np.sum(rho * (np.log(rho) - np.log(rho_hat)) + (1 - rho) * (np.log1p(-rho) - np.log1p(-rho_hat)))
    return P, beta * _slope(rho, rho_hat) / len(h) * np.ones_like(h)


@right(E)
def broadcast_then_copied(h, rho, beta):
    rho_hat = h.mean(axis=0)
    return beta * np.sum(_kl(rho, rho_hat)), np.broadcast_to(beta * _slope(rho, rho_hat) / len(h), h.shape).copy()


@right(E)
def unit_by_unit(h, rho, beta):
    B, J = h.shape
    P, dh = 0.0, np.empty_like(h)
    for j in range(J):
        r = h[:, j].mean()
        P += beta * _kl(rho, r)
        dh[:, j] = beta * _slope(rho, r) / B
    return P, dh


@right(E)
def zeros_plus_row(h, rho, beta):
    rho_hat = np.mean(h, axis=0, keepdims=True)
    return beta * _kl(rho, rho_hat).sum(), np.zeros_like(h) + beta * _slope(rho, rho_hat) / h.shape[0]


@wrong(E, "dh not spread over the rows: shape (J,)", "batch axis")
def not_broadcast(h, rho, beta):
    rho_hat = h.mean(axis=0)
    return beta * _kl(rho, rho_hat).sum(), beta * _slope(rho, rho_hat) / len(h)


@wrong(E, "KL(ρ̂ ‖ ρ), the divergence the other way round")
def reversed_kl(h, rho, beta):
    r = h.mean(axis=0)
    P = beta * np.sum(r * np.log(r / rho) + (1 - r) * np.log((1 - r) / (1 - rho)))
    dh = beta * (np.log(r / rho) - np.log((1 - r) / (1 - rho))) / len(h)
    return P, np.tile(dh, (len(h), 1))


@wrong(E, "dh with its sign flipped", "opposite sign")
def sign_flipped(h, rho, beta):
    rho_hat = h.mean(axis=0)
    return beta * _kl(rho, rho_hat).sum(), np.tile(-beta * _slope(rho, rho_hat) / len(h), (len(h), 1))


@wrong(E, "P without β, dh with it")
def P_without_beta(h, rho, beta):
    rho_hat = h.mean(axis=0)
    return _kl(rho, rho_hat).sum(), np.tile(beta * _slope(rho, rho_hat) / len(h), (len(h), 1))


@wrong(E, "dh with only the −ρ/ρ̂ term")
def one_term(h, rho, beta):
    rho_hat = h.mean(axis=0)
    return beta * _kl(rho, rho_hat).sum(), np.tile(-beta * rho / rho_hat / len(h), (len(h), 1))
