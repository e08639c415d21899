"""Batch normalisation: every feature renormalised over the mini-batch, then scaled and shifted.

Ioffe & Szegedy (2015), "Batch normalization: accelerating deep network training by
reducing internal covariate shift". For a batch x of shape (N, M), feature by feature:

    μ = (1/N) Σₙ xₙ,   σ² = (1/N) Σₙ (xₙ − μ)²,   x̂ = (x − μ) / √(σ² + ε),   y = γ x̂ + β.

Backward. With s = √(σ² + ε) and every sum over the batch (n = 1 … N), the three paths
from x to the loss (directly, through μ, through σ²) add up to

    dx = (γ / (N s)) · (N dy − Σₙ dy − x̂ · Σₙ dy x̂),   dγ = Σₙ dy x̂,   dβ = Σₙ dy.

Σₙ dx = 0 and Σₙ dx x̂ = 0: shifting or scaling a feature over the whole batch does not
change its normalised values, so the gradient has no component along those directions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from reference_impl._validation import FloatArray, as_float_array, positive_int, positive_real
from reference_impl.layers._common import float_dtype, require_forward, upstream, zero_grads_in_place
from reference_impl.layers.base import Module

__all__ = ["BatchNorm"]


class BatchNorm(Module):
    """Batch normalisation over the batch axis: y = γ (x − μ) / √(σ² + ε) + β, x of shape (N, M).

    Training (``training=True``): μ and σ² are the mean and the 1/N variance of the
    current batch, per feature, and the running statistics move towards them,

        running_mean ← momentum · running_mean + (1 − momentum) · μ   (running_var alike, with σ²).

    Inference (``training=False``): μ and σ² are the running statistics, so one example's
    output no longer depends on the others in its batch, and nothing is updated.

    ``momentum`` weighs the old value, as in CS231n (0.9); PyTorch's ``momentum=0.1`` is
    the weight of the new batch, the same rule. PyTorch also keeps N/(N − 1) times σ² in
    its running variance, which matters only for small batches; here it is σ² itself.

    Args:
        d: M, the number of features (units) normalised.
        momentum: in [0, 1), the weight of the old running statistics.
        eps: ε > 0, keeps the division finite for a feature that is constant on the batch.
        dtype: float64 (default) or float32, of γ, β and the running statistics.

    params: "gamma" (M,) starts at ones, "beta" (M,) at zeros; ``running_mean`` starts at
    zeros and ``running_var`` at ones, so an untrained layer at inference is almost the
    identity.
    """

    def __init__(self, d: int, *, momentum: float = 0.9, eps: float = 1e-5,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        self.d = positive_int(d, "d")
        if isinstance(momentum, bool) or not isinstance(momentum, int | float | np.integer | np.floating):
            raise TypeError(f"momentum must be a number, got {type(momentum).__name__}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}; 0.9 keeps 90 % of the "
                             "old running statistics at every step")
        self.momentum = float(momentum)
        self.eps = positive_real(eps, "eps")
        kind = float_dtype(dtype)
        self.params["gamma"] = np.ones(self.d, dtype=kind)
        self.params["beta"] = np.zeros(self.d, dtype=kind)
        self.running_mean = np.zeros(self.d, dtype=kind)
        self.running_var = np.ones(self.d, dtype=kind)
        self.zero_grad()
        self._cache: tuple[FloatArray, FloatArray] | None = None

    @classmethod
    def from_arrays(cls, gamma: Any, beta: Any, momentum: float = 0.9, eps: float = 1e-5) -> BatchNorm:
        """A layer whose γ and β start at copies of ``gamma`` and ``beta`` (M,), not at 1 and 0.

        The dtype is float32 if ``gamma`` is float32, else float64.
        """
        gamma = as_float_array(gamma, "gamma", ndim=1)
        beta = as_float_array(beta, "beta", ndim=1)
        if beta.shape != gamma.shape:
            raise ValueError(f"beta must have gamma's shape {gamma.shape}, got {beta.shape}")
        layer = cls(len(gamma), momentum=momentum, eps=eps, dtype=gamma.dtype)
        layer.params["gamma"][...] = gamma
        layer.params["beta"][...] = beta
        return layer

    def forward(self, x: Any, training: bool = True) -> FloatArray:  # type: ignore[override]
        """y = γ x̂ + β. x: (N, M); returns (N, M) in x's dtype. Caches x̂ and 1/√(σ² + ε)."""
        x = as_float_array(x, "x", ndim=2)
        if x.shape[1] != self.d:
            raise ValueError(f"expected x of shape (N, {self.d}), got {x.shape}; this layer "
                             f"normalises {self.d} features")
        self.training = bool(training)
        if training:
            if x.shape[0] < 2:
                raise ValueError(
                    f"a training batch needs at least 2 examples, got x of shape {x.shape}: "
                    "one example has no spread, so every feature would normalise to 0; "
                    "use training=False to run a single example"
                )
            mean = x.mean(axis=0)
            var = x.var(axis=0)
            m = self.momentum
            self.running_mean = m * self.running_mean + (1.0 - m) * mean
            self.running_var = m * self.running_var + (1.0 - m) * var
        else:
            mean = self.running_mean.astype(x.dtype, copy=False)
            var = self.running_var.astype(x.dtype, copy=False)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (x - mean) * inv_std
        self._cache = (x_hat, inv_std)
        gamma = self.params["gamma"].astype(x.dtype, copy=False)
        beta = self.params["beta"].astype(x.dtype, copy=False)
        return gamma * x_hat + beta

    def backward(self, dy: Any) -> FloatArray:
        """dx from dy (N, M); adds Σₙ dy x̂ to grads["gamma"] and Σₙ dy to grads["beta"].

        After a training forward pass μ and σ² depend on every example of the batch, so
        dx = (γ / (N s)) (N dy − Σₙ dy − x̂ Σₙ dy x̂); after an inference pass they are
        constants and dx = γ dy / s, with s = √(σ² + ε).
        """
        x_hat, inv_std = require_forward(self._cache, self)
        dy = upstream(dy, x_hat.shape, self)
        gamma = self.params["gamma"].astype(dy.dtype, copy=False)
        dgamma = np.sum(dy * x_hat, axis=0)
        dbeta = np.sum(dy, axis=0)
        self.grads["gamma"] += dgamma
        self.grads["beta"] += dbeta
        if not self.training:
            return dy * gamma * inv_std
        n = dy.shape[0]
        return (gamma * inv_std / n) * (n * dy - dbeta - x_hat * dgamma)

    def zero_grad(self) -> None:
        zero_grads_in_place(self)

    def __repr__(self) -> str:
        return f"BatchNorm(d={self.d}, momentum={self.momentum}, eps={self.eps})"
