"""Tests for the update rules in minivae.optim (docs/derivations.md §8).

The expected numbers are worked out here with plain Python floats, straight from the
formulas, so a test never checks the optimizer against itself.
"""
import math

import numpy as np
import pytest

from minivae.optim import SGD, Adam, Optimizer


def quadratic_grad(A, c):
    """Gradient of f(p) = 0.5 (p - c)^T A (p - c): A (p - c)."""
    return lambda p: A @ (p - c)


def run(opt, params, grad_fns, n_steps):
    for _ in range(n_steps):
        grads = {name: fn(params[name]) for name, fn in grad_fns.items()}
        opt.step(params, grads)


# ---------------------------------------------------------------------------
# the update rules, against hand-computed numbers
# ---------------------------------------------------------------------------

def test_sgd_step_is_p_minus_lr_g():
    p = np.array([1.0, -2.0, 0.5])
    g = np.array([0.3, -0.1, 2.0])
    expected = p - 0.1 * g
    SGD(lr=0.1).step({"w": p}, {"w": g})
    np.testing.assert_allclose(p, expected, rtol=0, atol=1e-15)


# mu = 0.9, lr = 0.1, p0 = 1, gradients g1 = 2 then g2 = -1 (fixed, not from a loss)
#   momentum: v1 = 2,                p1 = 1 - 0.1*2               = 0.8
#             v2 = 0.9*2 - 1 = 0.8,  p2 = 0.8 - 0.1*0.8           = 0.72
#   nesterov: v1 = 2,                p1 = 1 - 0.1*(2 + 0.9*2)     = 0.62
#             v2 = 0.8,              p2 = 0.62 - 0.1*(-1 + 0.9*0.8) = 0.648
@pytest.mark.parametrize("nesterov, p1, p2", [(False, 0.8, 0.72), (True, 0.62, 0.648)])
def test_momentum_two_steps_by_hand(nesterov, p1, p2):
    p = np.array([1.0])
    opt = SGD(lr=0.1, momentum=0.9, nesterov=nesterov)
    opt.step({"w": p}, {"w": np.array([2.0])})
    assert p[0] == pytest.approx(p1, abs=1e-14)
    opt.step({"w": p}, {"w": np.array([-1.0])})
    assert p[0] == pytest.approx(p2, abs=1e-14)
    assert opt.state["w"]["velocity"][0] == pytest.approx(0.8, abs=1e-14)


def test_nesterov_iterates_are_sutskever_look_ahead_points():
    # Sutskever et al. (2013): u <- mu u - lr grad(theta + mu u); theta <- theta + u.
    # Our form keeps p = theta + mu u, the point where the gradient is taken.
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    c = np.array([1.0, -1.0])
    grad = quadratic_grad(A, c)
    lr, mu = 0.05, 0.9
    theta, u = np.array([4.0, 3.0]), np.zeros(2)
    p = theta.copy()
    opt = SGD(lr, momentum=mu, nesterov=True)
    for _ in range(20):
        u = mu * u - lr * grad(theta + mu * u)
        theta = theta + u
        opt.step({"w": p}, {"w": grad(p)})
        np.testing.assert_allclose(p, theta + mu * u, rtol=1e-12, atol=1e-12)


def adam_by_hand(p, grads, lr, beta1, beta2, eps):
    """Adam on a single float, one Python statement per formula line."""
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (math.sqrt(v_hat) + eps)
    return p


def test_adam_two_steps_by_hand():
    lr, beta1, beta2, eps = 0.1, 0.9, 0.999, 1e-8
    p0 = [1.0, -2.0]
    g_steps = [[0.5, -1.0], [0.1, 0.3]]
    p = np.array(p0)
    opt = Adam(lr=lr, betas=(beta1, beta2), eps=eps)
    for g in g_steps:
        opt.step({"w": p}, {"w": np.array(g)})
    for i in range(2):
        expected = adam_by_hand(p0[i], [g[i] for g in g_steps], lr, beta1, beta2, eps)
        assert p[i] == pytest.approx(expected, abs=1e-14)
    # first coordinate worked out on paper (eps = 1e-8 neglected, hence the looser check):
    #   t=1: m_hat = 0.5, v_hat = 0.25                     -> p = 1 - 0.1 * 0.5/0.5   = 0.9
    #   t=2: m = 0.045 + 0.01 = 0.055,  m_hat = 0.055/0.19
    #        v = 0.999*0.00025 + 0.001*0.01 = 0.00025975, v_hat = 0.00025975/0.001999
    #        p = 0.9 - 0.1 * (0.055/0.19) / sqrt(0.00025975/0.001999)
    assert p[0] == pytest.approx(0.9 - 0.1 * (0.055 / 0.19) / math.sqrt(0.00025975 / 0.001999), abs=1e-7)
    assert opt.state["w"]["t"] == 2


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e4])
def test_adam_first_step_moves_each_coordinate_by_lr(scale):
    # the bias correction at t = 1 makes m_hat = g, v_hat = g^2; without it the first
    # step would be lr * 0.1 / sqrt(0.001) ~ 3.16 lr
    p = np.zeros(3)
    g = scale * np.array([1.0, -2.0, 0.5])
    Adam(lr=0.01).step({"w": p}, {"w": g})
    np.testing.assert_allclose(p, -0.01 * np.sign(g), rtol=1e-3)


