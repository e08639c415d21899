"""Loss modules: the last link of the chain, turning predictions and targets into a float.

``forward(prediction, target) -> float`` (the mean over the batch) and
``backward(dy=1.0) -> d prediction``; targets get no gradient. The loss functions of
``reference_impl.losses`` are imported when a loss is first computed, not with this
module: notebooks 2 and 4 ask students to write them, and their sandboxes lack them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reference_impl._validation import FloatArray, as_float_array
from reference_impl.layers._common import require_forward
from reference_impl.layers.base import Module

__all__ = ["AbsoluteError", "L1Loss", "MSELoss", "SoftmaxCrossEntropy", "SquaredError"]


def _scale(dy: Any) -> float:
    """The upstream gradient of a scalar loss: a finite real number (1.0 at the top)."""
    arr = np.asarray(dy)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        raise TypeError(f"dy of a loss must be a real scalar, got {dy!r}")
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        raise ValueError(f"dy of a loss must be finite, got {value}")
    return value


class SoftmaxCrossEntropy(Module):
    """Fused softmax and cross-entropy: L = −(1/N) Σₙ log softmax(zₙ)_(yₙ); ∂L/∂z = (p − y)/N.

    Fusing the two keeps the loss finite for extreme logits (it works with
    log-softmax, never with the log of an underflowed probability), and the
    gradient is the simple p − y instead of a product of two Jacobians.
    logits: (N, C); y: integer labels (N,) in 0..C−1, or one-hot rows (N, C).

    ``softmax``, when given, is a function mapping logits (N, C) to probabilities
    (N, C): the loss is then computed from its probabilities (clipped at 1e-12 before
    the log) instead of log-softmax. Notebook 2 passes the student's own softmax.
    """

    def __init__(self, softmax: Callable[[Any], Any] | None = None) -> None:
        super().__init__()
        self.softmax = softmax
        self._dlogits: FloatArray | None = None

    def forward(self, logits: Any, y: Any, training: bool = True) -> float:  # type: ignore[override]
        """The mean cross-entropy over the batch, in nats. logits: (N, C); y: (N,) or (N, C)."""
        if self.softmax is not None:
            loss, self._dlogits = _from_probabilities(self.softmax, logits, y)
            return loss
        from reference_impl import losses

        loss, self._dlogits = losses.softmax_cross_entropy(logits, y)
        return loss

    def backward(self, dy: Any = 1.0) -> FloatArray:
        """dlogits = dy · (p − y)/N, of shape (N, C); dy is the scalar upstream gradient."""
        dlogits = require_forward(self._dlogits, self)
        return dlogits * _scale(dy)


def _from_probabilities(softmax: Callable[[Any], Any], logits: Any,
                        y: Any) -> tuple[float, FloatArray]:
    """Mean cross-entropy and its gradient (p − y)/N from the probabilities ``softmax`` gives."""
    z = as_float_array(logits, "logits", ndim=2)
    p = np.asarray(softmax(z), dtype=z.dtype)
    if p.shape != z.shape:
        raise ValueError(f"softmax returned shape {p.shape} for logits of shape {z.shape}")
    n, c = z.shape
    labels = np.asarray(y)
    target = labels.astype(z.dtype) if labels.ndim == 2 else np.eye(c, dtype=z.dtype)[labels]
    loss = -float(np.sum(target * np.log(np.clip(p, 1e-12, 1.0)))) / n
    return loss, (p - target) / n


class _ElementwiseLoss(Module):
    """A mean over all entries of a pointwise penalty of ŷ − y, with its gradient."""

    def __init__(
        self,
        value: Callable[[Any, Any], float],
        grad: Callable[[Any, Any], FloatArray],
    ) -> None:
        super().__init__()
        self._value = value
        self._grad = grad
        self._dy_hat: FloatArray | None = None

    def forward(self, y_hat: Any, y: Any, training: bool = True) -> float:  # type: ignore[override]
        """The loss, a float. y_hat and y share a shape, (N,) or (N, M)."""
        y_hat = as_float_array(y_hat, "y_hat")
        loss = self._value(y_hat, y)
        self._dy_hat = self._grad(y_hat, y)
        return loss

    def backward(self, dy: Any = 1.0) -> FloatArray:
        """d y_hat = dy · ∂L/∂ŷ, of y_hat's shape."""
        dy_hat = require_forward(self._dy_hat, self)
        return dy_hat * _scale(dy)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SquaredError(_ElementwiseLoss):
    """Mean squared error (L2): L = (1/S) Σ (ŷ − y)² over all S entries; ∂L/∂ŷ = 2(ŷ − y)/S."""

    def __init__(self) -> None:
        from reference_impl import losses

        super().__init__(losses.mean_squared_error, losses.mean_squared_error_grad)


class AbsoluteError(_ElementwiseLoss):
    """Mean absolute error (L1): L = (1/S) Σ |ŷ − y|; ∂L/∂ŷ = sign(ŷ − y)/S (0 where ŷ = y)."""

    def __init__(self) -> None:
        from reference_impl import losses

        super().__init__(losses.mean_absolute_error, losses.mean_absolute_error_grad)


MSELoss = SquaredError
L1Loss = AbsoluteError
