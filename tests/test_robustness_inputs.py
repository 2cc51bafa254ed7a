"""Every model and op treats the same bad input the same way, with a message that names it.

- a loss of zero examples is a ``ValueError`` ("pred has 0 rows"), in every op;
- ``encode``/``decode``/``reconstruct`` of zero rows return zero rows of the right width,
  in all six models; what takes a mean over the examples refuses them;
- NaN, complex numbers, and float64 values beyond float32 are refused alike by all six;
- constructor arguments: 5,000-digit integers, a list where a name was expected, a seed
  that is not an integer, ``sigma`` that would overflow.
"""
import numpy as np
import pytest

from minivae import (CVAE, VAE, Autoencoder, ContractiveAutoencoder, Dense, DenoisingAutoencoder,
                     SparseAutoencoder, bce_with_logits, kl_standard_normal, mse, reparameterize,
                     reparameterize_backward)
from minivae.ops import softmax_cross_entropy

D, J, C = 6, 2, 3
HUGE = 10**5000

MODELS = {
    "Autoencoder": lambda **kw: Autoencoder(D, (4,), J, **kw),
    "DenoisingAutoencoder": lambda **kw: DenoisingAutoencoder(D, (4,), J, **kw),
    "SparseAutoencoder": lambda **kw: SparseAutoencoder(D, (4,), J, **kw),
    "ContractiveAutoencoder": lambda **kw: ContractiveAutoencoder(D, (4,), J, **kw),
    "VAE": lambda **kw: VAE(D, (4,), J, **kw),
    "CVAE": lambda **kw: CVAE(D, C, (4,), J, **kw),
}


def labels(model, n):
    """``(y,)`` for a CVAE, ``()`` for the others: the extra argument of encode/decode/reconstruct."""
    return (np.arange(n) % C,) if isinstance(model, CVAE) else ()


def unit(n):
    return np.random.default_rng(0).random((n, D)).astype(np.float32)


# ---------------------------------------------------------------------------
# empty batches
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("loss, args, name", [
    (mse, (np.zeros((0, 3)), np.zeros((0, 3))), "pred"),
    (bce_with_logits, (np.zeros((0, 3)), np.zeros((0, 3))), "logits"),
    (kl_standard_normal, (np.zeros((0, 3)), np.zeros((0, 3))), "mu"),
    (softmax_cross_entropy, (np.zeros((0, 3)), np.zeros(0, dtype=np.int64)), "logits"),
])
def test_a_loss_of_zero_examples_is_refused(loss, args, name):
    with pytest.raises(ValueError, match=rf"^{name} has 0 rows; a batch needs at least one example"):
        loss(*args)


@pytest.mark.parametrize("kind", MODELS)
def test_zero_rows_in_give_zero_rows_out_in_every_model(kind):
    model = MODELS[kind]()
    X, Z = np.zeros((0, D), np.float32), np.zeros((0, J), np.float32)
    codes = model.encode(X, *labels(model, 0))
    for part in codes if isinstance(codes, tuple) else (codes,):
        assert part.shape == (0, J)
    assert model.decode(Z, *labels(model, 0)).shape == (0, D)
    assert model.reconstruct(X, *labels(model, 0)).shape == (0, D)
    with pytest.raises(ValueError, match=r"x is empty: it needs at least one example"):
        model.loss(X, *labels(model, 0))


@pytest.mark.parametrize("kind", MODELS)
def test_nan_is_refused_by_every_model(kind):
    model = MODELS[kind]()
    X, Z = unit(4), np.zeros((4, J), np.float32)
    X[1, 2], Z[0, 1] = np.nan, np.nan
    for call, name in ((lambda: model.encode(X, *labels(model, 4)), "X"),
                       (lambda: model.reconstruct(X, *labels(model, 4)), "X"),
                       (lambda: model.decode(Z, *labels(model, 4)), "Z"),
                       (lambda: model.loss(X, *labels(model, 4)), "x")):
        with pytest.raises(ValueError, match=rf"^{name} must be finite; it holds NaN"):
            call()


@pytest.mark.parametrize("kind", MODELS)
def test_complex_input_is_a_type_error_in_every_model(kind):
    model = MODELS[kind]()
    X, Z = unit(4) + 0.5j, np.zeros((4, J)) + 1j
    for call, name in ((lambda: model.encode(X, *labels(model, 4)), "X"),
                       (lambda: model.decode(Z, *labels(model, 4)), "Z"),
                       (lambda: model.fit(X, *labels(model, 4), epochs=1, verbose=False), "X")):
        with pytest.raises(TypeError, match=rf"^{name} must hold real numbers; got the complex dtype complex"):
            call()


