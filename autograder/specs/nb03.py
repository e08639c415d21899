"""Checks of notebook 03, initialization and variance derivations (ids ``03.<name>``).

The derivation is checked one step at a time (small functions of the moments and
numeric answers). The initializers are checked statistically, never by comparing
random arrays: the student-side probe draws a large weight with a seeded Generator and
returns raw summary statistics (mean, variance, extremes, the share within one standard
deviation), which ``nb03.stats_close`` compares with the same statistics of a draw of
the reference, within bands many standard errors wide. The probes know no target bound
or variance: those are what the notebook asks for. The probe also demands that the
output depend on the ``rng`` it is given and on nothing else: the same seed twice must
give the same array, two seeds two different arrays. Whitening is compared through the
mean and covariance of the output and through the shape of the map from data to output,
which tells PCA (the exercise) from ZCA, whose moments are the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autograder.checks.cases import Case, probe
from autograder.checks.compare import Tolerance
from autograder.specs.base import FunctionCheck, Mistake, ValueCheck
from autograder.specs.registry import register
from reference_impl import initializers as init

Array = NDArray[Any]
Init = Callable[..., Any]

# The questions ask for at least three significant figures (0.0811 for 0.08111).
TYPED = Tolerance(digits=3)
# Whitened covariances: N >= 1000 keeps the 1/N against 1/(N − 1) difference below 1e-3.
COVARIANCE = Tolerance(rtol=0.0, atol=2e-3)



def var_product(mean_w: float, var_w: float, mean_x: float, var_x: float) -> float:
    """Var(WX) = E[X]²Var(W) + E[W]²Var(X) + Var(W)Var(X) for independent W and X."""
    return mean_x**2 * var_w + mean_w**2 * var_x + var_w * var_x


def var_sum(n: int, var_w: float, var_x: float) -> float:
    """Var(Σᵢ WᵢXᵢ) = n·Var(W)·Var(X) for n i.i.d. zero-mean terms."""
    return n * var_w * var_x


def variance_conditions(d_in: int, d_out: int) -> tuple[float, float, float]:
    """(1/d_in, 1/d_out, 2/(d_in + d_out)): forward, backward and Glorot's Var(W)."""
    return 1 / d_in, 1 / d_out, 2 / (d_in + d_out)


def uniform_variance(a: float, b: float) -> float:
    """Var(U(a, b)) = (b − a)²/12."""
    return (b - a) ** 2 / 12


def n_distinct_units(H: Any, atol: float = 1e-10) -> int:
    """Distinct columns of H (N, M): two columns are one unit if no entry differs by more than atol."""
    H = np.asarray(H, dtype=np.float64)
    kept: list[Array] = []
    for j in range(H.shape[1]):
        column = H[:, j]
        if not any(np.max(np.abs(column - seen)) <= atol for seen in kept):
            kept.append(column)
    return len(kept)


def center(X: Any) -> Array:
    """X − mean over examples. X: (N, D); returns (N, D) with zero column means."""
    X = np.asarray(X, dtype=np.float64)
    return X - X.mean(axis=0)


def whiten(X: Any, eps: float = 1e-5) -> Array:
    """PCA whitening: Z = (X − μ) U / √(λ + eps), where cov(X) = U diag(λ) Uᵀ. X, Z: (N, D)."""
    Xc = center(X)
    cov = Xc.T @ Xc / len(Xc)
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    return (Xc @ eigenvectors) / np.sqrt(eigenvalues + eps)


# Step 1: the variance of a product.

def _var_product_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((0.0, 1.0, 0.0, 1.0), "zero means, unit variances"),
        Case((1.0, 2.0, 3.0, 4.0), "E[W] = 1, Var(W) = 2, E[X] = 3, Var(X) = 4"),
        Case((0.0, 0.01, 3.0, 4.0), "a zero-mean weight, an input of mean 3"),
        Case((2.0, 0.5, 0.0, 1.0), "a weight of mean 2, a zero-mean input"),
    ]


def _var_product_hidden(rng: np.random.Generator) -> list[Case]:
    out = [Case(tuple(float(v) for v in (rng.normal(), rng.uniform(0.1, 3), rng.normal(),
                                         rng.uniform(0.1, 3))), "random moments")
           for _ in range(3)]
    out.append(Case((0.0, 0.3, 0.0, 2.5), "both means zero"))
    out.append(Case((1.5, 0.0, -2.0, 0.7), "a constant weight (Var(W) = 0)"))
    out.append(Case((-1000.0, 2.0, 1000.0, 3.0), "means of ±1000"))
    out.append(Case((0.5, 1e-6, -0.25, 1e-4), "tiny variances"))
    return out


VAR_PRODUCT = FunctionCheck(
    id="03.var_product",
    title="var_product",
    reference=var_product,
    cases=_var_product_cases,
    hidden_cases=_var_product_hidden,
    kind="float",
    mistakes=(
        Mistake("only Var(W)·Var(X)",
                "that is the zero-mean special case; with non-zero means two more terms appear",
                lambda mw, vw, mx, vx: vw * vx),
        Mistake("each mean paired with its own variance",
                "E[X]² multiplies Var(W) and E[W]² multiplies Var(X): each mean scales the "
                "other variable's spread", lambda mw, vw, mx, vx: mw**2 * vw + mx**2 * vx + vw * vx),
        Mistake("the means not squared", "the mean terms are E[X]²·Var(W) and E[W]²·Var(X)",
                lambda mw, vw, mx, vx: mx * vw + mw * vx + vw * vx),
        Mistake("the Var(W)·Var(X) term missing",
                "keep the product of the variances: it is all that is left when both means are 0",
                lambda mw, vw, mx, vx: mx**2 * vw + mw**2 * vx),
        Mistake("E[W²]·E[X²] without subtracting (E[W]E[X])²",
                "Var(WX) = E[W²]E[X²] − (E[W]E[X])²: subtract the squared mean",
                lambda mw, vw, mx, vx: (mw**2 + vw) * (mx**2 + vx)),
    ),
)

