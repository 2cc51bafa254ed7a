"""Every clue the checker states is true: re-checked on fresh inputs of other shapes (issue 17, point 3).

The checker says a clue ("a constant factor 1/B", "only where x < 0", "it kept the batch
axis") only when it holds on every case of the exercise. Here each clue it states, for
every catalogued mistake (with the catalogue set aside, so that the numbers must speak)
and for mutants of the solutions (one value scaled, flipped, zeroed, reshaped, ...), is
tested again on fresh cases of other shapes; a clue false there fails the test.
"""
import numpy as np
import pytest

from minivae.exercises import BY_NAME, CATALOGUE, EXERCISES
from minivae.exercises.checker import check_exercise

from .clue_checks import false_clues

MISTAKES = [m for e in EXERCISES for m in CATALOGUE.get(e.name, ())]
#: the exercises whose solution returns its values (not Adam, which updates in place)
PLAIN = [e for e in EXERCISES if e.call is None]


def _b(args):
    return len(args[0])


#: name -> change(value, args): a wrong value made from the right one
CHANGES = {
    "doubled": lambda v, a: 2.0 * v,
    "over_B": lambda v, a: v / _b(a),
    "flipped": lambda v, a: -v,
    "zero": lambda v, a: 0.0 * v,
    "offset": lambda v, a: v + 1.0,
    "squared": lambda v, a: v * v,
    "first_entry": lambda v, a: np.where(np.arange(np.size(v)).reshape(np.shape(v)) == 0, v + 1.0, v),
    "where_first_input_negative": lambda v, a: np.where(a[0] < 0, 3.0 * v, v) if np.shape(a[0]) == np.shape(v)
    else 3.0 * v,
    "transposed": lambda v, a: np.transpose(v),
    "keepdims_sum": lambda v, a: np.sum(v, axis=0, keepdims=True) if np.ndim(v) else v,
    "extra_axis": lambda v, a: np.asarray(v)[None],
    "last_column_doubled": lambda v, a: np.concatenate([v[..., :-1], 2 * v[..., -1:]], axis=-1) if np.ndim(v)
    else v,
}


def mutant(exercise, k, change):
    def fn(*args):
        out = exercise.solution(*args)
        if len(exercise.returns) == 1:
            return CHANGES[change](out, args)
        out = list(out)
        out[k] = CHANGES[change](out[k], args)
        return tuple(out)
    fn.__name__ = f"{exercise.name}_{exercise.returns[k]}_{change}"
    return fn


MUTANTS = [(e, mutant(e, k, c)) for e in PLAIN for k in range(len(e.returns)) for c in CHANGES]


def _vae_mutant(key_index, scale):
    solution = BY_NAME["vae_backward"].solution

    def fn(model, *pieces):
        grads = solution(model, *pieces)
        key = sorted(grads)[key_index % len(grads)]
        return {**grads, key: grads[key] * scale}
    return fn


MUTANTS += [(BY_NAME["vae_backward"], _vae_mutant(i, s)) for i in (0, 3) for s in (0.0, 2.0, -1.0)]


def _stated(exercise, fn, monkeypatch):
    monkeypatch.setitem(CATALOGUE, exercise.name, [])  # set the catalogue aside: the numbers must speak
    result = check_exercise(exercise, fn)
    return result, false_clues(exercise, fn, result)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.key)
def test_every_clue_about_a_catalogued_mistake_holds_on_fresh_inputs(mistake, monkeypatch):
    result, false = _stated(BY_NAME[mistake.exercise], mistake.fn, monkeypatch)
    assert result.status == "failed" and not false, (result.diagnosis, false)


def test_every_clue_about_a_mutant_holds_on_fresh_inputs(monkeypatch):
    stated, wrong, failed = 0, [], 0
    for exercise, fn in MUTANTS:
        result, false = _stated(exercise, fn, monkeypatch)
        failed += result.status == "failed"  # some changes change nothing (the transpose of a number)
        stated += len(result.clues)
        wrong += [(fn.__name__, result.diagnosis, false)] if false else []
    assert not wrong
    assert failed >= 0.8 * len(MUTANTS) and stated >= len(MUTANTS) // 3, "the clues must have something to say"
