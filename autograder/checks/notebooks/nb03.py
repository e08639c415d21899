"""Notebook 3 on the student's side: the statistics of an initializer's draw.

An initializer is checked on summary statistics of a large draw from a seeded Generator,
never on one random array. The probes here return the raw statistics (mean, variance,
extremes, the share within one standard deviation) of the student's draw; they know no
target bound or variance. ``stats_close`` compares them with the statistics of a draw of
the grader's reference, within bands many standard errors wide, so every correct
implementation passes for any seed and a forgotten factor of 2 shows as 2× or ½×.
The probes also demand that the output depend on the ``rng`` given and on nothing else.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograder.checks.cases import Case
from autograder.checks.findings import Finding
from autograder.checks.notebooks.common import own_generator_only


def draw(answer: Any, shape: tuple[int, ...], seed: int, kwargs: dict[str, Any]) -> Any:
    """The student's weight for ``shape``, drawn with a fresh Generator seeded with ``seed``
    (and from it alone: numpy's global random state must stay untouched)."""
    with own_generator_only():
        out = np.asarray(answer(shape, rng=np.random.default_rng(seed), **kwargs))
    if out.shape != shape:
        raise ValueError(f"asked for shape {shape}, got an array of shape {out.shape}; "
                         "return an array of exactly the shape given (D, M)")
    if out.dtype.kind not in "iuf":
        raise TypeError(f"expected an array of floats, got dtype {out.dtype}")
    out = out.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError("the weight contains NaN or infinity")
    return out


def require_rng(answer: Any, seed: int, kwargs: dict[str, Any]) -> None:
    """Raise unless the output is a function of the rng given: same seed, same array."""
    small = (6, 5)
    first = draw(answer, small, seed, kwargs)
    if not np.array_equal(first, draw(answer, small, seed, kwargs)):
        raise ValueError("two Generators with the same seed gave different arrays: draw every "
                         "number from the rng argument (rng.uniform, rng.normal), not from "
                         "np.random")
    if np.array_equal(first, draw(answer, small, seed + 1, kwargs)):
        raise ValueError("two different seeds gave the same array: your function ignores the "
                         "rng it is given (do not create or seed a generator inside it)")


def _split(case: Case) -> tuple[tuple[int, ...], int, dict[str, Any]]:
    kwargs = dict(case.kwargs)
    seed = int(kwargs.pop("seed"))
    return tuple(case.args[0]), seed, kwargs


def uniform_stats(answer: Any, case: Case) -> tuple[float, float, float, float]:
    """(mean, variance, min, max) of a large draw."""
    shape, seed, kwargs = _split(case)
    w = draw(answer, shape, seed, kwargs)
    require_rng(answer, seed, kwargs)
    return float(w.mean()), float(w.var()), float(w.min()), float(w.max())


def gaussian_stats(answer: Any, case: Case) -> tuple[float, float, float]:
    """(mean, variance, share of the draw within its own mean ± its own std): 0.683 for a
    Gaussian, 0.577 for a uniform."""
    shape, seed, kwargs = _split(case)
    w = draw(answer, shape, seed, kwargs)
    require_rng(answer, seed, kwargs)
    mean, std = float(w.mean()), float(w.std())
    return mean, float(w.var()), float(np.mean(np.abs(w - mean) <= std))


def snap(value: float, target: float, band: float) -> float:
    """``target`` itself when ``value`` is within ``band`` of it (sampling noise), else ``value``."""
    return target if abs(value - target) <= band else float(value)


def orthogonal_stats(answer: Any, case: Case) -> tuple[float, float, float]:
    """(max |G/gain² − I|, mean(W²)·max(D, M)/gain², share of 40 draws with W[0, 0] > 0).

    G = WᵀW for a tall W, WWᵀ for a wide one: any orthogonal matrix scaled by ``gain``
    gives (0, 1, about one half); without the sign correction QR always gives W[0, 0] < 0.
    """
    shape, seed, kwargs = _split(case)
    w = draw(answer, shape, seed, kwargs)
    require_rng(answer, seed, kwargs)
    gain = float(kwargs.get("gain", 1.0))
    d, m = shape
    gram = w.T @ w if d >= m else w @ w.T
    deviation = float(np.max(np.abs(gram / gain**2 - np.eye(min(d, m)))))
    scale = float(np.mean(w**2)) * max(d, m) / gain**2
    # 40 fair coin flips leave [0.1, 0.9] with probability about 2e-7.
    positive = float(np.mean([draw(answer, (5, 3), seed + 1000 + k, kwargs)[0, 0] > 0
                              for k in range(40)]))
    return snap(deviation, 0.0, 1e-8), snap(scale, 1.0, 1e-8), snap(positive, 0.5, 0.4)


def _ratio(got: float, want: float) -> str:
    return f"{got / want:.3g}×" if want else f"{got:.3g}"


def stats_close(case: Case, value: Any, expected: Any) -> Finding:
    """Do two draws' statistics agree within sampling noise? (uniform: 4 numbers, Gaussian: 3)."""
    mean, var = value[0], value[1]
    e_mean, e_var = expected[0], expected[1]
    e_std = math.sqrt(e_var) if e_var > 0 else 0.0
    if e_std and abs(mean - e_mean) > 0.05 * e_std:
        return Finding(False, f"the mean is off by {(mean - e_mean) / e_std:+.2f} standard "
                       "deviations")
    if e_var and abs(var / e_var - 1.0) > 0.05:
        if len(value) == 3 and e_var < 1 and abs(var / e_var**2 - 1.0) <= 0.05:
            return Finding(False, f"the variance is {_ratio(var, e_var)} what it should be: "
                           "the square of the right variance, as from a variance passed as the "
                           "standard deviation (rng.normal's scale is σ, the square root of "
                           "the variance)", mistake="a variance passed as the standard deviation")
        return Finding(False, f"the variance is {_ratio(var, e_var)} what it should be")
    if len(value) == 4:
        width = expected[3] - expected[2]
        if width and (abs(value[2] - expected[2]) > 0.02 * width
                      or abs(value[3] - expected[3]) > 0.02 * width):
            return Finding(False, "the smallest or largest value is outside the interval, or "
                           "far inside it: the draw does not cover the right range")
    elif abs(value[2] - expected[2]) > 0.02:
        return Finding(False, f"{value[2]:.3f} of the draw lies within one standard deviation "
                       f"of its mean; a Gaussian has {expected[2]:.3f} there")
    return Finding(True)


def whiten_stats(answer: Any, case: Case) -> tuple[Any, Any, float]:
    """(|column means| of Z, |covariance| of Z with 1/N, how far Z is from a PCA rotation),
    with the components sorted by their variance.

    The last number looks at the linear map M with Z = (X − μ) M (least squares): PCA
    whitening rotates onto the principal axes and rescales each one, so the columns of M
    are orthogonal, in any order and with any signs; ZCA rotates back (M = U D Uᵀ) and its
    columns are not. It is the largest |cos| between two columns of M: 0 for PCA.
    """
    X = np.asarray(case.args[0], dtype=np.float64)
    Z = np.asarray(answer(*case.args, **case.kwargs), dtype=np.float64)
    if Z.shape != X.shape:
        raise ValueError(f"expected whitened data of shape {X.shape} (one row per example, one "
                         f"column per component), got {Z.shape}")
    mean = Z.mean(axis=0)
    Zc = Z - mean
    M = np.linalg.lstsq(X - X.mean(axis=0), Zc, rcond=None)[0]
    G = M.T @ M
    norms = np.sqrt(np.maximum(np.diag(G), 1e-300))
    cosines = np.abs(G / np.outer(norms, norms) - np.eye(len(G)))
    cov = Zc.T @ Zc / len(Z)
    # Components may come in any order and with any sign: sort them by variance, drop signs.
    order = np.argsort(np.round(np.diag(cov), 6), kind="stable")
    return (np.abs(mean[order]), np.abs(cov[np.ix_(order, order)]),
            snap(float(np.max(cosines)), 0.0, 1e-6))


REGISTRY: dict[str, Any] = {
    "uniform_stats": uniform_stats, "gaussian_stats": gaussian_stats,
    "orthogonal_stats": orthogonal_stats, "stats_close": stats_close,
    "whiten_stats": whiten_stats,
}