VAR_WX_ZERO_MEANS = ValueCheck(
    "03.var_wx_zero_means", "var_wx_zero_means", lambda: var_product(0.0, 0.05**2, 0.0, 2.0**2),
    tol=TYPED,
    mistakes=(
        (0.05 * 2.0, "the standard deviations multiplied",
         "the formula multiplies variances: square each standard deviation first"),
        (0.05**2 + 2.0**2, "the variances added", "the variance of a product multiplies them"),
        (0.05**2, "Var(X) left out", "both variances appear in the product"),
    ),
)

VAR_WX_CENTRED_WEIGHT = ValueCheck(
    "03.var_wx_centred_weight", "var_wx_centred_weight", lambda: var_product(0.0, 0.01, 3.0, 4.0),
    tol=TYPED,
    mistakes=(
        (0.01 * 4.0, "the input treated as zero-mean",
         "only E[W] is 0 here: E[X]² · Var(W) survives"),
        (3.0**2 * 0.01, "the Var(W)·Var(X) term missing", "add Var(W)·Var(X)"),
        (3.0 * 0.01 + 0.01 * 4.0, "E[X] not squared", "the surviving term is E[X]²·Var(W)"),
        (0.01 * 4.0 + 3.0**2 * 4.0, "E[X]² paired with Var(X)",
         "E[X]² multiplies the other variable's variance, Var(W)"),
    ),
)


# Step 2: a sum of n independent terms.

def _var_sum_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((784, 1 / 784, 1.0), "784 inputs, Var(W) = 1/784, Var(X) = 1"),
        Case((10, 0.5, 2.0), "n = 10, Var(W) = 0.5, Var(X) = 2"),
        Case((3, 0.1, 4.0), "n = 3, Var(W) = 0.1, Var(X) = 4"),
    ]


def _var_sum_hidden(rng: np.random.Generator) -> list[Case]:
    out = [Case((int(rng.integers(2, 500)), float(rng.uniform(1e-3, 1)),
                 float(rng.uniform(0.1, 5))), "random n and variances") for _ in range(3)]
    out.append(Case((1, 0.3, 2.0), "a single term (n = 1)"))
    out.append(Case((100_000, 1e-5, 3.0), "n = 100 000"))
    out.append(Case((64, 0.0, 5.0), "Var(W) = 0"))
    return out


VAR_SUM = FunctionCheck(
    id="03.var_sum",
    title="var_sum",
    reference=var_sum,
    cases=_var_sum_cases,
    hidden_cases=_var_sum_hidden,
    kind="float",
    mistakes=(
        Mistake("the factor n missing", "each of the n independent terms adds its variance",
                lambda n, vw, vx: vw * vx),
        Mistake("n² instead of n", "variances of independent terms add (n of them); n² would "
                "be the variance of n copies of one term", lambda n, vw, vx: n**2 * vw * vx),
        Mistake("divided by n", "a sum, not a mean: multiply by n",
                lambda n, vw, vx: vw * vx / n),
        Mistake("√n instead of n", "standard deviations grow like √n, variances like n",
                lambda n, vw, vx: math.sqrt(n) * vw * vx),
        Mistake("the variances added", "each term's variance is the product Var(W)·Var(X)",
                lambda n, vw, vx: n * (vw + vx)),
    ),
)


# Step 3: the forward, backward and compromise conditions.

def _conditions_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((784, 128), "d_in = 784, d_out = 128"),
        Case((100, 400), "d_in = 100, d_out = 400"),
        Case((3, 5), "d_in = 3, d_out = 5"),
    ]


def _conditions_hidden(rng: np.random.Generator) -> list[Case]:
    out = [Case((int(rng.integers(1, 2000)), int(rng.integers(1, 2000))), "random fans")
           for _ in range(3)]
    out.append(Case((1, 1), "d_in = d_out = 1"))
    out.append(Case((64, 64), "a square layer"))
    out.append(Case((1, 10_000), "d_in = 1, d_out = 10 000"))
    return out


VARIANCE_CONDITIONS = FunctionCheck(
    id="03.variance_conditions",
    title="variance_conditions (forward, backward, compromise)",
    reference=variance_conditions,
    cases=_conditions_cases,
    hidden_cases=_conditions_hidden,
    kind=("float", "float", "float"),
    mistakes=(
        Mistake("the fans swapped", "the forward pass sums over the d_in inputs of a unit; the "
                "backward pass over the d_out units it feeds",
                lambda i, o: (1 / o, 1 / i, 2 / (i + o))),
        Mistake("1/(d_in + d_out) as the compromise",
                "the compromise averages the fans: 2/(d_in + d_out) = 1/((d_in + d_out)/2)",
                lambda i, o: (1 / i, 1 / o, 1 / (i + o))),
        Mistake("the mean of the two variances as the compromise",
                "Glorot averages the fans, not the variances: 2/(d_in + d_out)",
                lambda i, o: (1 / i, 1 / o, (1 / i + 1 / o) / 2)),
        Mistake("standard deviations instead of variances",
                "these are variances: 1/d_in, not 1/√d_in",
                lambda i, o: (1 / math.sqrt(i), 1 / math.sqrt(o), math.sqrt(2 / (i + o)))),
        Mistake("the fans not inverted", "the variance must shrink as a unit gets more inputs: "
                "Var(W) = 1/d_in", lambda i, o: (float(i), float(o), (i + o) / 2)),
    ),
)


