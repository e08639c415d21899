"""Activation layers: a nonlinearity g applied to the pre-activations z, y = g(z).

Each layer wraps a function and its derivative from ``reference_impl.activations``;
backward multiplies the upstream gradient by g′(z) elementwise. Softmax (whose
Jacobian couples the classes) and maxout (which reduces groups of pieces) override it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from reference_impl import activations as A
from reference_impl._validation import FloatArray, as_float_array, finite_real, positive_int
from reference_impl.layers._common import (
    float_dtype,
    require_forward,
    upstream,
    zero_grads_in_place,
)
from reference_impl.layers.base import Module
from reference_impl.layers.elementwise import Activation

__all__ = [
    "ACTIVATION_LAYERS",
    "ELU",
    "SELU",
    "Activation",
    "Identity",
    "LeakyReLU",
    "Maxout",
    "PReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "activation",
    "check_activation_name",
]


class Identity(Activation):
    """Identity: y = z; the gradient passes through unchanged."""

    def __init__(self) -> None:
        super().__init__(A.identity, A.identity_grad)


class Sigmoid(Activation):
    """Logistic sigmoid: y = 1 / (1 + e^(−z)); g′(z) = σ(z)(1 − σ(z)) ≤ 0.25."""

    def __init__(self) -> None:
        super().__init__(A.sigmoid, A.sigmoid_grad)


class Tanh(Activation):
    """Hyperbolic tangent: y = tanh(z); g′(z) = 1 − tanh²(z)."""

    def __init__(self) -> None:
        super().__init__(A.tanh, A.tanh_grad)


class ReLU(Activation):
    """ReLU: y = max(0, z); the gradient passes where z > 0 (taken as 0 at z = 0)."""

    def __init__(self) -> None:
        super().__init__(A.relu, A.relu_grad)


class LeakyReLU(Activation):
    """Leaky ReLU: y = z if z > 0 else αz; g′(z) = 1 or α, so units cannot die."""

    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = finite_real(alpha, "alpha")
        super().__init__(
            partial(A.leaky_relu, alpha=self.alpha), partial(A.leaky_relu_grad, alpha=self.alpha)
        )

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"


class ELU(Activation):
    """ELU: y = z if z > 0 else α(e^z − 1); g′(z) = 1 or αe^z."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = finite_real(alpha, "alpha")
        super().__init__(partial(A.elu, alpha=self.alpha), partial(A.elu_grad, alpha=self.alpha))

    def __repr__(self) -> str:
        return f"ELU(alpha={self.alpha})"


class SELU(Activation):
    """SELU: y = λz if z > 0 else λα(e^z − 1), λ ≈ 1.0507, α ≈ 1.6733 (self-normalising)."""

    def __init__(self) -> None:
        super().__init__(A.selu, A.selu_grad)


