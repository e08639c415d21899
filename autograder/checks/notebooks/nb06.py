"""Notebook 6 on the student's side: probes that build the student's modules and run them.

Each module check is one part (output, dx, dW, db, ...): the probe builds the student's
class, runs forward then backward, and returns the part. Backward is run twice on the same
cache, and must give the same answer both times (a backward that overwrites what forward
cached is wrong the second time); a layer must not keep a reference to the arrays it was
built from. ``Sequential`` is run over small stand-in modules defined here (a per-feature
scale and shift, a tiling, a square), so that no layer the notebook asks for is ever handed
to student code. The capstone probe trains the student's network with the student's
function and returns its predictions; the grader holds the labels of the images it
predicts when the case is hidden. Before predicting, it checks the means as well as the
outcome: the model is made of the notebook's own classes (none from ``reference_impl``),
is not an affine map of its input, and its backward pass agrees with centred differences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autograder.checks import coerce
from autograder.checks.cases import Case
from autograder.checks.findings import Finding
from autograder.checks.notebooks.common import own_generator_only
from autograder.checks.values import Named
from reference_impl.layers.base import Module

Array = NDArray[Any]


def _f64(a: Any) -> Array:
    return np.asarray(a, dtype=np.float64)


# Functions whose gradient numerical_gradient estimates.

_MIX = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 1.0]])


def _logsumexp(x: Any) -> float:
    a = np.asarray(x)
    m = float(np.max(a))
    return m + float(np.log(np.sum(np.exp(a - m))))


def _cross(x: Any) -> float:
    a = np.asarray(x).ravel()
    return float(a[0] * a[1] + np.sin(a[-1]) * np.prod(a[:2]))


SUM_SQUARES = Named("nb06.sum_squares", "f(x) = Σ x²", lambda x: float(np.sum(np.asarray(x) ** 2)))
SUM_CUBES = Named("nb06.sum_cubes", "f(x) = Σ x³", lambda x: float(np.sum(np.asarray(x) ** 3)))
LOGSUMEXP = Named("nb06.logsumexp", "f(x) = log Σ exp x", _logsumexp)
TANH_MIX = Named("nb06.tanh_mix", "f(X) = Σ tanh(X @ A), A of shape (3, 2)",
                 lambda x: float(np.sum(np.tanh(np.asarray(x) @ _MIX))))
SUM_EXP = Named("nb06.sum_exp", "f(x) = Σ exp x", lambda x: float(np.sum(np.exp(np.asarray(x)))))
CROSS = Named("nb06.cross", "f(x) = x₀x₁ + sin(x_last)·x₀x₁", _cross)


# Layers with one input: Linear, ReLU, Sigmoid, Max.

def grad_of(layer: Any, name: str) -> Any:
    grads = getattr(layer, "grads", None)
    if not isinstance(grads, dict) or name not in grads:
        raise KeyError(f"the layer has no grads[{name!r}]: backward must add the gradient of "
                       f"params[{name!r}] into self.grads[{name!r}]")
    return grads[name]


def _shape_hint(part: str, got: Any, want: tuple[int, ...], of: str, why: str = "") -> None:
    shape = np.shape(got)
    if shape != want:
        raise ValueError(f"{part} has shape {shape}; a gradient has the shape of what it "
                         f"differentiates: {of} is {want}{why}")


def linear_shapes(x: Any, W: Any, b: Any, dy: Any) -> str:
    """What the shapes of Linear's gradients follow from, in this case's numbers."""
    sx, sw, sb, sdy = (np.shape(a) for a in (x, W, b, dy))
    return (f"a gradient has the shape of what it differentiates: here x is (N, D) = {sx}, "
            f"W is (D, M) = {sw}, b is (M,) = {sb} and dy is (N, M) = {sdy}, so dx must be "
            f"{sx} like x, grads['W'] {sw} like W and grads['b'] {sb} like b; of the products "
            f"of dy with W or x, only dy @ W.T is {sx} and only x.T @ dy is {sw}")


def _own_copy(layer: Any, given: dict[str, Any]) -> None:
    """Raise if the layer's params share memory with the arrays it was built from."""
    params = getattr(layer, "params", None)
    if not isinstance(params, dict):
        return
    for name, array in given.items():
        mine = params.get(name)
        if isinstance(mine, np.ndarray) and isinstance(array, np.ndarray) \
                and np.shares_memory(mine, array):
            raise ValueError(f"params[{name!r}] is the very array the caller passed in: a later "
                             f"change to the caller's {name} (an optimizer step on another "
                             f"model, a reused buffer) would change this layer too. Store a "
                             f"copy: np.array({name}, dtype=float)")


