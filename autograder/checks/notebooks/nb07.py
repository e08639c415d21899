"""Notebook 7 on the student's side: probes for early stopping, dropout and the tiny-subset run.

Early stopping is fed a recorded training run (``Run``: the live parameter values after
each epoch) and observed through what it returns and keeps. Dropout in training mode is
random, so its check judges what the student's function drew (fraction dropped, scale of
the survivors, use of ``rng``): ``judge_dropout`` needs no answer key, and the grader
applies the same function. The tiny-subset check trains with the student's function and
judges the training loss it reaches, on a model that has weights (a network, not a table).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from autograder.checks.cases import Case
from autograder.checks.findings import Finding
from autograder.checks.notebooks.common import own_generator_only

Array = NDArray[Any]


@dataclass(frozen=True)
class Run:
    """What training leaves in the live arrays after each epoch; printed in one line."""

    dlf_key: ClassVar[str] = "nb07.Run"

    values: list[list[Array]]
    note: str = ""

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.values[0])
        return f"<weights for {len(self.values)} epochs, arrays of shapes {shapes}{self.note}>"


def feed(cls: Any, case: Case) -> tuple[Any, list[Array], list[bool]]:
    """Train a fake model: the live arrays change in place, then ``update`` sees them."""
    patience, losses, run = case.args
    snapshots = run.values
    live = [np.array(a, copy=True) for a in snapshots[0]]
    stopper = cls(patience)
    flags: list[bool] = []
    for loss, snapshot in zip(losses, snapshots, strict=True):
        for w, value in zip(live, snapshot, strict=True):
            w[...] = value
        stop = bool(stopper.update(loss, live))
        flags.append(stop)
        if stop:
            break
    return stopper, live, flags


def _flat(arrays: Any) -> Array:
    if arrays is None:
        raise ValueError("best_weights is None: store copies of the weights when the loss improves")
    if isinstance(arrays, np.ndarray):
        raise TypeError("best_weights must be a list of arrays, one per parameter, like weights")
    return np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])





def stopper_part(cls: Any, case: Case, part: str) -> Any:
    """"should_stop": what update returned each epoch (1 = stop); "best_weights": the arrays
    kept when training stops, with best_epoch and best_loss read back; "restore": the live
    arrays after restore, read through the caller's own references to them (restore writes
    into those arrays; rebinding names or list items does not count)."""
    stopper, live, flags = feed(cls, case)
    if part == "should_stop":
        return np.array(flags, dtype=np.float64)
    if part == "best_weights":
        epoch = getattr(stopper, "best_epoch", None)
        if epoch is None:
            raise AttributeError("best_epoch is None after training: set it to the epoch "
                                 "(counted from 0) whose loss was the best")
        return _flat(stopper.best_weights), epoch, getattr(stopper, "best_loss", None)
    arrays = list(live)
    before = _flat(arrays)
    stopper.restore(live)
    after = _flat(arrays)
    kept = getattr(stopper, "best_weights", None)
    if np.array_equal(after, before) and isinstance(kept, (list, tuple)) and kept:
        saved = _flat(kept)
        if saved.shape == before.shape and not np.array_equal(saved, before):
            raise ValueError("restore left the live arrays as they were although best_weights "
                             "holds other values: write the saved values into the arrays "
                             "themselves (w[...] = saved); rebinding a name or a list item "
                             "changes nothing the network sees")
    return after


def pick(fn: Any, case: Case, index: int) -> Any:
    """One item of the pair (best_epoch, stop_epoch)."""
    result = fn(*case.args, **case.kwargs)
    if not isinstance(result, (tuple, list, np.ndarray)) or len(result) != 2:
        raise TypeError(f"return a pair (best_epoch, stop_epoch), got {type(result).__name__}")
    return result[index]


def dropout_inference(fn: Any, case: Case) -> Any:
    x, p, seed = case.args
    with own_generator_only():
        result = fn(x, p, np.random.default_rng(seed), training=False)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"return a pair (out, mask), got {type(result).__name__}")
    return tuple(result)


def dropout_training(fn: Any, case: Case) -> tuple[Any, ...]:
    """(out, mask) of one call, out of a second call with the same generator, and out of
    a call with a fresh generator of the same seed that relies on the default training."""
    x, p, seed = case.args
    rng = np.random.default_rng(seed)
    with own_generator_only():
        first = fn(x, p, rng, training=True)
        if not isinstance(first, (tuple, list)) or len(first) != 2:
            raise TypeError(f"return a pair (out, mask), got {type(first).__name__}")
        second = fn(x, p, rng, training=True)
        again = fn(x, p, np.random.default_rng(seed))  # training=True is the default
    return first[0], first[1], second[0], again[0]


def _band(p: float, n: int) -> float:
    """Five binomial standard deviations of a dropped fraction, plus one entry."""
    return 5.0 * math.sqrt(p * (1.0 - p) / n) + 1.0 / n


def _judge_dropout(case: Case, value: Any) -> tuple[str, str]:
    """(what is wrong, the name of the mistake) for one case; ("", "") when it passes."""
    x = np.asarray(case.args[0], dtype=np.float64)
    p = float(case.args[1])
    if not isinstance(value, tuple) or len(value) != 4:
        return "expected (out, mask) from each call", ""
    out, mask, second, again = (np.asarray(v, dtype=np.float64) for v in value)
    for name, arr in (("out", out), ("mask", mask)):
        if arr.shape != x.shape:
            return f"{name} has shape {arr.shape}; it must have the shape of x, {x.shape}", ""
        if not np.all(np.isfinite(arr)):
            return f"{name} holds NaN or inf", ""
    if not np.allclose(out, x * mask, rtol=1e-5, atol=1e-6):
        return ("out is not x * mask: return the mask you multiplied x by (the scaled one, "
                "with entries 0 and 1/(1 − p))", "")
    if (second.shape == x.shape and again.shape == x.shape and not np.array_equal(out, again)
            and p > 0 and np.array_equal(again, x)):
        return ("called without the training argument, dropout_forward left x unchanged: "
                "training=True is the default, so it must drop units",
                "the default of training changed")
    if second.shape == x.shape and again.shape == x.shape and not np.array_equal(out, again):
        return ("two calls with generators of the same seed gave different outputs: draw the "
                "mask from the rng argument (rng.random(x.shape)), not from np.random",
                "the global random generator")
    keep = 1.0 - p
    dropped = float(np.mean(mask == 0))
    band = _band(p, mask.size)
    if abs(dropped - p) > band:
        if p != 0.5 and abs(dropped - keep) <= _band(keep, mask.size):
            return (f"{dropped:.3f} of the entries are dropped where p = {p} was asked: p is "
                    "the probability of dropping a unit; keep each one with probability 1 − p",
                    "keep probability and drop probability swapped")
        return (f"{dropped:.3f} of the entries are dropped; with p = {p} the fraction should "
                f"be within {band:.3f} of {p}", "")
    kept = mask[mask != 0]
    if kept.size and not np.allclose(kept, 1.0 / keep, rtol=1e-5):
        if np.allclose(kept, 1.0):
            return (f"kept entries are not rescaled (mask 1 where it should be 1/(1 − p) = "
                    f"{1 / keep:.4g}); inverted dropout divides by 1 − p during training so "
                    "that inference needs no change", "no rescaling")
        if np.allclose(kept, keep):
            return (f"kept entries are multiplied by 1 − p = {keep:.4g}; divide by it instead",
                    "scaled by 1 − p instead of 1/(1 − p)")
        return f"kept entries of the mask must all equal 1/(1 − p) = {1 / keep:.4g}", ""
    dev = abs(float(np.mean(out)) - float(np.mean(x)))
    spread = math.sqrt(p / keep) * float(np.sqrt(np.mean(x**2))) / math.sqrt(x.size) if p else 0.0
    if dev > 6.0 * spread + 1e-9:
        return (f"the mean of out is {np.mean(out):.4g} but the mean of x is {np.mean(x):.4g}: "
                "inverted dropout keeps the mean", "")
    if p > 0 and np.array_equal(out, second):
        return ("a second call with the same generator drew the same mask: draw a new mask "
                "on every call", "a mask drawn once")
    if p > 0 and x.ndim >= 2 and x.shape[0] > 1 and np.all(mask == mask[0]):
        return ("every example got the same mask: draw one random number per entry, "
                "rng.random(x.shape)", "one mask shared by the batch")
    return "", ""


def judge_dropout_case(case: Case, value: Any) -> Finding:
    problem, mistake = _judge_dropout(case, value)
    return Finding(not problem, problem, mistake)


TINY_LOSS_THRESHOLD = 0.05
N_CLASSES = 10


def tiny_scores(fn: Any, case: Case) -> Any:
    """The scores (N, C) of the model ``fn(X, y, seed)`` trains, on the same N examples."""
    X, y, seed = case.args
    result = fn(X, y, seed)
    model = result[0] if isinstance(result, (tuple, list)) else result
    if not hasattr(model, "forward"):
        raise TypeError(f"return the trained model (something with .forward), got "
                        f"{type(model).__name__}")
    pairs = model.parameters() if callable(getattr(model, "parameters", None)) else []
    if len([w for w, _ in pairs if isinstance(w, np.ndarray) and w.size]) < 2:
        raise TypeError("the model has no trained weights (parameters() is empty): build a "
                        "network with mlp and train it with fit; a table that remembers the "
                        "labels is not a network")
    try:
        return model.forward(X.copy(), training=False)
    except TypeError:
        return model.forward(X.copy())


def _mean_cross_entropy(scores: Array, y: Array) -> float:
    shifted = scores - scores.max(axis=1, keepdims=True)  # log-sum-exp without overflow
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(y)), y.astype(np.intp)]))


def judge_tiny(case: Case, value: Any) -> Finding:
    """A run passes when the mean softmax cross-entropy on its subset falls below 0.05."""
    _X, y, seed = case.args
    head = f"{len(y)} digits, seed {seed}"
    scores = np.asarray(value, dtype=np.float64)
    if scores.shape != (len(y), N_CLASSES):
        return Finding(False, f"{head}: the model returned scores of shape {scores.shape}; "
                       f"expected ({len(y)}, {N_CLASSES})")
    if not np.all(np.isfinite(scores)):
        return Finding(False, f"{head}: the model's scores hold NaN or inf (training diverged?)")
    loss = _mean_cross_entropy(scores, np.asarray(y))
    accuracy = float(np.mean(np.argmax(scores, axis=1) == y))
    text = f"{head}: training loss {loss:.4f}, training accuracy {accuracy:.0%}"
    if loss < TINY_LOSS_THRESHOLD:
        return Finding(True, text)
    return Finding(False, f"{text}; the loss should fall below {TINY_LOSS_THRESHOLD}")


REGISTRY: dict[str, Any] = {
    "Run": Run, "stopper_part": stopper_part, "pick": pick,
    "dropout_inference": dropout_inference, "dropout_training": dropout_training,
    "judge_dropout_case": judge_dropout_case, "tiny_scores": tiny_scores, "judge_tiny": judge_tiny,
}
