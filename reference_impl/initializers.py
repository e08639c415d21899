"""Weight initialisers: how to draw W of shape (D, M) so signals neither explode nor vanish.

If the inputs x_i are independent with mean 0, then for z = Σ_i W_i x_i over d_in
terms, Var(z) = d_in · Var(W) · Var(x). Keeping Var(z) = Var(x) on the forward pass
needs Var(W) = 1/d_in; keeping the gradient's variance on the backward pass needs
1/d_out. Glorot and Bengio compromise on 2/(d_in + d_out); He et al. double 1/d_in
to 2/d_in because a ReLU zeroes half of its inputs. Uniform(−b, b) has variance b²/3,
which turns each variance into a bound b = √(3 · Var(W)).

Every function returns a new array of ``shape`` (a weight is (D, M): fan_in = D,
fan_out = M) and ``dtype`` (float64 by default). The random ones need an explicit
``rng: numpy.random.Generator`` and always draw in float64 before casting, so one
seed gives the same numbers in float32 and float64. ``constant`` and ``identity``
also accept ``rng`` (and ignore it) so that every entry of ``INITIALIZERS`` can be
called as ``init(shape, rng=rng)``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from reference_impl._validation import FloatArray, check_generator, finite_real

Shape = int | Sequence[int] | NDArray[np.integer[Any]]

__all__ = [
    "INITIALIZERS",
    "compute_fans",
    "constant",
    "gaussian",
    "get_initializer",
    "glorot_normal",
    "glorot_uniform",
    "glorot_uniform_bound",
    "identity",
    "kaiming_normal",
    "kaiming_std",
    "kaiming_uniform",
    "orthogonal",
    "uniform",
    "xavier_neon",
    "xavier_neon_bound",
]


def _shape(shape: Any) -> tuple[int, ...]:
    """``shape`` as a non-empty tuple of positive ints (a bare int means (M,))."""
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        shape = (shape,)
    if isinstance(shape, str | bytes) or not isinstance(shape, Sequence | np.ndarray):
        raise TypeError(f"shape must be a tuple of ints such as (D, M), got {shape!r}")
    dims: list[int] = []
    for dim in shape:
        if isinstance(dim, bool):
            raise TypeError(f"shape must hold ints, got {shape!r}")
        try:
            dims.append(operator.index(dim))
        except TypeError as exc:
            raise TypeError(f"shape must hold ints, got {shape!r}") from exc
    if not dims:
        raise ValueError("shape is empty; a weight needs a shape such as (D, M)")
    if any(d <= 0 for d in dims):
        raise ValueError(f"shape {tuple(dims)} has a non-positive size; every size must be >= 1")
    return tuple(dims)


def _float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """A floating-point dtype, since weights must be real numbers that can be updated."""
    try:
        out = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype {dtype!r} is not a numpy dtype; use np.float64") from exc
    if out.kind != "f":
        raise TypeError(f"dtype must be a floating type such as np.float64, got {out}")
    return out


def _fan(value: Any, name: str) -> int:
    """A fan-in or fan-out: a positive int."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    try:
        out = operator.index(value)
    except TypeError as exc:
        raise TypeError(f"{name} must be a positive int, got {value!r}") from exc
    if out <= 0:
        raise ValueError(f"{name} must be a positive int, got {out}")
    return out




def compute_fans(shape: Shape) -> tuple[int, int]:
    """Fans of a weight: (D, M) → (fan_in, fan_out) = (D, M).

    A 1-D shape (M,) gives (M, M). A shape (..., D, M) with more axes, such as a
    convolution kernel (kh, kw, D, M), multiplies both fans by the product of the
    leading axes (the receptive field). Raises ValueError for an empty shape or a
    non-positive size.
    """
    dims = _shape(shape)
    if len(dims) == 1:
        return dims[0], dims[0]
    receptive_field = math.prod(dims[:-2])
    return dims[-2] * receptive_field, dims[-1] * receptive_field


def glorot_uniform_bound(fan_in: int, fan_out: int) -> float:
    """Glorot uniform bound: b = √(6 / (fan_in + fan_out)); ≈ 0.0811 for 784 → 128.

    U(−b, b) then has variance b²/3 = 2/(fan_in + fan_out).
    """
    return math.sqrt(6.0 / (_fan(fan_in, "fan_in") + _fan(fan_out, "fan_out")))


def xavier_neon_bound(fan_in: int) -> float:
    """neon's Xavier bound: k = √(3 / fan_in); ≈ 0.0619 for fan_in = 784.

    U(−k, k) then has variance k²/3 = 1/fan_in.
    """
    return math.sqrt(3.0 / _fan(fan_in, "fan_in"))


def kaiming_std(fan_in: int) -> float:
    """Kaiming (He) standard deviation: σ = √(2 / fan_in); ≈ 0.0505 for fan_in = 784."""
    return math.sqrt(2.0 / _fan(fan_in, "fan_in"))


