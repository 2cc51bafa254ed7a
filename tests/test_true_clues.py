"""The misleading diagnoses of issue 17 are gone, and each rule that keeps a clue true can fail.

Each diagnosis below was once stated and false: a ratio read on a 1×1 input, a place read
on an input where every x had one sign, dW compared with h because the two had one shape,
a 1-tuple read as a kept batch axis, an axis of size 1 read as the batch axis.
"""
import numpy as np

from minivae import ops
from minivae.exercises import BY_NAME
from minivae.exercises.checker import check_exercise
from minivae.gradcheck import check_pair
from minivae.gradclues import View, candidates, clues, verified
from minivae.shapeclues import shape_clue

from .learner_trials import contractive_penalty as contractive
from .learner_trials import vae_backward as vae


def diagnosis(name, fn):
    result = check_exercise(BY_NAME[name], fn)
    assert result.status == "failed"
    return f"{result.problem} {result.diagnosis}"


def test_sigmoid_written_s_times_1_plus_s_gets_no_constant_factor():
    text = diagnosis("sigmoid_backward", lambda dout, c: dout * c.out * (1 + c.out))
    assert "constant" not in text and "times the true one everywhere" not in text
    assert "No simple pattern holds on every input" in text and "wrong on 17 of 17 inputs" in text


def test_tanh_written_t_times_1_minus_t_is_not_placed_where_x_is_negative():
    text = diagnosis("tanh_backward", lambda dout, c: dout * c.out * (1 - c.out))
    assert "where x" not in text and "No simple pattern holds" in text


def test_db_summed_with_keepdims_is_not_called_a_missing_sum():
    text = diagnosis("dense_backward", lambda dout, c: (dout @ c.W.T, c.x.T @ dout, dout.sum(0, keepdims=True)))
    assert "sum over the examples is missing" not in text and "kept the batch axis" not in text
    assert "an extra first axis of size 1, also where B > 1, so not the batch axis" in text and "keepdims" in text


def test_the_square_of_a_sum_in_the_contractive_penalty_never_compares_dW_with_h():
    text = diagnosis("contractive_penalty", contractive.square_of_sum)
    assert "where h" not in text and "dW is wrong exactly" not in text


def test_a_cvae_taking_the_wrong_columns_of_dz_is_not_told_rows():
    text = diagnosis("vae_backward", vae.last_columns)
    assert "row" not in text and "examples" not in text


def test_a_one_tuple_is_named_as_such():
    text = diagnosis("relu_backward", lambda dout, c: (dout * (c.x > 0),))
    assert "dx is a 1-tuple" in text and "batch axis" not in text and "axis" not in text
    text = diagnosis("relu_backward", lambda dout, c: [dout * (c.x > 0)])
    assert "dx is a list of 1 value; expected one array" in text and "axis" not in text
    assert check_exercise(BY_NAME["relu_backward"], lambda dout, c: (dout * (c.x > 0)).tolist()).status == "passed"


def test_a_relu_threshold_at_minus_one_gets_no_inverted_mask_clue():
    """Issue 23's survivor: the mask clue must check that yours and the truth together cover every entry."""
    x = np.array([[-2.0, -0.5, 0.7], [1.5, -1.5, -0.3], [0.2, -3.0, 2.0]])
    report = check_pair(ops.relu_forward, lambda dout, c: dout * (c.x < -1), x)
    assert not report.passed and not any("wrong way round" in c for c in report.clues)
    assert "wrong way round" not in diagnosis("relu_backward", lambda dout, c: dout * (c.x < -1))
    inverted = check_pair(ops.relu_forward, lambda dout, c: dout * (c.x < 0), x)
    assert any("wrong way round" in c for c in inverted.clues)


