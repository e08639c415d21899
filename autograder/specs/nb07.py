"""Checks of notebook 07, training in practice (ids ``07.<name>``).

Early stopping follows ``reference_impl.early_stopping`` (which ``fit(..., patience=...)``
uses): an epoch improves when its validation loss is strictly below the best so far, and
training stops at the first epoch that is ``patience`` epochs past the best one. The
weight-decay step is checked against ``reference_impl.optimizers.SGD(weight_decay=...)``,
whose decay is the gradient of ½·λ·‖w‖² (``reference_impl.regularization``). Dropout is random, so its training-mode check is
statistical: it inspects the output and mask the student's function draws (fraction
dropped, scale of the survivors, use of ``rng``) instead of comparing with one draw.
The tiny-subset sanity check trains with the student's function and measures the
training loss itself, in the grader's process.

Batch normalisation is checked part by part against ``reference_impl.layers.BatchNorm``
(training output, running statistics, inference twice, dx, dγ, dβ over two batches). The
loss before training is measured on stand-in models whose scores are given. Saving is read
back by the model's own names; loading is compared with ``reference_impl.serialization``, and
refusing a file of another architecture is judged as a property (a ValueError naming an entry
that does not fit, the model unchanged).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autograder.checks.cases import Case, probe
from autograder.checks.compare import Tolerance
from autograder.checks.notebooks.nb07 import Net, Run, ScoreTable
from autograder.specs.base import FunctionCheck, Mistake, PropertyCheck, ValueCheck
from autograder.specs.registry import register
from reference_impl import count_parameters, mlp, serialization
from reference_impl.data import load_digits
from reference_impl.early_stopping import EarlyStopping, early_stopping_epoch
from reference_impl.layers.batchnorm import BatchNorm
from reference_impl.optimizers import SGD, Momentum
from reference_impl.regularization import l2_penalty
from reference_impl.training import fit

Array = NDArray[Any]

# float32 cases lose about 1e-7 relative accuracy; every named mistake is off by far more.
LOOSE = Tolerance(rtol=1e-5, atol=1e-6)
EXACT = Tolerance(rtol=0.0, atol=0.0)
DIGITS_IN, DIGITS_OUT = 64, 10




# Early stopping, as a function of the validation curve.

early_stopping_epoch_reference = early_stopping_epoch


def _es_flawed(val_losses: Any, patience: int, *, flaw: str) -> tuple[int, int]:
    losses = [float(v) for v in np.asarray(val_losses, dtype=np.float64).ravel()]
    best, best_loss, previous, since = 0, math.inf, math.inf, 0
    for epoch, loss in enumerate(losses):
        if flaw == "previous":
            since = 0 if loss < previous else since + 1
            previous = loss
            if loss < best_loss:
                best, best_loss = epoch, loss
            if since >= patience:
                return best, epoch
            continue
        improved = loss <= best_loss if flaw == "ties" else loss < best_loss
        if improved:
            best, best_loss = epoch, loss
        elif (epoch - best > patience) if flaw == "late" else (epoch - best >= patience):
            return (epoch, epoch) if flaw == "last" else (best, epoch)
    end = len(losses) - 1
    return (end, end) if flaw == "last" else (best, end)


def _es_one_based(val_losses: Any, patience: int) -> tuple[int, int]:
    best, stop = early_stopping_epoch_reference(val_losses, patience)
    return best + 1, stop + 1


def _es_global(val_losses: Any, patience: int) -> tuple[int, int]:
    """The global minimum kept, even if it comes after the stop."""
    _best, stop = early_stopping_epoch_reference(val_losses, patience)
    return int(np.argmin(np.asarray(val_losses, dtype=np.float64))), stop



def _es_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(([1.0, 0.8, 0.7, 0.75, 0.72, 0.9, 0.6], 2),
             "patience 2: the best is epoch 2, the 0.6 at epoch 6 comes too late"),
        Case(([0.9, 0.7, 0.6, 0.5, 0.45], 3), "the loss falls every epoch: training never stops"),
        Case(([0.5, 0.5, 0.5, 0.4], 2), "a tie with the best is not an improvement"),
        Case(([1.0, 0.6, 0.8, 0.7, 0.5], 1), "patience 1: stop after the first bad epoch"),
    ]


def _random_curve(rng: np.random.Generator, n: int) -> Array:
    """A validation curve that falls, then wanders upwards with noise (E,)."""
    t = np.arange(n)
    turn = rng.integers(3, max(4, n // 2))
    trend = np.exp(-t / turn) + 0.01 * np.maximum(t - turn, 0)
    return np.round(trend + rng.normal(scale=0.02, size=n), 3)


def _es_hidden(rng: np.random.Generator) -> list[Case]:
    out = [Case((_random_curve(rng, n).tolist(), p), f"a noisy curve of {n} epochs, patience {p}")
           for n, p in ((30, 3), (40, 5), (25, 1), (50, 8))]
    curve = _random_curve(rng, 20)
    out.append(Case((curve, 4), "a numpy array of 20 epochs, patience 4"))
    out.append(Case((curve.astype(np.float32), 2), "float32 losses"))
    out.append(Case(([0.7], 3), "a single epoch"))
    out.append(Case(([0.9, 0.8, 1.0, 1.1], 10), "patience longer than the run"))
    out.append(Case(([0.3, 0.3, 0.3, 0.3, 0.3], 2), "a flat curve"))
    out.append(Case(([2.0, 1.0, 1.5, 0.5, 0.6, 0.7, 0.4], 3),
                    "a new best inside the patience window resets the count"))
    out.append(Case(([0.5, 0.4, 0.399999, 0.45, 0.5, 0.41], 2),
                    "an improvement of 1e-6 is strictly below the best: it counts"))
    out.append(Case((np.array([3, 2, 2, 1, 1, 1, 1]), 2), "integer losses, ties with the best"))
    return out


_ES_MISTAKES = (
    Mistake("a stop one epoch late", "stop as soon as epoch − best_epoch ≥ patience, not >",
            partial(_es_flawed, flaw="late")),
    Mistake("a tie counted as an improvement",
            "improve only when the loss is strictly below the best (<, not <=)",
            partial(_es_flawed, flaw="ties")),
    Mistake("the last epoch kept instead of the best",
            "the weights to keep are those of the best epoch, not of the epoch you stop at",
            partial(_es_flawed, flaw="last")),
    Mistake("a comparison with the previous epoch",
            "count the epochs since the best loss so far, not since the last decrease",
            partial(_es_flawed, flaw="previous")),
    Mistake("epochs counted from 1", "epochs are 0-based indices into val_losses",
            _es_one_based),
    Mistake("the minimum of the whole curve",
            "epochs after the stop are never run: the best epoch is the best before stopping",
            _es_global),
)

EARLY_STOPPING_BEST = FunctionCheck(
    id="07.early_stopping_epoch.best",
    title="early_stopping_epoch: the epoch whose weights are kept",
    reference=early_stopping_epoch_reference,
    cases=_es_cases,
    hidden_cases=_es_hidden,
    probe=probe("nb07.pick", index=0),
    kind="int",
    mistakes=_ES_MISTAKES,
)
EARLY_STOPPING_STOP = FunctionCheck(
    id="07.early_stopping_epoch.stop",
    title="early_stopping_epoch: the epoch at which training stops",
    reference=early_stopping_epoch_reference,
    cases=_es_cases,
    hidden_cases=_es_hidden,
    probe=probe("nb07.pick", index=1),
    kind="int",
    mistakes=_ES_MISTAKES,
)


# Early stopping as an object with explicit state.

EarlyStoppingReference = EarlyStopping


class _EarlyStoppingFlawed(EarlyStoppingReference):
    def __init__(self, patience: int, *, flaw: str) -> None:
        super().__init__(patience)
        self.flaw = flaw
        self.previous = math.inf
        self.since = 0

    def update(self, val_loss: float, weights: Sequence[Array]) -> bool:
        self.epoch += 1
        improved = val_loss <= self.best_loss if self.flaw == "ties" else val_loss < self.best_loss
        if self.flaw == "previous":
            self.since = 0 if val_loss < self.previous else self.since + 1
            self.previous = val_loss
        if improved:
            self.best_loss = float(val_loss)
            self.best_epoch = self.epoch
            if self.flaw == "reference":
                self.best_weights = weights  # type: ignore[assignment]
            elif self.flaw == "shallow":
                self.best_weights = list(weights)
            else:
                self.best_weights = [np.array(w, copy=True) for w in weights]
            if self.flaw != "previous":
                return False
        best = self.epoch if self.best_epoch is None else self.best_epoch
        if self.flaw == "previous":
            return self.since >= self.patience
        if self.flaw == "late":
            return self.epoch - best > self.patience
        return self.epoch - best >= self.patience

    def restore(self, weights: Sequence[Array]) -> None:
        if self.flaw == "rebind":
            weights = self.best_weights  # type: ignore[assignment]
            return
        super().restore(weights)


def _snapshots(rng: np.random.Generator, n: int, shapes: Sequence[tuple[int, ...]],
               dtype: Any = np.float64) -> Run:
    """Random parameter values for each of n epochs."""
    return Run([[np.round(rng.normal(size=s), 2).astype(dtype) for s in shapes]
                 for _ in range(n)])


def _numbered(n: int, shapes: Sequence[tuple[int, ...]]) -> Run:
    """Readable values: at epoch e the entries are e.00, e.01, e.02, … across the arrays."""
    values = []
    for epoch in range(n):
        start, arrays = 0, []
        for shape in shapes:
            size = math.prod(shape)
            arrays.append(epoch + 0.01 * np.arange(start, start + size).reshape(shape))
            start += size
        values.append(arrays)
    return Run(values, "; at epoch e they hold e.00, e.01, …")


def _stopper_cases(rng: np.random.Generator) -> list[Case]:
    shapes = ((3, 2), (2,))
    first = [1.0, 0.8, 0.7, 0.75, 0.72, 0.9, 0.6]
    ties = [0.9, 0.9, 0.5]
    falling = [0.9, 0.7, 0.6, 0.5, 0.45]
    return [
        Case((2, first, _numbered(len(first), shapes)),
             "patience 2, losses 1.0, 0.8, 0.7, 0.75, 0.72, …: best at epoch 2, stop at 4"),
        Case((1, ties, _numbered(len(ties), shapes)),
             "patience 1, losses 0.9, 0.9, 0.5: the tie at epoch 1 is no improvement"),
        Case((3, falling, _numbered(len(falling), shapes)),
             "patience 3, a loss that falls every epoch: never stop"),
    ]


def _stopper_hidden(rng: np.random.Generator) -> list[Case]:
    out = []
    for n, p, shapes in ((30, 3, ((4, 3), (3,), (3, 2), (2,))), (40, 5, ((5, 5),)),
                         (25, 1, ((2, 2), (2,))), (50, 8, ((3,),))):
        curve = _random_curve(rng, n).tolist()
        out.append(Case((p, curve, _snapshots(rng, n, shapes)),
                        f"{n} epochs of a noisy curve, patience {p}, {len(shapes)} arrays"))
    curve = _random_curve(rng, 20).tolist()
    out.append(Case((4, curve, _snapshots(rng, 20, ((3, 4), (4,)), np.float32)),
                    "float32 parameters"))
    out.append(Case((2, [0.5, 0.5, 0.5, 0.4], _snapshots(rng, 4, ((2, 3),))), "a flat start"))
    out.append(Case((3, [2.0, 1.0, 1.5, 0.5, 0.6, 0.7, 0.4, 0.9],
                     _snapshots(rng, 8, ((2, 2), (2,)))),
                    "a new best inside the patience window resets the count"))
    out.append(Case((2, [0.5, 0.4, 0.399999, 0.45, 0.5, 0.41], _snapshots(rng, 6, ((3, 2),))),
                    "an improvement of 1e-6 is strictly below the best: it counts"))
    return out


_STOPPER_MISTAKES = (
    Mistake("a reference to the live weights",
            "best_weights = weights keeps the arrays that training goes on changing in place: "
            "store copies, [w.copy() for w in weights]",
            partial(_EarlyStoppingFlawed, flaw="reference")),
    Mistake("a shallow copy of the list",
            "list(weights) copies the list but not the arrays inside it: copy every array",
            partial(_EarlyStoppingFlawed, flaw="shallow")),
    Mistake("a tie counted as an improvement", "improve only when val_loss < best_loss",
            partial(_EarlyStoppingFlawed, flaw="ties")),
    Mistake("a stop one epoch late", "stop when epoch − best_epoch ≥ patience",
            partial(_EarlyStoppingFlawed, flaw="late")),
    Mistake("a comparison with the previous epoch",
            "count epochs since the best loss so far, not since the last decrease",
            partial(_EarlyStoppingFlawed, flaw="previous")),
    Mistake("restore rebinds a name instead of writing into the arrays",
            "`weights = self.best_weights` changes nothing outside the method: copy into "
            "each array in place, w[...] = best (or np.copyto(w, best))",
            partial(_EarlyStoppingFlawed, flaw="rebind")),
)


def _stopper_check(part: str, title: str, kind: Any = "array") -> FunctionCheck:
    return FunctionCheck(
        id=f"07.early_stopping.{part}", title=title, reference=EarlyStoppingReference,
        cases=_stopper_cases, hidden_cases=_stopper_hidden,
        probe=probe("nb07.stopper_part", part=part), kind=kind, tol=LOOSE,
        mistakes=_STOPPER_MISTAKES,
    )


STOPPER_SHOULD_STOP = _stopper_check(
    "should_stop", "EarlyStopping.update: what it returns each epoch (1 = stop)")
STOPPER_BEST_WEIGHTS = _stopper_check(
    "best_weights", "EarlyStopping after training stops: (best_weights flattened, best_epoch "
    "counted from 0, best_loss)", ("array", "int", "float"))
STOPPER_RESTORE = _stopper_check(
    "restore", "EarlyStopping.restore: the live weights afterwards")


# Weight decay.

def sgd_step_with_weight_decay_reference(w: Any, g: Any, lr: float, lam: float) -> Array:
    """w − lr·(g + lam·w), computed by reference_impl's SGD on a copy of w (any shape)."""
    arr = np.asarray(w)
    out = np.array(arr, dtype=np.float32 if arr.dtype == np.float32 else np.float64, copy=True)
    SGD(lr=lr, weight_decay=lam).step([(out, np.asarray(g))])
    return out