def _uniform(
    shape: tuple[int, ...], rng: np.random.Generator, low: float, high: float, dtype: DTypeLike
) -> FloatArray:
    return rng.uniform(low, high, size=shape).astype(_float_dtype(dtype))


def _normal(
    shape: tuple[int, ...], rng: np.random.Generator, mean: float, std: float, dtype: DTypeLike
) -> FloatArray:
    return (mean + std * rng.standard_normal(size=shape)).astype(_float_dtype(dtype))


def constant(
    shape: Shape,
    value: float = 0.0,
    dtype: DTypeLike = np.float64,
    *,
    rng: np.random.Generator | None = None,
) -> FloatArray:
    """Constant: W_ij = value (neon's Constant); variance 0.

    Right for biases (0, or 0.01 to keep ReLUs alive). Wrong for weights: every unit of
    a layer then computes the same thing and receives the same gradient, so the
    symmetry is never broken. ``rng`` is accepted for a uniform call signature and
    ignored. Returns an array of ``shape``, e.g. (M,) for a bias.
    """
    if rng is not None:
        check_generator(rng)
    return np.full(_shape(shape), finite_real(value, "value"), dtype=_float_dtype(dtype))


def uniform(
    shape: Shape,
    *,
    rng: np.random.Generator,
    low: float = -0.05,
    high: float = 0.05,
    dtype: DTypeLike = np.float64,
) -> FloatArray:
    """Uniform: W_ij ~ U(low, high), mean (low + high)/2, variance (high − low)²/12.

    neon's Uniform, with a fixed range that ignores the layer's size. Returns an
    array of ``shape``, e.g. (D, M).
    """
    rng = check_generator(rng)
    low, high = finite_real(low, "low"), finite_real(high, "high")
    if not low < high:
        raise ValueError(f"uniform needs low < high, got low={low}, high={high}")
    return _uniform(_shape(shape), rng, low, high, dtype)


def gaussian(
    shape: Shape,
    *,
    rng: np.random.Generator,
    mean: float = 0.0,
    std: float = 0.01,
    dtype: DTypeLike = np.float64,
) -> FloatArray:
    """Gaussian: W_ij ~ N(mean, std²), variance std².

    neon's Gaussian, with a fixed scale that ignores the layer's size. Returns an
    array of ``shape``, e.g. (D, M).
    """
    rng = check_generator(rng)
    mean, std = finite_real(mean, "mean"), finite_real(std, "std")
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    return _normal(_shape(shape), rng, mean, std, dtype)