def test_a_ratio_on_one_entry_is_no_evidence():
    assert clues("dx", np.array([[3.0]]), np.array([[1.0]])) == []
    assert clues("dx", np.array([[3.0, 6.0]]), np.array([[1.0, 2.0]])) == [
        "dx is a constant 3 times the true gradient everywhere: the formula's shape is right, a constant factor is "
        "wrong"]
    one = View(np.array([[3.0]]), np.array([[1.0]]))
    two = View(np.array([[3.0, 5.0]]), np.array([[1.0, 2.0]]))
    ratio = candidates("dx", one)[0]
    assert ratio.kind == "ratio" and ratio.holds(one) is None and ratio.holds(two) is False
    assert verified([ratio], [one]) == [] and verified([ratio], [one, two]) == []


def test_a_place_clue_needs_both_signs_and_an_array_with_the_values_indices():
    x = np.array([[-1.0, 2.0], [3.0, -4.0]])
    truth = np.array([[1.0, 1.0], [1.0, 1.0]])
    mine = np.where(x < 0, 2.0, 1.0)
    assert clues("dx", mine, truth, inputs={"x": x})[0].startswith("dx is wrong exactly where x < 0")
    assert not any("where x" in c for c in clues("dW", mine, truth))  # x not given as sharing dW's indices
    negative = -np.abs(x)
    assert not any("where x" in c for c in clues("dx", 2 * truth, truth, inputs={"x": negative}))  # one sign only


def test_shape_clues_check_the_axis_against_B():
    assert "kept the batch axis" in shape_clue("db", (5, 4), (4,), batch=5)
    assert "not the batch axis" in shape_clue("db", (1, 4), (4,), batch=5)
    assert shape_clue("db", (1, 4), (4,), batch=1) == "db has shape (1, 4); expected (4,)"  # B = 1 cannot tell
    assert "kept the batch axis" not in shape_clue("db", (3, 4), (4,), batch=5)
    assert "wrong axis" in shape_clue("db", (5,), (4,), batch=5)


def test_every_exercise_has_cases_that_can_tell_a_pattern_from_an_accident():
    from minivae.exercises import EXERCISES
    from minivae.exercises.checker import _flat, cases_of

    for exercise in EXERCISES:
        cases = cases_of(exercise)
        telling = [c for c in cases if c.batch is None or c.batch > 1]
        assert len(telling) >= 3, exercise.name
        for name in _flat(exercise.reference(cases[0])):
            refs = [_flat(exercise.reference(c)) for c in telling]
            values = [np.asarray(r[name]) for r in refs if name in r]  # a VAE's layers vary from case to case
            assert any(np.unique(v).size >= 2 for v in values) or len({float(v) for v in values}) >= 2, name
            if values[0].ndim == 2:
                assert any(v.shape[0] != v.shape[1] and min(v.shape) > 1 for v in values), (exercise.name, name)


def test_when_no_pattern_holds_the_diagnosis_says_what_is_known():
    text = diagnosis("dense_backward", lambda dout, c: (dout @ c.W.T, c.x.T @ dout, dout[0].copy()))
    assert "What is known: your db is wrong on 13 of 16 inputs" in text and "Right on every input: dx, dW." in text
    text = diagnosis("sigmoid_backward", lambda dout, c: dout * c.out**2 * (1 - c.out))
    assert "yours is between 0.000479 and 0.999 times the true one" in text
    assert "It passes the meaning checks (dx is finite and |dx| ≤ |dout|/4)." in text
    text = diagnosis("vae_backward", vae.last_columns)
    assert "wrong on 2 of the 5 inputs with a value to compare (of 6)" in text and text.count("[CVAE(") == 2


def test_odd_values_are_judged_without_a_warning():
    import warnings

    odd = [lambda d, c: (d * (c.x > 0)).astype(complex), lambda d, c: d * 1e300 * 1e10, lambda d, c: d * np.nan]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        results = [check_exercise(BY_NAME["relu_backward"], f) for f in odd]
    assert [r.status for r in results] == ["failed"] * 3 and not seen, [str(w.message) for w in seen]