# Step 4: the variance of a uniform distribution.

def _uniform_variance_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((0.0, 1.0), "U(0, 1)"),
        Case((-1.0, 1.0), "U(−1, 1)"),
        Case((2.0, 5.0), "U(2, 5)"),
        Case((-3.0, 1.0), "U(−3, 1)"),
    ]


def _uniform_variance_hidden(rng: np.random.Generator) -> list[Case]:
    out = []
    for _ in range(3):
        a = float(rng.uniform(-5, 5))
        out.append(Case((a, a + float(rng.uniform(0.1, 4))), "random a < b"))
    out.append(Case((-0.0811, 0.0811), "Glorot's U(−b, b) for 784 → 128"))
    out.append(Case((1000.0, 1002.0), "far from zero: U(1000, 1002)"))
    out.append(Case((-1000.0, 1000.0), "U(−1000, 1000)"))
    out.append(Case((3.0, 3.0), "a = b (a point mass)"))
    return out


UNIFORM_VARIANCE = FunctionCheck(
    id="03.uniform_variance",
    title="uniform_variance",
    reference=uniform_variance,
    cases=_uniform_variance_cases,
    hidden_cases=_uniform_variance_hidden,
    kind="float",
    tol=Tolerance(rtol=1e-6, atol=1e-12),
    mistakes=(
        Mistake("(b − a)/12", "the width is squared: (b − a)²/12", lambda a, b: (b - a) / 12),
        Mistake("divided by 4 instead of 12",
                "E[X²] − E[X]² = (a² + ab + b²)/3 − (a + b)²/4 = (b − a)²/12",
                lambda a, b: (b - a) ** 2 / 4),
        Mistake("the symmetric formula b²/3 for every interval",
                "b²/3 holds only for U(−b, b); in general use the width b − a",
                lambda a, b: b**2 / 3),
        Mistake("(a + b)² instead of (b − a)²", "the variance depends on the width b − a, "
                "not on where the interval sits", lambda a, b: (a + b) ** 2 / 12),
        Mistake("E[X²] without subtracting E[X]²", "Var(X) = E[X²] − E[X]²",
                lambda a, b: (a**2 + a * b + b**2) / 3),
    ),
)

GLOROT_BOUND = ValueCheck(
    "03.glorot_bound_784_128", "glorot_bound_784_128",
    lambda: init.glorot_uniform_bound(784, 128), tol=TYPED,
    mistakes=(
        (6 / (784 + 128), "the square root forgotten",
         "b²/3 = 2/(d_in + d_out) gives b², then take its square root"),
        (math.sqrt(2 / (784 + 128)), "the standard deviation, not the bound",
         "a uniform U(−b, b) has standard deviation b/√3: the bound is √3 times larger"),
        (math.sqrt(6 / 784), "d_in only", "Glorot's compromise uses d_in + d_out"),
        (math.sqrt(6 / 128), "d_out only", "Glorot's compromise uses d_in + d_out"),
        (math.sqrt(3 / (784 + 128)), "3 instead of 6", "b²/3 = 2/(d_in + d_out), so b² = "
         "6/(d_in + d_out)"),
    ),
)

XAVIER_K = ValueCheck(
    "03.xavier_k_784_128", "xavier_k_784_128", lambda: init.xavier_neon_bound(784), tol=TYPED,
    mistakes=(
        (3 / 784, "the square root forgotten", "k²/3 = 1/d_in gives k², then take its root"),
        (math.sqrt(3 / 128), "d_out instead of d_in", "neon's Xavier keeps the forward "
         "variance: it uses the 784 inputs"),
        (math.sqrt(1 / 784), "the standard deviation, not the bound",
         "U(−k, k) has standard deviation k/√3: k = √(3/d_in)"),
        (init.glorot_uniform_bound(784, 128), "Glorot's bound",
         "neon's Xavier uses d_in alone: √(3/d_in)"),
        (math.sqrt(6 / 784), "6 instead of 3", "k²/3 = 1/d_in, so k² = 3/d_in"),
    ),
)

KAIMING_SIGMA = ValueCheck(
    "03.kaiming_sigma_784_128", "kaiming_sigma_784_128", lambda: init.kaiming_std(784),
    tol=TYPED,
    mistakes=(
        (2 / 784, "the variance, not the standard deviation", "σ² = 2/d_in: take the root"),
        (math.sqrt(1 / 784), "the factor 2 forgotten",
         "a ReLU zeroes half of its inputs, so He et al. double the variance: 2/d_in"),
        (math.sqrt(2 / 128), "d_out instead of d_in", "use the 784 inputs of each unit"),
        (math.sqrt(6 / 784), "the uniform bound √(6/d_in)",
         "that is the bound of He's uniform variant; the Gaussian's σ is √(2/d_in)"),
        (math.sqrt(4 / (784 + 128)), "Glorot's fans with the factor 2",
         "Kaiming uses d_in alone: σ = √(2/d_in)"),
    ),
)


# The initializers: checked through summary statistics of a large seeded draw.