def glorot_uniform(shape: Shape, *, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> FloatArray:
    """Glorot uniform: W_ij ~ U(−b, b), b = √(6/(fan_in + fan_out)), Var = 2/(fan_in + fan_out).

    Glorot & Bengio 2010, "Understanding the difficulty of training deep feedforward
    neural networks" (their "normalized initialization"; neon's GlorotUniform). The
    variance averages the forward condition 1/fan_in and the backward one 1/fan_out.
    For a (784, 128) weight, b ≈ 0.0811. Returns an array of ``shape``, e.g. (D, M).
    """
    rng = check_generator(rng)
    dims = _shape(shape)
    bound = glorot_uniform_bound(*compute_fans(dims))
    return _uniform(dims, rng, -bound, bound, dtype)


def glorot_normal(shape: Shape, *, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> FloatArray:
    """Glorot normal: W_ij ~ N(0, σ²), σ² = 2/(fan_in + fan_out).

    Glorot & Bengio 2010, "Understanding the difficulty of training deep feedforward
    neural networks": the same variance as ``glorot_uniform`` from a Gaussian (not
    truncated). Returns an array of ``shape``, e.g. (D, M).
    """
    rng = check_generator(rng)
    dims = _shape(shape)
    fan_in, fan_out = compute_fans(dims)
    return _normal(dims, rng, 0.0, math.sqrt(2.0 / (fan_in + fan_out)), dtype)


def xavier_neon(shape: Shape, *, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> FloatArray:
    """neon's Xavier: W_ij ~ U(−k, k), k = √(3/fan_in), Var = 1/fan_in.

    The forward-only condition of Glorot & Bengio 2010, "Understanding the difficulty
    of training deep feedforward neural networks", as the neon framework implements
    its ``Xavier`` initialiser; not the same as ``glorot_uniform``, which also uses
    fan_out. For fan_in = 784, k ≈ 0.0619. Returns an array of ``shape``, e.g. (D, M).
    """
    rng = check_generator(rng)
    dims = _shape(shape)
    bound = xavier_neon_bound(compute_fans(dims)[0])
    return _uniform(dims, rng, -bound, bound, dtype)


def kaiming_normal(shape: Shape, *, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> FloatArray:
    """Kaiming (He) normal: W_ij ~ N(0, σ²), σ² = 2/fan_in.

    He, Zhang, Ren & Sun 2015, "Delving Deep into Rectifiers: Surpassing Human-Level
    Performance on ImageNet Classification". A ReLU zeroes half of its inputs, which
    halves the second moment, so the factor 2 restores it; this let 22- and 30-layer
    ReLU nets train from scratch. For fan_in = 784, σ ≈ 0.0505. Returns an array of
    ``shape``, e.g. (D, M).
    """
    rng = check_generator(rng)
    dims = _shape(shape)
    return _normal(dims, rng, 0.0, kaiming_std(compute_fans(dims)[0]), dtype)


def kaiming_uniform(shape: Shape, *, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> FloatArray:
    """Kaiming (He) uniform: W_ij ~ U(−b, b), b = √(6/fan_in), Var = 2/fan_in.

    He, Zhang, Ren & Sun 2015, "Delving Deep into Rectifiers: Surpassing Human-Level
    Performance on ImageNet Classification": the variance of ``kaiming_normal`` from a
    uniform distribution (b²/3 = 2/fan_in). Returns an array of ``shape``, e.g. (D, M).
    """
    rng = check_generator(rng)
    dims = _shape(shape)
    bound = math.sqrt(6.0 / compute_fans(dims)[0])
    return _uniform(dims, rng, -bound, bound, dtype)


def orthogonal(
    shape: Shape,
    *,
    rng: np.random.Generator,
    gain: float = 1.0,
    dtype: DTypeLike = np.float64,
) -> FloatArray:
    """Orthogonal: W = gain · Q, Q uniformly (Haar) distributed with orthonormal columns or rows.

    Saxe, McClelland & Ganguli 2014, "Exact solutions to the nonlinear dynamics of
    learning in deep linear neural networks" (neon's Orthonormal): every singular value
    of Q is 1, so a deep linear stack neither grows nor shrinks any direction.
    Q comes from the QR factorisation of a Gaussian matrix, with each column's sign
    flipped to make diag(R) positive; without that correction Q is not Haar
    distributed (Mezzadri 2007, "How to generate random matrices from the classical
    compact groups"). Each entry has variance gain²/max(D, M).

    shape (D, M): tall (D ≥ M) gives WᵀW = gain²·I_M, wide (D < M) gives
    WWᵀ = gain²·I_D. A shape (..., D, M) with more axes is flattened to
    (prod(...)·D, M) first. Returns an array of ``shape``.
    """
    rng = check_generator(rng)
    gain = finite_real(gain, "gain")
    dims = _shape(shape)
    if len(dims) < 2:
        raise ValueError(f"orthogonal needs a shape with at least 2 axes such as (D, M), got {dims}")
    rows, cols = math.prod(dims[:-1]), dims[-1]
    a = rng.standard_normal(size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    signs = np.sign(np.diag(r))
    # A zero on diag(R) has probability 0, but must not zero a column of Q if it happens.
    signs[signs == 0] = 1.0
    q = q * signs
    if rows < cols:
        q = q.T
    return (gain * q).reshape(dims).astype(_float_dtype(dtype))


def identity(
    shape: Shape,
    gain: float = 1.0,
    dtype: DTypeLike = np.float64,
    *,
    rng: np.random.Generator | None = None,
) -> FloatArray:
    """Identity: W = gain · I_D for a square (D, D) weight (neon's IdentityInit).

    Each layer starts by copying its input, as in Le, Jaitly & Hinton 2015, "A Simple
    Way to Initialize Recurrent Networks of Rectified Linear Units". Only defined for
    a square weight: for (D, M) with D ≠ M use ``orthogonal``, its generalisation,
    or ``np.eye(D, M)`` if zero-padded rows or columns are really what you want.
    ``rng`` is accepted for a uniform call signature and ignored.
    """
    if rng is not None:
        check_generator(rng)
    dims = _shape(shape)
    if len(dims) != 2 or dims[0] != dims[1]:
        raise ValueError(
            f"identity needs a square shape (D, D), got {dims}; for a non-square weight use "
            "orthogonal(shape, rng=rng), which has the same orthonormal rows or columns, "
            "or np.eye(D, M) if you mean an identity padded with zeros"
        )
    return finite_real(gain, "gain") * np.eye(dims[0], dtype=_float_dtype(dtype))


INITIALIZERS: dict[str, Callable[..., FloatArray]] = {
    "constant": constant,
    "uniform": uniform,
    "gaussian": gaussian,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "xavier_neon": xavier_neon,
    "kaiming_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
    "orthogonal": orthogonal,
    "identity": identity,
}


def get_initializer(name: str) -> Callable[..., FloatArray]:
    """The initialiser registered as ``name`` in ``INITIALIZERS``, e.g. "kaiming_normal"."""
    if not isinstance(name, str):
        raise TypeError(f"initializer name must be a str, got {type(name).__name__}")
    try:
        return INITIALIZERS[name]
    except KeyError:
        valid = ", ".join(sorted(INITIALIZERS))
        raise ValueError(f"unknown initializer {name!r}; valid names: {valid}") from None
