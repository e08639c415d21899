"""Notebook 7 on the student's side: probes for early stopping, dropout and the tiny-subset run.

Early stopping is fed a recorded training run (``Run``: the live parameter values after
each epoch) and observed through what it returns and keeps. Dropout in training mode is
random, so its check judges what the student's function drew (fraction dropped, scale of
the survivors, use of ``rng``): ``judge_dropout`` needs no answer key, and the grader
applies the same function. The tiny-subset check trains with the student's function and
judges the training loss it reaches, on a model that has weights (a network, not a table).
Batch normalisation is built from γ and β and run in both modes. The initial loss is measured
on stand-in models whose scores are given (``ScoreTable``). Saving and loading run on models
built from a description (``Net``) and files in a private temporary folder; a refused load is
judged by ``judge_refusal``, with no answer key.
"""

from __future__ import annotations

import math
import os
import tempfile
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


# Batch normalisation: the student's class, built from gamma and beta, run in both modes.

def _own_copies(layer: Any, given: dict[str, Any]) -> None:
    """Raise if the layer's params are the very arrays the caller passed in."""
    params = getattr(layer, "params", None)
    if not isinstance(params, dict):
        raise TypeError("the layer has no params dict: store gamma and beta in "
                        "self.params['gamma'] and self.params['beta']")
    for name, array in given.items():
        mine = params.get(name)
        if mine is None:
            raise KeyError(f"the layer has no params[{name!r}]: store {name} there")
        if isinstance(mine, np.ndarray) and np.shares_memory(mine, array):
            raise ValueError(f"params[{name!r}] is the very array the caller passed in: store a "
                             f"copy, np.array({name}, dtype=float)")


def _running(layer: Any) -> tuple[Array, Array]:
    missing = [n for n in ("running_mean", "running_var") if not hasattr(layer, n)]
    if missing:
        raise AttributeError(f"the layer has no {' and no '.join(missing)}: keep the running "
                             "statistics in self.running_mean and self.running_var")
    return (np.array(layer.running_mean, dtype=np.float64, copy=True),
            np.array(layer.running_var, dtype=np.float64, copy=True))


def _bn_gradient(layer: Any, name: str, shape: tuple[int, ...]) -> Array:
    grads = getattr(layer, "grads", None)
    if not isinstance(grads, dict) or name not in grads:
        raise KeyError(f"the layer has no grads[{name!r}]: backward must add the gradient of "
                       f"params[{name!r}] into self.grads[{name!r}]")
    value = np.asarray(grads[name], dtype=np.float64)
    if value.shape != shape:
        raise ValueError(f"grads[{name!r}] has shape {value.shape}; a gradient has the shape of "
                         f"what it differentiates: params[{name!r}] is {shape} (sum over the "
                         "batch, axis=0)")
    return value.copy()


def batchnorm_part(cls: Any, case: Case, part: str) -> Any:
    """One part of cls(gamma, beta, **case.kwargs) run on the case's batches.

    The case holds gamma and beta (M,), training batches xs (each (N, M)), upstream
    gradients dys for them, and an inference batch. "train": y of forward(xs[0]) with
    training left at its default; "running": (running_mean, running_var) after a training
    forward pass on every batch; "inference": after those, y of forward(x_test,
    training=False), twice (inference changes nothing, so both must agree); "dx": dx of
    backward(dys[-1]) after forward and backward on each batch in turn, run twice on the
    last forward (the same answer both times); "dgamma", "dbeta": grads after those
    backward passes (they add up over batches).
    """
    gamma, beta, xs, dys, x_test = case.args
    layer = cls(gamma, beta, **case.kwargs)
    _own_copies(layer, {"gamma": gamma, "beta": beta})
    if part == "inference":
        for x in xs:
            layer.forward(x, training=True)
        first = np.array(layer.forward(x_test, training=False), dtype=np.float64, copy=True)
        second = np.array(layer.forward(x_test, training=False), dtype=np.float64, copy=True)
        return first, second
    if part == "train":
        return layer.forward(xs[0])  # training=True is the default
    if part == "running":
        _running(layer)
        for x in xs:
            layer.forward(x, training=True)
        return _running(layer)
    dx: Any = None
    for k, (x, dy) in enumerate(zip(xs, dys, strict=True)):
        layer.forward(x, training=True)
        dx = _backward_twice(layer, dy) if k == len(xs) - 1 and part == "dx" else layer.backward(dy)
    if part == "dx":
        if np.shape(dx) != np.shape(xs[-1]):
            raise ValueError(f"dx has shape {np.shape(dx)}; a gradient has the shape of what it "
                             f"differentiates: x is {np.shape(xs[-1])}")
        return dx
    name = "gamma" if part == "dgamma" else "beta"
    return _bn_gradient(layer, name, np.shape(gamma))


