"""The CUDA kernels of ``minivae/ops/kernels.py`` compute what their NumPy functions compute.

A kernel body is C++, so these tests run it without a GPU: each body is pasted, as it
is, into a C++ loop over the elements (the loop CuPy generates for an
``ElementwiseKernel``), compiled with the machine's C++ compiler, called through ctypes
on the same inputs as the NumPy function it replaces, and compared. A wrong formula in a
kernel fails here, in every CI run, not only on a machine with a GPU. (What this cannot
see: CUDA's own math library, which differs from the C++ one by an ulp or so; the CuPy
parity tests at the end cover that where a GPU exists.)
"""
from __future__ import annotations

import ctypes
import math
import shutil
import subprocess

import numpy as np
import pytest

from minivae import Adam, ops
from minivae.ops import kernels

CXX = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
SCALARS = {"float64": ("double", ctypes.c_double), "float32": ("float", ctypes.c_float)}
CTYPES = {np.float32: "float", np.float64: "double"}


def _params(spec):
    """``"T l, float64 inv_B"`` -> ``[("T", "l"), ("float64", "inv_B")]``."""
    return [tuple(p.split()) for p in spec.split(",")]


def cpp_source(specs):
    """One C++ function per kernel and element type, with the kernel's body verbatim.

    Inputs of type ``T`` are read element by element; outputs are references to their
    element (as in CuPy, so a body may read an output it updates, as Adam's does).
    """
    parts = ["#include <cmath>", "using namespace std;"]
    for name, (ins, outs, body) in specs.items():
        for ctype in CTYPES.values():
            args, lines = ["long n"], []
            for typ, var in _params(ins):
                if typ == "T":
                    args.append(f"const T* {var}_")
                    lines.append(f"const T {var} = {var}_[i];")
                else:
                    args.append(f"{SCALARS[typ][0]} {var}")
            for _, var in _params(outs):
                args.append(f"T* {var}_")
                lines.append(f"T& {var} = {var}_[i];")
            parts += [f"#define T {ctype}",
                      f'extern "C" void {name}_{ctype}({", ".join(args)}) {{',
                      "  for (long i = 0; i < n; ++i) {",
                      *(f"    {line}" for line in lines),
                      body,
                      "  }", "}", "#undef T"]
    return "\n".join(parts)


class Compiled:
    """The kernels of ``specs`` compiled for the CPU, callable like ElementwiseKernels."""

    def __init__(self, specs, directory):
        src = directory / "kernels.cpp"
        lib = directory / "kernels.so"
        src.write_text(cpp_source(specs))
        done = subprocess.run([CXX, "-O2", "-std=c++17", "-shared", "-fPIC", str(src), "-o", str(lib)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"a kernel body does not compile:\n{done.stderr}"
        self.lib = ctypes.CDLL(str(lib))
        self.specs = specs

    def __call__(self, name, *args):
        """Inputs in the order of the kernel's in_params, then (optionally) its outputs."""
        ins, outs = (_params(s) for s in self.specs[name][:2])
        arrays = [a for (typ, _), a in zip(ins, args) if typ == "T"]
        dtype = arrays[0].dtype
        fn = getattr(self.lib, f"{name}_{CTYPES[dtype.type]}")
        outputs = list(args[len(ins):]) or [np.empty_like(arrays[0]) for _ in outs]
        call = [ctypes.c_long(arrays[0].size)]
        for (typ, _), a in zip(ins, args):
            if typ == "T":
                assert a.dtype == dtype and a.flags.c_contiguous
                call.append(a.ctypes.data_as(ctypes.c_void_p))
            else:
                call.append(SCALARS[typ][1](a))
        call += [o.ctypes.data_as(ctypes.c_void_p) for o in outputs]
        fn(*call)
        return outputs if len(outputs) > 1 else outputs[0]


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


# ---------------------------------------------------------------------- on a GPU (skipped without one)
def _cupy():
    from minivae.backend import cupy_available, module_for

    ok, why = cupy_available()
    if not ok:
        pytest.skip(f"CuPy backend unavailable: {why}")
    return module_for("cupy")


def test_gpu_ops_take_the_kernels_and_match_numpy():
    """Each op on CuPy float32 arrays (one launch) against the same op on NumPy, rtol 1e-5."""
    cp = _cupy()
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
