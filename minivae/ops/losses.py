"""Reconstruction losses, each returning its value and its gradient (docs/derivations.md §4).

Every loss uses the library's one reduction: **sum over the features of an example, mean
over the examples of the batch**. The gradient carries the same ``1/B``, so the number
you minimise and the gradient you follow always belong together.
"""
from __future__ import annotations

from ..backend import array_module
from .._checks import check_array, check_nonempty, check_same_shape, check_unit_interval
from . import kernels


def mse(pred, target):
    r"""Squared error, summed over features and averaged over the batch (§4.1).

    .. math::
        L = \frac{1}{B}\sum_b \sum_d (\mathrm{pred}_{bd} - \mathrm{target}_{bd})^2, \qquad
        \frac{\partial L}{\partial \mathrm{pred}} = \frac{2}{B}(\mathrm{pred} - \mathrm{target})

    Parameters
    ----------
    pred : array, shape (B, D)
    target : array, shape (B, D)

    Returns
    -------
    loss : 0-d array
        Use ``float(loss)`` for a Python number.
    dpred : array, shape (B, D)
    """
    check_array(pred, "pred", ndim=2)
    check_array(target, "target", ndim=2)
    check_same_shape(pred, "pred", target, "target")
    check_nonempty(pred, "pred")
    B = pred.shape[0]
    diff = pred - target
    loss = (diff * diff).sum() / B
    dpred = diff * (2.0 / B)
    return loss, dpred


def bce_with_logits(logits, target, *, check_target=True):
    r"""Binary cross-entropy computed from logits, stable for any finite logit (§4.2).

    For a logit :math:`l` with probability :math:`p = \operatorname{sigmoid}(l)` and a target
    :math:`x \in [0, 1]`, :math:`-[x\log p + (1-x)\log(1-p)] = \operatorname{softplus}(l) - x\,l`, so

    .. math::
        L = \frac{1}{B}\sum_b\sum_d \big[\operatorname{softplus}(l_{bd}) - x_{bd}\, l_{bd}\big],
        \qquad \frac{\partial L}{\partial l} = \frac{1}{B}\big(\operatorname{sigmoid}(l) - x\big)

    Softplus is evaluated as :math:`\max(l, 0) + \log(1 + e^{-|l|})`, so a logit of
    ``±1e4`` gives an exact, finite loss where ``log(sigmoid(l))`` would give ``log(0)``.

    Parameters
    ----------
    logits : array, shape (B, D)
    target : array, shape (B, D), values in [0, 1]
        :math:`x`, the data the logits should explain.
    check_target : bool
        Check that ``target`` lies in [0, 1] (a reduction over the data; models check
        their data once per ``fit`` and pass ``False``).

    Returns
    -------
    loss : 0-d array
    dlogits : array, shape (B, D)
    """
    check_array(logits, "logits", ndim=2)
    check_array(target, "target", ndim=2)
    check_same_shape(logits, "logits", target, "target")
    check_nonempty(logits, "logits")
    if check_target:
        check_unit_interval(target, "target")
    xp = array_module(logits)
    B = logits.shape[0]
    if kernels.usable(logits, target):  # on a GPU: the lines below as one launch
        loss, dlogits = kernels.kernel(xp, "bce_with_logits")(logits, target, 1.0 / B)
        return loss.sum() / B, dlogits
    # (each line works in place on arrays it made itself: a training step runs this
    # on every pixel of every image, so passes over memory are what it costs)
    e = xp.abs(logits)
    xp.negative(e, out=e)
    xp.exp(e, out=e)                                   # e = exp(-|l|), in (0, 1]: never overflows
    softplus = xp.log1p(e)
    softplus += xp.maximum(logits, 0)                  # softplus(l) = max(l, 0) + log(1 + e)
    loss = (softplus.sum() - xp.vdot(target, logits)) / B   # sum of t*l as one dot product
    # sigma(l) = (1 if l >= 0 else e) / (1 + e), same e. Since 0 < e <= 1, the numerator
    # is max(e, [l >= 0]): the same numbers as where(l >= 0, 1, e), without a branch per
    # element, which on logits of mixed signs cost NumPy ten times as much
    dlogits = xp.maximum(e, logits >= 0)
    e += 1.0
    dlogits /= e
    dlogits -= target
    dlogits *= 1.0 / B
    return loss, dlogits


def softmax_cross_entropy(logits, labels):
    r"""Cross-entropy of a softmax classifier, from logits and integer labels (§4.3).

    With :math:`p_{bk} = e^{l_{bk}} / \sum_{k'} e^{l_{bk'}}` and the true class :math:`y_b`:

    .. math::
        L = -\frac{1}{B}\sum_b \log p_{b, y_b}, \qquad
        \frac{\partial L}{\partial l_{bk}} = \frac{1}{B}\big(p_{bk} - \mathbf{1}[k = y_b]\big)

    The log-softmax is computed after subtracting each row's maximum logit, which
    changes nothing mathematically and keeps every ``exp`` at most 1.

    Parameters
    ----------
    logits : array, shape (B, C)
    labels : integer array, shape (B,), values in 0 .. C-1

    Returns
    -------
    loss : 0-d array
    dlogits : array, shape (B, C)
    """
    check_array(logits, "logits", ndim=2)
    xp = array_module(logits)
    B, K = logits.shape
    check_nonempty(logits, "logits")
    if K == 0:
        raise ValueError(f"logits must have one column per class, at least one; got shape {tuple(logits.shape)}")
    if getattr(labels, "dtype", None) is None or labels.dtype.kind not in "iu":
        raise TypeError("labels must be an integer array of class indices")
    if labels.ndim != 1 or labels.shape[0] != B:
        raise ValueError(f"labels must have shape ({B},), one class per row of logits; got {tuple(labels.shape)}")
    if B and (int(labels.min()) < 0 or int(labels.max()) >= K):
        raise ValueError(f"labels must lie in 0 .. {K - 1}; got values in [{int(labels.min())}, {int(labels.max())}]")
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = xp.exp(shifted)
    sum_exp = exp.sum(axis=1, keepdims=True)
    log_p = shifted - xp.log(sum_exp)
    rows = xp.arange(B)
    loss = -log_p[rows, labels].sum() / B
    dlogits = exp / sum_exp
    dlogits[rows, labels] -= 1.0
    dlogits *= 1.0 / B
    return loss, dlogits