def _wd_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([1.0, -2.0, 0.5]), np.array([0.1, 0.2, -0.3]), 0.1, 0.01),
             "3 weights, lr = 0.1, lam = 0.01"),
        Case((np.array([4.0, -4.0]), np.zeros(2), 0.5, 0.1),
             "a zero gradient: only the decay acts, w shrinks by (1 − lr·lam)"),
        Case((np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]]),
              np.array([[0.5, 0.0, -0.5], [1.0, 1.0, 1.0]]), 0.2, 0.0),
             "lam = 0: a plain SGD step on a (2, 3) matrix"),
        Case((np.array([[2.0, -1.0], [0.5, 3.0]]), np.array([[1.0, 1.0], [-1.0, 0.0]]), 0.1, 0.5),
             "a strong decay, lam = 0.5"),
    ]


def _wd_hidden(rng: np.random.Generator) -> list[Case]:
    out = []
    for shape, lr, lam in (((7,), 0.05, 1e-3), ((4, 6), 0.01, 5e-4), ((64, 10), 0.1, 1e-2)):
        out.append(Case((rng.normal(size=shape), rng.normal(size=shape), lr, lam),
                        f"random {shape}, lr = {lr}, lam = {lam}"))
    out.append(Case((rng.uniform(-1000, 1000, size=(3, 5)), rng.normal(size=(3, 5)), 0.01, 0.1),
                    "weights of order ±1000"))
    out.append(Case((rng.normal(size=(5, 4)).astype(np.float32),
                     rng.normal(size=(5, 4)).astype(np.float32), 0.1, 0.01), "float32 input"))
    out.append(Case((rng.normal(size=(1, 3)), np.zeros((1, 3)), 1.0, 0.5),
                    "lr·lam = 0.5: the weights halve"))
    out.append(Case((np.zeros(4), rng.normal(size=4), 0.1, 0.3), "zero weights: nothing to decay"))
    return out


def _wd(w: Any, g: Any, lr: float, lam: float, rule: Callable[..., Array]) -> Array:
    return rule(np.asarray(w, dtype=np.float64), np.asarray(g, dtype=np.float64), lr, lam)


