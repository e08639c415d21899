"""Cost functions: how far predictions ŷ are from targets y, averaged over the batch.

Each loss returns the empirical loss, a Python ``float`` averaged over the ``N``
examples of the batch; each differentiable loss ``name`` has a partner
``name_grad`` returning ``dL/d(first argument)`` with the shape (and float dtype) of
that argument. Logarithms are natural, so losses are in nats: ``−ln 0.1 ≈ 2.303``
(the same quantity in base 10 would be 1).

Classification targets come either as integer labels ``(N,)`` in ``0..C−1`` or as
one-hot (more generally, probability) rows ``(N, C)``; every function accepts both.
Metrics such as the misclassification rate are piecewise constant in the scores and
therefore have no useful gradient: they measure a model, they do not train one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from reference_impl._validation import FloatArray, as_float_array, as_labels, positive_int

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "log_softmax",
    "logsumexp",
    "mean_absolute_error",
    "mean_absolute_error_grad",
    "mean_squared_error",
    "mean_squared_error_grad",
    "misclassification_rate",
    "one_hot",
    "softmax_cross_entropy",
    "sum_of_squares",
    "sum_of_squares_grad",
    "top_k_error",
]


def _check_batch(x: FloatArray, name: str) -> None:
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"{name} needs at least one example along axis 0, got shape {x.shape}")


def _check_unit_interval(x: FloatArray, name: str, fix: str) -> None:
    bad = (x < 0) | (x > 1)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} has entry {x[where]} at {where} outside [0, 1]; {fix}")


def _check_same_shape(a: FloatArray, b: FloatArray, a_name: str, b_name: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"expected {b_name} of shape {a.shape} to match {a_name}, got {b.shape}; "
            "reshape one of them (e.g. y.reshape(y_hat.shape)) so examples line up"
        )


def one_hot(y: Any, n_classes: int) -> FloatArray:
    """One-hot encoding: Y[i, y_i] = 1, all other entries 0.

    ``y`` is ``(N,)`` integer labels in ``0..C−1``; ``n_classes`` is ``C``. Returns
    ``(N, C)`` float64: label 4 of 10 digits becomes a row whose fifth entry is 1.
    """
    n_classes = positive_int(n_classes, "n_classes")
    labels = as_labels(y, "y", n_classes=int(n_classes))
    out = np.zeros((labels.shape[0], int(n_classes)), dtype=np.float64)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def _targets(y: Any, n: int, c: int, name: str = "y") -> FloatArray:
    """Targets as ``(N, C)`` float64 rows from integer labels ``(N,)`` or rows ``(N, C)``."""
    arr = np.asarray(y)
    if arr.ndim == 1:
        if arr.shape[0] != n:
            raise ValueError(
                f"expected {name} with {n} labels (one per row of the predictions), "
                f"got shape {arr.shape}"
            )
        return one_hot(arr, c)
    if arr.ndim != 2:
        raise ValueError(
            f"expected {name} as integer labels (N,) or one-hot rows (N, C), got shape {arr.shape}"
        )
    rows = as_float_array(arr, name).astype(np.float64)
    if rows.shape != (n, c):
        raise ValueError(
            f"expected {name} of shape {(n, c)} to match the predictions, got {rows.shape}; "
            "pass one column per class, or integer labels of shape (N,)"
        )
    _check_unit_interval(rows, name, "targets must be one-hot rows (or probabilities)")
    return rows


def _scores_and_labels(scores: Any, y: Any) -> tuple[FloatArray, NDArray[np.intp]]:
    """Scores ``(N, C)`` and integer labels ``(N,)``; one-hot ``y`` becomes its argmax."""
    s = as_float_array(scores, "scores", ndim=2)
    _check_batch(s, "scores")
    n, c = s.shape
    arr = np.asarray(y)
    if arr.ndim == 2:
        labels = np.argmax(_targets(arr, n, c), axis=1)
    elif arr.ndim == 1 and arr.shape[0] == n:
        labels = as_labels(arr, "y", n_classes=c)
    else:
        raise ValueError(
            f"expected y as {n} integer labels (N,) or one-hot rows {(n, c)}, got shape {arr.shape}"
        )
    return s, labels.astype(np.intp)


def _probs(probs: Any) -> FloatArray:
    p = as_float_array(probs, "probs", ndim=2)
    _check_batch(p, "probs")
    fix = "pass probabilities, e.g. softmax(logits), or use softmax_cross_entropy on logits"
    _check_unit_interval(p, "probs", fix)
    sums = p.sum(axis=1, dtype=np.float64)
    off = np.abs(sums - 1.0) > 1e-3
    if off.any():
        row = int(np.argmax(off))
        raise ValueError(f"probs row {row} sums to {sums[row]:.6g}, not 1; {fix}")
    return p


def cross_entropy(probs: Any, y: Any, eps: float = 1e-12) -> float:
    """Cross-entropy: L = −(1/N) Σᵢ Σₖ yᵢₖ ln pᵢₖ, which is −(1/N) Σᵢ ln pᵢ,yᵢ for one-hot y.

    ``probs`` is ``(N, C)``, each row a distribution (e.g. a softmax output); ``y``
    is integer labels ``(N,)`` or one-hot rows ``(N, C)``. It is the negative
    log-likelihood of the labels under the model. ``p`` is clipped below at ``eps``
    so that a confident mistake (p = 0) costs ``−ln eps`` instead of infinity.
    """
    p = _probs(probs)
    t = _targets(y, *p.shape)
    logp = np.log(np.maximum(p.astype(np.float64), eps))
    return float(-np.sum(t * logp) / p.shape[0])


def cross_entropy_grad(probs: Any, y: Any, eps: float = 1e-12) -> FloatArray:
    """∂L/∂pᵢₖ = −yᵢₖ / (N pᵢₖ).

    ``probs`` ``(N, C)``, ``y`` ``(N,)`` or ``(N, C)``; returns ``(N, C)``. Below
    ``eps`` the gradient is taken at ``eps``: a large finite push, not the clip's zero slope.
    """
    p = _probs(probs)
    t = _targets(y, *p.shape)
    grad = -t / (np.maximum(p.astype(np.float64), eps) * p.shape[0])
    return grad.astype(p.dtype, copy=False)


def _binary_inputs(p: Any, y: Any) -> tuple[FloatArray, FloatArray]:
    pa = as_float_array(p, "p")
    if pa.ndim not in (1, 2) or (pa.ndim == 2 and pa.shape[1] != 1):
        raise ValueError(
            f"expected p of shape (N,) or (N, 1), got {pa.shape}; binary cross-entropy scores "
            "one probability per example (use cross_entropy for C classes)"
        )
    _check_batch(pa, "p")
    ya = as_float_array(y, "y")
    _check_same_shape(pa, ya, "p", "y")
    _check_unit_interval(pa, "p", "pass probabilities, e.g. sigmoid(z)")
    _check_unit_interval(ya, "y", "targets must be 0/1 labels (or probabilities)")
    return pa, ya.astype(np.float64)


def binary_cross_entropy(p: Any, y: Any, eps: float = 1e-12) -> float:
    """Binary cross-entropy: L = −(1/N) Σᵢ [yᵢ ln pᵢ + (1 − yᵢ) ln(1 − pᵢ)].

    ``p`` is ``(N,)`` or ``(N, 1)``, the predicted probability of class 1 (e.g. "pass");
    ``y`` has the same shape, with entries in {0, 1} (or in [0, 1]). ``p`` is clipped
    to ``[eps, 1 − eps]`` so neither logarithm sees 0.
    """
    pa, ya = _binary_inputs(p, y)
    pc = np.clip(pa.astype(np.float64), eps, 1.0 - eps)
    return float(-np.mean(ya * np.log(pc) + (1.0 - ya) * np.log1p(-pc)))


def binary_cross_entropy_grad(p: Any, y: Any, eps: float = 1e-12) -> FloatArray:
    """∂L/∂pᵢ = (1/N) [−yᵢ/pᵢ + (1 − yᵢ)/(1 − pᵢ)] = (pᵢ − yᵢ) / (N pᵢ (1 − pᵢ)).

    ``p``, ``y`` ``(N,)`` or ``(N, 1)``; returns the shape of ``p``, evaluated at the
    clipped ``p`` as in the loss.
    """
    pa, ya = _binary_inputs(p, y)
    pc = np.clip(pa.astype(np.float64), eps, 1.0 - eps)
    grad = (-ya / pc + (1.0 - ya) / (1.0 - pc)) / pa.shape[0]
    return grad.astype(pa.dtype, copy=False)


def _regression_inputs(y_hat: Any, y: Any) -> tuple[FloatArray, FloatArray]:
    a = as_float_array(y_hat, "y_hat")
    _check_batch(a, "y_hat")
    b = as_float_array(y, "y")
    _check_same_shape(a, b, "y_hat", "y")
    return a, b


def mean_squared_error(y_hat: Any, y: Any) -> float:
    """L2 loss: L = (1/S) Σ (ŷ − y)², the mean over all S entries.

    ``y_hat`` and ``y`` share a shape, ``(N,)`` or ``(N, M)``.
    """
    a, b = _regression_inputs(y_hat, y)
    d = a.astype(np.float64) - b
    return float(np.mean(d * d))


def mean_squared_error_grad(y_hat: Any, y: Any) -> FloatArray:
    """∂L/∂ŷ = 2 (ŷ − y) / S, with S the number of entries; shape of ``y_hat``."""
    a, b = _regression_inputs(y_hat, y)
    return (2.0 * (a.astype(np.float64) - b) / a.size).astype(a.dtype, copy=False)


def mean_absolute_error(y_hat: Any, y: Any) -> float:
    """L1 loss: L = (1/S) Σ |ŷ − y|, the mean over all S entries.

    ``y_hat`` and ``y`` share a shape, ``(N,)`` or ``(N, M)``.
    """
    a, b = _regression_inputs(y_hat, y)
    return float(np.mean(np.abs(a.astype(np.float64) - b)))


def mean_absolute_error_grad(y_hat: Any, y: Any) -> FloatArray:
    """∂L/∂ŷ = sign(ŷ − y) / S; at ŷ = y the subgradient 0 is used. Shape of ``y_hat``."""
    a, b = _regression_inputs(y_hat, y)
    return (np.sign(a.astype(np.float64) - b) / a.size).astype(a.dtype, copy=False)


def sum_of_squares(y_hat: Any, y: Any) -> float:
    """Sum of squares: L = (1/N) Σᵢ ½ Σⱼ (ŷᵢⱼ − yᵢⱼ)².

    ``y_hat`` and ``y`` share a shape ``(N, M)`` (or ``(N,)``, one output each). This
    follows neon's SumSquared cost: ½ times the squared error summed over the M
    outputs of an example, then averaged over the N examples. The ½ cancels the 2 of
    the derivative; unlike ``mean_squared_error`` nothing is divided by M.
    """
    a, b = _regression_inputs(y_hat, y)
    d = a.astype(np.float64) - b
    return float(0.5 * np.sum(d * d) / a.shape[0])


def sum_of_squares_grad(y_hat: Any, y: Any) -> FloatArray:
    """∂L/∂ŷᵢⱼ = (ŷᵢⱼ − yᵢⱼ) / N; shape of ``y_hat``."""
    a, b = _regression_inputs(y_hat, y)
    return ((a.astype(np.float64) - b) / a.shape[0]).astype(a.dtype, copy=False)


def misclassification_rate(scores: Any, y: Any) -> float:
    """Error rate: (1/N) Σᵢ [argmaxₖ sᵢₖ ≠ yᵢ].

    ``scores`` is ``(N, C)`` (probabilities or logits; only their order matters);
    ``y`` is integer labels ``(N,)`` or one-hot rows ``(N, C)``. Ties go to the lowest
    class index, as in ``np.argmax``. There is no ``_grad``: the rate is a step
    function of the scores, so its gradient is zero almost everywhere and undefined
    where the argmax changes, which tells gradient descent nothing about which way to go.
    """
    s, labels = _scores_and_labels(scores, y)
    return float(np.mean(np.argmax(s, axis=1) != labels))


def top_k_error(scores: Any, y: Any, k: int = 5) -> float:
    """Top-k error: (1/N) Σᵢ [yᵢ not among the k highest scores of row i].

    ``scores`` ``(N, C)``, ``y`` ``(N,)`` or ``(N, C)``, ``1 ≤ k ≤ C``. Ties are
    broken toward the lower class index, so ``k = 1`` equals ``misclassification_rate``.
    Not differentiable, for the same reason as the misclassification rate.
    """
    s, labels = _scores_and_labels(scores, y)
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    c = s.shape[1]
    if not 1 <= k <= c:
        raise ValueError(f"k must be in [1, {c}] (the number of classes), got {k}")
    rows = np.arange(s.shape[0])
    true = s[rows, labels][:, None]
    before = np.arange(c)[None, :] < labels[:, None]
    # The label's rank counts classes scored higher, plus equal ones that argmax would prefer.
    rank = np.sum((s > true) | ((s == true) & before), axis=1)
    return float(np.mean(rank >= k))


def logsumexp(z: Any, axis: int = -1) -> FloatArray:
    """log Σₖ exp zₖ along ``axis``; ``z`` of shape ``(N, C)`` gives ``(N,)``."""
    a = as_float_array(z, "z")
    if a.ndim == 0:
        raise ValueError("logsumexp needs at least one axis, got a scalar; pass an array")
    m = np.max(a, axis=axis, keepdims=True)
    # Shifting by the max makes every exponent ≤ 0, so exp cannot overflow.
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis).astype(a.dtype, copy=False)


def log_softmax(z: Any) -> FloatArray:
    """log softmax: ln pₖ = zₖ − log Σⱼ exp zⱼ, along the last axis.

    ``z`` is ``(N, C)`` logits (or ``(C,)``); returns the same shape.
    """
    a = as_float_array(z, "z")
    if a.ndim == 0:
        raise ValueError("log_softmax needs logits with a class axis, e.g. shape (N, C)")
    # Subtracting log-sum-exp, never dividing by a sum of exps, stays finite for logits of ±1000.
    return (a - logsumexp(a, axis=-1)[..., None]).astype(a.dtype, copy=False)


def softmax_cross_entropy(logits: Any, y: Any) -> tuple[float, FloatArray]:
    """Fused softmax + cross-entropy: L = −(1/N) Σᵢ Σₖ yᵢₖ log_softmax(zᵢ)ₖ; ∂L/∂z = (p − y)/N.

    ``logits`` is ``(N, C)``; ``y`` is integer labels ``(N,)`` or one-hot rows
    ``(N, C)``. Returns ``(loss, dlogits)`` with ``dlogits`` of shape ``(N, C)`` and
    ``p = softmax(z)``. Working from ``log_softmax`` keeps both finite for extreme logits
    where ``cross_entropy(softmax(z))`` would take the log of an underflowed 0. For target
    rows that do not sum to 1 the exact gradient ``(p Σₖ yᵢₖ − y)/N`` is returned.
    """
    z = as_float_array(logits, "logits", ndim=2)
    _check_batch(z, "logits")
    n, c = z.shape
    t = _targets(y, n, c)
    logp = log_softmax(z.astype(np.float64))
    loss = float(-np.sum(t * logp) / n)
    dz = (np.exp(logp) * t.sum(axis=1, keepdims=True) - t) / n
    return loss, dz.astype(z.dtype, copy=False)
