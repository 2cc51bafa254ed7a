"""The CUDA kernels of ``minivae/ops/kernels.py`` compute what their NumPy functions compute.

A kernel body is C++, so these tests run it without a GPU (``tests/kernel_harness.py``):
each body is pasted, as it is, into a C++ loop over the elements (the loop CuPy
generates for an ``ElementwiseKernel``), compiled with the machine's C++ compiler, called
through ctypes on the same inputs as the NumPy function it replaces, and compared. A
wrong formula in a kernel fails here, in every CI run, not only on a machine with a GPU.
(What this cannot see: whether NVRTC, CUDA's compiler, accepts the body, and CUDA's own
math library and fused multiply-adds, which differ from the C++ ones by an ulp or so;
``benchmarks/gpu_check.py`` and the CuPy parity tests at the end cover those on a GPU.)
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from minivae import Adam, ops
from minivae.ops import kernels
from tests.kernel_harness import CXX, Compiled


@pytest.fixture(scope="module")
def cpu_kernels(tmp_path_factory):
    if CXX is None:
        pytest.skip("no C++ compiler (g++, c++ or clang++) on PATH to run the kernel bodies on the CPU")
    return Compiled(kernels._SPECS, tmp_path_factory.mktemp("kernels"))


DTYPES = [np.float32, np.float64]


def tol(dtype):
    """Elementwise agreement expected between two evaluations of one formula: a few ulps."""
    return {"rtol": 2e-6, "atol": 1e-7} if dtype == np.float32 else {"rtol": 1e-13, "atol": 1e-15}


def _rng(seed=0):
    return np.random.default_rng(seed)


def test_every_kernel_is_checked_here():
    assert set(kernels.NAMES) == {"bce_with_logits", "kl_standard_normal", "reparameterize",
                                  "reparameterize_backward", "relu_backward", "adam"}


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_kernel_equals_bce_with_logits(cpu_kernels, dtype):
    rng = _rng(1)
    logits = (rng.normal(size=(16, 40)) * 6).astype(dtype)
    logits[0, :6] = [1e4, -1e4, 80.0, -80.0, 0.0, -0.0]  # saturated both ways, and the 0 of the branch
    target = rng.uniform(size=logits.shape).astype(dtype)
    loss, dlogits = ops.bce_with_logits(logits, target)
    loss_k, dl_k = cpu_kernels("bce_with_logits", logits, target, 1.0 / logits.shape[0])
    np.testing.assert_allclose(dl_k, dlogits, **tol(dtype))
    assert np.all(np.isfinite(loss_k))
    # the kernel sums the per-element loss; the NumPy path takes sum(t*l) as one dot product
    assert float(loss_k.sum(dtype=np.float64)) / logits.shape[0] == pytest.approx(
        float(loss), rel=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_kernel_equals_kl_standard_normal(cpu_kernels, dtype):
    rng = _rng(2)
    mu, logvar = (rng.normal(size=(32, 6)) * 2).astype(dtype), (rng.normal(size=(32, 6)) * 3).astype(dtype)
    mu[:4], logvar[:4] = 0.0, rng.choice([-1, 1], (4, 6)) * np.geomspace(1e-9, 1e-3, 24).reshape(4, 6)
    kl, dmu, dlogvar = ops.kl_standard_normal(mu, logvar)
    kl_k, dmu_k, dlogvar_k = cpu_kernels("kl_standard_normal", mu, logvar, 1.0 / 32)
    assert (kl_k >= 0).all(), kl_k[:4]  # expm1: tiny logvar never rounds the KL below 0 (§5.1)
    np.testing.assert_allclose(dmu_k, dmu, **tol(dtype))
    np.testing.assert_allclose(dlogvar_k, dlogvar, **tol(dtype))
    assert float(kl_k.sum(dtype=np.float64)) / 32 == pytest.approx(float(kl), rel=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reparameterize_kernels_equal_the_pair(cpu_kernels, dtype):
    rng = _rng(3)
    mu, logvar, eps, dz = ((rng.normal(size=(24, 5)) * s).astype(dtype) for s in (2, 3, 1, 1))
    z, cache = ops.reparameterize(mu, logvar, eps)
    z_k, std_k = cpu_kernels("reparameterize", mu, logvar, eps)
    np.testing.assert_allclose(z_k, z, **tol(dtype))
    np.testing.assert_allclose(std_k, cache.std, **tol(dtype))
    dmu, dlogvar = ops.reparameterize_backward(dz, cache)
    dmu_k, dlogvar_k = cpu_kernels("reparameterize_backward", dz, cache.std, eps)
    np.testing.assert_array_equal(dmu_k, dmu)
    np.testing.assert_allclose(dlogvar_k, dlogvar, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward_kernel_equals_relu_backward(cpu_kernels, dtype):
    rng = _rng(4)
    x = rng.normal(size=(10, 30)).astype(dtype)
    x[0, :3] = [0.0, -0.0, 1e-30]  # the kink gets derivative 0, a tiny positive gets 1
    dout = rng.normal(size=x.shape).astype(dtype)
    np.testing.assert_array_equal(cpu_kernels("relu_backward", dout, x),
                                  ops.relu_backward(dout, ops.relu_forward(x)[1]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_kernel_equals_the_reference_rule(cpu_kernels, dtype):
    """Three steps of the kernel (with the folded lr_t, eps_t) against the textbook rule."""
    rng = _rng(5)
    opt = Adam(lr=1e-2)
    p_ref, p_k = (rng.normal(size=500).astype(dtype) for _ in range(2))
    p_k[...] = p_ref
    state = {"m": np.zeros_like(p_ref), "v": np.zeros_like(p_ref), "t": 0}
    m_k, v_k = np.zeros_like(p_ref), np.zeros_like(p_ref)
    for t in (1, 2, 3):
        g = (rng.normal(size=500) * 10.0 ** rng.integers(-4, 2, size=500)).astype(dtype)
        opt._update_reference("w", p_ref, g, state)
        lr_t, eps_t = opt._folded(t)
        cpu_kernels("adam", g, opt.beta1, opt.beta2, lr_t, eps_t, p_k, m_k, v_k)
    rtol = 1e-5 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(m_k, state["m"], rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(v_k, state["v"], rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(p_k, p_ref, rtol=rtol, atol=1e-7 if dtype == np.float32 else 1e-14)


def test_adam_kernel_computes_in_the_parameters_precision(cpu_kernels):
    """float32 parameters: every operation in float32, as the NumPy path does it.

    g++ on x86-64 (no fused multiply-add) rounds each operation as NumPy does, so one
    step of the kernel equals, bit for bit, one step of ``Adam`` on NumPy float32 arrays;
    and it differs from the same rule evaluated in float64 and rounded once at the end
    (what the old kernel's float64 scalars did: they promoted every operation).
    """
    rng = _rng(8)
    p, g = rng.normal(size=3000).astype(np.float32), rng.normal(size=3000).astype(np.float32)
    g *= (10.0 ** rng.integers(-3, 2, size=3000)).astype(np.float32)
    opt = Adam(lr=3e-3)
    p_numpy = p.copy()
    opt.step({"w": p_numpy}, {"w": g})
    lr_t, eps_t = opt._folded(1)
    p_k, m_k, v_k = p.copy(), np.zeros_like(p), np.zeros_like(p)
    cpu_kernels("adam", g, opt.beta1, opt.beta2, lr_t, eps_t, p_k, m_k, v_k)
    assert p_k.dtype == np.float32
    np.testing.assert_array_equal(p_k, p_numpy)
    g64 = g.astype(np.float64)
    m64, v64 = (1 - opt.beta1) * g64, (1 - opt.beta2) * g64 * g64
    p64 = (p.astype(np.float64) - lr_t * m64 / (np.sqrt(v64) + eps_t)).astype(np.float32)
    assert not np.array_equal(p_k, p64)


def test_the_cpu_harness_catches_a_wrong_kernel(tmp_path):
    """The check can fail: exp(logvar) in place of exp(logvar / 2), a known VAE bug."""
    if CXX is None:
        pytest.skip("no C++ compiler on PATH")
    ins, outs, body = kernels.source("reparameterize")
    wrong = Compiled({"reparameterize": (ins, outs, body.replace("(T)0.5 * logvar", "logvar"))}, tmp_path)
    rng = _rng(6)
    mu, logvar, eps = (rng.normal(size=(8, 3)) for _ in range(3))
    z, _ = ops.reparameterize(mu, logvar, eps)
    assert not np.allclose(wrong("reparameterize", mu, logvar, eps)[0], z)


def test_kernels_are_not_used_for_numpy_arrays():
    a = np.zeros((2, 3), dtype=np.float32)
    assert not kernels.usable(a, a)


def test_the_folded_adam_constants():
    """lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), eps_t = eps sqrt(1 - b2^t) (Kingma & Ba, §2)."""
    opt = Adam(lr=0.1, betas=(0.5, 0.75), eps=0.01)
    lr_t, eps_t = opt._folded(2)
    assert lr_t == pytest.approx(0.1 * math.sqrt(1 - 0.75**2) / (1 - 0.5**2), rel=1e-15)
    assert eps_t == pytest.approx(0.01 * math.sqrt(1 - 0.75**2), rel=1e-15)


# ---------------------------------------------------------------------- on a GPU, and on the stand-in
# (the `gpu` fixture, in conftest.py)

def test_gpu_ops_take_the_kernels_and_match_numpy(gpu):
    """Each op on CuPy float32 arrays (one launch) against the same op on NumPy, rtol 1e-5."""
    cp = gpu
    from minivae.backend import to_numpy

    rng = _rng(7)
    logits = (rng.normal(size=(64, 50)) * 5).astype(np.float32)
    target = rng.uniform(size=logits.shape).astype(np.float32)
    mu, logvar, eps, dz = (rng.normal(size=(64, 4)).astype(np.float32) for _ in range(4))
    assert kernels.usable(cp.asarray(logits), cp.asarray(target))

    def both(fn, *arrays):
        cpu = fn(*arrays)
        gpu = fn(*(cp.asarray(a) for a in arrays))
        return cpu, gpu

    for (c, g) in [both(ops.bce_with_logits, logits, target), both(ops.kl_standard_normal, mu, logvar)]:
        for a, b in zip(c, g):
            np.testing.assert_allclose(to_numpy(b), a, rtol=1e-5, atol=1e-6)
    (z, cache), (z_g, cache_g) = both(ops.reparameterize, mu, logvar, eps)
    np.testing.assert_allclose(to_numpy(z_g), z, rtol=1e-5, atol=1e-6)
    for a, b in zip(ops.reparameterize_backward(dz, cache), ops.reparameterize_backward(cp.asarray(dz), cache_g)):
        np.testing.assert_allclose(to_numpy(b), a, rtol=1e-5, atol=1e-6)
    x = rng.normal(size=(64, 9)).astype(np.float32)
    np.testing.assert_array_equal(
        to_numpy(ops.relu_backward(cp.asarray(dz[:, :1].repeat(9, 1)), ops.relu_forward(cp.asarray(x))[1])),
        ops.relu_backward(dz[:, :1].repeat(9, 1), ops.relu_forward(x)[1]))
