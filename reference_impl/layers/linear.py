"""The affine (fully connected) layer: y = x W + b, the weighted sums of every unit at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from reference_impl._validation import FloatArray, as_float_array, check_generator, finite_real, positive_int
from reference_impl.layers._common import (
    float_dtype,
    require_forward,
    upstream,
    zero_grads_in_place,
)
from reference_impl.layers.base import Module

__all__ = ["Linear"]


class Linear(Module):
    """Affine layer: y = x W + b, with W of shape (D, M) and b of shape (M,).

    Each of the M output units computes a weighted sum of the D inputs plus a bias; a
    row of ``x`` is one example, so a whole batch is one matrix product.

    Args:
        d_in: D, features into the layer.
        d_out: M, units (features out).
        rng: the generator that draws W.
        init: an initializer name from ``reference_impl.initializers`` (e.g.
            "glorot_uniform", "kaiming_normal") or a callable ``f(shape, *, rng, dtype)``.
        bias_init: the constant every bias starts at (0.01 keeps ReLUs alive).
        dtype: float64 (default) or float32, the dtype of W and b.

    The output has the dtype of the input ``x``: float32 in gives float32 out.
    """

    def __init__(
        self,
        d_in: int,
        d_out: int,
        *,
        rng: np.random.Generator,
        init: str | Callable[..., FloatArray] = "glorot_uniform",
        bias_init: float = 0.0,
        dtype: DTypeLike = np.float64,
    ) -> None:
        super().__init__()
        self.d_in = positive_int(d_in, "d_in")
        self.d_out = positive_int(d_out, "d_out")
        rng = check_generator(rng)
        kind = float_dtype(dtype)
        if isinstance(init, str):
            # Imported here: notebook 3 asks students to write the initializers, so its
            # sandbox lacks them, and its experiments pass their own as callables.
            from reference_impl.initializers import get_initializer

            draw = get_initializer(init)
        else:
            draw = init
        if not callable(draw):
            raise TypeError(f"init must be an initializer name or a callable, got {init!r}")
        weights = np.asarray(draw((self.d_in, self.d_out), rng=rng, dtype=kind), dtype=kind)
        if weights.shape != (self.d_in, self.d_out):
            raise ValueError(f"init returned W of shape {weights.shape}, expected {(self.d_in, self.d_out)}")
        bias = finite_real(bias_init, "bias_init")
        self.params["W"] = weights
        self.params["b"] = np.full(self.d_out, bias, dtype=kind)
        self._grads_are_zero = False
        self.zero_grad()
        self._x: FloatArray | None = None
        # A first layer's input is data: skipping dx there saves a third of its backward cost.
        self.input_grad = True

    def forward(self, x: Any, training: bool = True) -> FloatArray:  # type: ignore[override]
        """y = x W + b. x: (N, D); returns (N, M) in x's dtype."""
        x = as_float_array(x, "x", ndim=2)
        if x.shape[1] != self.d_in:
            raise ValueError(
                f"expected x of shape (N, {self.d_in}), got {x.shape}; "
                f"this layer takes {self.d_in} features per example"
            )
        self._x = x
        W, b = self.params["W"], self.params["b"]
        return x @ W.astype(x.dtype, copy=False) + b.astype(x.dtype, copy=False)

    def backward(self, dy: Any) -> FloatArray | None:
        """dx = dy Wᵀ; dW += xᵀ dy; db += Σₙ dy. dy: (N, M); returns dx (N, D).

        With ``input_grad`` set to False (a first layer, fed data) dx is not computed
        and backward returns None, as autograd frameworks do for inputs that need no
        gradient.

        Each weight W_dm touches output m of every example through x_nd, so its
        gradient sums x_nd · dy_nm over the batch: the outer products, summed.
        """
        x = require_forward(self._x, self)
        dy = upstream(dy, (x.shape[0], self.d_out), self)
        W = self.params["W"]
        if self._grads_are_zero:  # right after zero_grad: write, don't add to zeros
            np.matmul(x.T, dy, out=self.grads["W"])
            np.sum(dy, axis=0, out=self.grads["b"])
            self._grads_are_zero = False
        else:
            self.grads["W"] += x.T @ dy
            self.grads["b"] += dy.sum(axis=0)
        if not self.input_grad:
            return None
        return dy @ W.T.astype(dy.dtype, copy=False)

    def zero_grad(self) -> None:
        zero_grads_in_place(self)
        self._grads_are_zero = True

    def __repr__(self) -> str:
        return f"Linear(d_in={self.d_in}, d_out={self.d_out}, dtype={self.params['W'].dtype})"