UNIFORM_PROBE = probe("nb03.uniform_stats")
GAUSSIAN_PROBE = probe("nb03.gaussian_stats")
STATS_CLOSE = "nb03.stats_close"


UNIFORM_STATS = "mean, variance, min and max, against a draw of the reference"
GAUSSIAN_STATS = "mean, variance and the share within one σ, against a draw of the reference"
SHAPES = ((400, 500), (500, 200), (1000, 100))
HIDDEN_SHAPES = ((2, 60_000), (60_000, 2), (300, 400), (1, 100_000))


def _init_cases(stats: str, shapes: tuple[tuple[int, int], ...],
                extra: tuple[dict[str, float], ...] = ({},),
                seed: int = 0) -> list[Case]:
    out = []
    for i, shape in enumerate(shapes):
        kwargs = extra[i % len(extra)]
        shown = ", ".join(f"{k}={v:g}" for k, v in kwargs.items())
        label = f"shape {shape}{', ' + shown if shown else ''}; compared: {stats}"
        out.append(Case((shape,), label, kwargs={"seed": seed + i, **kwargs}))
    return out


def _constant_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(((2, 3), 0.5), "shape (2, 3), value 0.5"),
        Case(((4,), 0.0), "a bias of shape (4,), value 0"),
        Case(((3, 2), -1.0), "shape (3, 2), value −1"),
        Case(((2, 2),), "no value given: the default, 0.0"),
    ]


def _constant_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case(((1, 1), 0.01), "shape (1, 1)"),
        Case(((7, 2), 1000.0), "value 1000"),
        Case(((128,), 0.01), "a ReLU bias of 0.01"),
        Case(((5, 9), -3e-4), "a small negative value"),
        Case(((3, 2), 1), "an integer value: still a float array"),
        Case(((6,),), "the default value, a bias of shape (6,)"),
    ]


CONSTANT = FunctionCheck(
    id="03.constant",
    title="constant",
    reference=init.constant,
    cases=_constant_cases,
    hidden_cases=_constant_hidden,
    kind="float_array",
    mistakes=(
        Mistake("zeros whatever the value", "fill with the value given: np.full(shape, value)",
                lambda shape, value=0.0: np.zeros(shape)),
        Mistake("ones plus the value", "np.full(shape, value) fills with the value itself",
                lambda shape, value=0.0: np.ones(shape) + value),
        Mistake("ones times the value on the diagonal only", "every entry holds the value",
                lambda shape, value=0.0: value * np.eye(*shape) if len(shape) == 2
                else np.full(shape, value)),
    ),
)


def _uniform_hidden(rng: np.random.Generator) -> list[Case]:
    extra: tuple[dict[str, float], ...] = ({"low": 2.0, "high": 2.5}, {"low": -1000.0, "high": 1000.0},
             {"low": -0.01, "high": 0.03}, {})
    return _init_cases(UNIFORM_STATS, HIDDEN_SHAPES, extra, seed=100)


UNIFORM = FunctionCheck(
    id="03.uniform",
    title="uniform",
    reference=init.uniform,
    cases=lambda rng: _init_cases(UNIFORM_STATS, SHAPES,
                                  ({}, {"low": 0.0, "high": 1.0}, {"low": -3.0, "high": 1.0})),
    hidden_cases=_uniform_hidden,
    probe=UNIFORM_PROBE,
    kind=("float", "float", "float", "float"),
    compare=STATS_CLOSE,
    mistakes=(
        Mistake("low ignored", "draw from [low, high]: rng.uniform(low, high, size=shape)",
                lambda shape, *, rng, low=-0.05, high=0.05: rng.uniform(-high, high, size=shape)),
        Mistake("the shift forgotten", "rng.random gives [0, 1): scale by (high − low), then "
                "add low", lambda shape, *, rng, low=-0.05, high=0.05:
                rng.random(shape) * (high - low)),
        Mistake("scaled by high instead of the width", "low + (high − low) · rng.random(shape)",
                lambda shape, *, rng, low=-0.05, high=0.05: low + rng.random(shape) * high),
        Mistake("a Gaussian instead of a uniform", "use rng.uniform, not rng.normal",
                lambda shape, *, rng, low=-0.05, high=0.05:
                rng.normal((low + high) / 2, (high - low) / math.sqrt(12), size=shape)),
    ),
)


def _gaussian_hidden(rng: np.random.Generator) -> list[Case]:
    extra: tuple[dict[str, float], ...] = (
        {"mean": 5.0, "std": 3.0}, {"std": 0.3}, {"mean": 1000.0, "std": 0.5}, {})
    return _init_cases(GAUSSIAN_STATS, HIDDEN_SHAPES, extra, seed=200)


GAUSSIAN = FunctionCheck(
    id="03.gaussian",
    title="gaussian",
    reference=init.gaussian,
    cases=lambda rng: _init_cases(GAUSSIAN_STATS, SHAPES,
                                  ({}, {"mean": 1.0, "std": 2.0}, {"std": 0.5})),
    hidden_cases=_gaussian_hidden,
    probe=GAUSSIAN_PROBE,
    kind=("float", "float", "float"),
    compare=STATS_CLOSE,
    mistakes=(
        Mistake("std used as the variance", "rng.normal takes the standard deviation: "
                "rng.normal(mean, std, size=shape)",
                lambda shape, *, rng, mean=0.0, std=0.01: rng.normal(mean, std**2, size=shape)),
        Mistake("the square root of std", "std is already a standard deviation",
                lambda shape, *, rng, mean=0.0, std=0.01:
                rng.normal(mean, math.sqrt(std), size=shape)),
        Mistake("the mean ignored", "shift by the mean: mean + std · rng.standard_normal(shape)",
                lambda shape, *, rng, mean=0.0, std=0.01: rng.normal(0.0, std, size=shape)),
        Mistake("a uniform instead of a Gaussian", "use rng.normal (or rng.standard_normal)",
                lambda shape, *, rng, mean=0.0, std=0.01:
                rng.uniform(mean - std * math.sqrt(3), mean + std * math.sqrt(3), size=shape)),
    ),
)


