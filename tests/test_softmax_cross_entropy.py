"""softmax_cross_entropy: gradient check, what it means, and bad inputs."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivae.gradcheck import check_scalar
from minivae.ops import softmax_cross_entropy

from .strategies import dims, matrices


@given(data=st.data())
def test_gradient(put, data):
    B, K = data.draw(dims), data.draw(st.integers(2, 8))
    logits = put(data.draw(matrices((B, K), 30.0)))
    labels = put(np.array(data.draw(st.lists(st.integers(0, K - 1), min_size=B, max_size=B))))
    _, dlogits = softmax_cross_entropy(logits, labels)
    check_scalar(lambda: softmax_cross_entropy(logits, labels)[0], {"logits": logits}, {"logits": dlogits}).assert_ok()


def test_equals_negative_log_probability_of_the_true_class():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(5), labels]))
    loss, dlogits = softmax_cross_entropy(logits, labels)
    assert float(loss) == pytest.approx(expected, rel=1e-12)
    # each row of the gradient sums to zero: raising every logit equally changes nothing
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-15)


def test_uniform_logits_give_log_k_and_huge_logits_stay_finite():
    loss, _ = softmax_cross_entropy(np.zeros((3, 10)), np.array([1, 2, 3]))
    assert float(loss) == pytest.approx(np.log(10), rel=1e-12)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        loss, d = softmax_cross_entropy(np.array([[1e4, -1e4, 0.0]]), np.array([1]))
    assert float(loss) == pytest.approx(2e4, rel=1e-12)
    assert np.isfinite(d).all()


@pytest.mark.parametrize("labels, exc, match", [
    (np.array([0.0, 1.0]), TypeError, "labels"),
    (np.array([0, 1, 2]), ValueError, "labels must have shape"),
    (np.array([0, 3]), ValueError, r"0 \.\. 2"),
    (np.array([-1, 0]), ValueError, "labels"),
])
def test_bad_labels(labels, exc, match):
    with pytest.raises(exc, match=match):
        softmax_cross_entropy(np.zeros((2, 3)), labels)
