"""Gradient checking: compare a backward pass with centred finite differences.

A backward pass computes a vector–Jacobian product: given dy, the gradient of the
scalar S = Σ f(x) ⊙ dy with respect to x. Centred differences estimate the same thing
one coordinate at a time,

    ∂S/∂xᵢ ≈ (S(x + h eᵢ) − S(x − h eᵢ)) / 2h,

with a truncation error of order h² (the one-sided version is only order h) plus a
rounding error of about 1e-16·|S|/h. In float64 with h = 1e-6 that rounding error is
near 1e-10 in absolute terms: a correct backward agrees to about 1e-9 relative error
on entries of size 1, but an entry of size 1e-4 can only be checked to about 1e-6.
``check_gradient`` and ``check_module`` therefore default to the five-point centred
stencil (order 4) with h = 1e-4, whose error is near 1e-12, so a correct backward
passes at 1e-7 unless an entry is itself tinier than about 1e-5. h = 1e-4 also keeps
the probes within 2e-4 of the point, which matters next to kinks (ReLU at 0, ties of a
max). A wrong backward is usually off by more than 1e-2. float32 cannot tell the two
apart reliably, so every check here demands float64.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from reference_impl._validation import FloatArray, as_float_array, check_generator, positive_real
from reference_impl.layers.base import Module
from reference_impl.metrics import _elementwise_error, _numbers, relative_error

__all__ = [
    "GradientCheckError",
    "check_gradient",
    "check_module",
    "numerical_gradient",
    "relative_error",
]


class GradientCheckError(AssertionError):
    """A backward pass disagreeing with centred differences, at its worst entry.

    Attributes: ``name`` (the argument or parameter), ``index`` (a tuple into it),
    ``analytic`` and ``numeric`` (the two values there) and ``rel_error``.
    """

    def __init__(
        self, name: str, index: tuple[int, ...], analytic: float, numeric: float, rel_error: float
    ) -> None:
        self.name = name
        self.index = index
        self.analytic = analytic
        self.numeric = numeric
        self.rel_error = rel_error
        super().__init__(
            f"gradient of {name!r} wrong at index {index}: analytic {analytic:.4g}, "
            f"numeric {numeric:.4g} (relative error {rel_error:.1e})"
        )


def _float64(x: Any, name: str) -> FloatArray:
    """A float64 array to differentiate; float32 is refused because h = 1e-6 drowns in it."""
    arr = as_float_array(x, name)
    if arr.dtype != np.float64:
        raise TypeError(
            f"{name} is {arr.dtype}; gradient checks need float64 (convert with {name}.astype(np.float64))"
        )
    return arr




def _weights(dy: Any, shape: tuple[int, ...]) -> FloatArray:
    """The upstream gradient dy as float64 of the output's shape (ones if None)."""
    if dy is None:
        return np.ones(shape)
    w = as_float_array(dy, "dy").astype(np.float64)
    if w.shape != shape:
        raise ValueError(f"expected dy of shape {shape} (the shape f returns), got {w.shape}")
    return w


