"""The module zoo: small building blocks whose backward passes teach how gradients flow.

Add copies the gradient to both inputs, Multiply swaps the other input in (a gate),
Sum broadcasts it back, Max routes it to the winner, Switch sends it down the chosen
branch. Modules with several inputs return one gradient per input, as a tuple.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from reference_impl._validation import FloatArray, as_float_array
from reference_impl.layers._common import require_forward, same_shape, upstream
from reference_impl.layers.base import Module

__all__ = ["Add", "Max", "Multiply", "Sum", "Switch"]


def _axis(axis: Any, ndim: int, owner: Module) -> int:
    """A valid axis of an ``ndim``-dimensional input, made non-negative."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{type(owner).__name__} axis must be an int, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{type(owner).__name__} axis={axis} is out of range for an input with {ndim} dimension(s)"
        )
    return int(axis) % ndim


class Add(Module):
    """Addition: y = a + b; both inputs receive the upstream gradient unchanged.

    a, b: the same shape, e.g. (N, M); y has it too.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shape: tuple[int, ...] | None = None

    def forward(self, a: Any, b: Any, training: bool = True) -> FloatArray:  # type: ignore[override]
        """y = a + b. a, b: the same shape; returns that shape."""
        a = as_float_array(a, "a")
        b = as_float_array(b, "b")
        same_shape(a, b, "a", "b", self)
        self._shape = a.shape
        return a + b

    def backward(self, dy: Any) -> tuple[FloatArray, FloatArray]:
        """(da, db) = (dy, dy): addition distributes the gradient to every summand."""
        shape = require_forward(self._shape, self)
        dy = upstream(dy, shape, self)
        return dy.copy(), dy.copy()


class Multiply(Module):
    """Elementwise product: y = a ⊙ b; da = dy ⊙ b, db = dy ⊙ a.

    With b in (0, 1), e.g. a sigmoid, b is a gate deciding how much of a passes,
    and how much gradient flows back into a. a, b: the same shape.
    """

    def __init__(self) -> None:
        super().__init__()
        self._inputs: tuple[FloatArray, FloatArray] | None = None

    def forward(self, a: Any, b: Any, training: bool = True) -> FloatArray:  # type: ignore[override]
        """y = a ⊙ b. a, b: the same shape; returns that shape."""
        a = as_float_array(a, "a")
        b = as_float_array(b, "b")
        same_shape(a, b, "a", "b", self)
        self._inputs = (a, b)
        return a * b

    def backward(self, dy: Any) -> tuple[FloatArray, FloatArray]:
        """(da, db) = (dy ⊙ b, dy ⊙ a): each factor's gradient is scaled by the other."""
        a, b = require_forward(self._inputs, self)
        dy = upstream(dy, a.shape, self)
        return dy * b, dy * a


class Sum(Module):
    """Sum along an axis: y = Σ_j x_(…j…); every summand gets the upstream gradient.

    x: any shape, e.g. (N, M) with the default axis=-1 giving y of shape (N,)
    (or (N, 1) with ``keepdims=True``).
    """

    def __init__(self, axis: int = -1, keepdims: bool = False) -> None:
        super().__init__()
        self.axis = axis
        self.keepdims = bool(keepdims)
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: Any, training: bool = True) -> FloatArray:  # type: ignore[override]
        """y = x.sum(axis). x: any shape with ``axis``; returns the reduced shape."""
        x = as_float_array(x, "x")
        axis = _axis(self.axis, x.ndim, self)
        self._shape = x.shape
        return np.sum(x, axis=axis, keepdims=self.keepdims)

    def backward(self, dy: Any) -> FloatArray:
        """dx = dy broadcast back along the summed axis; returns x's shape."""
        shape = require_forward(self._shape, self)
        axis = _axis(self.axis, len(shape), self)
        reduced = shape[:axis] + ((1,) if self.keepdims else ()) + shape[axis + 1 :]
        dy = upstream(dy, reduced, self)
        if not self.keepdims:
            dy = np.expand_dims(dy, axis)
        return np.broadcast_to(dy, shape).copy()

    def __repr__(self) -> str:
        return f"Sum(axis={self.axis}, keepdims={self.keepdims})"


class Max(Module):
    """Maximum along an axis: y = max_j x_(…j…); the gradient goes to the arg-max only.

    The other entries did not affect y, so they get 0; on ties the first arg-max
    takes the whole gradient (one subgradient of max). x: any shape, e.g. (N, M)
    with axis=-1 giving y of shape (N,).
    """

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis
        self._cache: tuple[tuple[int, ...], NDArray[np.intp]] | None = None

    def forward(self, x: Any, training: bool = True) -> FloatArray:  # type: ignore[override]
        """y = x.max(axis). x: any shape; returns the shape without ``axis``."""
        x = as_float_array(x, "x")
        axis = _axis(self.axis, x.ndim, self)
        winners = np.expand_dims(np.argmax(x, axis=axis), axis)
        self._cache = (x.shape, winners)
        return np.squeeze(np.take_along_axis(x, winners, axis=axis), axis=axis)

    def backward(self, dy: Any) -> FloatArray:
        """dx = dy at the first arg-max of each slice, 0 elsewhere; returns x's shape."""
        shape, winners = require_forward(self._cache, self)
        axis = _axis(self.axis, len(shape), self)
        dy = upstream(dy, shape[:axis] + shape[axis + 1 :], self)
        dx = np.zeros(shape, dtype=dy.dtype)
        np.put_along_axis(dx, winners, np.expand_dims(dy, axis), axis=axis)
        return dx

    def __repr__(self) -> str:
        return f"Max(axis={self.axis})"


class Switch(Module):
    """Switch: y = a where cond else b; the gradient follows the branch that was taken.

    cond: a boolean array of the shape of a (or broadcastable to it); a, b: the same
    shape. The condition is not differentiable, so its gradient is ``None``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._cond: NDArray[np.bool_] | None = None

    def forward(  # type: ignore[override]
        self, cond: Any, a: Any, b: Any, training: bool = True
    ) -> FloatArray:
        """y = where(cond, a, b). cond: bool, broadcastable to a; a, b: the same shape."""
        a = as_float_array(a, "a")
        b = as_float_array(b, "b")
        same_shape(a, b, "a", "b", self)
        c = np.asarray(cond)
        if c.dtype != np.bool_:
            raise TypeError(
                f"Switch cond must be a boolean array, got dtype {c.dtype}; "
                "build it with a comparison such as x > 0"
            )
        try:
            c = np.broadcast_to(c, a.shape)
        except ValueError:
            raise ValueError(
                f"Switch cond of shape {c.shape} does not broadcast to a of shape {a.shape}"
            ) from None
        self._cond = c
        return np.where(c, a, b)

    def backward(self, dy: Any) -> tuple[None, FloatArray, FloatArray]:
        """(None, da, db) with da = dy where cond, db = dy elsewhere; a's shape each."""
        c = require_forward(self._cond, self)
        dy = upstream(dy, c.shape, self)
        zero = np.zeros_like(dy)
        return None, np.where(c, dy, zero), np.where(c, zero, dy)