def backward_twice(layer: Any, dy: Any) -> Any:
    """backward(dy) twice on one forward cache; the second call must not give another dx.

    The first call gets the caller's dy itself, so that a backward that writes into dy is
    seen; the second a copy taken before. A second call that raises is accepted: only a
    silently different answer is wrong.
    """
    spare = np.array(dy, copy=True)
    first = layer.backward(dy)
    kept = _copy_result(first)
    try:
        second = layer.backward(spare)
    except Exception:  # a module may refuse a second backward (its cache freed): not wrong
        return kept
    if not _same_result(kept, second):
        raise ValueError("a second backward(dy) after the same forward returned a different "
                         "result: backward must not change what forward cached (compute into "
                         "new arrays, e.g. dx = dy * self.y * (1 - self.y), not self.y *= ...)")
    return kept


def _copy_result(result: Any) -> Any:
    if isinstance(result, (tuple, list)):
        return type(result)(_copy_result(r) for r in result)
    return np.array(result, dtype=np.float64, copy=True) if result is not None else None


def _same_result(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(
            _same_result(x, y) for x, y in zip(a, b, strict=True))
    if a is None or b is None:
        return a is b
    b = np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-12, atol=0.0, equal_nan=True))


def linear_part(cls: Any, case: Case, part: str) -> Any:
    """One part of cls(W, b): "forward" (y), "dx", "dw" (grads["W"]) or "db" (grads["b"]).

    Runs forward x, then (except for "forward") backward dy, and a second (x2, dy2) pass
    when the case has one. A part of the wrong shape is reported with the shape it must
    have and why. The layer must hold copies of W and b, not the caller's arrays.
    """
    W, b, x, dy, *again = case.args
    layer = cls(W, b)
    _own_copy(layer, {"W": W, "b": b})
    y = layer.forward(x)
    if part == "forward":
        return y
    try:
        dx = layer.backward(dy)
        if again:
            layer.forward(again[0])
            dx = layer.backward(again[1])
            x, dy = again
    except ValueError as exc:
        raise ValueError(f"backward raised {exc}; {linear_shapes(x, W, b, dy)}") from None
    if part == "dx":
        if np.shape(dx) != np.shape(x):
            raise ValueError(f"dx has shape {np.shape(dx)}; {linear_shapes(x, W, b, dy)}")
        return dx
    name = "W" if part == "dw" else "b"
    value = grad_of(layer, name)
    if np.shape(value) != np.shape(W if name == "W" else b):
        raise ValueError(f"grads[{name!r}] has shape {np.shape(value)}; "
                         f"{linear_shapes(x, W, b, dy)}")
    return value


UNSTABLE = ("an exp overflowed: compute the sigmoid from e^(−|x|), which never exceeds 1, "
            "as in notebook 02")


def unary_part(cls: Any, case: Case, part: str, stable: bool = False) -> Any:
    """y of cls().forward(x), or dx after backward(dy), for a case (x, dy); backward runs
    twice and must give the same dx both times."""
    x, dy = case.args
    try:
        with np.errstate(over="raise") if stable else np.errstate():
            layer = cls()
            y = layer.forward(x)
            if part == "forward":
                return y
            dx = backward_twice(layer, dy)
    except FloatingPointError as exc:
        raise FloatingPointError(f"unstable: {exc}; {UNSTABLE}") from None
    except ValueError as exc:
        if "broadcast" not in str(exc) and "matmul" not in str(exc):
            raise
        raise ValueError(f"backward raised {exc}; a gradient has the shape of what it "
                         f"differentiates: dx like x, {np.shape(x)}, from dy like y, "
                         f"{np.shape(dy)}") from None
    _shape_hint("dx", dx, np.shape(x), "x", f", and dy (like y) is {np.shape(dy)}")
    return dx


def softmax_ce_part(cls: Any, case: Case, part: str) -> Any:
    """The mean loss of cls().forward(logits, y), or backward() after it (backward(dy) when
    the case gives an upstream gradient dy), run twice."""
    logits, y, *upstream = case.args
    loss_fn = cls()
    loss = loss_fn.forward(logits, y)
    if part == "loss":
        return loss
    first = loss_fn.backward(*upstream)
    kept = _copy_result(first)
    try:
        second = loss_fn.backward(*upstream)
    except Exception:  # a module may refuse a second backward (its cache freed): not wrong
        second = kept
    if not _same_result(kept, second):
        raise ValueError("a second backward() after the same forward returned a different "
                         "result: backward must not change the probabilities forward cached "
                         "(copy them before subtracting the one-hot target)")
    dlogits = kept
    _shape_hint("dlogits", dlogits, np.shape(logits), "the logits")
    return dlogits