class PReLU(Module):
    """Parametric ReLU: y = z if z > 0 else a·z, with one learned slope a_m per unit.

    Params: "a" of shape (M,), started at ``init`` (0.25, as He et al. 2015 do).
    Backward: dz = dy · (1 or a); da_m += Σₙ dy_nm · min(z_nm, 0), summed over the batch
    because every example uses the same slope.
    """

    def __init__(self, n_units: int, init: float = 0.25, dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        self.n_units = positive_int(n_units, "n_units")
        kind = float_dtype(dtype)
        self.params["a"] = np.full(self.n_units, finite_real(init, "init"), dtype=kind)
        self.zero_grad()
        self._z: FloatArray | None = None

    def forward(self, z: Any, training: bool = True) -> FloatArray:  # type: ignore[override]
        """y = prelu(z, a). z: (N, M); returns (N, M)."""
        z = as_float_array(z, "z", ndim=2)
        if z.shape[1] != self.n_units:
            raise ValueError(
                f"expected z of shape (N, {self.n_units}), got {z.shape}; "
                f"this PReLU has one slope per unit for {self.n_units} units"
            )
        self._z = z
        return A.prelu(z, self.params["a"])

    def backward(self, dy: Any) -> FloatArray:
        """dz = dy · ∂y/∂z; accumulates grads["a"] (M,). dy: (N, M); returns (N, M)."""
        z = require_forward(self._z, self)
        dy = upstream(dy, z.shape, self)
        a = self.params["a"]
        self.grads["a"] += (dy * A.prelu_grad_slope(z, a)).sum(axis=0)
        return (dy * A.prelu_grad(z, a)).astype(z.dtype, copy=False)

    def zero_grad(self) -> None:
        zero_grads_in_place(self)

    def __repr__(self) -> str:
        return f"PReLU(n_units={self.n_units})"


def _softmax_jacobian_of_scores(z: Any) -> FloatArray:
    """J = diag(p) − p pᵀ at p = softmax(z): (N, C) scores give (N, C, C)."""
    return A.softmax_jacobian(A.softmax(z))


class Softmax(Activation):
    """Softmax over the last axis: p_c = e^(z_c) / Σ_k e^(z_k).

    Its Jacobian diag(p) − p pᵀ couples the classes, so backward is the
    vector–Jacobian product dz = Jᵀ dy = p · (dy − Σ_c dy_c p_c), computed row by row
    in O(N·C) without building the (N, C, C) Jacobian (``grad`` builds it, for study).
    """

    def __init__(self) -> None:
        super().__init__(A.softmax, _softmax_jacobian_of_scores)
        self._p: FloatArray | None = None

    def forward(self, z: Any, training: bool = True) -> FloatArray:  # type: ignore[override]
        """p = softmax(z). z: (N, C) (any shape, classes on the last axis); returns z's shape."""
        p = super().forward(z, training=training)
        self._p = p
        return p

    def backward(self, dy: Any) -> FloatArray:
        """dz = p · (dy − Σ_c dy_c p_c). dy: (N, C); returns (N, C)."""
        p = require_forward(self._p, self)
        dy = upstream(dy, p.shape, self)
        return (p * (dy - np.sum(dy * p, axis=-1, keepdims=True))).astype(p.dtype, copy=False)


class Maxout(Activation):
    """Maxout: y_m = max_k z_(m,k) over K pieces per unit (Goodfellow et al. 2013).

    z: (N, M*K), consecutive blocks of K columns per unit; y: (N, M). Backward routes
    each dy_m to the winning piece of its block (the first one on ties).
    """

    def __init__(self, pieces: int) -> None:
        self.pieces = positive_int(pieces, "pieces")
        super().__init__(partial(A.maxout, pieces=self.pieces), partial(A.maxout_grad, pieces=self.pieces))

    def backward(self, dy: Any) -> FloatArray:
        """dz = repeat(dy, K) · mask of winners. dy: (N, M); returns (N, M*K)."""
        z = require_forward(self._z, self)
        dy = upstream(dy, (z.shape[0], z.shape[1] // self.pieces), self)
        return (np.repeat(dy, self.pieces, axis=1) * self.grad(z)).astype(z.dtype, copy=False)

    def __repr__(self) -> str:
        return f"Maxout(pieces={self.pieces})"


ACTIVATION_LAYERS: dict[str, type[Module]] = {
    "identity": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "selu": SELU,
    "prelu": PReLU,
    "softmax": Softmax,
    "maxout": Maxout,
}


def check_activation_name(name: Any) -> str:
    """``name`` if it is a key of ``ACTIVATION_LAYERS``, else an error listing the valid ones."""
    if not isinstance(name, str):
        raise TypeError(f"activation name must be a str such as 'relu', got {type(name).__name__}")
    if name not in ACTIVATION_LAYERS:
        valid = ", ".join(sorted(ACTIVATION_LAYERS))
        raise ValueError(f"unknown activation {name!r}; valid names: {valid}")
    return name


def activation(name: str, **kwargs: Any) -> Module:
    """The activation layer called ``name``, e.g. ``activation("relu")``.

    Keyword arguments go to its constructor: ``activation("leaky_relu", alpha=0.1)``,
    ``activation("prelu", n_units=M)``, ``activation("maxout", pieces=K)``.
    """
    return ACTIVATION_LAYERS[check_activation_name(name)](**kwargs)
