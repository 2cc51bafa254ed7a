"""The clues' exact words (minivae.gradclues): every factor they can name, every shape they
recognise, the places they list and a transposed square gradient. Mutation testing found
each of these unchecked: a clue that names the wrong factor or garbles its list passed."""
import numpy as np
import pytest

from minivae.gradclues import clues, name_factor, shape_clue

B = 5
#: every factor a clue names with a batch of 5, written out by hand
FACTORS = {"1/B": 1 / 5, "B": 5.0, "2": 2.0, "1/2": 0.5, "2/B": 0.4, "B/2": 2.5, "1/(2B)": 0.1, "2B": 10.0,
           "1/B²": 0.04, "B²": 25.0, "4": 4.0, "1/4": 0.25}


@pytest.mark.parametrize("name, value", FACTORS.items())
def test_every_factor_is_named_with_its_sign(name, value):
    assert name_factor(value, batch=B) == name
    assert name_factor(-value, batch=B) == f"-{name}"
    assert name_factor(value * 1.01, batch=B) is None  # 1 % off is no factor of the list


def test_without_a_batch_only_the_constants_are_named():
    assert [name_factor(v) for v in (2.0, 0.5, 4.0, 0.25, 0.2, 10.0)] == ["2", "1/2", "4", "1/4", None, None]
    assert name_factor(1.0, batch=1) is None  # a batch of one has no factor B


@pytest.mark.parametrize("got, expected, says", [
    ((4, 3), (3, 4), "(4, 3); expected (3, 4), the shape of its transpose: a transpose is missing or extra"),
    ((5, 4), (4,), "(5, 4); expected (4,): it kept the batch axis, so a sum over the examples is missing"),
    ((4, 2), (4,), "(4, 2); expected (4,): it kept a last axis of size 2 that should have been summed"),
    ((4,), (3, 4), "(4,); expected (3, 4): an axis was summed (or averaged) away that should stay"),
    ((3,), (3, 4), "(3,); expected (3, 4): an axis was summed (or averaged) away that should stay"),
    ((2,), (3, 4), "(2,); expected (3, 4)"),
    ((3, 4, 1, 1), (3, 4), "(3, 4, 1, 1); expected (3, 4)"),
])
def test_each_shape_mistake_gets_its_sentence_and_no_other(got, expected, says):
    assert shape_clue("dW", got, expected) == f"dW has shape {says}"


def test_the_wrong_columns_and_rows_are_listed_in_words():
    rng = np.random.default_rng(0)
    n = rng.normal(size=(4, 9)) + 3.0
    cols = n.copy()
    cols[:, [0, 2]] *= 2.0
    assert clues("dW", cols, n) == ["dW is wrong only in columns 0, 2 of 9; there, it is 2 times the true gradient"]
    many = n.copy()
    many[:, :8] *= -1.0
    assert clues("dW", many, n)[0] == "dW is wrong only in columns 0, 1, 2, 3, 4, 5, ... of 9; there, it has the " \
                                      "right size but the opposite sign: a sign is flipped"
    row = n.copy()
    row[1] *= 0.2
    assert clues("dx", row, n, batch=B) == ["dx is wrong only in row 1 of 4 (whole examples of the batch); "
                                            "there, it is 0.2 = 1/B times the true gradient (B = 5, the batch size)"]


def test_a_square_gradient_that_is_the_transpose_is_named():
    n = np.arange(9.0).reshape(3, 3) + 1.0
    assert clues("dW", n.T, n) == ["dW is the transpose of the true gradient: a transpose is missing or extra"]
    assert clues("dW", n.T[:2], n[:2]) != ["dW is the transpose of the true gradient: a transpose is missing or extra"]
