"""Notebook 1 on the student's side: the activations its cases hand to student code, the
probe of ``unit`` and the margin check of the hand-set XOR weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import coerce
from autograder.checks.cases import Case
from autograder.checks.findings import Finding
from autograder.checks.values import Named


def _sigmoid(z: Any) -> Any:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # never overflows: the exponent is <= 0
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _relu(z: Any) -> Any:
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)


SIGMOID = Named("nb01.sigmoid", "sigmoid", _sigmoid)
RELU = Named("nb01.relu", "relu", _relu)
TANH = Named("nb01.tanh", "tanh", lambda z: np.tanh(np.asarray(z, dtype=np.float64)))
IDENTITY = Named("nb01.identity", "identity", lambda z: np.asarray(z, dtype=np.float64))
RAMP = Named("nb01.ramp", "f(x) = x", lambda t: np.asarray(t, dtype=np.float64))
SIN = Named("nb01.sin", "sin", np.sin)
COS = Named("nb01.cos", "cos", np.cos)
ONE = Named("nb01.one", "f(x) = 1", np.ones_like)
SQUARE = Named("nb01.square", "x²", np.square)
EXP = Named("nb01.exp", "exp", np.exp)


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])
XOR_CONFIDENCE = 0.9
XOR_SHAPES = (("W1", (2, 2)), ("b1", (2,)), ("w2", (2,)), ("b2", ()))


def xor_forward(X: Any, W1: Any, b1: Any, w2: Any, b2: Any) -> Any:
    """ŷ = σ(relu(X W1 + b1) · w2 + b2). X: (N, 2); W1: (2, 2); b1, w2: (2,); returns (N,)."""
    hidden = _relu(np.asarray(X) @ np.asarray(W1) + b1)
    return _sigmoid(hidden @ np.asarray(w2) + b2)


def xor_weights(answer: Any, case: Case) -> tuple[Any, ...]:
    """The four hand-set arrays (W1, b1, w2, b2), as float64 arrays."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 4:
        raise TypeError("pass the four weights as a tuple (W1, b1, w2, b2)")
    for (name, _), a in zip(XOR_SHAPES, answer, strict=True):
        if a is None:
            raise ValueError(f"no answer yet: {name} is still None; set it to your weights")
    return tuple(coerce.as_array(a).astype(np.float64) for a in answer)


def judge_xor(case: Case, value: Any) -> Finding:
    """Any weights pass that put the four XOR points confidently on the right side."""
    weights = []
    for (name, shape), arr in zip(XOR_SHAPES, value, strict=True):
        arr = np.asarray(arr, dtype=np.float64)
        if name == "b2" and arr.shape == (1,):
            arr = arr.reshape(())
        if arr.shape != shape:
            want = "a single number" if shape == () else f"shape {shape}"
            return Finding(False, f"{name} must be {want}, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            return Finding(False, f"{name} holds a NaN or an infinity: use ordinary numbers")
        weights.append(arr)
    with np.errstate(all="ignore"):
        y_hat = xor_forward(XOR_X, *weights)
    lines = []
    for x, target, p in zip(XOR_X, XOR_Y, y_hat, strict=True):
        ok = p >= XOR_CONFIDENCE if target == 1 else p <= 1 - XOR_CONFIDENCE
        if not ok:
            bound = (f"at least {XOR_CONFIDENCE}" if target == 1
                     else f"at most {1 - XOR_CONFIDENCE:.1f}")
            lines.append(f"x = ({x[0]:g}, {x[1]:g}) has XOR {target}: ŷ should be {bound}, "
                         f"got {p:.3g}")
    if not lines:
        return Finding(True, "all 4 points are classified confidently")
    if all((p > 0.5) == (t == 1) for p, t in zip(y_hat, XOR_Y, strict=True)):
        hint = ("every point is on the right side of 0.5 but not confidently: scale the output "
                "weights w2 and b2 up (the sign of z decides, its size gives margin)")
        return Finding(False, f"{len(lines)} of 4 points fail: " + "; ".join(lines)
                       + f"\n  hint: {hint}", "too small a margin")
    hint = ("look at the hidden values relu(x W1 + b1) of the four points: the two class-0 "
            "points must land on one side of the output line, the others on the other")
    return Finding(False, f"{len(lines)} of 4 points fail: " + "; ".join(lines)
                   + f"\n  hint: {hint}")


REGISTRY: dict[str, Any] = {
    "sigmoid": SIGMOID, "relu": RELU, "tanh": TANH, "identity": IDENTITY, "ramp": RAMP,
    "sin": SIN, "cos": COS, "one": ONE, "square": SQUARE, "exp": EXP,
    "xor_weights": xor_weights, "judge_xor": judge_xor,
}
