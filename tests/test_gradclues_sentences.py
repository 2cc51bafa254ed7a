"""The clues' exact words (minivae.gradclues): every factor they can name, every shape they
recognise, the places they list and a transposed square gradient. Mutation testing found
each of these unchecked: a clue that names the wrong factor or garbles its list passed."""
import numpy as np
import pytest

from minivae.gradclues import SAME, clues, name_factor, shape_clue

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


@pytest.mark.parametrize("got, expected, batch, says", [
    ((4, 3), (3, 4), None, "(4, 3) where (3, 4) belongs: the shape of its transpose: a transpose is missing or extra"),
    ((5, 4), (4,), 5, "(5, 4) where (4,) belongs (B = 5): it kept the batch axis (one row per example), so a sum "
                      "over the examples is missing"),
    ((5, 4), (4,), None, "(5, 4); expected (4,)"),  # without B, nothing says the extra axis is the batch's
    ((4, 2), (4,), None, "(4, 2) where (4,) belongs: one axis too many, at the end (of size 2 here)"),
    ((4,), (3, 4), None, "(4,) where (3, 4) belongs: an axis was summed (or averaged) away that should stay"),
    ((3,), (3, 4), None, "(3,) where (3, 4) belongs: an axis was summed (or averaged) away that should stay"),
    ((2,), (3, 4), None, "(2,); expected (3, 4)"),
    ((3, 4, 1, 1), (3, 4), None, "(3, 4, 1, 1); expected (3, 4)"),
])
def test_each_shape_mistake_gets_its_sentence_and_no_other(got, expected, batch, says):
    assert shape_clue("dW", got, expected, batch=batch) == f"dW has shape {says}"


def test_the_wrong_columns_and_rows_are_listed_in_words():
    rng = np.random.default_rng(0)
    n = rng.normal(size=(4, 9)) + 3.0
    cols = n.copy()
    cols[:, [0, 2]] *= 2.0
    assert clues("dW", cols, n) == ["dW is wrong in whole columns only, and right in the others (where it has "
                                    "shape (4, 9): columns 0, 2); there, it is 2 times the true gradient"]
    many = n.copy()
    many[:, :8] *= -1.0
    assert clues("dW", many, n)[0] == "dW is wrong in whole columns only, and right in the others (where it has " \
                                      "shape (4, 9): columns 0, 1, 2, 3, 4, 5, ...); there, it has the right size " \
                                      "but the opposite sign: a sign is flipped"
    row = n.copy()
    row[1] *= 0.2
    assert clues("dx", row, n, batch=B) == ["dx is wrong in whole rows only, and right in the others (where it has "
                                            "shape (4, 9): row 1); there, it is 0.2 = 1/B times the true gradient "
                                            "(B = 5, the batch size)"]


def test_a_square_gradient_that_is_the_transpose_is_named():
    n = np.arange(9.0).reshape(3, 3) + 1.0
    assert clues("dW", n.T, n) == ["dW is the transpose of the true gradient: a transpose is missing or extra"]
    assert clues("dW", n.T[:2], n[:2]) != ["dW is the transpose of the true gradient: a transpose is missing or extra"]


@pytest.mark.parametrize("name, value", FACTORS.items())
def test_a_factor_is_named_within_the_relative_tolerance(name, value):
    assert name_factor(value * (1 + 0.5 * SAME), batch=B) == name   # rounding noise: still that factor
    assert name_factor(value * (1 + 2.0 * SAME), batch=B) is None  # more than SAME off: not it


def test_a_ratio_that_varies_a_little_is_no_constant_however_small():
    n = np.random.default_rng(1).normal(size=(4, 6)) + 3.0
    r = 1e-3 * (1 + 1e-3 * np.resize([1.0, -1.0, 0.5], n.shape))  # 0.1 % spread around 1e-3
    assert not any("times the true gradient" in c for c in clues("dx", r * n, n))
    assert clues("dx", 1e-3 * n, n) == ["dx is a constant 0.001 times the true gradient everywhere: the formula's "
                                        "shape is right, a constant factor is wrong"]


def test_non_finite_entries_are_counted_and_a_single_entry_claims_no_factor():
    n = np.array([1.0, 2.0, 3.0])
    assert clues("dx", np.array([np.nan, np.inf, 3.0]), n)[0].startswith(
        "dx holds NaN or infinite entries where the true gradient is finite (2 of its 3 entries")
    assert clues("db", 2 * n[:2], n[:2]) == ["db is 2 times the true gradient everywhere"]
    assert clues("b", 2 * n[:1], n[:1]) == []  # one entry: any ratio looks constant, so no factor is claimed


def test_one_listed_column_is_singular():
    n = np.random.default_rng(2).normal(size=(3, 5)) + 3.0
    a = n.copy()
    a[:, 3] *= 4.0
    assert clues("dW", a, n) == ["dW is wrong in whole columns only, and right in the others (where it has shape "
                                 "(3, 5): column 3); there, it is 4 times the true gradient"]
    a[:, 1] *= 4.0
    assert "(where it has shape (3, 5): columns 1, 3)" in clues("dW", a, n)[0]
