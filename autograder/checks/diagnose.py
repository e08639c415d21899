"""Recognise the usual mistakes from the shape of a wrong answer.

A check names its own mistakes (wrong implementations the grader runs through the same
probe); the detectors here are generic and apply to any numeric answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

_allclose = numpy.allclose


def _close(a: numpy.ndarray, b: numpy.ndarray) -> bool:
    return a.shape == b.shape and bool(_allclose(a, b, rtol=1e-5, atol=1e-8))


def _transposed(got: numpy.ndarray, exp: numpy.ndarray, n: int | None) -> bool:
    return got.ndim == 2 and exp.ndim == 2 and exp.shape[0] != 1 and _close(got, exp.T)


def _sign(got: numpy.ndarray, exp: numpy.ndarray, n: int | None) -> bool:
    return bool(numpy.any(exp != 0)) and _close(got, -exp)


def _missing_mean(got: numpy.ndarray, exp: numpy.ndarray, n: int | None) -> bool:
    return n is not None and n > 1 and bool(numpy.any(exp != 0)) and _close(got, exp * n)


def _extra_mean(got: numpy.ndarray, exp: numpy.ndarray, n: int | None) -> bool:
    return n is not None and n > 1 and bool(numpy.any(exp != 0)) and _close(got * n, exp)


def _factor_two(got: numpy.ndarray, exp: numpy.ndarray, n: int | None) -> bool:
    nonzero = bool(numpy.any(exp != 0))
    return nonzero and (_close(got, 2 * exp) or _close(2 * got, exp))


def _off_by_one(got: numpy.ndarray, exp: numpy.ndarray, n: int | None) -> bool:
    integral = got.dtype.kind in "iu" or bool(numpy.all(got == numpy.round(got)))
    return integral and got.shape == exp.shape and (_close(got, exp + 1) or _close(got, exp - 1))


GENERIC: tuple[tuple[str, str, Callable[[numpy.ndarray, numpy.ndarray, int | None], bool]], ...] = (
    ("transposed", "your result is the transpose of the expected one: check the order "
     "of a matrix product or which axis holds the batch", _transposed),
    ("sign error", "your result is the negative of the expected one: look for a "
     "flipped sign", _sign),
    ("missing 1/N", "your result is N times too large: average over the batch "
     "instead of summing", _missing_mean),
    ("extra 1/N", "your result is N times too small: you divided by the batch size "
     "where a sum was needed (or divided twice)", _extra_mean),
    ("factor of two", "your result is off by a factor of 2: check a 2 or ½ in the formula",
     _factor_two),
    ("off by one", "your count is off by one: check where the count starts and "
     "whether the last step is included", _off_by_one),
)


def generic_mistakes(got: Any, expected: Any, batch: int | None) -> list[tuple[str, str]]:
    """(name, hint) of the first generic mistake, in order of specificity, the answer fits."""
    pairs = _numeric_pairs(got, expected)
    for name, hint, test in GENERIC:
        if pairs and any(test(g, e, batch) for g, e in pairs):
            return [(name, hint)]
    return []


def _numeric_pairs(got: Any, expected: Any) -> list[tuple[numpy.ndarray, numpy.ndarray]]:
    if isinstance(expected, tuple) and isinstance(got, tuple) and len(got) == len(expected):
        return [p for g, e in zip(got, expected, strict=True) for p in _numeric_pairs(g, e)]
    if isinstance(expected, (int, float, numpy.ndarray)) and not isinstance(expected, bool):
        if isinstance(got, (int, float, numpy.ndarray)) and not isinstance(got, bool):
            g = numpy.asarray(got, dtype=float)
            e = numpy.asarray(expected, dtype=float)
            if numpy.all(numpy.isfinite(g)):
                return [(g, e)]
    return []