@pytest.mark.parametrize("kind", MODELS)
def test_float64_beyond_float32_is_too_large_not_nan(kind):
    model = MODELS[kind](**({"loss": "mse"} if "Autoencoder" in kind else {"likelihood": "gaussian"}))
    X = unit(4).astype(np.float64)
    X[2, 3] = 1e39
    too_large = r"^X holds values too large for float32 \(max 3\.4e\+38\): the largest is 1e\+39"
    with pytest.raises(ValueError, match=too_large):
        model.encode(X, *labels(model, 4))
    X[2, 3] = np.inf  # a real infinity is still called one
    with pytest.raises(ValueError, match=r"^X must be finite; it holds NaN or infinite"):
        model.encode(X, *labels(model, 4))


def test_pixels_on_another_scale_are_named_by_their_real_maximum():
    X = np.random.default_rng(0).integers(0, 17, size=(20, D)).astype(np.float64)
    X[0, 0] = 16
    with pytest.raises(ValueError, match=r"got values in \[0, 16\]\. If these are intensities on a 0\.\.16 scale, "
                                         r"divide by 16 first"):
        Autoencoder(D, (4,), J).fit(X, epochs=1, verbose=False)
    with pytest.raises(ValueError, match=r"got values in \[-1, 1\]\. Rescale them first"):
        VAE(D, (4,), J).loss(np.linspace(-1, 1, 4 * D).reshape(4, D))


# ---------------------------------------------------------------------------
# constructor arguments and ops
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, name", [
    ({"input_dim": HUGE}, "input_dim"), ({"latent_dim": HUGE}, "latent_dim"),
    ({"hidden_dims": (4, HUGE)}, r"hidden_dims\[1\]"), ({"seed": HUGE}, "seed"), ({"n_classes": HUGE}, "n_classes"),
])
def test_a_5000_digit_integer_is_named_and_not_printed(kwargs, name):
    args = {"input_dim": D, "n_classes": C, "hidden_dims": (4,), "latent_dim": J, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must be an integer <= \d+; got an integer of about 5001 digits$"):
        CVAE(**args)


@pytest.mark.parametrize("kind", MODELS)
def test_a_list_where_a_name_belongs_is_a_type_error(kind):
    with pytest.raises(TypeError, match=r"^activation must be a string, one of \('relu'.*; got list \['relu'\]"):
        MODELS[kind](activation=["relu"])
    option = "likelihood" if kind in ("VAE", "CVAE") else "loss"
    with pytest.raises(TypeError, match=rf"^{option} must be a string"):
        MODELS[kind](**{option: None})


def test_dense_seed_must_be_an_integer():
    with pytest.raises(TypeError, match=r"^seed must be an integer; got str 'a'"):
        Dense(3, 4, seed="a")
    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0"):
        Dense(3, 4, seed=-1)
    assert np.array_equal(Dense(3, 4, seed=7).params["W"], Dense(3, 4, seed=7).params["W"])


@pytest.mark.parametrize("sigma", [float("inf"), 1e-200, 1e200])
def test_sigma_that_would_overflow_is_refused(sigma):
    with pytest.raises(ValueError, match=r"^sigma must be a finite number in \[5\.4e-20, 1\.3e\+154\) for a float32"):
        VAE(D, (4,), J, likelihood="gaussian", sigma=sigma)
    loss = VAE(D, (4,), J, likelihood="gaussian", sigma=1e-19).loss(unit(4), eps=np.zeros((4, J), np.float32))
    assert np.isfinite(loss)  # the smallest allowed sigma still gives a finite loss


def test_reparameterize_backward_names_a_missing_cache():
    z, cache = reparameterize(np.zeros((2, 3)), np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"^cache must be the ReparamCache that reparameterize returned.*NoneType"):
        reparameterize_backward(np.ones_like(z), None)


def test_softmax_cross_entropy_with_zero_classes():
    with pytest.raises(ValueError, match=r"^logits must have one column per class, at least one; got shape \(3, 0\)"):
        softmax_cross_entropy(np.zeros((3, 0)), np.zeros(3, dtype=np.int64))