GLOROT_UNIFORM = FunctionCheck(
    id="03.glorot_uniform",
    title="glorot_uniform",
    reference=init.glorot_uniform,
    cases=lambda rng: _init_cases(UNIFORM_STATS.replace("low, high", "−b, b"), SHAPES),
    hidden_cases=lambda rng: _init_cases(UNIFORM_STATS.replace("low, high", "−b, b"),
                                         HIDDEN_SHAPES, seed=300),
    probe=UNIFORM_PROBE,
    kind=("float", "float", "float", "float"),
    compare=STATS_CLOSE,
    mistakes=(
        Mistake("the square root forgotten", "b = √(6/(d_in + d_out))",
                lambda shape, *, rng: (lambda b: rng.uniform(-b, b, size=shape))(
                    6 / (shape[0] + shape[1]))),
        Mistake("the variance's root used as the bound",
                "√(2/(d_in + d_out)) is the standard deviation; U(−b, b) needs b = √3 times it",
                lambda shape, *, rng: (lambda b: rng.uniform(-b, b, size=shape))(
                    math.sqrt(2 / (shape[0] + shape[1])))),
        Mistake("fan_in only", "Glorot uses both fans: D = shape[0] and M = shape[1]",
                lambda shape, *, rng: (lambda b: rng.uniform(-b, b, size=shape))(
                    math.sqrt(6 / shape[0]))),
        Mistake("fan_out only", "Glorot uses both fans: D = shape[0] and M = shape[1]",
                lambda shape, *, rng: (lambda b: rng.uniform(-b, b, size=shape))(
                    math.sqrt(6 / shape[1]))),
        Mistake("U(0, b) instead of U(−b, b)", "the interval is symmetric around 0",
                lambda shape, *, rng: rng.uniform(0, math.sqrt(6 / (shape[0] + shape[1])),
                                                  size=shape)),
        Mistake("a Gaussian with Glorot's variance", "GlorotUniform draws from U(−b, b)",
                lambda shape, *, rng: rng.normal(0, math.sqrt(2 / (shape[0] + shape[1])),
                                                 size=shape)),
    ),
)


XAVIER = FunctionCheck(
    id="03.xavier",
    title="xavier",
    reference=init.xavier_neon,
    cases=lambda rng: _init_cases(UNIFORM_STATS.replace("low, high", "−k, k"), SHAPES),
    hidden_cases=lambda rng: _init_cases(UNIFORM_STATS.replace("low, high", "−k, k"),
                                         HIDDEN_SHAPES, seed=400),
    probe=UNIFORM_PROBE,
    kind=("float", "float", "float", "float"),
    compare=STATS_CLOSE,
    mistakes=(
        Mistake("fan_out instead of fan_in", "k = √(3/D) with D = shape[0], the inputs",
                lambda shape, *, rng: (lambda k: rng.uniform(-k, k, size=shape))(
                    math.sqrt(3 / shape[1]))),
        Mistake("the square root forgotten", "k = √(3/d_in)",
                lambda shape, *, rng: (lambda k: rng.uniform(-k, k, size=shape))(3 / shape[0])),
        Mistake("√(1/d_in) as the bound", "that is the standard deviation; the bound is √3 "
                "times larger", lambda shape, *, rng: (lambda k: rng.uniform(-k, k, size=shape))(
                    math.sqrt(1 / shape[0]))),
        Mistake("Glorot's bound", "neon's Xavier uses fan_in only: √(3/d_in)",
                lambda shape, *, rng: (lambda k: rng.uniform(-k, k, size=shape))(
                    math.sqrt(6 / (shape[0] + shape[1])))),
        Mistake("a Gaussian with variance 1/d_in", "neon's Xavier draws from U(−k, k)",
                lambda shape, *, rng: rng.normal(0, math.sqrt(1 / shape[0]), size=shape)),
    ),
)


KAIMING = FunctionCheck(
    id="03.kaiming",
    title="kaiming",
    reference=init.kaiming_normal,
    cases=lambda rng: _init_cases(GAUSSIAN_STATS, SHAPES),
    hidden_cases=lambda rng: _init_cases(GAUSSIAN_STATS, HIDDEN_SHAPES, seed=500),
    probe=GAUSSIAN_PROBE,
    kind=("float", "float", "float"),
    compare=STATS_CLOSE,
    mistakes=(
        Mistake("the factor 2 forgotten", "σ² = 2/d_in: a ReLU halves the variance, the 2 "
                "gives it back", lambda shape, *, rng: rng.normal(0, math.sqrt(1 / shape[0]),
                                                                  size=shape)),
        Mistake("the variance passed as the standard deviation", "rng.normal takes σ = √(2/d_in)",
                lambda shape, *, rng: rng.normal(0, 2 / shape[0], size=shape)),
        Mistake("fan_out instead of fan_in", "σ = √(2/D) with D = shape[0], the inputs",
                lambda shape, *, rng: rng.normal(0, math.sqrt(2 / shape[1]), size=shape)),
        Mistake("both fans, as in Glorot", "Kaiming keeps the forward variance: fan_in only",
                lambda shape, *, rng: rng.normal(0, math.sqrt(4 / (shape[0] + shape[1])),
                                                 size=shape)),
        Mistake("a uniform instead of a Gaussian", "Kaiming's normal variant draws from "
                "N(0, 2/d_in): use rng.normal",
                lambda shape, *, rng: (lambda b: rng.uniform(-b, b, size=shape))(
                    math.sqrt(6 / shape[0]))),
    ),
)