WEIGHT_DECAY_STEP = FunctionCheck(
    id="07.sgd_step_with_weight_decay",
    title="sgd_step_with_weight_decay",
    reference=sgd_step_with_weight_decay_reference,
    cases=_wd_cases,
    hidden_cases=_wd_hidden,
    tol=LOOSE,
    mistakes=(
        Mistake("the decay with the wrong sign",
                "the penalty pulls weights towards 0: add lam·w to the gradient, w − lr·(g + lam·w)",
                partial(_wd, rule=lambda w, g, lr, lam: w - lr * (g - lam * w))),
        Mistake("the decay not scaled by the learning rate",
                "the decay is part of the gradient, so lr multiplies it too: w − lr·(g + lam·w)",
                partial(_wd, rule=lambda w, g, lr, lam: w - lr * g - lam * w)),
        Mistake("the gradient of lam·‖w‖² instead of ½·lam·‖w‖²",
                "with the ½ in the penalty the decay term is lam·w, not 2·lam·w",
                partial(_wd, rule=lambda w, g, lr, lam: w - lr * (g + 2 * lam * w))),
        Mistake("an L1 decay", "L2 weight decay adds lam·w, not lam·sign(w)",
                partial(_wd, rule=lambda w, g, lr, lam: w - lr * (g + lam * np.sign(w)))),
        Mistake("the gradient decayed instead of the weights",
                "decay the weights: the extra term is lam·w, not lam·g",
                partial(_wd, rule=lambda w, g, lr, lam: w - lr * (g + lam * g))),
        Mistake("the decay forgotten", "add lam·w to the gradient before the step",
                partial(_wd, rule=lambda w, g, lr, lam: w - lr * g)),
    ),
)


l2_penalty_reference = l2_penalty


def _l2_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(([np.array([[1.0, -2.0], [3.0, 0.0]])], 0.1), "one (2, 2) matrix, lam = 0.1"),
        Case(([np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([2.0, -2.0, 1.0])], 1.0),
             "two arrays of different shapes, lam = 1"),
        Case(([np.array([3.0, 4.0])], 0.5), "one vector of norm 5, lam = 0.5"),
        Case(([np.array([1.0, 2.0]), np.array([[5.0]])], 0.0), "lam = 0"),
    ]


def _l2_hidden(rng: np.random.Generator) -> list[Case]:
    shapes = ((64, 32), (32,), (32, 10), (10,))
    return [
        Case(([rng.normal(size=s) for s in shapes], 1e-3), "four arrays of an MLP, lam = 1e-3"),
        Case(([rng.normal(size=(5, 5))], 0.3), "a single random matrix"),
        Case(([rng.uniform(-1000, 1000, size=(4, 3)), rng.uniform(-1000, 1000, size=3)], 1e-4),
             "weights of order ±1000"),
        Case(([rng.normal(size=(6, 2)).astype(np.float32), rng.normal(size=2).astype(np.float32)],
              0.01), "float32 arrays"),
        Case(([], 0.1), "an empty list: no weights, no penalty"),
        Case(([np.zeros((3, 3)), np.array([0.5])], 2.0), "mostly zeros"),
        Case(((rng.normal(size=(2, 3)), rng.normal(size=(3, 1))), 0.2), "a tuple of arrays"),
    ]


def _l2_no_half(weights: Sequence[Any], lam: float) -> float:
    return 2.0 * l2_penalty_reference(weights, lam)


def _l2_norm(weights: Sequence[Any], lam: float) -> float:
    return 0.5 * lam * math.sqrt(sum(float(np.sum(np.asarray(w, dtype=np.float64) ** 2))
                                     for w in weights))


def _l2_sum_of_norms(weights: Sequence[Any], lam: float) -> float:
    return 0.5 * lam * sum(float(np.linalg.norm(np.ravel(w))) for w in weights)


def _l2_mean(weights: Sequence[Any], lam: float) -> float:
    return 0.5 * lam * sum(float(np.mean(np.asarray(w, dtype=np.float64) ** 2)) for w in weights)


def _l2_first(weights: Sequence[Any], lam: float) -> float:
    return l2_penalty_reference(list(weights)[:1], lam)


def _l2_abs(weights: Sequence[Any], lam: float) -> float:
    return 0.5 * lam * sum(float(np.sum(np.abs(w))) for w in weights)


L2_PENALTY = FunctionCheck(
    id="07.l2_penalty",
    title="l2_penalty",
    reference=l2_penalty_reference,
    cases=_l2_cases,
    hidden_cases=_l2_hidden,
    kind="float",
    tol=LOOSE,
    mistakes=(
        Mistake("the ½ left out", "the penalty is ½·lam·‖w‖², so that its gradient is lam·w",
                _l2_no_half),
        Mistake("the norm instead of the squared norm",
                "square every weight and sum: no square root", _l2_norm),
        Mistake("a sum of norms", "sum the squares of all the entries; no square root per array",
                _l2_sum_of_norms),
        Mistake("a mean instead of a sum", "‖W‖² is the sum of the squares, not their mean",
                _l2_mean),
        Mistake("only the first array", "loop over every array in weights", _l2_first),
        Mistake("absolute values (L1)", "square the weights instead of taking |w|", _l2_abs),
    ),
)


# Dropout.

def dropout_forward_reference(x: Any, p: float, rng: np.random.Generator,
                              training: bool = True) -> tuple[Array, Array]:
    """Inverted dropout, drawn like ``reference_impl.layers.Dropout``: (out, mask), x's shape.

    Training: mask = [u < 1 − p] / (1 − p) with u ~ U[0, 1) from ``rng``; out = x · mask.
    Inference (or p = 0): out = x and mask is all ones.
    """
    arr = np.asarray(x)
    if not training or p == 0:
        return arr.copy(), np.ones_like(arr)
    keep = 1.0 - p
    mask = ((rng.random(arr.shape) < keep) / keep).astype(arr.dtype)
    return arr * mask, mask



def _dropout_inference_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([[1.0, -2.0, 3.0], [0.5, 0.0, 4.0]]), 0.5, 0), "p = 0.5, a (2, 3) batch"),
        Case((np.array([[2.0, 2.0, 2.0, 2.0]]), 0.2, 1), "p = 0.2, one example"),
        Case((rng.normal(size=(4, 5)), 0.8, 2), "p = 0.8"),
    ]


def _dropout_inference_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(size=(10, 7)), 0.3, 3), "random (10, 7), p = 0.3"),
        Case((rng.normal(size=(3, 4, 5)), 0.5, 4), "a 3-D input"),
        Case((rng.uniform(-1000, 1000, size=(6, 6)), 0.5, 5), "values of order ±1000"),
        Case((rng.normal(size=(5, 3)).astype(np.float32), 0.25, 6), "float32 input"),
        Case((rng.normal(size=(4, 4)), 0.0, 7), "p = 0"),
    ]


def _inference_scaled(x: Any, p: float, rng: np.random.Generator,
                      training: bool = True) -> tuple[Array, Array]:
    arr = np.asarray(x, dtype=np.float64)
    return arr * (1 - p), np.full_like(arr, 1 - p)


def _inference_inverted_twice(x: Any, p: float, rng: np.random.Generator,
                              training: bool = True) -> tuple[Array, Array]:
    arr = np.asarray(x, dtype=np.float64)
    return arr / (1 - p), np.full_like(arr, 1 / (1 - p))


def _inference_dropped(x: Any, p: float, rng: np.random.Generator,
                       training: bool = True) -> tuple[Array, Array]:
    return dropout_forward_reference(x, p, rng, training=True)


def _inference_no_mask(x: Any, p: float, rng: np.random.Generator,
                       training: bool = True) -> tuple[Array, Array]:
    arr = np.asarray(x, dtype=np.float64)
    return arr.copy(), np.zeros_like(arr)


DROPOUT_INFERENCE = FunctionCheck(
    id="07.dropout.inference",
    title="dropout_forward with training=False",
    reference=dropout_forward_reference,
    cases=_dropout_inference_cases,
    hidden_cases=_dropout_inference_hidden,
    probe=probe("nb07.dropout_inference"),
    kind=("array", "array"),
    tol=EXACT,
    mistakes=(
        Mistake("scaling at inference (non-inverted dropout)",
                "with inverted dropout the training pass already divides by 1 − p, so at "
                "inference out = x exactly and mask is all ones", _inference_scaled),
        Mistake("the training scale applied at inference",
                "nothing is dropped at inference, so nothing needs rescaling: out = x",
                _inference_inverted_twice),
        Mistake("units dropped at inference",
                "look at the training flag: with training=False return x unchanged (and a "
                "mask of ones); dropout only acts while training", _inference_dropped),
        Mistake("a mask of zeros at inference",
                "at inference every unit is kept: mask = np.ones_like(x), so backward passes "
                "dout through", _inference_no_mask),
    ),
)




def _dropout_training_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.ones((40, 50)), 0.5, 10), "x = ones (40, 50), p = 0.5"),
        Case((rng.normal(size=(40, 50)), 0.2, 11), "random (40, 50), p = 0.2"),
        Case((rng.uniform(0.5, 2.0, size=(25, 80)), 0.7, 12), "positive (25, 80), p = 0.7"),
    ]