# ---------------------------------------------------------------------------
# they minimise a positive-definite quadratic
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "make_opt, n_steps",
    [
        (lambda: SGD(lr=0.2), 300),
        (lambda: SGD(lr=0.05, momentum=0.9), 600),
        (lambda: SGD(lr=0.05, momentum=0.9, nesterov=True), 600),
        (lambda: Adam(lr=0.05), 3000),
    ],
    ids=["sgd", "momentum", "nesterov", "adam"],
)
def test_minimises_quadratic(make_opt, n_steps):
    A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    assert np.all(np.linalg.eigvalsh(A) > 0)
    c = np.array([1.0, -2.0, 0.5])
    params = {"w": np.array([5.0, 5.0, -5.0])}
    run(make_opt(), params, {"w": quadratic_grad(A, c)}, n_steps)
    np.testing.assert_allclose(params["w"], c, atol=1e-3)


# ---------------------------------------------------------------------------
# state belongs to the full parameter name
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "make_opt", [lambda: SGD(lr=0.1, momentum=0.9), lambda: Adam(lr=0.1)], ids=["momentum", "adam"]
)
def test_layers_with_the_same_suffix_keep_separate_state(make_opt):
    # "enc.0.W" and "dec.0.W" see opposite, different-sized gradients. If the state were
    # keyed by "W", their velocities/moments would mix and neither would match its solo run.
    g_enc = [np.array([1.0, 2.0]), np.array([0.5, -1.0]), np.array([3.0, 0.1])]
    g_dec = [np.array([-4.0, 0.2]), np.array([1.0, 1.0]), np.array([-0.3, 2.0])]
    together = {"enc.0.W": np.zeros(2), "dec.0.W": np.zeros(2)}
    opt = make_opt()
    for ge, gd in zip(g_enc, g_dec):
        opt.step(together, {"enc.0.W": ge, "dec.0.W": gd})

    for name, g_list in (("enc.0.W", g_enc), ("dec.0.W", g_dec)):
        alone = {name: np.zeros(2)}
        solo = make_opt()
        for g in g_list:
            solo.step(alone, {name: g})
        np.testing.assert_array_equal(together[name], alone[name])
    assert set(opt.state) == {"enc.0.W", "dec.0.W"}


def test_adam_step_count_is_per_parameter():
    # a parameter whose memory was saved at step 2, beside one with none, continues at t = 3
    # while the newcomer starts its own bias correction at t = 1
    a, b = np.zeros(1), np.zeros(1)
    first = Adam({"a": a}, lr=0.01)
    for _ in range(2):
        first.step({"a": np.ones(1)})
    opt = Adam({"a": a, "b": b}, lr=0.01)
    opt.load_state_dict(first.state_dict())
    opt.step({"a": np.ones(1), "b": np.array([1e-3])})
    assert (opt.steps, opt.state["a"]["t"], opt.state["b"]["t"]) == (3, 3, 1)
    assert b[0] == pytest.approx(-0.01, rel=1e-3)


# ---------------------------------------------------------------------------
# in place, dtype, device
# ---------------------------------------------------------------------------

OPTIMIZERS = [
    lambda: SGD(lr=0.1),
    lambda: SGD(lr=0.1, momentum=0.9),
    lambda: SGD(lr=0.1, momentum=0.9, nesterov=True),
    lambda: Adam(lr=0.1),
]
OPT_IDS = ["sgd", "momentum", "nesterov", "adam"]


@pytest.mark.parametrize("make_opt", OPTIMIZERS, ids=OPT_IDS)
def test_updates_in_place(make_opt):
    W = np.ones((2, 3))
    view = W[0]
    params = {"W": W}
    make_opt().step(params, {"W": np.full((2, 3), 0.5)})
    assert params["W"] is W
    assert np.all(W < 1.0)
    assert np.all(view < 1.0)  # a view of the parameter sees the change too


