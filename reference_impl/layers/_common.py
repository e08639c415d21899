"""Checks and helpers shared by the layers: upstream gradients, caches, gradient reset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import DTypeLike

from reference_impl._validation import FloatArray, as_float_array
from reference_impl.layers.base import Module

T = TypeVar("T")


def upstream(dy: Any, shape: tuple[int, ...], owner: Module, name: str = "dy") -> FloatArray:
    """``dy`` as a float array of the forward output's ``shape``, or an error naming both."""
    arr = as_float_array(dy, name)
    if arr.shape != shape:
        raise ValueError(
            f"{type(owner).__name__}.backward expected {name} of shape {shape} "
            f"(the shape forward returned), got {arr.shape}"
        )
    return arr


def require_forward(cache: T | None, owner: Module) -> T:
    """Return what forward cached, refusing a backward pass that has no forward pass."""
    if cache is None:
        raise RuntimeError(
            f"{type(owner).__name__}.backward called before forward; "
            "run forward on a batch first, then backward with the gradient of its output"
        )
    return cache


def zero_grads_in_place(module: Module) -> None:
    """Set every ``grads[name]`` to zeros, reusing the existing arrays where they fit.

    Zeroing in place keeps alive any ``(param, grad)`` pair an optimizer already holds.
    """
    for name, value in module.params.items():
        grad = module.grads.get(name)
        if isinstance(grad, np.ndarray) and grad.shape == value.shape:
            grad[...] = 0
        else:
            module.grads[name] = np.zeros_like(value)


def same_shape(a: FloatArray, b: FloatArray, a_name: str, b_name: str, owner: Module) -> None:
    """Demand equal shapes for elementwise modules (no silent broadcasting)."""
    if a.shape != b.shape:
        raise ValueError(
            f"{type(owner).__name__} expected {b_name} of the same shape as {a_name} "
            f"{a.shape}, got {b.shape}; reshape or broadcast explicitly first"
        )






def float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """float32 or float64, the two dtypes parameters may have."""
    kind = np.dtype(dtype)
    if kind not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {kind}")
    return kind


def check_layer_sizes(layer_sizes: Any) -> list[int]:
    """Widths of an MLP, input to output: at least two positive ints."""
    if isinstance(layer_sizes, str | bytes) or not isinstance(layer_sizes, Sequence | np.ndarray):
        raise ValueError(
            f"layer_sizes must be a sequence of widths such as [784, 128, 10], got {layer_sizes!r}"
        )
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(
            f"layer_sizes needs at least 2 entries (inputs and outputs), got {sizes}; "
            "e.g. [784, 10] for a single linear layer"
        )
    for i, size in enumerate(sizes):
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"layer_sizes[{i}] = {size!r} is not a positive int; every width must be >= 1")
    return [int(s) for s in sizes]
