"""The module API every layer shares: forward, backward, parameters and their gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


class Module:
    """A differentiable building block.

    - ``forward(x, training=True) -> y`` caches what backward needs;
    - ``backward(dy) -> dx`` returns the gradient of the loss with respect to the input,
      given the gradient with respect to the output, and *accumulates* into
      ``grads[name]`` the gradient of every parameter ``params[name]``.

    Modules with several inputs take and return tuples. ``zero_grad`` resets the
    accumulators; inputs are never mutated.
    """

    def __init__(self) -> None:
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.training: bool = True

    def forward(self, *inputs: Any, training: bool = True) -> Any:
        raise NotImplementedError

    def backward(self, dy: Any) -> Any:
        raise NotImplementedError

    def __call__(self, *inputs: Any, training: bool = True) -> Any:
        return self.forward(*inputs, training=training)

    def zero_grad(self) -> None:
        """Zero the accumulators in place, so (param, grad) pairs handed out stay live."""
        for name, value in self.params.items():
            grad = self.grads.get(name)
            if grad is None or grad.shape != value.shape:
                self.grads[name] = np.zeros_like(value)
            else:
                grad.fill(0)

    def parameters(self) -> list[tuple[Array, Array]]:
        """(parameter, gradient) pairs, in a stable order, for an optimizer."""
        return [(self.params[name], self.grads[name]) for name in self.params]

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={v.shape}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"