ORTHOGONAL_STATS = ("max |WᵀW/gain² − I| (WWᵀ when wide), mean(W²)·max(D, M)/gain², "
                    "share of W[0, 0] > 0 over 40 seeds")


def _orthogonal_no_signs(shape: tuple[int, int], *, rng: np.random.Generator,
                         gain: float = 1.0) -> Array:
    d, m = shape
    q, _ = np.linalg.qr(rng.normal(size=(max(d, m), min(d, m))))
    return gain * (q.T if d < m else q)


def _orthogonal_wrong_gain(shape: tuple[int, int], *, rng: np.random.Generator,
                           gain: float = 1.0) -> Array:
    return init.orthogonal(shape, rng=rng)


def _orthogonal_unsquared(shape: tuple[int, int], *, rng: np.random.Generator,
                          gain: float = 1.0) -> Array:
    return init.orthogonal(shape, rng=rng, gain=math.sqrt(gain))


ORTHOGONAL = FunctionCheck(
    id="03.orthogonal",
    title="orthogonal",
    reference=init.orthogonal,
    cases=lambda rng: _init_cases(ORTHOGONAL_STATS, ((120, 80), (80, 120), (64, 64)),
                                  ({}, {"gain": 2.0}, {"gain": math.sqrt(2)})),
    hidden_cases=lambda rng: _init_cases(ORTHOGONAL_STATS, ((1, 50), (50, 1), (64, 64),
                                                            (120, 7)),
                                         ({"gain": 0.5}, {}, {"gain": 3.0}, {}), seed=600),
    probe=probe("nb03.orthogonal_stats"),
    kind=("float", "float", "float"),
    tol=Tolerance(rtol=0.0, atol=1e-6),
    mistakes=(
        Mistake("the gain ignored", "multiply Q by gain",
                _orthogonal_wrong_gain),
        Mistake("√gain instead of gain", "W = gain · Q, so WᵀW = gain²·I",
                _orthogonal_unsquared),
        Mistake("a scaled Gaussian, not orthogonalised", "take Q from np.linalg.qr of a "
                "Gaussian matrix", lambda shape, *, rng, gain=1.0:
                gain * rng.normal(0, 1 / math.sqrt(max(shape)), size=shape)),
        Mistake("the signs of Q not corrected", "multiply each column of Q by the sign of the "
                "matching diagonal entry of R; without it W[0, 0] is always negative",
                _orthogonal_no_signs),
    ),
)


# Symmetry: how many hidden units are really different.

def _distinct_cases(rng: np.random.Generator) -> list[Case]:
    a, b = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.3, 0.9])
    return [
        Case((np.column_stack([a, a, b, a]),), "4 columns, 2 distinct (a a b a)"),
        Case((np.tile(np.array([[0.2], [0.4]]), (1, 5)),), "5 identical columns"),
        Case((np.arange(12.0).reshape(3, 4),), "4 different columns"),
        Case((np.column_stack([a, a + 1e-13, b]),),
             "2 columns that differ by 1e-13 (rounding) count as one"),
        Case((np.column_stack([a, b, b, a]),),
             "a b b a: the third column copies the second, not the first"),
    ]


def _distinct_hidden(rng: np.random.Generator) -> list[Case]:
    a, b, c = (rng.normal(size=8) for _ in range(3))
    out = [
        Case((np.column_stack([a, b, a, b, a, b]),), "alternating columns a b a b a b"),
        Case((np.column_stack([a, b, c, c, b, a]),), "a b c c b a"),
        Case((rng.normal(size=(1, 6)),), "a single example (1, 6)"),
        Case((rng.normal(size=(5, 1)),), "a single unit (5, 1)"),
        Case((np.column_stack([a, a, a]).T,), "identical rows but different columns (3, 8)"),
        Case((1000 * np.column_stack([a, a, b, a + 1e-14, b]),), "values near ±1000"),
        Case((np.column_stack([a, a + 0.05, b]), 0.1), "atol = 0.1: a and a + 0.05 are one"),
        Case((np.column_stack([a, a + 1e-3, b]), 1e-6), "atol = 1e-6: a and a + 0.001 are two"),
        Case((np.column_stack([a, b, a]).astype(np.float32),), "float32 activations"),
        Case((np.zeros((10, 16)),), "all-zero activations (16 dead units are one)"),
        Case((np.column_stack([1000 + a, 1000 + a + 1e-7, b]),),
             "default atol: columns near 1000 that differ by 1e-7 are two units"),
    ]
    return out


def _distinct_exact(H: Any, atol: float = 1e-10) -> int:
    return int(np.unique(np.asarray(H), axis=1).shape[1])


def _distinct_rows(H: Any, atol: float = 1e-10) -> int:
    return n_distinct_units(np.asarray(H).T, atol)


