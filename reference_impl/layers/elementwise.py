"""The elementwise activation layer: any function g and its derivative, y = g(z).

It holds no activation of its own: ``Activation(g, g_grad)`` wraps functions the caller
gives (notebook 2's experiments pass the student's own), and ``reference_impl.layers.activation``
builds the named layers (ReLU, Sigmoid, ...) on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reference_impl._validation import FloatArray, as_float_array
from reference_impl.layers._common import require_forward, upstream
from reference_impl.layers.base import Module

__all__ = ["Activation"]


class Activation(Module):
    """Elementwise activation: y = g(z); backward dz = dy · g′(z).

    Args:
        fn: g, mapping z to y of the same shape.
        grad: g′, taking the *input* z (not the output) and returning dg/dz elementwise.

    z may have any shape, typically (N, M); no parameters.
    """

    def __init__(self, fn: Callable[[Any], FloatArray], grad: Callable[[Any], FloatArray]) -> None:
        super().__init__()
        self.fn = fn
        self.grad = grad
        self._z: FloatArray | None = None

    def forward(self, z: Any, training: bool = True) -> FloatArray:  # type: ignore[override]
        """y = g(z). z: any shape, e.g. (N, M); returns the same shape and dtype."""
        z = as_float_array(z, "z")
        self._z = z
        return self.fn(z)

    def backward(self, dy: Any) -> FloatArray:
        """dz = dy · g′(z), elementwise. dy: the shape of the output; returns z's shape."""
        z = require_forward(self._z, self)
        dy = upstream(dy, z.shape, self)
        return (dy * self.grad(z)).astype(z.dtype, copy=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