def _dropout_training_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(size=(50, 40)), 0.3, 20), "random (50, 40), p = 0.3"),
        Case((rng.normal(size=(10, 20, 12)), 0.5, 21), "a 3-D input"),
        Case((rng.normal(size=(40, 60)).astype(np.float32), 0.4, 22), "float32 input"),
        Case((rng.uniform(-1000, 1000, size=(30, 50)), 0.6, 23), "values of order ±1000"),
        Case((rng.normal(size=(40, 50)), 0.9, 24), "p = 0.9"),
        Case((rng.normal(size=(40, 50)), 0.05, 25), "p = 0.05"),
        Case((rng.normal(size=(20, 30)), 0.0, 26), "p = 0: nothing is dropped"),
        Case((rng.normal(size=(1, 2000)), 0.5, 27), "a single example of 2000 units"),
    ]


DROPOUT_TRAINING = PropertyCheck(
    id="07.dropout.training",
    title="dropout_forward with training=True",
    cases=_dropout_training_cases,
    hidden_cases=_dropout_training_hidden,
    probe=probe("nb07.dropout_training"),
    kind=("array", "array", "array", "array"),
    judge="nb07.judge_dropout_case",
)


def dropout_backward_reference(dout: Any, mask: Any) -> Array:
    """dx = dout · mask: the gradient flows only through the units forward kept, scaled alike."""
    return np.asarray(dout) * np.asarray(mask)


def _mask(rng: np.random.Generator, shape: tuple[int, ...], p: float) -> Array:
    keep = 1.0 - p
    return (rng.random(shape) < keep) / keep


def _dropout_backward_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.0]]),
              np.array([[2.0, 0.0, 2.0, 0.0], [0.0, 2.0, 2.0, 2.0]])), "p = 0.5: mask 0 or 2"),
        Case((np.array([[0.4, -0.8, 1.6]]), np.array([[1.25, 1.25, 0.0]])),
             "p = 0.2: mask 0 or 1.25"),
        Case((np.array([[1.0, -1.0], [3.0, 2.0]]), np.ones((2, 2))),
             "the inference mask, all ones: dx = dout"),
    ]


def _dropout_backward_hidden(rng: np.random.Generator) -> list[Case]:
    out = []
    for shape, p in (((8, 5), 0.3), ((3, 4, 6), 0.5), ((1, 50), 0.9)):
        out.append(Case((rng.normal(size=shape), _mask(rng, shape, p)), f"random {shape}, p = {p}"))
    out.append(Case((rng.normal(size=(6, 4)).astype(np.float32),
                     _mask(rng, (6, 4), 0.25).astype(np.float32)), "float32"))
    out.append(Case((rng.uniform(-1000, 1000, size=(5, 5)), _mask(rng, (5, 5), 0.4)),
                    "gradients of order ±1000"))
    return out


def _bw_ignore_mask(dout: Any, mask: Any) -> Array:
    return np.asarray(dout, dtype=np.float64).copy()


def _bw_boolean(dout: Any, mask: Any) -> Array:
    return np.asarray(dout, dtype=np.float64) * (np.asarray(mask) > 0)


def _bw_squared(dout: Any, mask: Any) -> Array:
    return np.asarray(dout, dtype=np.float64) * np.asarray(mask, dtype=np.float64) ** 2


DROPOUT_BACKWARD = FunctionCheck(
    id="07.dropout_backward",
    title="dropout_backward",
    reference=dropout_backward_reference,
    cases=_dropout_backward_cases,
    hidden_cases=_dropout_backward_hidden,
    probe=probe("common.same_twice", hint="backward uses the mask it is given, the one forward "
                "drew (dx = dout * mask), never a new random one"),
    tol=LOOSE,
    shape_hint="dx has the shape of dout and of x: one gradient for every entry",
    mistakes=(
        Mistake("the mask ignored", "a dropped unit did not affect the output, so its gradient "
                "is 0: multiply dout by the mask", _bw_ignore_mask),
        Mistake("the scale left out of the gradient",
                "forward multiplied the kept units by 1/(1 − p), so backward must too: "
                "dout * mask with the scaled mask", _bw_boolean),
        Mistake("the mask applied twice", "out = x · mask, so dx = dout · mask, once",
                _bw_squared),
    ),
)


# Diagnostics.

def dead_units_reference(activations: Any) -> tuple[Array, float]:
    """(dead, fraction): dead (M,) is True for the units never positive on the batch (N, M)."""
    a = np.asarray(activations)
    dead = ~np.any(a > 0, axis=0)
    return dead, float(np.mean(dead))


def _dead_cases(rng: np.random.Generator) -> list[Case]:
    a = np.array([[0.0, 1.2, 0.0, 0.3], [0.0, 0.0, 0.0, 2.0], [0.0, 0.7, 0.0, 0.0]])
    return [
        Case((a,), "3 examples, 4 units: units 0 and 2 never fire"),
        Case((np.array([[0.5, 0.0, 0.0], [0.0, 0.4, 0.0]]),),
             "every unit off for some example, unit 2 off for all"),
        Case((np.zeros((2, 3)),), "all units dead"),
        Case((np.array([[1.0, 2.0], [3.0, 4.0]]),), "no unit dead"),
    ]


def _dead_hidden(rng: np.random.Generator) -> list[Case]:
    out = []
    for n, m, frac in ((64, 32, 0.25), (200, 10, 0.5), (5, 100, 0.1)):
        a = np.maximum(rng.normal(size=(n, m)), 0.0)
        a[:, rng.random(m) < frac] = 0.0
        out.append(Case((a,), f"ReLU outputs ({n}, {m})"))
    tiny = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1e-9, 2.0], [0.0, 0.0, 0.0]])
    out.append(Case((tiny,), "one tiny positive activation keeps its unit alive"))
    single = np.maximum(rng.normal(size=(1, 12)), 0.0)
    out.append(Case((single,), "a single example"))
    a32 = np.maximum(rng.normal(size=(30, 8)), 0.0).astype(np.float32)
    a32[:, 3] = 0.0
    out.append(Case((a32,), "float32 activations"))
    out.append(Case((np.maximum(rng.normal(size=(10, 1)), 0.0),), "one unit"))
    big = np.maximum(rng.uniform(-1000, 1000, size=(20, 6)), 0.0)
    big[:, 0] = 0.0
    out.append(Case((big,), "activations up to 1000"))
    signed = rng.normal(size=(15, 6)) - 1.0
    signed[:, 2] = -np.abs(signed[:, 2])
    out.append(Case((signed,), "values of both signs: a unit whose every value is ≤ 0 is dead, "
                    "negative ones included"))
    return out


def _dead_axis(a: Any) -> tuple[Array, float]:
    dead = ~np.any(np.asarray(a) > 0, axis=1)
    return dead, float(np.mean(dead))


def _dead_any(a: Any) -> tuple[Array, float]:
    dead = np.any(np.asarray(a) <= 0, axis=0)
    return dead, float(np.mean(dead))


def _dead_count(a: Any) -> tuple[Array, float]:
    dead = ~np.any(np.asarray(a) > 0, axis=0)
    return dead, float(np.sum(dead))


def _dead_alive(a: Any) -> tuple[Array, float]:
    dead = ~np.any(np.asarray(a) > 0, axis=0)
    return dead, float(1.0 - np.mean(dead))


def _dead_isclose(a: Any) -> tuple[Array, float]:
    dead = np.all(np.isclose(np.asarray(a, dtype=np.float64), 0.0), axis=0)
    return dead, float(np.mean(dead))


DEAD_UNITS = FunctionCheck(
    id="07.dead_units",
    title="dead_units",
    reference=dead_units_reference,
    cases=_dead_cases,
    hidden_cases=_dead_hidden,
    kind=("array", "float"),
    tol=LOOSE,
    mistakes=(
        Mistake("the examples reduced instead of the units",
                "a unit is a column: reduce over the batch, axis=0", _dead_axis),
        Mistake("units off for some example",
                "a unit is dead only if it is off for every example: it must never be > 0",
                _dead_any),
        Mistake("a count instead of a fraction", "divide the number of dead units by M",
                _dead_count),
        Mistake("the fraction of live units", "return the fraction of dead units", _dead_alive),
        Mistake("tiny activations taken for zero",
                "any activation > 0 means the unit fired; np.isclose(a, 0) treats 1e-9 as 0",
                _dead_isclose),
    ),
)


# The tiny-subset sanity check.


@lru_cache(maxsize=4)
def tiny_subset(seed: int, per_class: int) -> tuple[Array, Array]:
    """``per_class`` digits of each class, chosen by ``seed``: X (N, 64) in [0, 1], y (N,)."""
    X, y = load_digits()
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == k), per_class, replace=False)
                          for k in range(DIGITS_OUT)])
    idx = rng.permutation(idx)
    return X[idx], y[idx]


