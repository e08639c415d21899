"""Checks of notebook 07, training in practice (ids ``07.<name>``).

Early stopping follows ``reference_impl.training.fit(..., patience=...)``: an epoch
improves when its validation loss is strictly below the best so far, and training
stops at the first epoch that is ``patience`` epochs past the best one. The weight-decay
step is checked against ``reference_impl.optimizers.SGD(weight_decay=...)``, whose decay
is the gradient of ½·λ·‖w‖². Dropout is random, so its training-mode check is
statistical: it inspects the output and mask the student's function draws (fraction
dropped, scale of the survivors, use of ``rng``) instead of comparing with one draw.
The tiny-subset sanity check trains with the student's function and measures the
training loss itself, in the grader's process.
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
from autograder.checks.notebooks.nb07 import Run
from autograder.specs.base import FunctionCheck, Mistake, PropertyCheck, ValueCheck
from autograder.specs.registry import register
from reference_impl import count_parameters, mlp
from reference_impl.data import load_digits
from reference_impl.optimizers import SGD, Momentum
from reference_impl.training import fit

Array = NDArray[Any]

# float32 cases lose about 1e-7 relative accuracy; every named mistake is off by far more.
LOOSE = Tolerance(rtol=1e-5, atol=1e-6)
EXACT = Tolerance(rtol=0.0, atol=0.0)
DIGITS_IN, DIGITS_OUT = 64, 10




# Early stopping, as a function of the validation curve.

def early_stopping_epoch_reference(val_losses: Any, patience: int) -> tuple[int, int]:
    """(best_epoch, stop_epoch), 0-based, of the rule in ``reference_impl.training.fit``.

    val_losses: (E,) the validation loss after each epoch. An epoch improves when its
    loss is strictly below every earlier one; training stops at the first epoch e with
    e − best ≥ patience, or runs all E epochs (stop_epoch = E − 1).
    """
    losses = np.asarray(val_losses, dtype=np.float64).ravel()
    best, best_loss = 0, math.inf
    for epoch, loss in enumerate(losses):
        if loss < best_loss:
            best, best_loss = epoch, float(loss)
        elif epoch - best >= patience:
            return best, epoch
    return best, len(losses) - 1


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

class EarlyStoppingReference:
    """Stop after ``patience`` epochs without a strictly lower validation loss.

    ``update(val_loss, weights) -> should_stop`` is called once per epoch with the live
    parameter arrays (a list); the best epoch's arrays are kept as copies, and
    ``restore(weights)`` writes them back into the live arrays in place.
    """

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.epoch = -1
        self.best_epoch: int | None = None
        self.best_loss = math.inf
        self.best_weights: list[Array] | None = None

    def update(self, val_loss: float, weights: Sequence[Array]) -> bool:
        self.epoch += 1
        if val_loss < self.best_loss:
            self.best_loss = float(val_loss)
            self.best_epoch = self.epoch
            self.best_weights = [np.array(w, copy=True) for w in weights]
            return False
        best = self.epoch if self.best_epoch is None else self.best_epoch
        return self.epoch - best >= self.patience

    def restore(self, weights: Sequence[Array]) -> None:
        if self.best_weights is None:
            raise ValueError("no epoch has been recorded yet: call update first")
        for w, best in zip(weights, self.best_weights, strict=True):
            w[...] = best


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


def l2_penalty_reference(weights: Sequence[Any], lam: float) -> float:
    """½·lam·Σ_k ‖W_k‖², summed over every entry of every array in ``weights``."""
    return 0.5 * lam * sum(float(np.sum(np.asarray(w, dtype=np.float64) ** 2)) for w in weights)


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

FORBIDDEN = ("reference_impl.layers.dropout", "reference_impl.regularization",
             "reference_impl.early_stopping", "reference_impl.layers.counting")

register(
    EARLY_STOPPING_BEST, EARLY_STOPPING_STOP,
    STOPPER_SHOULD_STOP, STOPPER_BEST_WEIGHTS, STOPPER_RESTORE,
    WEIGHT_DECAY_STEP, L2_PENALTY,
    DROPOUT_INFERENCE, DROPOUT_TRAINING, DROPOUT_BACKWARD,
    DEAD_UNITS, OVERFIT_TINY,
    N_PARAMS_1X64, N_PARAMS_2X32, N_PARAMS_4X16,
)