def _distinct_adjacent(H: Any, atol: float = 1e-10) -> int:
    H = np.asarray(H, dtype=np.float64)
    steps = np.max(np.abs(np.diff(H, axis=1)), axis=0) > atol
    return 1 + int(np.sum(steps))


def _distinct_first(H: Any, atol: float = 1e-10) -> int:
    H = np.asarray(H, dtype=np.float64)
    return 1 + int(np.sum(np.max(np.abs(H - H[:, :1]), axis=0)[1:] > atol))


def _distinct_values(H: Any, atol: float = 1e-10) -> int:
    return int(np.unique(np.asarray(H)).size)


N_DISTINCT_UNITS = FunctionCheck(
    id="03.n_distinct_units",
    title="n_distinct_units",
    reference=n_distinct_units,
    cases=_distinct_cases,
    hidden_cases=_distinct_hidden,
    kind="int",
    mistakes=(
        Mistake("exact equality", "rounding makes equal units differ by ~1e-13: compare with "
                "a tolerance, np.max(np.abs(a − b)) <= atol", _distinct_exact),
        Mistake("rows counted instead of columns", "a hidden unit is a column of H (N, M)",
                _distinct_rows),
        Mistake("only neighbouring columns compared", "a column equal to any earlier column "
                "(not just the previous one) is a copy", _distinct_adjacent),
        Mistake("each column compared only with the first column", "a column equal to any "
                "earlier column is a copy, not only one equal to the first: keep every distinct "
                "column seen so far and compare with each", _distinct_first),
        Mistake("distinct values counted", "compare whole columns, not single entries",
                _distinct_values),
        Mistake("every column counted", "a column equal to an earlier one is a copy of the "
                "same unit: count it once", lambda H, atol=1e-10: np.asarray(H).shape[1]),
    ),
)

N_DISTINCT_CONSTANT_INIT = ValueCheck(
    "03.n_distinct_constant_init", "n_distinct_constant_init", lambda: 1, kind="int",
    tol=Tolerance(rtol=0.0, atol=0.0),
    mistakes=(
        (16, "training assumed to break the symmetry",
         "every hidden unit gets the same gradient, so identical units stay identical"),
        (0, "no units at all", "the units exist and compute something; how many different "
         "things do they compute?"),
        (10, "the output units counted", "count the 16 hidden units"),
    ),
)


# Preprocessing.

def _center_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 9.0]]),),
             "3 examples, 2 features (column means 3 and 5)", batch=3),
        Case((np.array([[2.0, -1.0, 0.0, 7.0], [4.0, 1.0, 0.0, 1.0]]),),
             "2 examples, 4 features", batch=2),
        Case((np.array([[3.0, -2.0, 8.0]]),), "a single example"),
    ]


def _center_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(5, 2, size=(50, 7)),), "random (50, 7), mean 5", batch=50),
        Case((rng.normal(size=(4, 4)) + np.arange(4),), "square (4, 4)", batch=4),
        Case((rng.normal(size=(6, 1)),), "one feature (6, 1)", batch=6),
        Case((rng.uniform(-1000, 1000, size=(9, 3)),), "values up to ±1000", batch=9),
        Case((rng.normal(1, 1, size=(8, 5)).astype(np.float32),), "float32", batch=8),
        Case((np.ones((3, 2)),), "constant features (all become 0)", batch=3),
        Case((rng.integers(0, 256, size=(7, 4)),), "integer pixel values", batch=7),
    ]


CENTER = FunctionCheck(
    id="03.center",
    title="center",
    reference=center,
    cases=_center_cases,
    hidden_cases=_center_hidden,
    tol=Tolerance(rtol=1e-5, atol=1e-6),
    mistakes=(
        Mistake("the mean of each example removed", "average over the examples, axis=0: each "
                "feature gets its own mean", lambda X: X - X.mean(axis=1, keepdims=True)),
        Mistake("one mean over all entries", "each feature (column) has its own mean: "
                "X.mean(axis=0)", lambda X: X - X.mean()),
        Mistake("standardised", "only subtract the mean; do not divide by the standard "
                "deviation", lambda X: (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0,
                                                                        X.std(axis=0), 1.0)),
        Mistake("the median instead of the mean", "centring subtracts the mean",
                lambda X: X - np.median(X, axis=0)),
    ),
)


def _correlated(rng: np.random.Generator, n: int, stds: tuple[float, ...],
                shift: float) -> Array:
    """N examples of len(stds) correlated Gaussian features: a random rotation of scaled axes."""
    d = len(stds)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (rng.normal(size=(n, d)) * np.array(stds)) @ q.T + shift * rng.normal(size=d)


def _whiten_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_correlated(rng, 1000, (3.0, 0.5), 4.0), 1e-5),
             "1000 correlated 2-D points, mean far from 0; compared: (means of Z, cov(Z))",
             batch=1000),
        Case((_correlated(rng, 1500, (2.0, 1.0, 0.3), 1.0), 1e-5),
             "1500 points in 3-D; compared: (means of Z, cov(Z))", batch=1500),
        Case((_correlated(rng, 2000, (5.0, 2.0, 1.5, 0.7, 0.25), -2.0), 1e-5),
             "2000 points in 5-D; compared: (means of Z, cov(Z))", batch=2000),
    ]


