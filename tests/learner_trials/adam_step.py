"""adam_step: m, v the running moments, bias-corrected, p -= lr m̂ / (√v̂ + eps), all in place."""
import numpy as np

from . import right, wrong

E = "adam_step"


@right(E)
def textbook(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    s["t"] += 1
    t = s["t"]
    s["m"][:] = beta1 * s["m"] + (1 - beta1) * g
    s["v"][:] = beta2 * s["v"] + (1 - beta2) * g * g
    m_hat, v_hat = s["m"] / (1 - beta1**t), s["v"] / (1 - beta2**t)
    p -= lr * m_hat / (np.sqrt(v_hat) + eps)


@right(E)
def correction_folded_into_the_step(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    s["t"] += 1
    t = s["t"]
    s["m"] *= beta1
    s["m"] += (1 - beta1) * g
    s["v"] *= beta2
    s["v"] += (1 - beta2) * g**2
    c2 = np.sqrt(1 - beta2**t)
    p -= lr * c2 / (1 - beta1**t) * s["m"] / (np.sqrt(s["v"]) + eps * c2)


@right(E)
def with_out_arguments(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m, v = s["m"], s["v"]
    np.multiply(m, beta1, out=m)
    m += (1 - beta1) * g
    np.multiply(v, beta2, out=v)
    v += (1 - beta2) * np.square(g)
    t = s["t"] + 1
    s["t"] = t
    np.subtract(p, lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), out=p)


@right(E)
def ellipsis_assignments(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = s["t"] = s["t"] + 1
    s["m"][...] = beta1 * s["m"] + (1 - beta1) * g
    s["v"][...] = beta2 * s["v"] + (1 - beta2) * (g * g)
    p[...] = p - lr * (s["m"] / (1 - beta1**t)) / (np.sqrt(s["v"] / (1 - beta2**t)) + eps)


@right(E)
def interpolated_moments(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    s["t"] += 1
    s["m"] += (1 - beta1) * (g - s["m"])
    s["v"] += (1 - beta2) * (g * g - s["v"])
    m_hat = s["m"] / (1 - beta1 ** s["t"])
    v_hat = s["v"] / (1 - beta2 ** s["t"])
    p -= lr * m_hat / (v_hat**0.5 + eps)


@wrong(E, "β₁ and β₂ swapped in m")
def betas_swapped_in_m(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    s["t"] += 1
    t = s["t"]
    s["m"][:] = beta2 * s["m"] + (1 - beta2) * g
    s["v"][:] = beta2 * s["v"] + (1 - beta2) * g * g
    p -= lr * (s["m"] / (1 - beta1**t)) / (np.sqrt(s["v"] / (1 - beta2**t)) + eps)


@wrong(E, "|g| in v instead of g²")
def absolute_g_in_v(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    s["t"] += 1
    t = s["t"]
    s["m"][:] = beta1 * s["m"] + (1 - beta1) * g
    s["v"][:] = beta2 * s["v"] + (1 - beta2) * np.abs(g)
    p -= lr * (s["m"] / (1 - beta1**t)) / (np.sqrt(s["v"] / (1 - beta2**t)) + eps)


@wrong(E, "p = p − ... rebinds p instead of updating it")
def rebinds_p(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    s["t"] += 1
    t = s["t"]
    s["m"][:] = beta1 * s["m"] + (1 - beta1) * g
    s["v"][:] = beta2 * s["v"] + (1 - beta2) * g * g
    p = p - lr * (s["m"] / (1 - beta1**t)) / (np.sqrt(s["v"] / (1 - beta2**t)) + eps)  # noqa: F841


@wrong(E, "no square root of v̂")
def without_square_root(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    s["t"] += 1
    t = s["t"]
    s["m"][:] = beta1 * s["m"] + (1 - beta1) * g
    s["v"][:] = beta2 * s["v"] + (1 - beta2) * g * g
    p -= lr * (s["m"] / (1 - beta1**t)) / (s["v"] / (1 - beta2**t) + eps)


@wrong(E, "bias correction with the count before it is advanced (1 − β⁰ = 0 on the first step)")
def count_advanced_late(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = s["t"]
    s["m"][:] = beta1 * s["m"] + (1 - beta1) * g
    s["v"][:] = beta2 * s["v"] + (1 - beta2) * g * g
    p -= lr * (s["m"] / (1 - beta1**t)) / (np.sqrt(s["v"] / (1 - beta2**t)) + eps)
    s["t"] = t + 1


@wrong(E, "the step uses g where m̂ belongs")
def gradient_for_momentum(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    s["t"] += 1
    t = s["t"]
    s["m"][:] = beta1 * s["m"] + (1 - beta1) * g
    s["v"][:] = beta2 * s["v"] + (1 - beta2) * g * g
    p -= lr * g / (np.sqrt(s["v"] / (1 - beta2**t)) + eps)