def numerical_gradient(
    f: Callable[[FloatArray], Any],
    x: FloatArray,
    dy: Any = None,
    eps: float = 1e-6,
    *,
    order: int = 2,
) -> FloatArray:
    """∂S/∂x for S = Σ f(x) ⊙ dy, by centred differences (S(x + h eᵢ) − S(x − h eᵢ)) / 2h.

    This is the vector–Jacobian product dyᵀ ∂f/∂x that a backward pass returns. If
    ``f`` returns a scalar (a loss), S = f(x) and ``dy`` is ignored; otherwise ``dy``
    has f's output shape and defaults to ones.

    x: a float64 array of any shape, changed in place one entry at a time (so that a
    closure over a layer's parameter array sees the change) and restored after every
    evaluation, even if ``f`` raises. eps: the step h. order: 2 for the formula above
    (error O(h²)); 4 for the five-point centred stencil
    (8(S(x + h) − S(x − h)) − (S(x + 2h) − S(x − 2h))) / 12h, error O(h⁴), which allows
    a larger h and so less rounding noise. Returns x's shape, float64.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy array (it is perturbed in place), got {type(x).__name__}")
    _float64(x, "x")
    if not x.flags.writeable:
        raise ValueError("x is read-only; pass a writeable copy, e.g. x.copy()")
    h = positive_real(eps, "eps")
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order!r}")
    grad = np.zeros(x.shape, dtype=np.float64)
    weights: FloatArray | None = None

    def difference(index: tuple[int, ...], original: float, step: float) -> float:
        """S(x + step eᵢ) − S(x − step eᵢ) at one entry i."""
        nonlocal weights
        try:
            x[index] = original + step
            # Copies, because f may return (a view of) x itself.
            plus = np.array(f(x), dtype=np.float64)
            x[index] = original - step
            minus = np.array(f(x), dtype=np.float64)
        finally:
            x[index] = original
        if plus.ndim == 0:
            return float(plus - minus)
        if weights is None:
            weights = _weights(dy, plus.shape)
        # Differencing before summing cancels the outputs that did not move exactly.
        return float(np.sum((plus - minus) * weights))

    for index in np.ndindex(x.shape):
        original = float(x[index])
        near = difference(index, original, h)
        if order == 2:
            grad[index] = near / (2 * h)
        else:
            # Richardson extrapolation of the h and 2h estimates cancels their h² terms.
            grad[index] = (8 * near - difference(index, original, 2 * h)) / (12 * h)
    return grad


def _worst(name: str, analytic: FloatArray, numeric: FloatArray) -> GradientCheckError:
    """The largest disagreement between two gradients, packaged for reporting."""
    if analytic.size == 0:
        return GradientCheckError(name, (), 0.0, 0.0, 0.0)
    err = _elementwise_error(analytic, numeric)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape))
    return GradientCheckError(name, index, float(analytic[index]), float(numeric[index]), float(err[index]))


def _compare(found: dict[str, GradientCheckError], tol: float) -> dict[str, float]:
    """Raise the worst disagreement beyond ``tol``; otherwise return each name's error."""
    errors = {name: e.rel_error for name, e in found.items()}
    if found:
        worst = max(found.values(), key=lambda e: e.rel_error)
        if not worst.rel_error <= tol:
            raise worst
    return errors


def _analytic(value: Any, name: str, shape: tuple[int, ...]) -> FloatArray:
    if value is None:
        raise ValueError(f"no analytic gradient given for {name!r}; backward returned None")
    arr = _numbers(value, f"the analytic gradient of {name!r}")
    if arr.shape != shape:
        raise ValueError(
            f"analytic gradient of {name!r} has shape {arr.shape}, expected {shape} "
            f"(the shape of {name!r} itself)"
        )
    return arr


def check_gradient(
    f: Callable[..., Any],
    inputs: Mapping[str, Any],
    analytic: Mapping[str, Any],
    dy: Any = None,
    tol: float = 1e-7,
    *,
    eps: float = 1e-4,
    order: int = 4,
) -> dict[str, float]:
    """Check analytic gradients of S = Σ f(**inputs) ⊙ dy against centred differences.

    ``f`` is called with the inputs as keyword arguments, e.g. ``f(x=x, W=W)``. Every
    name in ``analytic`` is checked (its input must be float64, its gradient of the
    same shape); other inputs, such as integer labels, are held fixed. ``dy`` has the
    shape of f's output (ones if None; ignored if f returns a float). The inputs are
    copied, never changed. eps and order go to ``numerical_gradient``.

    Returns the relative error per name (see ``relative_error``); raises
    GradientCheckError at the worst entry if it exceeds ``tol``.
    """
    tol = positive_real(tol, "tol")
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    unknown = sorted(set(analytic) - set(inputs))
    if unknown:
        raise ValueError(f"analytic gradients {unknown} name no input; inputs are {sorted(inputs)}")
    values = {k: (np.array(v) if k in analytic else v) for k, v in inputs.items()}
    found: dict[str, GradientCheckError] = {}
    for name, grad in analytic.items():
        x = _float64(values[name], name)
        a = _analytic(grad, name, x.shape)

        def g(v: FloatArray, name: str = name) -> Any:
            return f(**{**values, name: v})

        found[name] = _worst(name, a, numerical_gradient(g, x, dy, eps, order=order))
    return _compare(found, tol)