def _whiten_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_correlated(rng, 1200, (4.0, 0.3), 10.0), 1e-5), "2-D, mean 10", batch=1200),
        Case((_correlated(rng, 1000, (1000.0, 200.0, 50.0), 500.0), 1e-5),
             "features in the thousands", batch=1000),
        Case((_correlated(rng, 1000, (2.0,), 3.0), 1e-5), "a single feature", batch=1000),
        Case((_correlated(rng, 3000, (3.0, 2.0, 1.0, 0.5, 0.3, 0.2, 0.25, 1.5), 0.0), 1e-5),
             "8-D", batch=3000),
        Case((_correlated(rng, 1000, (2.0, 0.4, 1.0), 1.0).astype(np.float32), 1e-5),
             "float32 data", batch=1000),
        Case((_correlated(rng, 2000, (2.0, 1.5), 1.0), 1e-3),
             "eps = 1e-3, small next to both variances", batch=2000),
        Case((_correlated(rng, 2000, (2.0, 1.0, math.sqrt(1e-5)), 1.0),),
             "one direction of variance ≈ eps, the default eps: its whitened variance is "
             "λ/(λ + eps) ≈ ½", batch=2000),
        Case((np.round(_correlated(rng, 1000, (30.0, 10.0), 100.0)).astype(np.int64), 1e-5),
             "integer data", batch=1000),
    ]


def _whiten_no_centre(X: Any, eps: float = 1e-5) -> Array:
    Xc = center(X)
    vals, vecs = np.linalg.eigh(Xc.T @ Xc / len(Xc))
    return np.asarray(X, dtype=np.float64) @ vecs / np.sqrt(vals + eps)


def _whiten_parts(X: Any) -> tuple[Array, Array, Array]:
    Xc = center(X)
    vals, vecs = np.linalg.eigh(Xc.T @ Xc / len(Xc))
    return Xc, vals, vecs


def _whiten_rotate_only(X: Any, eps: float = 1e-5) -> Array:
    Xc, _, vecs = _whiten_parts(X)
    return Xc @ vecs


def _whiten_no_sqrt(X: Any, eps: float = 1e-5) -> Array:
    Xc, vals, vecs = _whiten_parts(X)
    return Xc @ vecs / (vals + eps)


def _whiten_standardise(X: Any, eps: float = 1e-5) -> Array:
    Xc = center(X)
    return Xc / np.sqrt(Xc.var(axis=0) + eps)


def _whiten_svd(X: Any, eps: float = 1e-5) -> Array:
    Xc = center(X)
    _, s, vt = np.linalg.svd(Xc, full_matrices=False)
    return Xc @ vt.T / (s + eps)


def _whiten_wrong_rotation(X: Any, eps: float = 1e-5) -> Array:
    Xc, vals, vecs = _whiten_parts(X)
    return Xc @ vecs.T / np.sqrt(vals + eps)


def _whiten_zca(X: Any, eps: float = 1e-5) -> Array:
    Xc, vals, vecs = _whiten_parts(X)
    return (Xc @ vecs / np.sqrt(vals + eps)) @ vecs.T


def _whiten_eps_outside(X: Any, eps: float = 1e-5) -> Array:
    Xc, vals, vecs = _whiten_parts(X)
    return Xc @ vecs / (np.sqrt(np.maximum(vals, 0.0)) + eps)


WHITEN = FunctionCheck(
    id="03.whiten",
    title="whiten",
    reference=whiten,
    cases=_whiten_cases,
    hidden_cases=_whiten_hidden,
    probe=probe("nb03.whiten_stats"),
    kind=("array", "array", "float"),
    tol=COVARIANCE,
    mistakes=(
        Mistake("not centred", "subtract the column means first: whitened data has mean 0",
                _whiten_no_centre),
        Mistake("decorrelated but not scaled", "after rotating onto the eigenvectors, divide "
                "each component by √(λ + eps)", _whiten_rotate_only),
        Mistake("divided by λ instead of √λ", "component i has variance λᵢ: divide by its "
                "standard deviation √(λᵢ + eps)", _whiten_no_sqrt),
        Mistake("each feature standardised on its own", "standardising keeps the correlations; "
                "rotate onto the eigenvectors of the covariance first", _whiten_standardise),
        Mistake("singular values used as standard deviations",
                "the singular values of X − μ are √N times the standard deviations: "
                "divide by s/√N (or use the eigenvalues of the covariance)", _whiten_svd),
        Mistake("rotated with Uᵀ instead of U", "the components are (X − μ) @ U, with the "
                "eigenvectors in the columns of U", _whiten_wrong_rotation),
        Mistake("ZCA instead of PCA whitening", "the exercise asks for the PCA components, "
                "(X − μ) U / √(λ + eps), without rotating back by Uᵀ", _whiten_zca),
        Mistake("eps outside the root", "divide by √(λ + eps): eps goes under the root, where "
                "it tames directions of almost zero variance", _whiten_eps_outside),
    ),
)


FORBIDDEN = ("reference_impl.initializers",)

register(
    VAR_PRODUCT,
    VAR_WX_ZERO_MEANS,
    VAR_WX_CENTRED_WEIGHT,
    VAR_SUM,
    VARIANCE_CONDITIONS,
    UNIFORM_VARIANCE,
    GLOROT_BOUND,
    XAVIER_K,
    KAIMING_SIGMA,
    CONSTANT,
    UNIFORM,
    GAUSSIAN,
    GLOROT_UNIFORM,
    XAVIER,
    KAIMING,
    ORTHOGONAL,
    N_DISTINCT_UNITS,
    N_DISTINCT_CONSTANT_INIT,
    CENTER,
    WHITEN,
)
