"""Does a CVAE draw the digit it is asked for? A classifier trained on real digits reads its samples.

Our eyes are generous judges, so the check is a plain classifier that has never seen a
generated image: scikit-learn's logistic regression, trained on the real training digits.
We measure it first on real held-out digits (its own accuracy, the most we can expect),
then let it read ``per_class`` samples of every label and count how often it reads the
label that was asked for. ``python -m minivae evaluate`` prints this for a CVAE, and
``demos/cvae.py`` uses it.

scikit-learn is imported only when a classifier is trained (``pip install -e ".[data]"``).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy

from .backend import to_numpy

#: the classifier's settings: an L2-regularised logistic regression (inverse strength C)
CLASSIFIER_C = 0.1
CLASSIFIER_MAX_ITER = 300


class Agreement(NamedTuple):
    """What :func:`label_agreement` measured (shares in [0, 1])."""

    agreement: float               #: share of all samples read as the label asked for
    per_class: tuple               #: that share for each asked label 0 .. n_classes - 1
    n_per_class: int               #: samples drawn per label
    classifier_accuracy: float     #: the classifier's accuracy on the real held-out digits
    classifier_per_class: tuple    #: its accuracy on the real held-out digits of each class
    n_real: int                    #: real held-out digits it was measured on
    classifier: str                #: what the classifier is, in words

    def lines(self):
        """The measurement as a few lines of text, per digit included."""
        n = len(self.per_class)
        return [
            f"{100 * self.agreement:.1f} % of {self.n_per_class * n:,} samples ({self.n_per_class} per label) "
            "are read as the label asked for",
            "  per asked label: " + "  ".join(f"{d}: {100 * a:.0f}%" for d, a in enumerate(self.per_class)),
            f"judged by {self.classifier}, {100 * self.classifier_accuracy:.1f} % accurate on "
            f"{self.n_real:,} real held-out digits",
            "  per real digit:  " + "  ".join(f"{d}: {100 * a:.0f}%" for d, a in enumerate(self.classifier_per_class)),
        ]

    def as_dict(self):
        return {"agreement": self.agreement, "per_class": list(self.per_class), "n_per_class": self.n_per_class,
                "classifier": self.classifier, "classifier_accuracy": self.classifier_accuracy,
                "classifier_per_class": list(self.classifier_per_class), "n_real": self.n_real}


def digit_classifier(X_train, y_train):
    """A logistic regression (scikit-learn) fitted to real digits ``X_train`` (n, D), labels ``y_train`` (n,).

    Fitted on one BLAS thread: on a busy 2-core machine that took 3-8 s for the 4,000
    MNIST digits, against 25 s with two threads.
    """
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as err:
        raise ImportError("the label agreement needs scikit-learn: pip install -e \".[data]\"") from err
    from .threads import at_most

    clf = LogisticRegression(C=CLASSIFIER_C, max_iter=CLASSIFIER_MAX_ITER)
    with at_most(1):  # its products are thin (10 outputs): more BLAS threads only wait (minivae/threads.py)
        clf.fit(to_numpy(X_train), to_numpy(y_train))
    return clf


def _share_per_class(read, asked, n_classes):
    return tuple(float((read[asked == d] == d).mean()) if (asked == d).any() else float("nan")
                 for d in range(n_classes))


def label_agreement(model, X_train, y_train, X_test, y_test, *, per_class=100, seed=0, classifier=None):
    """How often a classifier trained on real digits reads a CVAE's samples as the label asked for.

    Parameters
    ----------
    model : CVAE
    X_train, y_train : arrays, shapes (n, D) and (n,)
        Real digits the classifier learns from (the CVAE's own training split).
    X_test, y_test : arrays, shapes (m, D) and (m,)
        Real held-out digits, to measure the classifier itself.
    per_class : int
        Samples drawn per label: codes ``z ~ N(0, I)`` from a generator seeded with
        ``seed`` (the model's own generator is not touched), decoded with each label.
    classifier : fitted scikit-learn classifier, optional
        Default: :func:`digit_classifier` fitted to ``X_train, y_train``.

    Returns
    -------
    Agreement
    """
    if per_class < 1:
        raise ValueError(f"per_class must be a whole number >= 1; got {per_class!r}")
    clf = digit_classifier(X_train, y_train) if classifier is None else classifier
    y_test = to_numpy(y_test)
    real_read = clf.predict(to_numpy(X_test))
    n_classes = model.n_classes
    asked = numpy.repeat(numpy.arange(n_classes), per_class)
    Z = numpy.random.default_rng(seed).standard_normal((asked.size, model.latent_dim))
    read = clf.predict(to_numpy(model.decode(Z.astype(model.dtype), asked)))
    kind = f"a logistic regression (scikit-learn, C={clf.C:g})" if hasattr(clf, "C") else type(clf).__name__
    name = f"{kind} trained on {len(to_numpy(y_train)):,} real training digits"
    return Agreement(
        agreement=float((read == asked).mean()), per_class=_share_per_class(read, asked, n_classes),
        n_per_class=int(per_class), classifier_accuracy=float((real_read == y_test).mean()),
        classifier_per_class=_share_per_class(real_read, y_test, n_classes), n_real=int(y_test.size),
        classifier=name,
    )
