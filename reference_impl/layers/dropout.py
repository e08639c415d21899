"""Dropout: silence random units while training so that none can rely on another."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference_impl._validation import FloatArray, as_float_array, check_generator
from reference_impl.layers._common import require_forward, upstream
from reference_impl.layers.base import Module

__all__ = ["Dropout", "check_drop_probability"]


def check_drop_probability(p: Any) -> float:
    """A dropout probability: a real number in [0, 1)."""
    if isinstance(p, bool) or not isinstance(p, int | float | np.integer | np.floating):
        raise TypeError(f"p must be a probability in [0, 1), got {type(p).__name__}")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p must be a drop probability in [0, 1), got {p}; p = 1 would drop every unit")
    return float(p)


class Dropout(Module):
    """Inverted dropout: y = x · m / (1 − p), with m_i ~ Bernoulli(1 − p) while training.

    Each unit is kept with probability 1 − p and zeroed otherwise; scaling the kept
    ones by 1/(1 − p) keeps E[y] = x, so at inference (``training=False``) the layer
    is the identity and needs no rescaling. Backward multiplies by the same scaled
    mask that forward drew. x: any shape, e.g. (N, M).

    Args:
        p: the probability of dropping a unit, in [0, 1).
        rng: the generator that draws the masks.
    """

    def __init__(self, p: float, *, rng: np.random.Generator) -> None:
        super().__init__()
        self.p = check_drop_probability(p)
        self.rng = check_generator(rng)
        self._mask: FloatArray | None = None
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: Any, training: bool = True) -> FloatArray:  # type: ignore[override]
        """y = x · mask (training) or y = x (inference). x: any shape; returns x's shape."""
        x = as_float_array(x, "x")
        self.training = bool(training)
        self._shape = x.shape
        if not training or self.p == 0.0:
            self._mask = None
            return x.copy()
        keep = 1.0 - self.p
        self._mask = ((self.rng.random(x.shape) < keep) / keep).astype(x.dtype)
        return x * self._mask

    def backward(self, dy: Any) -> FloatArray:
        """dx = dy · mask, the mask of the last forward pass (dx = dy at inference)."""
        shape = require_forward(self._shape, self)
        dy = upstream(dy, shape, self)
        if self._mask is None:
            return dy.copy()
        return dy * self._mask.astype(dy.dtype, copy=False)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