def overfit_tiny_reference(X: Any, y: Any, seed: int) -> Any:
    """A 64-64-10 ReLU MLP trained full-batch with momentum to near-zero training loss."""
    rng = np.random.default_rng(seed)
    model = mlp([DIGITS_IN, 64, DIGITS_OUT], rng=rng)
    history = fit(model, Momentum(lr=0.1, mu=0.9), X, y, epochs=100, batch_size=len(X), rng=rng)
    return model, history



def _tiny_cases(rng: np.random.Generator) -> list[Case]:
    X, y = tiny_subset(0, 2)
    return [Case((X, y, 0), "20 digits, seed 0")]


def _tiny_hidden(rng: np.random.Generator) -> list[Case]:
    X1, y1 = tiny_subset(1, 2)
    X2, y2 = tiny_subset(2, 3)
    return [Case((X1, y1, 5), "20 other digits, seed 5"), Case((X2, y2, 6), "30 digits, seed 6")]


OVERFIT_TINY = PropertyCheck(
    id="07.overfit_tiny",
    title="overfit_tiny: training loss on a tiny subset",
    reference=overfit_tiny_reference,
    cases=_tiny_cases,
    hidden_cases=_tiny_hidden,
    probe=probe("nb07.tiny_scores"),
    kind="array",
    judge="nb07.judge_tiny",
    hint="a network with a few thousand weights can memorise 20 digits: train on exactly the "
         "X and y you are given, for enough steps (full-batch, ~100 epochs), with no weight "
         "decay, and return the trained model",
)


# Depth against width at a budget of 64 hidden units.

SHAPES = {
    "1x64": [DIGITS_IN, 64, DIGITS_OUT],
    "2x32": [DIGITS_IN, 32, 32, DIGITS_OUT],
    "4x16": [DIGITS_IN, 16, 16, 16, 16, DIGITS_OUT],
}


def _weights_only(sizes: Sequence[int]) -> int:
    return sum(a * b for a, b in pairwise(sizes))


def _count_mistakes(sizes: list[int]) -> tuple[tuple[float, str, str], ...]:
    hidden = sizes[1:-1]
    return (
        (_weights_only(sizes), "the biases left out", "every layer also has one bias per unit"),
        (count_parameters(sizes[:-1]), "the output layer left out",
         "the last hidden layer still connects to 10 output units"),
        (count_parameters(sizes[1:]), "the input layer left out",
         "the first hidden layer has 64 inputs, one per pixel"),
        (sum(hidden) + DIGITS_OUT, "units counted instead of parameters",
         "count weights and biases: d_in · d_out + d_out per layer"),
        (count_parameters(sizes) - DIGITS_OUT, "the output biases left out",
         "the 10 output units have biases too"),
    )


def _count_check(name: str) -> ValueCheck:
    sizes = SHAPES[name]
    return ValueCheck(
        id=f"07.n_params_{name}", title=f"n_params_{name}",
        expected=partial(count_parameters, sizes), kind="int", tol=EXACT,
        mistakes=_count_mistakes(sizes),
    )


N_PARAMS_1X64 = _count_check("1x64")
N_PARAMS_2X32 = _count_check("2x32")
N_PARAMS_4X16 = _count_check("4x16")

# Batch normalisation, as a module: forward in both modes, the running statistics, backward.

def _f64(a: Any) -> Array:
    return np.asarray(a, dtype=np.float64)


class _BatchNormFlawed:
    """Batch normalisation with one flaw, named in ``flaw``; float64 throughout."""

    def __init__(self, gamma: Any, beta: Any, momentum: float = 0.9, eps: float = 1e-5, *,
                 flaw: str) -> None:
        self.flaw, self.momentum, self.eps = flaw, momentum, eps
        self.params = {"gamma": np.array(gamma, dtype=np.float64),
                       "beta": np.array(beta, dtype=np.float64)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        m = len(self.params["gamma"])
        self.running_mean = np.zeros(m)
        self.running_var = np.zeros(m) if flaw == "var_starts_at_0" else np.ones(m)
        self.cache: tuple[Array, Array, Array] = (np.zeros(0), np.zeros(0), np.zeros(0))

    def _update(self, mean: Array, var: Array) -> None:
        flaw = self.flaw
        if flaw == "running_never_updated":
            return
        if flaw == "std_in_running":
            var = np.sqrt(var)
        if flaw == "normalised_stats":
            mean, var = np.zeros_like(mean), np.ones_like(var)
        keep = 1.0 - self.momentum if flaw == "momentum_swapped" else self.momentum
        self.running_mean = keep * self.running_mean + (1.0 - keep) * mean
        self.running_var = keep * self.running_var + (1.0 - keep) * var

    def forward(self, x: Any, training: bool = True) -> Array:
        x, flaw = _f64(x), self.flaw
        batch_mean = x.mean(axis=0)
        batch_var = x.var(axis=0, ddof=1 if flaw == "unbiased" else 0)
        if training or flaw == "updated_at_inference":
            self._update(batch_mean, batch_var)
        mean: Array = self.running_mean
        var: Array = self.running_var
        if training and flaw == "features_axis":
            mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
        elif (training and flaw != "running_stats_in_training") or (
                not training and flaw == "batch_stats_at_inference"):
            mean, var = batch_mean, batch_var
        if flaw == "eps_outside":
            s = np.sqrt(var) + self.eps
        elif flaw == "no_sqrt":
            s = var + self.eps
        elif flaw == "no_eps_at_inference" and not training:
            s = np.sqrt(var)
        else:
            s = np.sqrt(var + self.eps)
        x_hat = (x - mean) / s
        self.cache = (x, x_hat, s)
        g, b = self.params["gamma"], self.params["beta"]
        if flaw == "no_affine" or (flaw == "no_affine_at_inference" and not training):
            return x_hat
        if flaw == "affine_swapped":
            return b * x_hat + g
        return g * x_hat + b

    def backward(self, dy: Any) -> Array:
        dy = _f64(dy)
        x, x_hat, s = self.cache
        n, flaw = dy.shape[0], self.flaw
        dgamma = {"dgamma_x": np.sum(dy * x, axis=0), "dgamma_mean": np.mean(dy * x_hat, axis=0),
                  "dgamma_not_summed": dy * x_hat}.get(flaw, np.sum(dy * x_hat, axis=0))
        dbeta = {"dbeta_mean": np.mean(dy, axis=0), "dbeta_not_summed": dy,
                 "dbeta_features": np.sum(dy, axis=1)}.get(flaw, np.sum(dy, axis=0))
        if flaw == "overwrite":
            self.grads = {"gamma": dgamma, "beta": dbeta}
        else:
            _accumulate(self.grads, "gamma", dgamma)
            _accumulate(self.grads, "beta", dbeta)
        scale = (1.0 if flaw == "dx_no_gamma" else self.params["gamma"]) / s
        mean_dy, mean_dyx = dy.mean(axis=0), np.mean(dy * x_hat, axis=0)
        if flaw == "dx_constants":
            return dy * scale
        if flaw == "dx_no_variance_path":
            return scale * (dy - mean_dy)
        if flaw == "dx_no_mean_path":
            return scale * (dy - x_hat * mean_dyx)
        if flaw == "dx_n_minus_1":
            return scale * (dy - mean_dy * n / (n - 1) - x_hat * mean_dyx * n / (n - 1))
        return scale * (dy - mean_dy - x_hat * mean_dyx)


def _accumulate(grads: dict[str, Array], name: str, value: Array) -> None:
    grads[name] = grads[name] + value if grads[name].shape == value.shape else value


def _flawed_bn(flaw: str) -> Callable[..., _BatchNormFlawed]:
    return partial(_BatchNormFlawed, flaw=flaw)


def _bn_case(gamma: Any, beta: Any, xs: Sequence[Any], dys: Sequence[Any], x_test: Any, label: str,
             **kwargs: float) -> Case:
    return Case((np.asarray(gamma, dtype=np.float64), np.asarray(beta, dtype=np.float64),
                 [np.asarray(x) for x in xs], [np.asarray(d) for d in dys], np.asarray(x_test)),
                label, kwargs)


def _bn_cases(rng: np.random.Generator) -> list[Case]:
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 40.0], [7.0, 20.0]])
    dy = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 2.0], [0.5, -1.0]])
    x2 = np.array([[0.0, 2.0, -1.0], [2.0, 4.0, 0.0], [4.0, 0.0, 1.0]])
    dy2 = np.array([[1.0, -1.0, 0.5], [0.0, 2.0, 1.0], [1.0, 0.0, -2.0]])
    x3 = np.array([[1.0, -2.0, 0.5], [-1.0, 0.0, 1.5], [0.0, 2.0, -0.5]])
    dy3 = np.array([[0.5, 1.0, 0.0], [-1.0, 0.0, 1.0], [2.0, -0.5, 1.0]])
    tiny = np.array([[1.0, 0.0], [1.002, 1.0], [0.999, -1.0], [1.001, 2.0]])
    return [
        _bn_case([2.0, 1.0], [0.5, -1.0], [x], [dy], np.array([[4.0, 20.0], [0.0, 0.0]]),
                 "4 examples, 2 features, γ = (2, 1), β = (0.5, −1); momentum and eps left at "
                 "their defaults 0.9 and 1e-5"),
        _bn_case([1.0, 0.5, 2.0], [0.0, 1.0, -1.0], [x2, x3], [dy2, dy3],
                 np.array([[1.0, 1.0, 1.0]]),
                 "two training batches of 3 examples, momentum 0.5: the running statistics "
                 "move twice, the gradients of γ and β add up", momentum=0.5, eps=1e-5),
        _bn_case([1.0, 1.0], [0.0, 0.0], [tiny], [dy], np.array([[1.0, 0.5], [1.001, 0.0]]),
                 "feature 0 barely varies (variance 1.25e-6): ε = 1e-3 inside the square root "
                 "sets its scale", momentum=0.8, eps=1e-3),
    ]


