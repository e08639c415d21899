"""Checks of notebook 04, cost functions and cross-entropy (ids ``04.<name>``).

Every loss is checked against ``reference_impl.losses``: visible cases are small
arrays a student can verify by hand; hidden cases add random shapes, a single
example, one-hot and integer labels, zero probabilities, logits of ±1000 and
float32 input. Numeric answers are computed from the same reference functions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autograder.checks.cases import Case
from autograder.checks.compare import Tolerance
from autograder.specs.base import ChoiceCheck, FunctionCheck, Mistake, ValueCheck
from autograder.specs.registry import register
from reference_impl import losses

Array = NDArray[Any]

# float32 cases lose about 1e-7 relative accuracy; every named mistake is off by far more.
LOOSE = Tolerance(rtol=1e-5, atol=1e-6)
# The questions ask for at least three significant figures (four for −ln 0.1 = 2.303).
TYPED = Tolerance(digits=3)
TYPED_4 = Tolerance(digits=4)

TARGETS = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]])
MODEL_1 = np.array([[0.3, 0.3, 0.4], [0.3, 0.4, 0.3], [0.1, 0.2, 0.7]])
MODEL_2 = np.array([[0.1, 0.2, 0.7], [0.1, 0.7, 0.2], [0.3, 0.4, 0.3]])
GRADES_PREDICTED = np.array([72.0, 85.0, 60.0, 90.0])
GRADES_ACTUAL = np.array([78.0, 80.0, 65.0, 98.0])


def _labels(y: Any, n_classes: int) -> Array:
    """Integer labels (N,) from labels (N,) or one-hot rows (N, C); used by the mistakes."""
    arr = np.asarray(y)
    return np.argmax(arr, axis=1) if arr.ndim == 2 else arr.astype(int)


def _onehot(y: Any, n_classes: int) -> Array:
    """One-hot rows (N, C) float64 from labels (N,) or one-hot rows (N, C)."""
    arr = np.asarray(y)
    if arr.ndim == 2:
        return arr.astype(np.float64)
    return np.eye(n_classes)[arr.astype(int)]


def _dirichlet(rng: np.random.Generator, n: int, c: int) -> Array:
    """(N, C) random probability rows, none extremely small."""
    return rng.dirichlet(np.full(c, 2.0), size=n)



def _ce_cases(rng: np.random.Generator) -> list[Case]:
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    four = np.array([[0.5, 0.25, 0.25], [0.2, 0.2, 0.6], [0.1, 0.8, 0.1], [0.4, 0.4, 0.2]])
    return [
        Case((probs, np.array([0, 2])), "2 examples, integer labels", batch=2),
        Case((probs, np.array([[1, 0, 0], [0, 0, 1]])), "2 examples, one-hot labels", batch=2),
        Case((np.array([[0.6, 0.3, 0.1]]), np.array([2])), "a single example, p_true = 0.1"),
        Case((four, np.array([0, 2, 1, 2])), "4 examples, labels 0 and C-1 included", batch=4),
        Case((np.array([[0.0, 0.9, 0.1], [0.5, 0.5, 0.0]]), np.array([[0, 1, 0], [1, 0, 0]])),
             "one-hot labels and a probability of exactly 0 on a wrong class: 0 · log 0 counts "
             "as 0", batch=2),
        Case((np.array([[0.0, 1.0], [0.9, 0.1]]), np.array([0, 0]), 1e-3),
             "a probability of exactly 0 on the true class, eps = 1e-3: it is clipped to eps",
             batch=2),
    ]


def _ce_hidden(rng: np.random.Generator) -> list[Case]:
    out: list[Case] = []
    for n, c in ((7, 4), (25, 10), (3, 2)):
        p = _dirichlet(rng, n, c)
        y = rng.integers(0, c, size=n)
        out.append(Case((p, y), f"random {n}x{c}, integer labels", batch=n))
        out.append(Case((p, np.eye(c, dtype=int)[y]), f"random {n}x{c}, one-hot labels", batch=n))
    digit = _dirichlet(rng, 1, 10)
    out.append(Case((digit, np.eye(10, dtype=int)[[4]]), "a single digit, one-hot label 4"))
    zero_wrong = np.array([[0.0, 0.9, 0.1], [0.5, 0.5, 0.0]])
    out.append(Case((zero_wrong, np.array([[0, 1, 0], [1, 0, 0]])),
                    "a probability of exactly 0 on a wrong class (0·log 0 must count as 0)",
                    batch=2))
    zero_true = np.array([[1.0, 0.0], [0.3, 0.7]])
    out.append(Case((zero_true, np.array([1, 1])),
                    "a probability of exactly 0 on the true class (clip at eps)", batch=2))
    p32 = _dirichlet(rng, 12, 5).astype(np.float32)
    p32 /= p32.sum(axis=1, keepdims=True)
    out.append(Case((p32, rng.integers(0, 5, size=12)), "float32 probabilities", batch=12))
    big = _dirichlet(rng, 500, 3)
    out.append(Case((big, rng.integers(0, 3, size=500)), "500 examples", batch=500))
    tiny_true = np.array([[1e-13, 1.0 - 1e-13], [0.2, 0.8]])
    out.append(Case((tiny_true, np.array([0, 1])), "a true-class probability of 1e-13, below "
                    "the default eps: it is raised to eps, not added to it", batch=2))
    p8 = _dirichlet(rng, 9, 4)
    out.append(Case((p8, rng.integers(0, 4, size=9).astype(np.uint8)), "labels stored as uint8",
                    batch=9))
    out.append(Case((np.array([[0.0, 1.0], [0.9, 0.1]]), np.array([0, 0]), 1e-3),
                    "eps = 1e-3 given: the clip uses it", batch=2))
    return out


def _ce_sum(probs: Any, y: Any, eps: float = 1e-12) -> float:
    p = np.asarray(probs, dtype=np.float64)
    t = _labels(y, p.shape[1])
    return float(-np.sum(np.log(np.maximum(p[np.arange(len(t)), t], eps))))


def _ce_log10(probs: Any, y: Any, eps: float = 1e-12) -> float:
    p = np.asarray(probs, dtype=np.float64)
    t = _labels(y, p.shape[1])
    return float(-np.mean(np.log10(np.maximum(p[np.arange(len(t)), t], eps))))


def _ce_off_by_one(probs: Any, y: Any, eps: float = 1e-12) -> float:
    p = np.asarray(probs, dtype=np.float64)
    t = _labels(y, p.shape[1])
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(t)), t - 1], eps))))


def _ce_all_classes(probs: Any, y: Any, eps: float = 1e-12) -> float:
    p = np.asarray(probs, dtype=np.float64)
    return float(-np.mean(np.sum(np.log(np.maximum(p, eps)), axis=1)))


def _ce_every_entry(probs: Any, y: Any, eps: float = 1e-12) -> float:
    p = np.asarray(probs, dtype=np.float64)
    return float(-np.mean(_onehot(y, p.shape[1]) * np.log(np.maximum(p, eps))))


def _ce_fixed_eps(probs: Any, y: Any, eps: float = 1e-12) -> float:
    return float(losses.cross_entropy(probs, y, eps=1e-12))


def _ce_binary_formula(probs: Any, y: Any, eps: float = 1e-12) -> float:
    p = np.clip(np.asarray(probs, dtype=np.float64), eps, 1 - eps)
    t = _onehot(y, p.shape[1])
    return float(-np.mean(np.sum(t * np.log(p) + (1 - t) * np.log(1 - p), axis=1)))


CROSS_ENTROPY = FunctionCheck(
    id="04.cross_entropy",
    title="cross_entropy",
    reference=losses.cross_entropy,
    cases=_ce_cases,
    hidden_cases=_ce_hidden,
    kind="float",
    tol=LOOSE,
    mistakes=(
        Mistake("the sum instead of the mean",
                "divide the total by N, the number of rows: the loss is a mean over the batch",
                _ce_sum),
        Mistake("log base 10", "use the natural logarithm np.log: losses are in nats", _ce_log10),
        Mistake("labels off by one",
                "label k selects column k (labels run 0..C-1): index probs[np.arange(N), y]",
                _ce_off_by_one),
        Mistake("the log of every class, not just the true one",
                "multiply by the one-hot target (or index with the label) so only the true "
                "class's probability counts", _ce_all_classes),
        Mistake("a mean over all N·C entries",
                "np.mean of an (N, C) array also divides by C: sum over the classes, then "
                "average over the N examples", _ce_every_entry),
        Mistake("the binary formula applied to C classes",
                "multiclass cross-entropy has no (1 − y) log(1 − p) term", _ce_binary_formula),
        Mistake("the eps argument ignored", "clip at the eps you are given (np.maximum(p, eps)), "
                "not at a number of your own", _ce_fixed_eps),
    ),
)



def _bce_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 1.0])), "3 examples", batch=3),
        Case((np.array([0.1]), np.array([1.0])), "one student who passed, p = 0.1"),
        Case((np.array([0.1]), np.array([0.0])), "one student who failed, p = 0.1"),
        Case((np.array([0.3, 0.8, 0.5, 0.1]), np.array([0.0, 0.0, 0.0, 0.0])),
             "4 examples, all labels 0", batch=4),
        Case((np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0]), 1e-3),
             "p of exactly 0 and 1, right and wrong, eps = 1e-3: p is clipped to "
             "[eps, 1 − eps] so neither log sees 0", batch=4),
    ]


def _bce_hidden(rng: np.random.Generator) -> list[Case]:
    out: list[Case] = []
    for n in (9, 40):
        p = rng.uniform(0.01, 0.99, size=n)
        y = rng.integers(0, 2, size=n).astype(np.float64)
        out.append(Case((p, y), f"random, {n} examples", batch=n))
    p = rng.uniform(0.05, 0.95, size=(6, 1))
    out.append(Case((p, rng.integers(0, 2, size=(6, 1)).astype(np.float64)),
                    "column shape (N, 1)", batch=6))
    out.append(Case((np.array([0.0, 1.0, 0.5]), np.array([0.0, 1.0, 1.0])),
                    "p of exactly 0 and 1 on the right side (0·log 0 must count as 0)", batch=3))
    out.append(Case((np.array([0.0, 1.0]), np.array([1.0, 0.0])),
                    "p of exactly 0 and 1 on the wrong side (clip to [eps, 1 − eps])", batch=2))
    p32 = rng.uniform(0.05, 0.95, size=10).astype(np.float32)
    out.append(Case((p32, rng.integers(0, 2, size=10).astype(np.float32)),
                    "float32 probabilities", batch=10))
    out.append(Case((np.array([0.35]), np.array([1.0])), "a single example"))
    p = rng.uniform(0.05, 0.95, size=8)
    out.append(Case((p, rng.integers(0, 2, size=8).astype(np.uint8)),
                    "labels stored as uint8 (−y would wrap around to 255)", batch=8))
    out.append(Case((rng.uniform(0.05, 0.95, size=5), rng.integers(0, 2, size=5)),
                    "integer labels 0 and 1", batch=5))
    out.append(Case((np.array([0.0, 1.0, 0.4]), np.array([1.0, 0.0, 1.0]), 1e-3),
                    "eps = 1e-3 given: the clip uses it", batch=3))
    return out


def _bce_parts(p: Any, y: Any, eps: float) -> tuple[Array, Array]:
    pc = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return pc, np.asarray(y, dtype=np.float64)


def _bce_sum(p: Any, y: Any, eps: float = 1e-12) -> float:
    pc, t = _bce_parts(p, y, eps)
    return float(-np.sum(t * np.log(pc) + (1 - t) * np.log(1 - pc)))


def _bce_log10(p: Any, y: Any, eps: float = 1e-12) -> float:
    pc, t = _bce_parts(p, y, eps)
    return float(-np.mean(t * np.log10(pc) + (1 - t) * np.log10(1 - pc)))


def _bce_swapped(p: Any, y: Any, eps: float = 1e-12) -> float:
    pc, t = _bce_parts(p, y, eps)
    return float(-np.mean((1 - t) * np.log(pc) + t * np.log(1 - pc)))


def _bce_positive_only(p: Any, y: Any, eps: float = 1e-12) -> float:
    pc, t = _bce_parts(p, y, eps)
    return float(-np.mean(t * np.log(pc)))


BINARY_CROSS_ENTROPY = FunctionCheck(
    id="04.binary_cross_entropy",
    title="binary_cross_entropy",
    reference=losses.binary_cross_entropy,
    cases=_bce_cases,
    hidden_cases=_bce_hidden,
    kind="float",
    tol=LOOSE,
    mistakes=(
        Mistake("the sum instead of the mean", "divide by N: the loss is a mean over examples",
                _bce_sum),
        Mistake("log base 10", "use the natural logarithm np.log", _bce_log10),
        Mistake("the two terms swapped",
                "y·ln p scores the examples labelled 1, (1 − y)·ln(1 − p) those labelled 0",
                _bce_swapped),
        Mistake("the (1 − y) ln(1 − p) term left out",
                "an example labelled 0 must cost −ln(1 − p), not nothing", _bce_positive_only),
        Mistake("the eps argument ignored", "clip to [eps, 1 − eps] with the eps you are given",
                lambda p, y, eps=1e-12: float(losses.binary_cross_entropy(p, y, eps=1e-12))),
    ),
)



def _regression_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([2.0, 3.0, 5.0]), np.array([1.0, 3.0, 7.0])), "3 predictions", batch=3),
        Case((np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 4.0]])),
             "2 examples with 2 outputs each (mean over all 4 entries)", batch=4),
        Case((np.array([4.0]), np.array([1.5])), "a single prediction"),
        Case((np.array([-1.0, 0.5, 2.0, -3.0]), np.array([1.0, 0.5, -2.0, -3.0])),
             "negative values and exact hits", batch=4),
    ]


def _regression_hidden(rng: np.random.Generator) -> list[Case]:
    out: list[Case] = []
    for shape in ((11,), (8, 3), (1, 5)):
        size = math.prod(shape)
        out.append(Case((rng.normal(size=shape), rng.normal(size=shape)),
                        f"random of shape {shape}", batch=size))
    y = rng.normal(size=6)
    out.append(Case((y.copy(), y), "a perfect prediction (loss 0)", batch=6))
    out.append(Case((rng.uniform(-1000, 1000, size=7), rng.uniform(-1000, 1000, size=7)),
                    "values of order ±1000", batch=7))
    out.append(Case((rng.normal(size=(5, 2)).astype(np.float32),
                     rng.normal(size=(5, 2)).astype(np.float32)), "float32 input", batch=10))
    with_outlier = rng.normal(size=9)
    target = with_outlier + rng.normal(scale=0.1, size=9)
    target[3] += 50.0
    out.append(Case((with_outlier, target), "one outlier", batch=9))
    out.append(Case((np.array([72, 40, 60, 90], dtype=np.uint8),
                     np.array([78, 80, 95, 51], dtype=np.uint8)),
                    "grades stored as uint8: ŷ − y must not wrap around", batch=4))
    out.append(Case((np.array([[1, -2], [3, 4]]), np.array([[0, 0], [5, 4]])),
                    "integer arrays", batch=4))
    return out


def _diff(y_hat: Any, y: Any) -> Array:
    return np.asarray(y_hat, dtype=np.float64) - np.asarray(y, dtype=np.float64)


def _mse_sum(y_hat: Any, y: Any) -> float:
    return float(np.sum(_diff(y_hat, y) ** 2))


def _mse_rows(y_hat: Any, y: Any) -> float:
    d = _diff(y_hat, y)
    return float(np.sum(d**2) / d.shape[0])


def _mse_root(y_hat: Any, y: Any) -> float:
    return float(np.sqrt(np.mean(_diff(y_hat, y) ** 2)))


def _mse_abs(y_hat: Any, y: Any) -> float:
    return float(np.mean(np.abs(_diff(y_hat, y))))


def _mse_square_of_mean(y_hat: Any, y: Any) -> float:
    return float(np.mean(_diff(y_hat, y)) ** 2)


MEAN_SQUARED_ERROR = FunctionCheck(
    id="04.mean_squared_error",
    title="mean_squared_error",
    reference=losses.mean_squared_error,
    cases=_regression_cases,
    hidden_cases=_regression_hidden,
    kind="float",
    tol=LOOSE,
    mistakes=(
        Mistake("the sum instead of the mean", "divide by the number of entries", _mse_sum),
        Mistake("divided by N rows only",
                "with several outputs per example, average over every entry (np.mean does it)",
                _mse_rows),
        Mistake("the root mean squared error", "no square root: MSE is the mean of the squares",
                _mse_root),
        Mistake("the absolute error", "square the differences instead of taking |·|", _mse_abs),
        Mistake("the square of the mean difference",
                "square each difference first, then average: errors of opposite sign must "
                "not cancel", _mse_square_of_mean),
    ),
)


def _mae_sum(y_hat: Any, y: Any) -> float:
    return float(np.sum(np.abs(_diff(y_hat, y))))


def _mae_squared(y_hat: Any, y: Any) -> float:
    return float(np.mean(_diff(y_hat, y) ** 2))


def _mae_signed(y_hat: Any, y: Any) -> float:
    return float(np.mean(_diff(y_hat, y)))


def _mae_abs_of_mean(y_hat: Any, y: Any) -> float:
    return float(abs(np.mean(_diff(y_hat, y))))


def _mae_median(y_hat: Any, y: Any) -> float:
    return float(np.median(np.abs(_diff(y_hat, y))))


MEAN_ABSOLUTE_ERROR = FunctionCheck(
    id="04.mean_absolute_error",
    title="mean_absolute_error",
    reference=losses.mean_absolute_error,
    cases=_regression_cases,
    hidden_cases=_regression_hidden,
    kind="float",
    tol=LOOSE,
    mistakes=(
        Mistake("the sum instead of the mean", "divide by the number of entries", _mae_sum),
        Mistake("squared values instead of absolute ones",
                "MAE takes |ŷ − y|; squaring gives the MSE", _mae_squared),
        Mistake("signed differences", "take the absolute value of each difference: errors of "
                "opposite sign must not cancel", _mae_signed),
        Mistake("the absolute value of the mean difference",
                "take |·| of each difference before averaging, not after", _mae_abs_of_mean),
        Mistake("the median instead of the mean", "average the absolute errors with np.mean",
                _mae_median),
    ),
)



def _mis_cases(rng: np.random.Generator) -> list[Case]:
    probs = np.array([[0.5, 0.4, 0.1], [0.1, 0.5, 0.4], [0.2, 0.7, 0.1], [0.7, 0.2, 0.1],
                      [0.7, 0.1, 0.2]])
    labels = np.array([2, 1, 0, 0, 0])
    logits = np.array([[-2.0, 1.0], [0.5, -0.5], [3.0, 4.0], [-1.0, -3.0]])
    return [
        Case((probs, labels), "5 examples, two wrong", batch=5),
        Case((probs, np.eye(3, dtype=int)[labels]), "the same with one-hot labels", batch=5),
        Case((logits, np.array([1, 1, 1, 0])), "negative logits as scores", batch=4),
        Case((np.array([[0.2, 0.5, 0.3]]), np.array([1])), "a single example, right"),
    ]


def _mis_hidden(rng: np.random.Generator) -> list[Case]:
    out: list[Case] = []
    for n, c in ((20, 4), (50, 10)):
        s = rng.normal(size=(n, c))
        y = rng.integers(0, c, size=n)
        out.append(Case((s, y), f"random {n}x{c}, integer labels", batch=n))
        out.append(Case((s, np.eye(c, dtype=int)[y]), f"random {n}x{c}, one-hot", batch=n))
    s = rng.choice([-1000.0, 1000.0], size=(8, 3)) + rng.normal(size=(8, 3))
    out.append(Case((s, rng.integers(0, 3, size=8)), "logits of ±1000", batch=8))
    out.append(Case((np.array([[0.9, 0.1]]), np.array([1])), "a single example, wrong"))
    s = rng.normal(size=(6, 3))
    out.append(Case((s, np.argmax(s, axis=1)), "every prediction right", batch=6))
    s = rng.normal(size=(7, 4))
    out.append(Case((s, rng.integers(0, 4, size=7).astype(np.uint8)), "labels stored as uint8",
                    batch=7))
    return out


def _mis_accuracy(scores: Any, y: Any) -> float:
    s = np.asarray(scores)
    return float(np.mean(np.argmax(s, axis=1) == _labels(y, s.shape[1])))


def _mis_count(scores: Any, y: Any) -> float:
    s = np.asarray(scores)
    return float(np.sum(np.argmax(s, axis=1) != _labels(y, s.shape[1])))


def _mis_argmin(scores: Any, y: Any) -> float:
    s = np.asarray(scores)
    return float(np.mean(np.argmin(s, axis=1) != _labels(y, s.shape[1])))


def _mis_plus_one(scores: Any, y: Any) -> float:
    s = np.asarray(scores)
    return float(np.mean(np.argmax(s, axis=1) + 1 != _labels(y, s.shape[1])))


MISCLASSIFICATION_RATE = FunctionCheck(
    id="04.misclassification_rate",
    title="misclassification_rate",
    reference=losses.misclassification_rate,
    cases=_mis_cases,
    hidden_cases=_mis_hidden,
    kind="float",
    tol=Tolerance(rtol=1e-9, atol=1e-12),
    mistakes=(
        Mistake("the accuracy", "the rate counts the wrong predictions, not the right ones",
                _mis_accuracy),
        Mistake("a count, not a rate", "divide the number of mistakes by N", _mis_count),
        Mistake("argmin instead of argmax", "the predicted class has the highest score",
                _mis_argmin),
        Mistake("predicted classes counted from 1",
                "np.argmax already returns 0..C-1, like the labels", _mis_plus_one),
    ),
)



def _logit_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),), "2 rows of small logits"),
        Case((np.array([[-1.0, 0.5]]),), "a single example, 2 classes"),
        Case((np.array([[1000.0, 0.0, -1000.0]]),), "logits of ±1000 (exp overflows)"),
        Case((np.array([[5.0, 5.0, 5.0, 5.0], [2.0, -3.0, 0.5, 1.0]]),), "4 classes"),
    ]


def _logit_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(scale=3.0, size=(9, 5)),), "random 9x5"),
        Case((rng.normal(scale=3.0, size=(1, 10)),), "a single example, 10 classes"),
        Case((rng.uniform(-1000, 1000, size=(6, 4)),), "random logits in [-1000, 1000]"),
        Case((np.array([[1000.0, 999.0], [-1000.0, -1001.0]]),), "rows near +1000 and -1000"),
        Case((rng.normal(scale=2.0, size=(7, 3)).astype(np.float32),), "float32 logits"),
        Case((rng.normal(size=(200, 3)),), "200 examples"),
        Case((np.array([[3, 1, -2], [0, 0, 0]]),), "integer logits"),
    ]


def _lsm_naive(z: Any) -> Array:
    a = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        return np.log(np.exp(a) / np.sum(np.exp(a), axis=1, keepdims=True))


def _lsm_max_not_added(z: Any) -> Array:
    a = np.asarray(z, dtype=np.float64)
    m = np.max(a, axis=1, keepdims=True)
    return a - np.log(np.sum(np.exp(a - m), axis=1, keepdims=True))


def _lsm_softmax(z: Any) -> Array:
    a = np.asarray(z, dtype=np.float64)
    e = np.exp(a - np.max(a, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def _lsm_batch_axis(z: Any) -> Array:
    a = np.asarray(z, dtype=np.float64)
    m = np.max(a, axis=0, keepdims=True)
    return a - (m + np.log(np.sum(np.exp(a - m), axis=0, keepdims=True)))


def _lsm_log10(z: Any) -> Array:
    a = np.asarray(z, dtype=np.float64)
    m = np.max(a, axis=1, keepdims=True)
    return a - m - np.log10(np.sum(np.exp(a - m), axis=1, keepdims=True))


def _lsm_shift_only(z: Any) -> Array:
    a = np.asarray(z, dtype=np.float64)
    return a - np.max(a, axis=1, keepdims=True)


LOG_SOFTMAX = FunctionCheck(
    id="04.log_softmax",
    title="log_softmax",
    reference=losses.log_softmax,
    cases=_logit_cases,
    hidden_cases=_logit_hidden,
    kind="array",
    tol=LOOSE,
    mistakes=(
        Mistake("the log of a naive softmax",
                "exp(1000) overflows: compute z − (m + log Σ exp(z − m)) with m the row max",
                _lsm_naive),
        Mistake("the max subtracted but not added back",
                "log Σ exp(z) = m + log Σ exp(z − m): add m to the log-sum", _lsm_max_not_added),
        Mistake("softmax instead of log-softmax",
                "return log-probabilities (all ≤ 0), not probabilities", _lsm_softmax),
        Mistake("normalised over the batch axis",
                "reduce over the classes, axis=1 (or -1), with keepdims=True", _lsm_batch_axis),
        Mistake("log base 10", "exp and log must match: use np.log", _lsm_log10),
        Mistake("the max subtracted, the log-sum-exp forgotten",
                "after z − m you still subtract log Σ exp(z − m)", _lsm_shift_only),
    ),
)


def _sce_cases(rng: np.random.Generator) -> list[Case]:
    z = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 2.0]])
    return [
        Case((z, np.array([0, 2])), "2 examples, integer labels", batch=2),
        Case((z, np.array([[1, 0, 0], [0, 1, 0]])), "2 examples, one-hot labels", batch=2),
        Case((np.array([[1000.0, 0.0, -1000.0]]), np.array([2])),
             "a single example with logits of ±1000 (np.exp(1000) overflows)"),
        Case((np.array([[0.5, -0.5], [1.0, 1.0], [-2.0, 3.0]]), np.array([1, 0, 1])),
             "3 examples, 2 classes", batch=3),
    ]


def _sce_hidden(rng: np.random.Generator) -> list[Case]:
    out: list[Case] = []
    for n, c in ((8, 5), (30, 10)):
        z = rng.normal(scale=2.0, size=(n, c))
        y = rng.integers(0, c, size=n)
        out.append(Case((z, y), f"random {n}x{c}, integer labels", batch=n))
        out.append(Case((z, np.eye(c, dtype=int)[y]), f"random {n}x{c}, one-hot", batch=n))
    z = rng.uniform(-1000, 1000, size=(5, 3))
    out.append(Case((z, rng.integers(0, 3, size=5)), "random logits in [-1000, 1000]", batch=5))
    out.append(Case((np.array([[-1000.0, 1000.0]]), np.array([[1, 0]])),
                    "a single example, ±1000, one-hot, confidently wrong"))
    out.append(Case((rng.normal(size=(6, 4)).astype(np.float32), rng.integers(0, 4, size=6)),
                    "float32 logits", batch=6))
    out.append(Case((rng.normal(size=(1, 3)), np.array([0])), "a single example"))
    return out


def _sce_parts(logits: Any, y: Any) -> tuple[Array, Array, Array, int]:
    z = np.asarray(logits, dtype=np.float64)
    n, c = z.shape
    m = np.max(z, axis=1, keepdims=True)
    logp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return logp, np.exp(logp), _onehot(y, c), n


def _sce_no_mean_grad(logits: Any, y: Any) -> tuple[float, Array]:
    logp, p, t, n = _sce_parts(logits, y)
    return float(-np.sum(t * logp) / n), p - t


def _sce_sum(logits: Any, y: Any) -> tuple[float, Array]:
    logp, p, t, _n = _sce_parts(logits, y)
    return float(-np.sum(t * logp)), p - t


def _sce_sign(logits: Any, y: Any) -> tuple[float, Array]:
    logp, p, t, n = _sce_parts(logits, y)
    return float(-np.sum(t * logp) / n), (t - p) / n


def _sce_log_of_softmax(logits: Any, y: Any) -> tuple[float, Array]:
    _logp, p, t, n = _sce_parts(logits, y)
    with np.errstate(divide="ignore"):
        loss = float(-np.mean(np.log(p[np.arange(n), np.argmax(t, axis=1)])))
    return loss, (p - t) / n


def _sce_log10(logits: Any, y: Any) -> tuple[float, Array]:
    logp, p, t, n = _sce_parts(logits, y)
    return float(-np.sum(t * logp) / n / np.log(10.0)), (p - t) / n


def _sce_grad_without_target(logits: Any, y: Any) -> tuple[float, Array]:
    logp, p, t, n = _sce_parts(logits, y)
    return float(-np.sum(t * logp) / n), p / n


SOFTMAX_CROSS_ENTROPY = FunctionCheck(
    id="04.softmax_cross_entropy",
    title="softmax_cross_entropy",
    reference=losses.softmax_cross_entropy,
    cases=_sce_cases,
    hidden_cases=_sce_hidden,
    kind=("float", "array"),
    tol=LOOSE,
    mistakes=(
        Mistake("the gradient without the 1/N", "the loss is a mean, so dlogits = (p − y)/N",
                _sce_no_mean_grad),
        Mistake("the sum instead of the mean", "divide both the loss and the gradient by N",
                _sce_sum),
        Mistake("the gradient with the wrong sign", "dL/dz = (p − y)/N: prediction minus target",
                _sce_sign),
        Mistake("the log of a softmax that underflowed",
                "take the loss from log_softmax(z), never from np.log(softmax(z))",
                _sce_log_of_softmax),
        Mistake("log base 10", "use natural logarithms throughout", _sce_log10),
        Mistake("the target left out of the gradient", "subtract the one-hot target: (p − y)/N",
                _sce_grad_without_target),
    ),
)



def _ce(probs: Array) -> float:
    return losses.cross_entropy(probs, TARGETS)


def _err(probs: Array) -> float:
    return losses.misclassification_rate(probs, TARGETS)


def _log10_of(value: float) -> float:
    return value / math.log(10.0)


_ERR_MISTAKES = (
    (2 / 3, "the accuracy", "count the wrong predictions, not the right ones"),
    (1.0, "a count", "divide the number of mistakes by the number of examples"),
    (0.0, "no mistakes found", "compare the arg-max of each row with the target's class"),
)


def _ce_mistakes(probs: Array, other: Array) -> tuple[tuple[float, str, str], ...]:
    p_true = probs[np.arange(3), np.argmax(TARGETS, axis=1)]
    return (
        (_log10_of(_ce(probs)), "log base 10", "cross-entropy here is in nats: use np.log"),
        (3 * _ce(probs), "the sum instead of the mean", "average over the three examples"),
        (_ce(other), "the other model's outputs", "check which array you passed"),
        (float(-np.mean(np.log(1 - p_true))), "ln(1 − p)",
         "use the probability given to the true class, −ln p"),
    )


CE_MODEL_1 = ValueCheck("04.ce_model1", "ce_model1", lambda: _ce(MODEL_1), tol=TYPED,
                        mistakes=_ce_mistakes(MODEL_1, MODEL_2))
CE_MODEL_2 = ValueCheck("04.ce_model2", "ce_model2", lambda: _ce(MODEL_2), tol=TYPED,
                        mistakes=_ce_mistakes(MODEL_2, MODEL_1))
ERR_MODEL_1 = ValueCheck("04.err_model1", "err_model1", lambda: _err(MODEL_1), tol=TYPED,
                         mistakes=_ERR_MISTAKES)
ERR_MODEL_2 = ValueCheck("04.err_model2", "err_model2", lambda: _err(MODEL_2), tol=TYPED,
                         mistakes=_ERR_MISTAKES)

MODEL_STATEMENTS = ChoiceCheck(
    "04.model_statements", "model_statements", expected="acd", options="abcde", kind="set",
    mistakes=(
        ("acde", "the rate taken as a training signal",
         "two models with the same rate give the rate no reason to prefer either"),
        ("abcd", "the rate taken to separate the models",
         "compare err_model1 and err_model2 again"),
        ("ac", "statement d missed",
         "compare the probability each model gives the true class, example by example"),
        ("bde", "cross-entropy read the wrong way round",
         "a lower cross-entropy is better, and compare the two error rates again"),
    ),
)

NLL_NATS = ValueCheck(
    "04.nll_nats", "nll_nats", lambda: -math.log(0.1), tol=TYPED_4,
    mistakes=(
        (1.0, "log base 10", "this one asks for the natural logarithm, np.log"),
        (-math.log2(0.1), "log base 2", "this is in bits; nats use the natural logarithm, np.log"),
        (math.log(0.1), "a sign error", "a loss is −ln p, which is positive for p < 1"),
        (0.1, "the probability itself", "take −ln of the probability"),
    ),
)
NLL_LOG10 = ValueCheck(
    "04.nll_log10", "nll_log10", lambda: -math.log10(0.1), tol=TYPED_4,
    mistakes=(
        (-math.log(0.1), "the natural logarithm", "this one asks for base 10, np.log10"),
        (-1.0, "a sign error", "a loss is −log p, which is positive for p < 1"),
        (0.1, "the probability itself", "take −log₁₀ of the probability"),
    ),
)

BCE_PASSED = ValueCheck(
    "04.bce_passed", "bce_passed",
    lambda: losses.binary_cross_entropy(np.array([0.1]), np.array([1.0])), tol=TYPED,
    mistakes=(
        (-math.log(0.9), "the label swapped", "this student passed, so y = 1 and the loss is "
         "−ln p"),
        (1.0, "log base 10", "use the natural logarithm"),
        (0.9, "1 − p", "the loss is a logarithm of a probability"),
    ),
)
BCE_FAILED = ValueCheck(
    "04.bce_failed", "bce_failed",
    lambda: losses.binary_cross_entropy(np.array([0.1]), np.array([0.0])), tol=TYPED,
    mistakes=(
        (-math.log(0.1), "the label swapped", "this student failed, so y = 0 and the loss is "
         "−ln(1 − p)"),
        (-math.log10(0.9), "log base 10", "use the natural logarithm"),
        (0.1, "p itself", "the loss is a logarithm of a probability"),
    ),
)

_GRADE_DIFF = GRADES_PREDICTED - GRADES_ACTUAL

MSE_GRADES = ValueCheck(
    "04.mse_grades", "mse_grades",
    lambda: losses.mean_squared_error(GRADES_PREDICTED, GRADES_ACTUAL), tol=TYPED,
    mistakes=(
        (float(np.sum(_GRADE_DIFF**2)), "the sum instead of the mean",
         "divide by the number of students"),
        (float(np.sqrt(np.mean(_GRADE_DIFF**2))), "the root mean squared error",
         "no square root"),
        (float(np.mean(np.abs(_GRADE_DIFF))), "the mean absolute error",
         "square the differences"),
        (float(np.mean(_GRADE_DIFF) ** 2), "the square of the mean difference",
         "square each difference before averaging"),
        (float(np.mean(_GRADE_DIFF**2)) / 2, "half the MSE", "no ½ in this definition"),
    ),
)
MAE_GRADES = ValueCheck(
    "04.mae_grades", "mae_grades",
    lambda: losses.mean_absolute_error(GRADES_PREDICTED, GRADES_ACTUAL), tol=TYPED,
    mistakes=(
        (float(np.sum(np.abs(_GRADE_DIFF))), "the sum instead of the mean",
         "divide by the number of students"),
        (float(np.mean(_GRADE_DIFF**2)), "the mean squared error",
         "take absolute values, not squares"),
        (float(np.mean(_GRADE_DIFF)), "signed differences",
         "take the absolute value of each difference"),
        (float(abs(np.mean(_GRADE_DIFF))), "the absolute value of the mean difference",
         "take |·| of each difference before averaging"),
    ),
)

FORBIDDEN = ("reference_impl.losses", "reference_impl.layers.loss", "reference_impl.training")

register(
    CROSS_ENTROPY,
    BINARY_CROSS_ENTROPY,
    MEAN_SQUARED_ERROR,
    MEAN_ABSOLUTE_ERROR,
    MISCLASSIFICATION_RATE,
    LOG_SOFTMAX,
    SOFTMAX_CROSS_ENTROPY,
    CE_MODEL_1,
    CE_MODEL_2,
    ERR_MODEL_1,
    ERR_MODEL_2,
    MODEL_STATEMENTS,
    NLL_NATS,
    NLL_LOG10,
    BCE_PASSED,
    BCE_FAILED,
    MSE_GRADES,
    MAE_GRADES,
)