def _backward_twice(layer: Any, dy: Any) -> Array:
    """dx of backward(dy), and a second call on the same forward pass must give the same dx."""
    spare = np.array(dy, copy=True)
    first = np.array(layer.backward(dy), dtype=np.float64, copy=True)
    try:
        second = layer.backward(spare)
    except Exception:  # a module may refuse a second backward (its cache freed): not wrong
        return first
    if np.shape(second) != first.shape or not np.allclose(first, np.asarray(second, dtype=np.float64),
                                                          rtol=1e-12, atol=0.0, equal_nan=True):
        raise ValueError("a second backward(dy) after the same forward returned a different dx: "
                         "backward must not change what forward cached (compute into new arrays)")
    return first


# The loss before training: stand-in models whose scores are given.

@dataclass(frozen=True)
class ScoreTable:
    """A stand-in model: forward(X, training) returns a fixed table of scores (N, C), and
    ``training_scores`` instead while training when it is given (as dropout would)."""

    dlf_key: ClassVar[str] = "nb07.ScoreTable"

    scores: Array
    training_scores: Array | None = None

    def forward(self, X: Any, training: bool = True) -> Array:
        if len(X) != len(self.scores):
            raise ValueError(f"this model scores {len(self.scores)} examples, got X of "
                             f"{len(X)} rows")
        table = self.training_scores if training and self.training_scores is not None else self.scores
        return np.array(table, copy=True)

    def __repr__(self) -> str:
        n, c = np.shape(self.scores)
        extra = ", other scores while training" if self.training_scores is not None else ""
        return f"<a model whose scores are a fixed ({n}, {c}) table{extra}>"


LOSS_OVERFLOW = ("unstable: an exp overflowed; compute the log-softmax from scores minus each "
                 "row's maximum, as in notebook 4")


def initial_loss_pair(fn: Any, case: Case) -> tuple[Any, Any]:
    """(loss, expected) of ``fn(model, X, y)``; an exp that overflows is reported as unstable."""
    model, X, y = case.args
    try:
        with np.errstate(over="raise"):
            result = fn(model, X, y)
    except FloatingPointError:
        raise FloatingPointError(LOSS_OVERFLOW) from None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"initial_loss returns the pair (loss, expected), got {type(result).__name__}")
    return result[0], result[1]


# Saving and loading weights: models built from a description, files in a private folder.

@dataclass(frozen=True)
class Net:
    """How to build a model for the save and load checks: ``mlp(sizes)`` from ``seed``, with
    PReLU's learned slopes when ``activation`` is "prelu", and its first two modules wrapped
    in a Sequential of their own when ``nested``."""

    dlf_key: ClassVar[str] = "nb07.Net"

    sizes: tuple[int, ...]
    seed: int
    activation: str = "relu"
    nested: bool = False
    float32: bool = False

    def build(self) -> Any:
        from reference_impl.layers.container import Sequential, mlp

        net = mlp(list(self.sizes), rng=np.random.default_rng(self.seed), activation=self.activation,
                  dtype=np.float32 if self.float32 else np.float64)
        if self.nested:
            net = Sequential(Sequential(*net.modules[:2]), *net.modules[2:])
        return net

    def __repr__(self) -> str:
        notes = [self.activation] if self.activation != "relu" else []
        notes += ["its first layers in a nested Sequential"] if self.nested else []
        notes += ["float32"] if self.float32 else []
        return f"<a {'-'.join(map(str, self.sizes))} network{' (' + ', '.join(notes) + ')' if notes else ''}>"


def _values(model: Any) -> list[tuple[str, Array]]:
    return [(name, np.array(p, copy=True)) for name, p, _ in model.named_parameters()]


def _unchanged(model: Any, before: list[tuple[str, Array]]) -> bool:
    return all(np.array_equal(p, old) for (_, p, _), (_, old) in
               zip(model.named_parameters(), before, strict=True))


