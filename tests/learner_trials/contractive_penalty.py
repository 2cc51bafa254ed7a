"""contractive_penalty: s = h(1 − h), w_j = Σ_i W_ij², P = (λ/B) Σ s² w; dh = (2λ/B) s (1 − 2h) w; dW = (2λ/B) W Σ_b s²."""
import numpy as np

from . import right, wrong

E = "contractive_penalty"


@right(E)
def plain(h, W, lam):
    B = h.shape[0]
    s, w = h * (1 - h), (W**2).sum(axis=0)
    return lam / B * np.sum(s**2 * w), lam / B * 2 * s * (1 - 2 * h) * w, lam / B * 2 * W * (s**2).sum(axis=0)


@right(E)
def with_einsum(h, W, lam):
    B = len(h)
    s = h - h * h
    w = np.einsum("ij,ij->j", W, W)
    return (lam / B * np.einsum("bj,bj,j->", s, s, w), 2 * lam / B * s * (1 - 2 * h) * w,
            2 * lam / B * W * np.einsum("bj,bj->j", s, s))


@right(E)
def keepdims_norms(h, W, lam):
    s = h * (1 - h)
    w = np.sum(W * W, axis=0, keepdims=True)
    S = np.sum(s * s, axis=0, keepdims=True)
    return float((s * s * w).sum() * lam / len(h)), (2 * lam / len(h)) * s * (1 - 2 * h) * w, (2 * lam / len(h)) * W * S


@right(E)
def example_by_example(h, W, lam):
    B = len(h)
    w = (W * W).sum(axis=0)
    P, dh, dW = 0.0, np.zeros_like(h), np.zeros_like(W)
    for b in range(B):
        s = h[b] * (1 - h[b])
        P += lam / B * np.dot(s * s, w)
        dh[b] = 2 * lam / B * s * (1 - 2 * h[b]) * w
        dW += 2 * lam / B * W * s * s
    return P, dh, dW


@right(E)
def mean_over_batch(h, W, lam):
    s2 = (h * (1 - h)) ** 2
    w = (W**2).sum(0)
    return lam * np.mean((s2 * w).sum(1)), 2 * lam * h * (1 - h) * (1 - 2 * h) * w / len(h), 2 * lam * W * s2.mean(0)


@wrong(E, "(Σ_b s)² where Σ_b s² belongs")
def square_of_sum(h, W, lam):
    B = len(h)
    s, w = h * (1 - h), (W**2).sum(axis=0)
    S = s.sum(axis=0)
    return lam / B * np.sum(S**2 * w), lam / B * 2 * S * (1 - 2 * h) * w, lam / B * 2 * W * S**2


@wrong(E, "dW with Σ_b s where Σ_b s² belongs")
def dW_with_s(h, W, lam):
    B = len(h)
    s, w = h * (1 - h), (W**2).sum(axis=0)
    return lam / B * np.sum(s**2 * w), lam / B * 2 * s * (1 - 2 * h) * w, lam / B * 2 * W * s.sum(axis=0)


@wrong(E, "w summed over the columns of W (axis 1) instead of the rows", "broadcast")
def norms_over_the_wrong_axis(h, W, lam):
    B = len(h)
    s, w = h * (1 - h), (W**2).sum(axis=1)
    return lam / B * np.sum(s**2 * w), lam / B * 2 * s * (1 - 2 * h) * w, lam / B * 2 * W * (s**2).sum(axis=0)


@wrong(E, "dh without its 2", "0.5")
def dh_without_two(h, W, lam):
    B = len(h)
    s, w = h * (1 - h), (W**2).sum(axis=0)
    return lam / B * np.sum(s**2 * w), lam / B * s * (1 - 2 * h) * w, lam / B * 2 * W * (s**2).sum(axis=0)


@wrong(E, "P not divided by B, its gradients are", "= B")
def P_summed(h, W, lam):
    B = len(h)
    s, w = h * (1 - h), (W**2).sum(axis=0)
    return lam * np.sum(s**2 * w), lam / B * 2 * s * (1 - 2 * h) * w, lam / B * 2 * W * (s**2).sum(axis=0)


@wrong(E, "dW without the 1/B", "= B")
def dW_not_averaged(h, W, lam):
    B = len(h)
    s, w = h * (1 - h), (W**2).sum(axis=0)
    return lam / B * np.sum(s**2 * w), lam / B * 2 * s * (1 - 2 * h) * w, lam * 2 * W * (s**2).sum(axis=0)
