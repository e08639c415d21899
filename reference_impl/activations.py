"""Activation functions g(z) and their derivatives g′(z), each derivative beside its function.

Every function takes the pre-activation ``z`` (an array of any shape) and returns an
array of the same shape. Every derivative ``<name>_grad`` also takes ``z``, not the
output, and returns dg/dz elementwise, so a layer's backward is ``dz = dy * g′(z)``.
float64 by default; float32 in gives float32 out.

Course notes: sigmoid and tanh saturate, ReLU does not for z > 0 but its units can die,
leaky/parametric ReLU and ELU keep a gradient for z < 0, SELU self-normalises, maxout
learns its own piecewise-linear shape, and softmax turns scores into probabilities.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from reference_impl._validation import FloatArray, as_float_array, finite_real, positive_int

SELU_LAMBDA = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772

__all__ = [
    "ACTIVATIONS",
    "SELU_ALPHA",
    "SELU_LAMBDA",
    "elu",
    "elu_grad",
    "identity",
    "identity_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "maxout",
    "maxout_grad",
    "prelu",
    "prelu_grad",
    "prelu_grad_slope",
    "relu",
    "relu_grad",
    "selu",
    "selu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_jacobian",
    "tanh",
    "tanh_grad",
]




def identity(z: Any) -> FloatArray:
    """Identity: g(z) = z, the output of a linear (regression) unit.

    z: any shape. Returns a copy of the same shape, so callers may modify it freely.
    """
    return as_float_array(z, "z").copy()


def identity_grad(z: Any) -> FloatArray:
    """Identity derivative: g′(z) = 1.

    z: any shape. Returns ones of the same shape.
    """
    z = as_float_array(z, "z")
    return np.ones_like(z)


def sigmoid(z: Any) -> FloatArray:
    """Sigmoid: σ(z) = 1 / (1 + e^(−z)), range (0, 1).

    Saturates at both ends, is not zero-centred and costs an exp; still the right
    output for a probability or a gate. z: any shape; returns the same shape.
    Stable for any finite z: only e^(−|z|) ≤ 1 is ever computed, so nothing overflows.
    """
    z = as_float_array(z, "z")
    e = np.exp(-np.abs(z))
    # For z < 0 use e^z / (1 + e^z), the same value written without e^(−z), which overflows.
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(z: Any) -> FloatArray:
    """Sigmoid derivative: σ′(z) = σ(z)(1 − σ(z)) = σ(z)σ(−z), at most 0.25 (at z = 0).

    The bound σ′ ≤ 0.25 is why gradients shrink geometrically through a deep stack of
    sigmoids. z: any shape; returns the same shape.
    """
    z = as_float_array(z, "z")
    # σ(−z) equals 1 − σ(z) but keeps its precision when σ(z) rounds to 1.
    return sigmoid(z) * sigmoid(-z)


def tanh(z: Any) -> FloatArray:
    """Hyperbolic tangent: tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)) = 2σ(2z) − 1.

    A rescaled sigmoid with range (−1, 1): zero-centred, but it still saturates.
    z: any shape; returns the same shape.
    """
    z = as_float_array(z, "z")
    return np.tanh(z)


def tanh_grad(z: Any) -> FloatArray:
    """Tanh derivative: tanh′(z) = 1 − tanh²(z), at most 1 (at z = 0).

    z: any shape; returns the same shape.
    """
    t = tanh(z)
    return 1.0 - t * t


def relu(z: Any) -> FloatArray:
    """ReLU: g(z) = max(0, z).

    Cheap and non-saturating for z > 0; a unit whose input stays negative gets no
    gradient and can die. z: any shape; returns the same shape.
    """
    z = as_float_array(z, "z")
    return np.maximum(z, 0)


def relu_grad(z: Any) -> FloatArray:
    """ReLU derivative: g′(z) = 1 if z > 0 else 0 (the value 0 is taken at the kink z = 0).

    z: any shape; returns a 0/1 array of the same shape and dtype.
    """
    z = as_float_array(z, "z")
    return (z > 0).astype(z.dtype)


def leaky_relu(z: Any, alpha: float = 0.01) -> FloatArray:
    """Leaky ReLU: g(z) = z if z > 0 else αz, i.e. max(αz, z) for 0 ≤ α ≤ 1.

    The small slope α (0.01 by default) keeps a gradient flowing for z < 0, so units
    cannot die. z: any shape; returns the same shape.
    """
    z = as_float_array(z, "z")
    alpha = finite_real(alpha, "alpha")
    return np.where(z > 0, z, alpha * z)


def leaky_relu_grad(z: Any, alpha: float = 0.01) -> FloatArray:
    """Leaky ReLU derivative: g′(z) = 1 if z > 0 else α (α is taken at z = 0).

    z: any shape; returns the same shape and dtype.
    """
    z = as_float_array(z, "z")
    alpha = finite_real(alpha, "alpha")
    return np.where(z > 0, np.ones_like(z), np.full_like(z, alpha))


def _slope(a: Any, z: FloatArray) -> FloatArray:
    """The PReLU slope ``a`` as an array of z's dtype that broadcasts to z's shape."""
    a = as_float_array(a, "a")
    try:
        shape = np.broadcast_shapes(a.shape, z.shape)
    except ValueError:
        shape = None
    if shape != z.shape:
        raise ValueError(
            f"slope a of shape {a.shape} does not broadcast to z of shape {z.shape}; "
            "use a scalar or one slope per unit, shape (M,) for z of shape (N, M)"
        )
    return a.astype(z.dtype, copy=False)


def prelu(z: Any, a: Any) -> FloatArray:
    """Parametric ReLU: g(z) = z if z > 0 else a·z, with the slope a learned.

    He et al. 2015 learn one slope per unit; a = 0.01 fixed gives leaky ReLU, a = 0
    gives ReLU. z: any shape, e.g. (N, M); a: scalar or broadcastable to z, e.g. (M,).
    Returns z's shape.
    """
    z = as_float_array(z, "z")
    a = _slope(a, z)
    return np.where(z > 0, z, a * z)


def prelu_grad(z: Any, a: Any) -> FloatArray:
    """PReLU derivative in z: ∂g/∂z = 1 if z > 0 else a (a is taken at z = 0).

    z: any shape, e.g. (N, M); a: scalar or broadcastable to z, e.g. (M,).
    Returns z's shape.
    """
    z = as_float_array(z, "z")
    a = _slope(a, z)
    return np.where(z > 0, np.ones_like(z), np.broadcast_to(a, z.shape))


def prelu_grad_slope(z: Any, a: Any) -> FloatArray:
    """PReLU derivative in the slope: ∂g/∂a = min(z, 0), i.e. z where z < 0 else 0.

    Elementwise, of z's shape; a layer with one slope per unit (a of shape (M,)) sums
    ``dy * prelu_grad_slope(z, a)`` over the batch axis to get its (M,) gradient.
    z: any shape, e.g. (N, M); a: scalar or broadcastable to z (checked, otherwise unused).
    """
    z = as_float_array(z, "z")
    _slope(a, z)
    return np.minimum(z, 0)


def elu(z: Any, alpha: float = 1.0) -> FloatArray:
    """ELU: g(z) = z if z > 0 else α(e^z − 1).

    Smooth negative part saturating at −α, which pushes mean activations toward zero
    (Clevert, Unterthiner & Hochreiter 2016). z: any shape; returns the same shape.
    """
    z = as_float_array(z, "z")
    alpha = finite_real(alpha, "alpha")
    # expm1 is accurate near 0; clipping at 0 keeps the unused branch from overflowing.
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))


def elu_grad(z: Any, alpha: float = 1.0) -> FloatArray:
    """ELU derivative: g′(z) = 1 if z > 0 else α·e^z (α is taken at z = 0).

    z: any shape; returns the same shape.
    """
    z = as_float_array(z, "z")
    alpha = finite_real(alpha, "alpha")
    return np.where(z > 0, np.ones_like(z), alpha * np.exp(np.minimum(z, 0)))


def selu(z: Any) -> FloatArray:
    """SELU: g(z) = λ·z if z > 0 else λ·α(e^z − 1), with λ ≈ 1.0507 and α ≈ 1.6733.

    Klambauer, Unterthiner, Mayr & Hochreiter 2017 chose λ and α so that mean 0 and
    variance 1 is a fixed point: for z ~ N(0, 1), selu(z) again has mean 0 and
    variance 1, so activations self-normalise layer after layer.
    z: any shape; returns the same shape.
    """
    return SELU_LAMBDA * elu(z, SELU_ALPHA)


def selu_grad(z: Any) -> FloatArray:
    """SELU derivative: g′(z) = λ if z > 0 else λ·α·e^z.

    z: any shape; returns the same shape.
    """
    return SELU_LAMBDA * elu_grad(z, SELU_ALPHA)


def softmax(z: Any, axis: int = -1) -> FloatArray:
    """Softmax: p_i = e^(z_i) / Σ_j e^(z_j) along ``axis``: a soft arg-max.

    Entries are positive and sum to 1 along ``axis``; scaling z up pushes p toward a
    one-hot arg-max. z: (C,) or (N, C) scores (any shape with ``axis`` as the class
    axis); returns probabilities of the same shape.
    """
    z = as_float_array(z, "z")
    if z.ndim == 0:
        raise ValueError("softmax needs at least one axis of scores, got a scalar z")
    try:
        axis = operator.index(axis)
        # Shifting z leaves softmax unchanged; after subtracting the max, exp(≤ 0) cannot overflow.
        shifted = z - np.max(z, axis=axis, keepdims=True)
    except (TypeError, np.exceptions.AxisError) as exc:
        raise ValueError(f"axis={axis!r} is not an axis of z with shape {z.shape}") from exc
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_jacobian(p: Any) -> FloatArray:
    """Softmax Jacobian: ∂p_i/∂z_j = p_i(δ_ij − p_j), i.e. J = diag(p) − p pᵀ.

    Takes the softmax *output* p, not the scores. p: (C,) gives (C, C); p: (N, C)
    gives (N, C, C), one Jacobian per row. J is symmetric and its rows sum to 0
    because the probabilities always sum to 1.
    """
    p = as_float_array(p, "p")
    if p.ndim not in (1, 2):
        raise ValueError(f"expected p of shape (C,) or (N, C), got shape {p.shape}")
    sums = p.sum(axis=-1)
    if np.any(p < 0) or not np.allclose(sums, 1.0, rtol=0.0, atol=1e-4):
        raise ValueError(
            "p must hold probabilities summing to 1 along its last axis; pass softmax(z), not the scores z"
        )
    eye = np.eye(p.shape[-1], dtype=p.dtype)
    return p[..., :, None] * eye - p[..., :, None] * p[..., None, :]


def _maxout_groups(z: Any, pieces: Any) -> FloatArray:
    """z of shape (N, M*K) viewed as (N, M, K): consecutive blocks of K pieces per unit."""
    z = as_float_array(z, "z")
    pieces = positive_int(pieces, "pieces")
    if z.ndim != 2:
        raise ValueError(f"expected z of shape (N, M*K) for maxout, got shape {z.shape}")
    n, width = z.shape
    if width % pieces:
        raise ValueError(
            f"z of shape {z.shape} has {width} columns, not a multiple of pieces={pieces}; "
            f"the layer before maxout needs M*{pieces} outputs"
        )
    return z.reshape(n, width // pieces, pieces)


def maxout(z: Any, pieces: int) -> FloatArray:
    """Maxout: h_m = max_k z_(m,k), the largest of K linear pieces per unit.

    Goodfellow et al. 2013. It generalises ReLU (pieces z and 0) and leaky ReLU
    (pieces z and 0.01z), but each unit needs K affine maps, so K = 2 doubles the
    parameters. z: (N, M*K), grouped as consecutive blocks of K, i.e.
    ``z.reshape(N, M, K)``; returns (N, M).
    """
    return np.max(_maxout_groups(z, pieces), axis=2)


def maxout_grad(z: Any, pieces: int) -> FloatArray:
    """Maxout derivative: ∂h_m/∂z_(m,k) = 1 for the winning piece k, 0 for the others.

    The gradient is routed to the first arg-max of each group when pieces tie.
    z: (N, M*K) as for ``maxout``; returns a 0/1 mask of shape (N, M*K), so a layer's
    backward is ``dz = np.repeat(dh, K, axis=1) * maxout_grad(z, K)``.
    """
    groups = _maxout_groups(z, pieces)
    winner = np.argmax(groups, axis=2)[..., None]
    mask = np.zeros_like(groups)
    np.put_along_axis(mask, winner, 1.0, axis=2)
    return mask.reshape(groups.shape[0], -1)


ACTIVATIONS: dict[str, tuple[Callable[..., FloatArray], Callable[..., FloatArray]]] = {
    "identity": (identity, identity_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "selu": (selu, selu_grad),
}