def saved_weights(fn: Any, case: Case) -> tuple[Array, int]:
    """Save the case's model with ``fn(model, path)``; read the file back by the model's names.

    Returns every saved array, in the order of ``named_parameters()``, flattened into one,
    and the number of arrays in the file. The model must be left unchanged.
    """
    (net,) = case.args
    model = net.build()
    before = _values(model)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "weights.npz")
        fn(model, path)
        if not _unchanged(model, before):
            raise ValueError("save_weights changed the model's parameters: saving only reads them")
        if not os.path.exists(path):
            found = os.listdir(folder)
            raise FileNotFoundError(f"no file at the path given (the folder holds {found}): write "
                                    "exactly there; np.savez adds .npz only to a path that lacks it")
        with np.load(path) as archive:
            names = list(archive.files)
            missing = [name for name, _ in before if name not in names]
            if missing:
                raise KeyError(f"the file holds {names} but no {missing[0]!r}: save every parameter "
                               "under its name from named_parameters() (\"0.W\", \"0.b\", …)")
            saved = [np.asarray(archive[name], dtype=np.float64).ravel() for name, _ in before]
    return np.concatenate(saved), len(names)


def _write(contents: dict[str, Any], folder: str) -> str:
    path = os.path.join(folder, "weights.npz")
    np.savez(path, **contents)
    return path


def loaded_weights(fn: Any, case: Case) -> tuple[Array, int]:
    """``fn(model, path)`` on a file holding the case's arrays: the model's parameters
    afterwards, flattened in the order of ``named_parameters()``, and 1 if they are still the
    arrays the model held before (written in place), 0 if they were replaced."""
    net, contents = case.args
    model = net.build()
    arrays = [p for _, p, _ in model.named_parameters()]
    with tempfile.TemporaryDirectory() as folder:
        fn(model, _write(contents, folder))
    now = [p for _, p, _ in model.named_parameters()]
    in_place = len(now) == len(arrays) and all(a is b for a, b in zip(now, arrays, strict=True))
    return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in now]), int(in_place)


def refusal(fn: Any, case: Case) -> tuple[int, str, int, int]:
    """``fn(model, path)`` on a file written from another architecture: (1 if it raised, the
    exception's type, 1 if its message names one of the entries that do not fit, 1 if the
    model's parameters are unchanged)."""
    net, contents, culprits = case.args
    model = net.build()
    before = _values(model)
    raised, kind, named = 0, "", 0
    with tempfile.TemporaryDirectory() as folder:
        try:
            fn(model, _write(contents, folder))
        except NotImplementedError:
            raise  # not written yet: the check says so, as for every other exercise
        except Exception as exc:
            raised, kind = 1, type(exc).__name__
            named = int(any(name in str(exc) for name in culprits))
    return raised, kind, named, int(_unchanged(model, before))


def judge_refusal(case: Case, value: Any) -> Finding:
    """A file of another architecture must be refused with a ValueError that names an entry
    that does not fit, before anything is written into the model."""
    if not isinstance(value, tuple) or len(value) != 4:
        return Finding(False, "expected the outcome of one load_weights call")
    raised, kind, named, unchanged = value
    if not raised:
        return Finding(False, "load_weights accepted the file; compare the file's names and shapes "
                       "with the model's and raise ValueError when they differ",
                       "a file of another architecture accepted")
    if kind != "ValueError":
        return Finding(False, f"load_weights raised {kind}; raise ValueError, naming the entry that "
                       "does not fit", "the wrong exception")
    if not named:
        return Finding(False, "the ValueError does not say which entry does not fit: name it as "
                       "named_parameters() does (\"2.W\"), with its shape in the file and in the "
                       "model, or as missing or unexpected", "an error that names no entry")
    if not unchanged:
        return Finding(False, "the model was changed before the error was raised: check every "
                       "entry first, then write", "a half-loaded model")
    return Finding(True)


REGISTRY: dict[str, Any] = {
    "Run": Run, "stopper_part": stopper_part, "pick": pick,
    "dropout_inference": dropout_inference, "dropout_training": dropout_training,
    "judge_dropout_case": judge_dropout_case, "tiny_scores": tiny_scores, "judge_tiny": judge_tiny,
    "batchnorm_part": batchnorm_part,
    "ScoreTable": ScoreTable, "initial_loss_pair": initial_loss_pair,
    "Net": Net, "saved_weights": saved_weights, "loaded_weights": loaded_weights,
    "refusal": refusal, "judge_refusal": judge_refusal,
}