def multiply_part(cls: Any, case: Case, part: str) -> Any:
    a, b, dy = case.args
    gate = cls()
    y = gate.forward(a, b)
    if part == "forward":
        return y
    grads = backward_twice(gate, dy)
    if not isinstance(grads, (tuple, list)) or len(grads) != 2:
        raise TypeError(f"backward must return a pair (da, db), got {type(grads).__name__}")
    value, of = (grads[0], a) if part == "da" else (grads[1], b)
    _shape_hint(part, value, np.shape(of), part[1], f", like dy, {np.shape(dy)}")
    return value


# Sequential, run over stand-in modules.

class Scale(Module):
    """y = x ⊙ s + t, one scale and one shift per feature. params s, t: (D,)."""

    def __init__(self, s: Any, t: Any) -> None:
        super().__init__()
        self.params = {"s": _f64(s).copy(), "t": _f64(t).copy()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.x: Array = np.zeros(0)

    def forward(self, x: Any, training: bool = True) -> Array:  # type: ignore[override]
        self.x = _f64(x)
        return self.x * self.params["s"] + self.params["t"]

    def backward(self, dy: Any) -> Array:
        dy = _f64(dy)
        self.grads["s"] += (dy * self.x).sum(axis=0)
        self.grads["t"] += dy.sum(axis=0)
        return dy * self.params["s"]

    def zero_grad(self) -> None:
        for g in self.grads.values():
            g[...] = 0.0


class Tile(Module):
    """y = [x, x]: D features become 2D. No parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.params, self.grads = {}, {}
        self.d = 0

    def forward(self, x: Any, training: bool = True) -> Array:  # type: ignore[override]
        x = _f64(x)
        self.d = x.shape[1]
        return np.concatenate([x, x], axis=1)

    def backward(self, dy: Any) -> Array:
        dy = _f64(dy)
        return dy[:, :self.d] + dy[:, self.d:]


class Square(Module):
    """y = x². No parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.params, self.grads = {}, {}
        self.x: Array = np.zeros(0)

    def forward(self, x: Any, training: bool = True) -> Array:  # type: ignore[override]
        self.x = _f64(x)
        return self.x**2

    def backward(self, dy: Any) -> Array:
        return 2.0 * self.x * _f64(dy)


def build_chain(spec: Any) -> list[Any]:
    """Stand-in modules from a spec: ("scale", s, t), ("tile",), ("square",)."""
    modules: list[Any] = []
    for item in spec:
        if item[0] == "scale":
            modules.append(Scale(item[1], item[2]))
        elif item[0] == "tile":
            modules.append(Tile())
        else:
            modules.append(Square())
    return modules


def sequential_part(cls: Any, case: Case, part: str) -> Any:
    """y after forward; dx after backward; for "parameters", zero_grad and a second pass,
    then every gradient of parameters() in order, flattened into one array."""
    spec, x, dy = case.args
    modules = build_chain(spec)
    net = cls(*modules)
    y = net.forward(x)
    if part == "forward":
        return y
    dx = net.backward(dy)
    if part == "dx":
        _shape_hint("dx", dx, np.shape(x), "the input x")
        return dx
    net.zero_grad()
    net.forward(x)
    net.backward(dy)
    pairs = list(net.parameters())
    own = {id(m.params[k]) for m in modules for k in m.params}
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError("parameters() must return (param, grad) pairs")
        if id(pair[0]) not in own:
            raise ValueError("parameters() must return each layer's own params arrays (not "
                             "copies), so that the optimizer updates the network in place")
    grads = [np.asarray(g, dtype=np.float64).ravel() for _, g in pairs]
    return np.concatenate(grads) if grads else np.zeros(0)


# SGD with momentum, in place.

def sgd_path(cls: Any, case: Case) -> Array:
    """All parameters after the steps, flattened: cls(lr, momentum=...).step(pairs) per step
    (cls(lr) when the case's momentum is None: the documented default)."""
    params, steps, lr, momentum = case.args
    params = [np.array(p) for p in params]
    grads = [np.zeros_like(p) for p in params]
    opt = cls(lr) if momentum is None else cls(lr, momentum=momentum)
    for step in steps:
        for g, new in zip(grads, step, strict=True):
            g[...] = new
        opt.step(list(zip(params, grads, strict=True)))
    return np.concatenate([p.ravel() for p in params])


# The capstone: train with the student's function, predict held-out images.

DIGITS_SPLIT_SEED = 3
ACCURACY_THRESHOLD = 0.95
N_CLASSES = 10


def digits_split() -> Any:
    """The notebook's split of the 8×8 digits the course ships (X scaled to [0, 1])."""
    from reference_impl.data import load_digits, train_val_test_split

    X, y = load_digits()
    return train_val_test_split(X, y, rng=np.random.default_rng(DIGITS_SPLIT_SEED))


def predictions(fn: Callable[..., Any], case: Case) -> Array:
    """Train with ``fn(X_train, y_train, seed=s)``, then predict the case's images.

    A visible case trains on the notebook's training split and names the images by their
    order in its test split, as the notebook does; a hidden case carries images whose
    labels only the grader has, and trains on every shipped digit.
    """
    seed, images = case.args
    data = digits_split()
    if images.ndim == 1:
        images = data.X_test[images.astype(np.intp)]
        X, y = data.X_train, data.y_train
    else:
        X = np.concatenate([data.X_train, data.X_val, data.X_test])
        y = np.concatenate([data.y_train, data.y_val, data.y_test])
    with own_generator_only():
        model = trained_model(fn(X, y, seed=int(seed)))
    scores = coerce.as_array(model.forward(images.copy()))
    if scores.shape != (len(images), N_CLASSES):
        raise ValueError(f"the model returned scores of shape {scores.shape} for "
                         f"{len(images)} images; expected ({len(images)}, {N_CLASSES})")
    predicted = np.argmax(scores, axis=1).astype(np.float64)
    require_own_modules(model)
    require_nonlinear(model, images)
    require_gradients(model, images)
    if images.ndim == 1 or case.kwargs.get("repeat"):
        with own_generator_only():
            again = trained_model(fn(X, y, seed=int(seed)))
        if not np.array_equal(np.argmax(coerce.as_array(again.forward(images.copy())), axis=1),
                              predicted):
            raise ValueError("two runs with the same seed predicted differently: draw every "
                             "random number (weights, shuffling) from the one generator "
                             "np.random.default_rng(seed)")
    return predicted


HISTORY_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc")


def trained_model(result: Any) -> Any:
    """The model of a (model, history) pair, once the pair and the history are as documented."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"train_mlp returns the pair (model, history), got "
                        f"{type(result).__name__}"
                        + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
    model, history = result
    if not hasattr(model, "forward"):
        raise TypeError(f"return the trained model (something with .forward) first, got "
                        f"{type(model).__name__}")
    if not isinstance(history, dict) or any(k not in history for k in HISTORY_KEYS):
        raise TypeError("history must be a dict with the per-epoch lists "
                        + ", ".join(map(repr, HISTORY_KEYS)))
    train_loss, train_acc = history["train_loss"], history["train_acc"]
    if len(train_loss) < 1 or len(train_acc) != len(train_loss):
        raise ValueError("history['train_loss'] and history['train_acc'] hold one number per "
                         f"epoch; got {len(train_loss)} and {len(train_acc)}")
    values = np.asarray([*train_loss, *train_acc], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("the training curves in history hold NaN or inf")
    if len(history["val_loss"]) or len(history["val_acc"]):
        raise ValueError("without X_val and y_val, history['val_loss'] and history['val_acc'] "
                         "stay empty")
    return model


def _parts_of(obj: Any, depth: int = 0, seen: set[int] | None = None) -> list[Any]:
    """Every object with a forward method reachable from ``obj`` (itself included)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 5 or isinstance(obj, (np.ndarray, str, bytes, int, float)):
        return []
    seen.add(id(obj))
    found = [obj] if callable(getattr(obj, "forward", None)) else []
    if isinstance(obj, (list, tuple)):
        children: list[Any] = list(obj)
    elif isinstance(obj, dict):
        children = list(obj.values())
    elif found:
        children = list(getattr(obj, "__dict__", {}).values())
    else:
        children = []
    for child in children:
        if isinstance(child, (list, tuple, dict)) or callable(getattr(child, "forward", None)):
            found += _parts_of(child, depth + 1, seen)
    return found


def require_own_modules(model: Any) -> None:
    """Raise unless the model and every module in it is a class defined in the notebook."""
    for part in _parts_of(model):
        origin = type(part).__module__.split(".")[0]
        if origin in ("reference_impl", "autograder"):
            raise ValueError(f"the model contains {type(part).__name__} from "
                             f"{type(part).__module__}: the capstone is built from your own "
                             "Linear, ReLU and Sequential")


def require_nonlinear(model: Any, images: Array) -> None:
    """Raise if the model is an affine map: f((a + b)/2) = (f(a) + f(b))/2 for every pair."""
    X = np.asarray(images, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        return
    half = len(X) // 2
    a, b = X[:half], X[half:2 * half]
    fa, fb = (coerce.as_array(model.forward(v.copy())).astype(np.float64) for v in (a, b))
    mid = coerce.as_array(model.forward((a + b) / 2)).astype(np.float64)
    scale = max(float(np.max(np.abs(fa))), float(np.max(np.abs(fb))), 1e-12)
    if float(np.max(np.abs(mid - (fa + fb) / 2))) <= 1e-9 * scale:
        raise ValueError("your model is an affine map of its input (the midpoint of two inputs "
                         "gives the midpoint of their scores): without a nonlinearity between "
                         "the Linear layers the hidden layer adds nothing. Put a ReLU after "
                         "each hidden Linear")


GRAD_CHECK_ENTRIES = 12
GRAD_CHECK_STEP = 1e-6


def require_gradients(model: Any, images: Array) -> None:
    """Raise unless backward's parameter gradients agree with centred differences.

    On a few images, S = Σ forward(X) ⊙ R for a fixed R; backward(R) must put ∂S/∂θ in the
    grads of ``parameters()``. A dozen entries are nudged by ±h; at least all but two must
    agree to a relative error of 1e-4 (a ReLU kink crossed by a nudge excuses one or two).
    """
    X = np.asarray(images, dtype=np.float64)[:8]
    rng = np.random.default_rng(0)
    R = rng.normal(size=(len(X), N_CLASSES))
    model.zero_grad()
    model.forward(X.copy())
    model.backward(R.copy())
    pairs = list(model.parameters())
    if not pairs:
        raise ValueError("model.parameters() is empty: it must return the (param, grad) pairs "
                         "of every layer")
    entries = []
    for _ in range(GRAD_CHECK_ENTRIES):
        k = int(rng.integers(len(pairs)))
        w, g = pairs[k]
        if not isinstance(w, np.ndarray) or w.size == 0:
            continue
        index = tuple(int(rng.integers(n)) for n in w.shape)
        analytic = float(np.asarray(g)[index])
        old = w[index]
        w[index] = old + GRAD_CHECK_STEP
        plus = float(np.sum(coerce.as_array(model.forward(X.copy())) * R))
        w[index] = old - GRAD_CHECK_STEP
        minus = float(np.sum(coerce.as_array(model.forward(X.copy())) * R))
        w[index] = old
        numeric = (plus - minus) / (2 * GRAD_CHECK_STEP)
        entries.append(abs(analytic - numeric) / max(abs(analytic) + abs(numeric), 1e-7))
    if sum(e > 1e-4 for e in entries) > 2:
        raise ValueError(f"backward's gradients disagree with centred differences (relative "
                         f"errors up to {max(entries):.1e} for {sum(e > 1e-4 for e in entries)} "
                         f"of {len(entries)} entries): check each module's backward, and that "
                         "parameters() pairs each param with its own grad")


def accuracy_at_least(case: Case, value: Any, expected: Any) -> Finding:
    pred, truth = np.asarray(value), np.asarray(expected)
    if pred.shape != truth.shape:
        return Finding(False, f"{pred.size} predictions for {truth.size} test images")
    accuracy = float(np.mean(pred == truth))
    if accuracy >= ACCURACY_THRESHOLD:
        return Finding(True, f"seed {case.args[0]}: test accuracy {accuracy:.3f}")
    return Finding(False, f"seed {case.args[0]}: test accuracy {accuracy:.3f} is below "
                   f"{ACCURACY_THRESHOLD:.2f}")


REGISTRY: dict[str, Any] = {
    "sum_squares": SUM_SQUARES, "sum_cubes": SUM_CUBES, "logsumexp": LOGSUMEXP,
    "tanh_mix": TANH_MIX, "sum_exp": SUM_EXP, "cross": CROSS,
    "linear_part": linear_part, "unary_part": unary_part, "softmax_ce_part": softmax_ce_part,
    "multiply_part": multiply_part, "sequential_part": sequential_part, "sgd_path": sgd_path,
    "predictions": predictions, "accuracy_at_least": accuracy_at_least,
}