def _bn_hidden(rng: np.random.Generator) -> list[Case]:
    out = []
    for n, m in ((8, 5), (32, 3), (2, 4)):
        xs = [rng.normal(size=(n, m)) * rng.uniform(0.5, 3, m) + rng.uniform(-2, 2, m) for _ in range(3)]
        out.append(_bn_case(rng.uniform(0.5, 2, m), rng.normal(size=m), xs,
                            [rng.normal(size=(n, m)) for _ in xs], rng.normal(size=(5, m)),
                            f"three random batches of ({n}, {m})",
                            momentum=float(rng.choice([0.5, 0.9, 0.99])), eps=1e-5))
    xs = [rng.normal(size=(6, 3)).astype(np.float32) for _ in range(2)]
    out.append(_bn_case(np.ones(3), np.zeros(3), xs, [rng.normal(size=(6, 3)) for _ in xs],
                        rng.normal(size=(2, 3)).astype(np.float32), "float32 batches"))
    big = [rng.uniform(-1000, 1000, size=(10, 4)) for _ in range(2)]
    out.append(_bn_case(rng.uniform(0.5, 2, 4), rng.normal(size=4), big,
                        [rng.normal(size=(10, 4)) for _ in big], rng.uniform(-1000, 1000, size=(3, 4)),
                        "inputs of order ±1000", momentum=0.9, eps=1e-5))
    ints = [np.array([[1, 2], [3, 5], [2, 9], [0, 4]]), np.array([[2, 2], [1, 0], [4, 1]])]
    out.append(_bn_case([1, 2], [0, 1], ints, [rng.normal(size=(4, 2)), rng.normal(size=(3, 2))],
                        np.array([[1, 1]]), "integer inputs, integer γ and β: the layer holds floats"))
    flat = rng.normal(size=(5, 3))
    flat[:, 1] = 2.0
    out.append(_bn_case(np.ones(3), np.zeros(3), [flat], [rng.normal(size=(5, 3))],
                        np.array([[0.0, 2.0, 0.0]]), "a feature constant over the batch",
                        momentum=0.9, eps=1e-5))
    out.append(_bn_case(rng.uniform(0.5, 2, 2), rng.normal(size=2),
                        [rng.normal(size=(4, 2)) * 0.01 + 3.0], [rng.normal(size=(4, 2))],
                        rng.normal(size=(3, 2)) * 0.01 + 3.0,
                        "small spread (standard deviation 0.01) far from 0, eps left out",
                        momentum=0.7))
    return out


def _bn_inference_cases(rng: np.random.Generator) -> list[Case]:
    cases = _bn_cases(rng)
    untrained = _bn_case([2.0, 1.0], [1.0, 0.0], [], [], np.array([[1.0, -2.0], [3.0, 0.5]]),
                         "inference before any training: running mean 0, running variance 1")
    return [*cases, untrained]


def _bn_inference_hidden(rng: np.random.Generator) -> list[Case]:
    return [*_bn_hidden(rng), _bn_case(rng.uniform(0.5, 2, 3), rng.normal(size=3), [], [],
                                       rng.normal(size=(4, 3)), "inference before any training")]


_BN_OVERWRITE = Mistake("gradients overwritten, not accumulated",
                        "a second backward must add to grads (self.grads['gamma'] += ...)",
                        _flawed_bn("overwrite"))


def _bn_check(part: str, title: str, mistakes: tuple[Mistake, ...], kind: Any = "array",
              cases: Callable[[np.random.Generator], list[Case]] = _bn_cases,
              hidden: Callable[[np.random.Generator], list[Case]] = _bn_hidden) -> FunctionCheck:
    return FunctionCheck(
        id=f"07.batchnorm.{part}", title=f"BatchNorm: {title}", reference=BatchNorm.from_arrays,
        cases=cases, hidden_cases=hidden, probe=probe("nb07.batchnorm_part", part=part), kind=kind,
        tol=LOOSE, mistakes=mistakes,
    )


BATCHNORM_TRAIN = _bn_check("train", "forward in training mode (batch statistics)", (
    Mistake("statistics over the features instead of the batch",
            "each feature (column) is normalised over the examples of the batch: mean and "
            "variance along axis=0", _flawed_bn("features_axis")),
    Mistake("the unbiased variance (N − 1)", "normalise with the batch's 1/N variance, x.var(axis=0)",
            _flawed_bn("unbiased")),
    Mistake("ε outside the square root", "divide by √(σ² + ε), not √σ² + ε", _flawed_bn("eps_outside")),
    Mistake("divided by the variance", "divide by the standard deviation √(σ² + ε)",
            _flawed_bn("no_sqrt")),
    Mistake("γ and β left out", "y = γ x̂ + β: scale and shift the normalised values",
            _flawed_bn("no_affine")),
    Mistake("γ and β swapped", "γ scales, β shifts: y = γ x̂ + β", _flawed_bn("affine_swapped")),
    Mistake("the running statistics used in training",
            "training normalises with the statistics of the current batch; the running ones "
            "are for inference", _flawed_bn("running_stats_in_training")),
))
BATCHNORM_RUNNING = _bn_check("running", "(running_mean, running_var) after the training batches", (
    Mistake("momentum on the wrong side",
            "running ← momentum · running + (1 − momentum) · batch statistic: the momentum weighs "
            "the old value (PyTorch's momentum is the other weight)", _flawed_bn("momentum_swapped")),
    Mistake("the running statistics never updated",
            "every training forward pass moves running_mean and running_var towards the batch's "
            "mean and variance", _flawed_bn("running_never_updated")),
    Mistake("the standard deviation averaged instead of the variance",
            "running_var averages the batch variances σ², not σ", _flawed_bn("std_in_running")),
    Mistake("running_var starting at 0", "the running variance starts at ones (and the mean at "
            "zeros), so an untrained layer at inference is almost the identity",
            _flawed_bn("var_starts_at_0")),
    Mistake("the statistics of the normalised values",
            "average the mean and variance of x itself, before normalising",
            _flawed_bn("normalised_stats")),
    Mistake("the unbiased variance (N − 1)", "use the batch's 1/N variance, x.var(axis=0)",
            _flawed_bn("unbiased")),
), kind=("array", "array"))
BATCHNORM_INFERENCE = _bn_check("inference", "forward with training=False, called twice", (
    Mistake("batch statistics at inference",
            "with training=False normalise with running_mean and running_var, so that one "
            "example's output does not depend on the rest of its batch",
            _flawed_bn("batch_stats_at_inference")),
    Mistake("running statistics updated at inference",
            "inference changes nothing: update the running statistics only when training",
            _flawed_bn("updated_at_inference")),
    Mistake("ε left out at inference", "divide by √(running_var + ε) in both modes",
            _flawed_bn("no_eps_at_inference")),
    Mistake("γ and β left out at inference", "y = γ x̂ + β in both modes",
            _flawed_bn("no_affine_at_inference")),
    Mistake("momentum on the wrong side",
            "running ← momentum · running + (1 − momentum) · batch statistic",
            _flawed_bn("momentum_swapped")),
), kind=("array", "array"), cases=_bn_inference_cases, hidden=_bn_inference_hidden)
BATCHNORM_DX = _bn_check("dx", "dx of backward (training mode)", (
    Mistake("μ and σ² treated as constants",
            "in training μ and σ² depend on every example of the batch: dx = (γ/(N s))(N dy − "
            "Σ dy − x̂ Σ dy x̂), not γ dy / s", _flawed_bn("dx_constants")),
    Mistake("the path through σ² left out", "subtract x̂ · mean(dy · x̂) as well",
            _flawed_bn("dx_no_variance_path")),
    Mistake("the path through μ left out", "subtract mean(dy) as well",
            _flawed_bn("dx_no_mean_path")),
    Mistake("γ left out of dx", "y = γ x̂ + β, so every path to x passes through γ",
            _flawed_bn("dx_no_gamma")),
    Mistake("N − 1 in the sums", "the statistics are means over N examples: divide by N",
            _flawed_bn("dx_n_minus_1")),
))
BATCHNORM_DGAMMA = _bn_check("dgamma", "grads['gamma'] after the backward passes", (
    Mistake("x instead of x̂", "γ multiplies x̂: dγ = Σₙ dy · x̂", _flawed_bn("dgamma_x")),
    Mistake("averaged over the batch", "sum over the batch: dγ = Σₙ dy · x̂ (the 1/N is inside dy)",
            _flawed_bn("dgamma_mean")),
    Mistake("not summed over the batch", "γ is shared by every example: sum dy · x̂ over axis 0, "
            "shape (M,)", _flawed_bn("dgamma_not_summed")),
    _BN_OVERWRITE,
))
BATCHNORM_DBETA = _bn_check("dbeta", "grads['beta'] after the backward passes", (
    Mistake("averaged over the batch", "sum over the batch: dβ = Σₙ dy", _flawed_bn("dbeta_mean")),
    Mistake("not summed over the batch", "β is shared by every example: dy.sum(axis=0), shape (M,)",
            _flawed_bn("dbeta_not_summed")),
    Mistake("summed over the features", "sum over the examples, axis=0", _flawed_bn("dbeta_features")),
    _BN_OVERWRITE,
))


