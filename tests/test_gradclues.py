"""What a failed gradient check says beyond "wrong" (minivae.gradclues, used by check_pair).

Each clue is tested on a backward with exactly that mistake, and on a right backward,
which must get no clue at all.
"""
import numpy as np
import pytest

from minivae import ops
from minivae.gradcheck import check_pair, check_scalar, parameter_names
from minivae.gradclues import clues, name_factor
from minivae.shapeclues import shape_clue

rng = np.random.default_rng(3)
X, W, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)


def dense_with(change):
    """dense_backward with ``change(dx, dW, db, dout, cache) -> (dx, dW, db)`` applied."""
    def backward(dout, cache):
        return change(*ops.dense_backward(dout, cache), dout, cache)
    return backward


def test_names_come_from_the_forward_signature():
    report = check_pair(ops.dense_forward, ops.dense_backward, X, W, b)
    assert report.passed and set(report.per_input) == {"x", "W", "b"} and report.clues == []
    assert parameter_names(lambda *a: a, 2) == ["input0", "input1"]
    assert parameter_names(max, 1) == ["input0"]  # a builtin without a signature


def test_the_issue_example_db_averaged_with_a_batch_of_five():
    report = check_pair(ops.dense_forward, dense_with(lambda dx, dW, db, dout, c: (dx, dW, dout.mean(0))), X, W, b)
    assert not report.passed and report.worst.startswith("b[")
    assert report.clues == ["the gradient for b is 0.2 = 1/B times the true one everywhere (B = 5, the batch size)"]
    assert "clue: the gradient for b is 0.2 = 1/B" in str(report)


def test_a_flipped_sign_and_a_plain_factor_are_named():
    flipped = check_pair(ops.dense_forward, dense_with(lambda dx, dW, db, dout, c: (-dx, dW, db)), X, W, b)
    assert flipped.clues == ["the gradient for x has the right size but the opposite sign everywhere: "
                             "a sign is flipped"]
    odd = check_pair(ops.dense_forward, dense_with(lambda dx, dW, db, dout, c: (dx, 0.37 * dW, db)), X, W, b)
    assert len(odd.clues) == 1 and "a constant 0.37 times the true one" in odd.clues[0]


def test_errors_on_one_side_of_a_kink_and_an_inverted_mask():
    x = np.where(X < 0, X - 0.1, X + 0.1)
    leaky = check_pair(ops.relu_forward, lambda dout, c: dout * np.where(c.x > 0, 1.0, 0.01), x)
    assert leaky.clues == ["the gradient for x is wrong exactly where x < 0 (and right where x > 0)"]
    inverted = check_pair(ops.relu_forward, lambda dout, c: dout * (c.x < 0), x)
    assert "a mask (a comparison) is the wrong way round" in inverted.clues[0]


def test_errors_in_one_column_and_their_factor():
    def one_column(dx, dW, db, dout, c):
        dW = dW.copy()
        dW[:, 1] *= 2.0
        return dx, dW, db

    report = check_pair(ops.dense_forward, dense_with(one_column), X, W, b)
    assert report.clues == ["the gradient for W is wrong in whole columns only, and right in the others "
                            "(where it has shape (3, 4): column 1); there, it is 2 times the true one"]


def test_a_transposed_gradient_is_named_in_the_shape_error():
    with pytest.raises(ValueError, match="shape of its transpose"):
        check_pair(ops.dense_forward, dense_with(lambda dx, dW, db, dout, c: (dx, dW.T, db)), X, W, b)
    assert "a sum over the examples is missing" in shape_clue("db", (5, 4), (4,), batch=5)


def test_check_scalar_names_the_batch_factor_when_told_the_batch():
    mu, logvar = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    params = {"mu": mu, "logvar": logvar}
    _, dmu, dlogvar = ops.kl_standard_normal(mu, logvar)
    report = check_scalar(lambda: ops.kl_standard_normal(mu, logvar)[0], params, {"mu": dmu * 4, "logvar": dlogvar},
                          batch=4)
    assert report.clues == ["the gradient for mu is 4 = B times the true one everywhere (B = 4, the batch size)"]


def test_factors_and_non_finite_values():
    assert name_factor(0.2, batch=5) == "1/B" and name_factor(-2.0) == "-2" and name_factor(0.37) is None
    assert name_factor(0.5 / 7, batch=7) == "1/(2B)"
    a = np.array([1.0, np.inf])
    said = clues("dx", a, np.array([1.0, 2.0]))
    assert "NaN or infinite entries where the true gradient is finite (1 of its 2 entries" in said[0]
    assert clues("dx", np.ones(3), np.ones(3)) == []