@pytest.mark.parametrize("make_opt", OPTIMIZERS, ids=OPT_IDS)
@pytest.mark.parametrize("grad_dtype", [np.float32, np.float64])
def test_float32_stays_float32(make_opt, grad_dtype):
    W = np.ones((4, 3), dtype=np.float32)
    opt = make_opt()
    for _ in range(3):
        opt.step({"W": W}, {"W": np.full((4, 3), 0.25, dtype=grad_dtype)})
    assert W.dtype == np.float32
    for k in opt.state_names:
        assert opt.state["W"][k].dtype == np.float32


def test_numpy_scalar_hyperparameters_become_python_floats():
    # NumPy 2 would let np.float64 scalars promote float32 temporaries to float64
    opt = Adam(lr=np.float64(0.1), betas=(np.float64(0.9), np.float32(0.99)), eps=np.float64(1e-8))
    assert all(type(x) is float for x in (opt.lr, opt.beta1, opt.beta2, opt.eps))


@pytest.mark.parametrize("make_opt", OPTIMIZERS, ids=OPT_IDS)
def test_cupy_matches_numpy(make_opt, gpu):
    """On CuPy (or the stand-in in its place: Adam through its kernel), the same steps as on NumPy."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((5, 4)).astype(np.float32)
    grads = [rng.standard_normal((5, 4)).astype(np.float32) for _ in range(3)]
    W_gpu = gpu.asarray(W)
    opt_cpu, opt_gpu = make_opt(), make_opt()
    for g in grads:
        opt_cpu.step({"W": W}, {"W": g})
        opt_gpu.step({"W": W_gpu}, {"W": gpu.asarray(g)})
    assert W_gpu.dtype == gpu.float32
    np.testing.assert_allclose(gpu.asnumpy(W_gpu), W, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# reuse, reset, checkpoints
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("make_opt", OPTIMIZERS, ids=OPT_IDS)
def test_reuse_continues_where_it_stopped(make_opt):
    grads = [np.array([1.0, -0.5]) * (k + 1) for k in range(5)]
    p_once, opt_once = np.zeros(2), make_opt()
    for g in grads:
        opt_once.step({"w": p_once}, {"w": g})
    p_twice, opt_twice = np.zeros(2), make_opt()
    for g in grads[:2]:  # a first "fit"
        opt_twice.step({"w": p_twice}, {"w": g})
    for g in grads[2:]:  # a second "fit" with the same optimizer
        opt_twice.step({"w": p_twice}, {"w": g})
    np.testing.assert_array_equal(p_twice, p_once)
    assert opt_twice.steps == 5 and opt_twice.state["w"]["t"] == 5


def test_reset_forgets_everything_but_the_parameters():
    p = np.zeros(2)
    opt = Adam({"w": p}, lr=0.1)
    opt.step({"w": np.ones(2)})
    opt.reset()
    assert opt.steps == 0 and opt.state == {} and opt.params["w"] is p
    opt.step({"w": np.ones(2)})
    np.testing.assert_allclose(p, -0.2, rtol=1e-6)  # a fresh first step again: lr more


@pytest.mark.parametrize("make_opt", OPTIMIZERS, ids=OPT_IDS)
def test_state_dict_round_trip(make_opt):
    grads = [np.array([[1.0, -2.0]]), np.array([[0.3, 0.4]]), np.array([[-1.0, 0.5]])]
    p_ref, opt_ref = np.zeros((1, 2)), make_opt()
    for g in grads:
        opt_ref.step({"enc.0.W": p_ref}, {"enc.0.W": g})

    p, opt = np.zeros((1, 2)), make_opt()
    for g in grads[:2]:
        opt.step({"enc.0.W": p}, {"enc.0.W": g})
    saved, p_saved = opt.state_dict(), p.copy()
    opt.step({"enc.0.W": p}, {"enc.0.W": np.ones((1, 2))})  # must not leak into `saved`

    restored = type(opt)(**saved["hyperparams"])
    restored.load_state_dict(saved)
    assert restored.steps == 2
    restored.step({"enc.0.W": p_saved}, {"enc.0.W": grads[2]})  # loaded state belongs to the next step's arrays
    np.testing.assert_array_equal(p_saved, p_ref)
    assert saved["type"] == type(opt).__name__ and saved["steps"] == 2


def test_load_state_dict_rejects_another_optimizer():
    with pytest.raises(ValueError, match="SGD"):
        Adam().load_state_dict(SGD(lr=0.1).state_dict())
    with pytest.raises(TypeError, match="dict"):
        Adam().load_state_dict([1, 2])
    with pytest.raises(ValueError, match="'v'"):
        Adam().load_state_dict({"type": "Adam", "steps": 1, "state": {"w": {"m": np.zeros(1), "t": 1}}})


def test_base_class_is_not_an_update_rule():
    with pytest.raises(NotImplementedError):
        Optimizer(lr=0.1).step({"w": np.zeros(1)}, {"w": np.zeros(1)})


# ---------------------------------------------------------------------------
# bad inputs: the message names the argument
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: SGD(lr=0.0), ValueError, "lr"),
        (lambda: SGD(lr=-1e-3), ValueError, "lr"),
        (lambda: SGD(lr=float("nan")), ValueError, "lr"),
        (lambda: SGD(lr=float("inf")), ValueError, "lr"),
        (lambda: SGD(lr="0.1"), TypeError, "lr"),
        (lambda: SGD(lr=True), TypeError, "lr"),
        (lambda: SGD(lr=None), TypeError, "lr"),
        (lambda: SGD(lr=0.1, momentum=1.0), ValueError, "momentum"),
        (lambda: SGD(lr=0.1, momentum=-0.1), ValueError, "momentum"),
        (lambda: SGD(lr=0.1, momentum="0.9"), TypeError, "momentum"),
        (lambda: SGD(lr=0.1, nesterov=True), ValueError, "nesterov"),
        (lambda: SGD(lr=0.1, momentum=0.9, nesterov="yes"), TypeError, "nesterov"),
        (lambda: Adam(lr=0.0), ValueError, "lr"),
        (lambda: Adam(betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
        (lambda: Adam(betas=(1.0, 0.999)), ValueError, r"betas\[0\]"),
        (lambda: Adam(betas=(-0.1, 0.999)), ValueError, r"betas\[0\]"),
        (lambda: Adam(betas=(0.9,)), ValueError, "betas"),
        (lambda: Adam(betas=0.9), TypeError, "betas"),
        (lambda: Adam(betas="ab"), TypeError, "betas"),
        (lambda: Adam(betas=(0.9, None)), TypeError, r"betas\[1\]"),
        (lambda: Adam(eps=0.0), ValueError, "eps"),
        (lambda: Adam(eps=-1e-8), ValueError, "eps"),
        (lambda: Adam(eps="tiny"), TypeError, "eps"),
    ],
)
def test_bad_hyperparameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("make_opt", OPTIMIZERS, ids=OPT_IDS)
def test_bad_params_and_grads(make_opt):
    opt = make_opt()
    W = np.zeros((2, 3))
    with pytest.raises(ValueError, match="'dec.0.W'"):
        opt.step({"enc.0.W": W, "dec.0.W": W.copy()}, {"enc.0.W": W})
    with pytest.raises(ValueError, match="'extra'"):
        opt.step({"enc.0.W": W}, {"enc.0.W": W, "extra": W})
    with pytest.raises(ValueError, match=r"'enc.0.W'.*\(3, 2\).*\(2, 3\)"):
        opt.step({"enc.0.W": W}, {"enc.0.W": np.zeros((3, 2))})
    with pytest.raises(TypeError, match="params"):
        opt.step([W], {"enc.0.W": W})
    with pytest.raises(TypeError, match="grads"):
        opt.step({"enc.0.W": W}, None)
    with pytest.raises(TypeError, match="'enc.0.W'"):
        opt.step({"enc.0.W": W}, {"enc.0.W": [[0.0] * 3] * 2})
    with pytest.raises(TypeError, match="'n'.*floating"):
        opt.step({"n": np.zeros(3, dtype=np.int64)}, {"n": np.zeros(3)})
    assert np.all(W == 0.0) and opt.steps == 0  # nothing moved


@pytest.mark.parametrize("make_opt", OPTIMIZERS[1:], ids=OPT_IDS[1:])
def test_state_shape_must_follow_the_model(make_opt):
    a, W = np.zeros(2), np.zeros((2, 3))
    other = make_opt()
    other.step({"a": np.zeros(2), "enc.0.W": np.zeros((4, 3))}, {"a": np.ones(2), "enc.0.W": np.ones((4, 3))})
    opt = make_opt()
    opt.step({"a": a, "enc.0.W": W}, {"a": np.ones(2), "enc.0.W": np.ones((2, 3))})
    a_before = a.copy()
    opt.load_state_dict(other.state_dict())  # the memory of a model of another shape
    with pytest.raises(ValueError, match=r"'enc.0.W'.*\(2, 3\).*\(4, 3\).*reset"):
        opt.step({"a": np.ones(2), "enc.0.W": np.ones((2, 3))})
    np.testing.assert_array_equal(a, a_before)  # checked before any parameter moved
    opt.reset()
    opt.step({"a": np.ones(2), "enc.0.W": np.ones((2, 3))})