# The loss before training: ln C, and the function that measures it.

EXPECTED_INITIAL_LOSS = ValueCheck(
    id="07.expected_initial_loss",
    title="expected_initial_loss: the loss of an untrained 10-class classifier, in nats",
    expected=lambda: math.log(DIGITS_OUT),
    kind="float",
    tol=Tolerance(digits=3),
    mistakes=(
        (math.log10(DIGITS_OUT), "log base 10", "the loss is in nats: the natural logarithm, "
         "np.log, not np.log10"),
        (math.log2(DIGITS_OUT), "log base 2 (bits)", "the loss is in nats: np.log, not np.log2"),
        (1 / DIGITS_OUT, "the probability of the true class", "the loss is −ln of that "
         "probability: −ln(1/10)"),
        (-math.log(DIGITS_OUT), "the wrong sign", "the loss is −ln(1/C) = ln C, a positive number"),
        (float(DIGITS_OUT), "the number of classes", "take the logarithm: −ln(1/C)"),
    ),
)


def initial_loss_reference(model: Any, X: Any, y: Any) -> tuple[float, float]:
    """(mean softmax cross-entropy in nats of model.forward(X, training=False), ln C)."""
    scores = np.asarray(model.forward(X, training=False), dtype=np.float64)
    labels = np.asarray(y).astype(np.intp)
    shifted = scores - scores.max(axis=1, keepdims=True)  # log-sum-exp without overflow
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(labels)), labels])), math.log(scores.shape[1])


def _il_flawed(model: Any, X: Any, y: Any, *, flaw: str) -> tuple[float, float]:
    training = flaw == "training_mode"
    scores = np.asarray(model.forward(X, training=training), dtype=np.float64)
    labels = np.asarray(y).astype(np.intp)
    axis = 0 if flaw == "columns" else 1
    shifted = scores - scores.max(axis=axis, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    picked = log_p[np.arange(len(labels)), labels]
    loss = {"sum": -np.sum(picked), "log10": -np.mean(picked) / math.log(10),
            "no_minus": np.mean(picked)}.get(flaw, -np.mean(picked))
    expected = {"hard_coded": math.log(10), "rows": math.log(len(labels)),
                "probability": 1 / scores.shape[1]}.get(flaw, math.log(scores.shape[1]))
    return float(loss), float(expected)


def _score_case(scores: Any, y: Any, label: str, training_scores: Any = None) -> Case:
    scores = np.asarray(scores, dtype=np.float64)
    table = ScoreTable(scores, None if training_scores is None else np.asarray(training_scores))
    return Case((table, np.zeros((len(scores), 64)), np.asarray(y)), label)


def _il_cases(rng: np.random.Generator) -> list[Case]:
    three = [[2.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 3.0, -1.0], [0.5, 0.5, 2.0]]
    return [
        _score_case(np.zeros((5, 10)), [0, 3, 9, 4, 4], "equal scores for 10 classes"),
        _score_case(three, [0, 1, 2, 2], "three classes: the baseline is ln 3"),
        _score_case(rng.normal(scale=0.1, size=(6, 10)), [1, 2, 3, 4, 5, 6],
                    "small random scores; while training the model's scores are others (as with "
                    "dropout): measure it in inference mode",
                    training_scores=rng.normal(scale=3.0, size=(6, 10))),
        _score_case([[1000.0, -1000.0, 0.0], [0.0, 1000.0, 999.0]], [0, 2],
                    "scores of ±1000: a naive softmax overflows"),
    ]


def _il_hidden(rng: np.random.Generator) -> list[Case]:
    out = []
    for n, c, scale in ((50, 10, 0.05), (20, 2, 1.0), (8, 100, 5.0), (30, 7, 0.5)):
        out.append(_score_case(rng.normal(scale=scale, size=(n, c)), rng.integers(0, c, size=n),
                               f"random scores ({n}, {c})"))
    out.append(_score_case(rng.normal(size=(1, 10)), [7], "a single example"))
    out.append(_score_case(rng.normal(size=(12, 10)).astype(np.float32),
                           rng.integers(0, 10, size=12).astype(np.uint8), "float32 scores, uint8 labels"))
    out.append(_score_case(rng.uniform(-2000, 2000, size=(9, 5)), rng.integers(0, 5, size=9),
                           "scores of order ±2000"))
    out.append(_score_case(rng.normal(size=(10, 4)), rng.integers(0, 4, size=10),
                           "a dropout-like model", training_scores=rng.normal(size=(10, 4)) * 4))
    out.append(_score_case(np.zeros((3, 10)), [0, 1, 2], "three equal rows: exactly ln 10"))
    return out


INITIAL_LOSS = FunctionCheck(
    id="07.initial_loss",
    title="initial_loss(model, X, y): (mean cross-entropy in nats, ln C)",
    reference=initial_loss_reference,
    cases=_il_cases,
    hidden_cases=_il_hidden,
    probe=probe("nb07.initial_loss_pair"),
    kind=("float", "float"),
    tol=LOOSE,
    mistakes=(
        Mistake("the model run in training mode", "measure the loss in inference mode, "
                "model.forward(X, training=False), as evaluate does", partial(_il_flawed, flaw="training_mode")),
        Mistake("log base 10", "the loss is in nats: np.log", partial(_il_flawed, flaw="log10")),
        Mistake("the sum instead of the mean", "average the examples' losses", partial(_il_flawed, flaw="sum")),
        Mistake("the minus sign forgotten", "the loss is −ln p of the true class, a positive number",
                partial(_il_flawed, flaw="no_minus")),
        Mistake("the softmax over the examples", "normalise each row (one example's scores over the "
                "C classes): axis=1", partial(_il_flawed, flaw="columns")),
        Mistake("ln 10 whatever the number of classes", "C is the number of columns of the "
                "scores: np.log(scores.shape[1])", partial(_il_flawed, flaw="hard_coded")),
        Mistake("ln N instead of ln C", "C is the number of classes, the columns of the scores, not "
                "the number of examples", partial(_il_flawed, flaw="rows")),
        Mistake("1/C instead of ln C", "the expected loss is −ln(1/C) = ln C",
                partial(_il_flawed, flaw="probability")),
    ),
)


# Saving and loading weights.

def _state(net: Net) -> dict[str, Array]:
    """The parameters of ``net`` by name, every entry moved by noise so that biases are not 0."""
    rng = np.random.default_rng(1000 + net.seed)
    return {name: np.round(p + rng.normal(scale=0.1, size=p.shape), 4).astype(p.dtype)
            for name, p, _ in net.build().named_parameters()}


def _save_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((Net((64, 32, 10), 0),), "a 64-32-10 network: 0.W, 0.b, 2.W, 2.b"),
        Case((Net((4, 3), 1),), "a single linear layer 4-3"),
        Case((Net((5, 4, 3), 2, activation="prelu"),),
             "a 5-4-3 network with PReLU, whose slopes 1.a are parameters too"),
    ]


def _save_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((Net((64, 16, 16, 16, 16, 16, 16, 10), 3),), "a deep network, names up to 12.W"),
        Case((Net((6, 5, 4), 4, nested=True),), "a nested Sequential: 0.0.W, 0.0.b, …"),
        Case((Net((3, 7, 2), 5, float32=True),), "float32 parameters"),
        Case((Net((8, 8, 8, 2), 6, activation="prelu", nested=True),), "nested, with PReLU"),
    ]


