"""Numbers that judge results: the relative error of two gradients, a confusion matrix.

They use no layer and no optimizer, so every notebook's sandbox may hold them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from reference_impl._validation import FloatArray, positive_int


def _elementwise_error(a: FloatArray, b: FloatArray) -> FloatArray:
    """|a − b| / max(1e-12, |a| + |b|) entry by entry; NaN or inf anywhere counts as inf."""
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))
    return np.where(np.isfinite(a) & np.isfinite(b) & np.isfinite(err), err, np.inf)


def _numbers(x: Any, name: str) -> FloatArray:
    """x as a float64 array, NaN allowed: a gradient holding NaN is wrong, not malformed."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def relative_error(a: Any, b: Any) -> float:
    """max over entries i of |aᵢ − bᵢ| / max(1e-12, |aᵢ| + |bᵢ|), the worst entry's error.

    The convention is elementwise, then the maximum: every entry must agree to the
    tolerance relative to its own size, so one wrong entry among large correct ones
    is not hidden by a norm. The floor 1e-12 keeps entries that are both zero at
    error 0. The result lies in [0, 1] (1 when the signs differ or one side is 0),
    or is inf if either side holds NaN or inf. a, b: the same shape.
    """
    x, y = _numbers(a, "a"), _numbers(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"expected a and b of the same shape, got {x.shape} and {y.shape}")
    return float(np.max(_elementwise_error(x, y))) if x.size else 0.0


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int) -> NDArray[np.int64]:
    """Counts (C, C): entry [i, j] is the number of examples of class i predicted as j.

    ``y_true`` and ``y_pred`` are integer labels (N,) in 0..C−1. The diagonal holds the
    correct predictions; row i sums to the number of examples of class i.
    """
    c = positive_int(n_classes, "n_classes")
    truth = np.asarray(y_true)
    guess = np.asarray(y_pred)
    for name, arr in (("y_true", truth), ("y_pred", guess)):
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise TypeError(
                f"{name} must be integer labels of shape (N,), got {arr.dtype} of shape {arr.shape}"
            )
        if arr.size and (arr.min() < 0 or arr.max() >= c):
            raise ValueError(f"{name} has labels outside [0, {c}); pass n_classes = C")
    if truth.shape != guess.shape:
        raise ValueError(f"y_true has shape {truth.shape} but y_pred has {guess.shape}")
    return np.bincount(truth * c + guess, minlength=c * c).reshape(c, c).astype(np.int64)
