"""minivae/agreement.py: a classifier trained on real digits reads a CVAE's samples.

The counting is checked with stand-in "CVAEs" whose samples we know: one that draws the
mean image of the class asked for (a classifier reads nearly all of them right) and one
that draws the next class's mean (it reads almost none as asked). A real CVAE trained by
the command line is checked in tests/test_cli.py.
"""
import numpy as np
import pytest

pytest.importorskip("sklearn")

from minivae.agreement import digit_classifier, label_agreement  # noqa: E402
from minivae.datasets import load_digits, train_test_split  # noqa: E402


class MeanDrawer:
    """Decodes every code to the mean training image of class ``(label + shift) % 10``."""

    n_classes, latent_dim, dtype = 10, 3, np.float32

    def __init__(self, X, y, shift):
        self.means = np.stack([X[y == c].mean(axis=0) for c in range(10)])
        self.shift = shift
        self.codes = []  # no sample() and no generator: label_agreement draws the codes itself

    def decode(self, Z, labels):
        self.codes.append(np.asarray(Z))
        return self.means[(np.asarray(labels) + self.shift) % 10]


@pytest.fixture(scope="module")
def split():
    X, y = load_digits()
    return train_test_split(X, y, test_size=0.2, seed=0)


@pytest.fixture(scope="module")
def clf(split):
    X_train, _, y_train, _ = split
    return digit_classifier(X_train, y_train)


def test_a_model_that_draws_the_asked_class_agrees(split, clf):
    X_train, X_test, y_train, y_test = split
    model = MeanDrawer(X_train, y_train, shift=0)
    a = label_agreement(model, X_train, y_train, X_test, y_test, per_class=7, classifier=clf)
    assert a.agreement == 1.0 and a.per_class == (1.0,) * 10  # a class mean is the easiest digit to read
    assert a.n_per_class == 7 and a.n_real == len(y_test)
    # the classifier's own accuracy on real digits, overall and per class, as counted by hand
    read = clf.predict(X_test)
    assert a.classifier_accuracy == pytest.approx(np.mean(read == y_test))
    assert a.classifier_per_class[8] == pytest.approx(np.mean(read[y_test == 8] == 8))
    assert 0.85 < a.classifier_accuracy < 1.0
    assert "logistic regression" in a.classifier and f"{len(y_train):,} real training digits" in a.classifier
    text = "\n".join(a.lines())
    assert "100.0 % of 70 samples (7 per label)" in text and "per real digit" in text


def test_a_model_that_draws_another_class_disagrees(split, clf):
    X_train, X_test, y_train, y_test = split
    model = MeanDrawer(X_train, y_train, shift=1)
    a = label_agreement(model, X_train, y_train, X_test, y_test, per_class=5, classifier=clf)
    assert a.agreement == 0.0 and max(a.per_class) == 0.0
    assert a.as_dict()["per_class"] == [0.0] * 10


def test_codes_come_from_a_seeded_standard_normal(split, clf):
    X_train, X_test, y_train, y_test = split
    model = MeanDrawer(X_train, y_train, shift=0)
    label_agreement(model, X_train, y_train, X_test, y_test, per_class=400, seed=3, classifier=clf)
    label_agreement(model, X_train, y_train, X_test, y_test, per_class=400, seed=3, classifier=clf)
    Z1, Z2 = model.codes
    assert Z1.shape == (4000, 3) and np.array_equal(Z1, Z2)
    assert abs(Z1.mean()) < 0.05 and abs(Z1.std() - 1) < 0.05  # N(0, I)


def test_bad_per_class(split, clf):
    X_train, X_test, y_train, y_test = split
    with pytest.raises(ValueError, match="per_class"):
        label_agreement(MeanDrawer(X_train, y_train, 0), X_train, y_train, X_test, y_test, per_class=0,
                        classifier=clf)