def _save_grads(model: Any, path: str) -> None:
    np.savez(path, **{name: g for name, _, g in model.named_parameters()})


def _save_weights_only(model: Any, path: str) -> None:
    np.savez(path, **{name: p for name, p, _ in model.named_parameters() if name.endswith("W")})


def _save_linear_only(model: Any, path: str) -> None:
    arrays = {f"{i}.{k}": v for i, m in enumerate(model) for k, v in m.params.items()
              if k in ("W", "b")}
    np.savez(path, **arrays)


def _save_positional(model: Any, path: str) -> None:
    np.savez(path, *[p for p, _ in model.parameters()])


SAVE_WEIGHTS = FunctionCheck(
    id="07.save_weights",
    title="save_weights(model, path): the arrays in the file, read by the model's names, and "
          "how many the file holds",
    reference=serialization.save_weights,
    cases=_save_cases,
    hidden_cases=_save_hidden,
    probe=probe("nb07.saved_weights"),
    kind=("array", "int"),
    tol=EXACT,
    mistakes=(
        Mistake("the gradients saved instead of the parameters",
                "named_parameters() yields (name, parameter, gradient): save the parameter",
                _save_grads),
        Mistake("the biases left out", "save every parameter, biases and slopes too",
                _save_weights_only),
        Mistake("only the Linear layers' W and b", "save every entry of named_parameters(): "
                "activations can have parameters (PReLU's slopes), and nested Sequentials name "
                "theirs \"0.0.W\"", _save_linear_only),
        Mistake("arrays saved by position (arr_0, arr_1, …)",
                "save each array under its name: np.savez(path, **{name: array, …})",
                _save_positional),
    ),
)


def _shuffled(state: dict[str, Array], rng: np.random.Generator) -> dict[str, Array]:
    names = list(state)
    return {names[i]: state[names[i]] for i in rng.permutation(len(names))}


def _load_cases(rng: np.random.Generator) -> list[Case]:
    deep = Net((64, 8, 8, 8, 8, 8, 8, 10), 2)
    return [
        Case((Net((64, 32, 10), 1), _state(Net((64, 32, 10), 0))),
             "a 64-32-10 network and a file saved from another one like it"),
        Case((Net((5, 4, 3), 3), dict(reversed(_state(Net((5, 4, 3), 4)).items()))),
             "a file whose entries come in reverse order: load by name, not by position"),
        Case((deep, _state(Net(deep.sizes, 5))),
             "a deep network: \"10.W\" and \"12.W\" sort before \"2.W\" as text"),
    ]


def _load_hidden(rng: np.random.Generator) -> list[Case]:
    out = []
    for net, other in ((Net((6, 5, 4), 6, nested=True), Net((6, 5, 4), 7, nested=True)),
                       (Net((5, 4, 3), 8, activation="prelu"), Net((5, 4, 3), 9, activation="prelu")),
                       (Net((3, 7, 2), 10, float32=True), Net((3, 7, 2), 11))):
        out.append(Case((net, _shuffled(_state(other), rng)), repr(net)))
    state = {k: v.astype(np.float32) for k, v in _state(Net((4, 6, 2), 12)).items()}
    out.append(Case((Net((4, 6, 2), 13), state), "float32 arrays in the file, a float64 model"))
    deep = Net((5, *[4] * 11, 3), 14)
    out.append(Case((deep, _state(Net(deep.sizes, 15))), "twelve layers, names up to 22.W"))
    return out


def _load_rebind(model: Any, path: str) -> None:
    with np.load(path) as archive:
        for name, _, _ in model.named_parameters():
            index, key = name.rsplit(".", 1)
            module = model
            for part in index.split("."):
                module = module[int(part)]
            module.params[key] = archive[name].copy()


def _load_by_position(model: Any, path: str) -> None:
    with np.load(path) as archive:
        for (p, _), name in zip(model.parameters(), sorted(archive.files), strict=False):
            p[...] = archive[name]


def _load_in_file_order(model: Any, path: str) -> None:
    with np.load(path) as archive:
        for (p, _), name in zip(model.parameters(), archive.files, strict=False):
            p[...] = archive[name]


def _load_nothing(model: Any, path: str) -> None:
    with np.load(path) as archive:
        _ = {name: archive[name] for name in archive.files}


LOAD_WEIGHTS = FunctionCheck(
    id="07.load_weights.roundtrip",
    title="load_weights(model, path): the model's parameters afterwards, and whether they are "
          "still the same arrays (1) or were replaced (0)",
    reference=serialization.load_weights,
    cases=_load_cases,
    hidden_cases=_load_hidden,
    probe=probe("nb07.loaded_weights"),
    kind=("array", "int"),
    tol=EXACT,
    mistakes=(
        Mistake("new arrays put in the model", "write into the arrays the model already holds, "
                "p[...] = saved, so that an optimizer holding them keeps working", _load_rebind),
        Mistake("arrays matched by sorted position", "look each parameter up by its name: "
                "archive[name]; sorted names put \"10.W\" before \"2.W\"", _load_by_position),
        Mistake("arrays matched by their order in the file", "look each parameter up by its "
                "name: archive[name]", _load_in_file_order),
        Mistake("nothing written into the model", "copy each array into the parameter of the "
                "same name, in place: p[...] = archive[name]", _load_nothing),
    ),
)


def _refuse_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((Net((64, 64, 10), 0), _state(Net((64, 32, 10), 1)), ("0.W",)),
             "a 64-64-10 model, a file from 64-32-10: 0.W is (64, 32) in the file"),
        Case((Net((64, 64, 16, 10), 0), _state(Net((64, 64, 32, 10), 1)), ("2.W", "2.b", "4.W")),
             "a 64-64-16-10 model, a file from 64-64-32-10: the first layer fits, 2.W does not"),
        Case((Net((64, 10), 0), _state(Net((64, 10, 10), 1)), ("2.W", "2.b")),
             "a 64-10 model, a file from 64-10-10: the file has entries the model lacks"),
        Case((Net((64, 10, 10), 0), _state(Net((64, 10), 1)), ("2.W", "2.b")),
             "a 64-10-10 model, a file from 64-10: the file lacks 2.W and 2.b"),
    ]


def _refuse_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((Net((5, 4, 3), 0, activation="prelu"), _state(Net((5, 4, 3), 1)), ("1.a",)),
             "PReLU slopes missing from the file"),
        Case((Net((6, 5, 4), 0, nested=True), _state(Net((6, 5, 4), 1)),
              ("0.W", "0.b", "1.W", "1.b", "0.0.W", "0.0.b", "0.2.W", "0.2.b", "2.W", "2.b")),
             "a nested model, a flat file"),
        Case((Net((8, 6, 6, 2), 0), _state(Net((8, 6, 7, 2), 1)), ("2.W", "2.b", "4.W")),
             "the last layers differ"),
        Case((Net((3, 4, 2), 0), {**_state(Net((3, 4, 2), 1)), "4.W": np.ones((2, 2))}, ("4.W",)),
             "one entry too many"),
    ]


LOAD_REFUSAL = PropertyCheck(
    id="07.load_weights.refuse",
    title="load_weights on a file of another architecture: a ValueError naming the entry, "
          "the model unchanged",
    cases=_refuse_cases,
    hidden_cases=_refuse_hidden,
    probe=probe("nb07.refusal"),
    kind=("int", "str", "int", "int"),
    judge="nb07.judge_refusal",
)


FORBIDDEN = ("reference_impl.layers.dropout", "reference_impl.regularization",
             "reference_impl.early_stopping", "reference_impl.layers.counting",
             "reference_impl.layers.batchnorm", "reference_impl.serialization")

register(
    EARLY_STOPPING_BEST, EARLY_STOPPING_STOP,
    STOPPER_SHOULD_STOP, STOPPER_BEST_WEIGHTS, STOPPER_RESTORE,
    WEIGHT_DECAY_STEP, L2_PENALTY,
    DROPOUT_INFERENCE, DROPOUT_TRAINING, DROPOUT_BACKWARD,
    DEAD_UNITS, OVERFIT_TINY,
    N_PARAMS_1X64, N_PARAMS_2X32, N_PARAMS_4X16,
)
register(
    BATCHNORM_TRAIN, BATCHNORM_RUNNING, BATCHNORM_INFERENCE,
    BATCHNORM_DX, BATCHNORM_DGAMMA, BATCHNORM_DBETA,
    EXPECTED_INITIAL_LOSS, INITIAL_LOSS, SAVE_WEIGHTS, LOAD_WEIGHTS, LOAD_REFUSAL,
)