def _input_names(module: Module, n: int) -> list[str]:
    """Names of forward's positional arguments (e.g. ["a", "b"]), else "input 0", …."""
    fallback = [f"input {i}" for i in range(n)]
    try:
        params = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError):
        return fallback
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in params if p.kind in kinds and p.name != "training"]
    return names[:n] if len(names) >= n else fallback


def _named_parameters(module: Module) -> list[tuple[str, FloatArray, Any]]:
    """(name, parameter, gradient) of a module, or of a container via ``named_parameters``."""
    named = getattr(module, "named_parameters", None)
    if callable(named):
        return [(entry[0], entry[1], entry[2]) for entry in named()]
    return [(name, p, module.grads.get(name)) for name, p in module.params.items()]


def _generators(obj: Any, seen: set[int] | None = None) -> list[np.random.Generator]:
    """Every Generator a module (or its sub-modules) holds, to replay its random draws."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    found: list[np.random.Generator] = []
    for value in vars(obj).values():
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if isinstance(item, np.random.Generator) and id(item) not in seen:
                seen.add(id(item))
                found.append(item)
            elif isinstance(item, Module):
                found.extend(_generators(item, seen))
    return found


def check_module(
    module: Module,
    *inputs: Any,
    rng: np.random.Generator,
    tol: float = 1e-7,
    eps: float = 1e-4,
    order: int = 4,
    training: bool = True,
) -> dict[str, float]:
    """Check a module's backward: every input gradient and every parameter gradient.

    Runs ``forward(*inputs)``, draws dy ~ N(0, 1) of the output's shape (a loss,
    which returns a float, gets dy = 1), runs ``backward(dy)`` after ``zero_grad``,
    then compares each returned input gradient and each ``grads[name]`` with
    centred differences. Inputs whose gradient backward returns as None (a Switch
    condition) or leaves out (a loss's targets) are not checked. Random modules
    (dropout) have their generators rewound before every forward pass, so each
    evaluation draws the same mask. Inputs are copied; parameters are perturbed in
    place and restored; the module is left holding the gradients of one backward.
    ``training`` goes to every forward call; eps and order to ``numerical_gradient``.

    Returns the relative error per name (inputs by forward's argument names, e.g.
    "x", parameters by their names, e.g. "W" or "0.W"); raises GradientCheckError at
    the worst entry if it exceeds ``tol``.
    """
    rng = check_generator(rng)
    tol = positive_real(tol, "tol")
    if not isinstance(module, Module):
        raise TypeError(f"module must be a Module, got {type(module).__name__}")
    names = _input_names(module, len(inputs))
    values = [np.array(v) if isinstance(v, np.ndarray) else v for v in inputs]
    gens = _generators(module)
    states = [g.bit_generator.state for g in gens]

    def run(*args: Any) -> Any:
        for g, state in zip(gens, states, strict=True):
            g.bit_generator.state = state
        return module.forward(*args, training=training)

    out = run(*values)
    if isinstance(out, tuple):
        raise TypeError("check_module handles modules with one output; check tuples by hand")
    scalar = np.ndim(out) == 0
    dy = None if scalar else rng.standard_normal(np.shape(out))
    module.zero_grad()
    returned = module.backward(1.0 if dy is None else dy)
    grads = list(returned) if isinstance(returned, tuple) else [returned]
    grads += [None] * (len(values) - len(grads))
    found: dict[str, GradientCheckError] = {}
    for i, (name, grad) in enumerate(zip(names, grads, strict=True)):
        if grad is None:
            continue
        x = _float64(values[i], name)
        a = _analytic(grad, name, x.shape)

        def f(v: FloatArray, i: int = i) -> Any:
            return run(*values[:i], v, *values[i + 1 :])

        found[name] = _worst(name, a, numerical_gradient(f, x, dy, eps, order=order))
    for name, param, grad in _named_parameters(module):
        label = name if name not in found else f"parameter {name}"
        _float64(param, f"parameter {name!r}")
        a = _analytic(grad, label, param.shape)
        found[label] = _worst(
            label, a, numerical_gradient(lambda _: run(*values), param, dy, eps, order=order)
        )
    return _compare(found, tol)
