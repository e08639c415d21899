"""Compare an observed value with the expected one and say exactly how they differ."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy

from autograder.checks import coerce

_allclose = numpy.allclose
_isclose = numpy.isclose
_argwhere = numpy.argwhere
_abs = numpy.abs
_isnan = numpy.isnan
_isfinite = numpy.isfinite
_all = numpy.all
_array2string = numpy.array2string


@dataclass(frozen=True)
class Tolerance:
    """|got − expected| <= atol + rtol·|expected|, elementwise.

    ``digits`` > 0 replaces that rule for single numbers by the precision a question asks
    for: a number passes when it is within half a unit of the ``digits``-th significant
    digit of the value it is compared with, so every correctly rounded answer passes and
    one that is off in that digit does not.
    """

    rtol: float = 1e-6
    atol: float = 1e-8
    digits: int = 0

    def describe(self) -> str:
        return f"to {self.digits} significant digits" if self.digits else ""


def significant_close(got: float, expected: float, digits: int) -> bool:
    """Is ``got`` within half a unit of the ``digits``-th significant digit of ``expected``?"""
    if not (math.isfinite(got) and math.isfinite(expected)):
        return False
    if expected == 0.0:
        return got == 0.0
    half = 0.5 * 10.0 ** (math.floor(math.log10(abs(expected))) - digits + 1)
    return abs(got - expected) <= half * (1.0 + 1e-9)


def fmt(value: Any, limit: int = 6) -> str:
    """A short printable form of a value: arrays are cut to a few entries."""
    if isinstance(value, numpy.ndarray):
        if value.ndim == 0:
            return f"{value.item():.6g}"
        text = _array2string(
            value, precision=4, threshold=limit * 2, edgeitems=min(limit // 2, 3),
            separator=", ", suppress_small=True,
        )
        return text.replace("\n", "\n" + " " * 12)
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def arrays_match(got: numpy.ndarray, expected: numpy.ndarray, tol: Tolerance) -> bool:
    if got.shape != expected.shape:
        return False
    return bool(_allclose(got, expected, rtol=tol.rtol, atol=tol.atol, equal_nan=False))


def describe_array_difference(
    got: numpy.ndarray, expected: numpy.ndarray, tol: Tolerance
) -> str:
    """One or two lines saying what differs: shape, non-finite values, or the first value."""
    if got.shape != expected.shape:
        hint = ""
        if got.size == expected.size:
            hint = " (same number of entries: check a reshape, a transpose or keepdims)"
        elif got.ndim == expected.ndim - 1 or got.ndim == expected.ndim + 1:
            hint = " (one dimension too few or too many: check the axis you reduced over)"
        return f"wrong shape: expected {expected.shape}, got {got.shape}{hint}"
    bad_nan = _isnan(got) & ~_isnan(expected)
    if bad_nan.any():
        idx = tuple(int(i) for i in _argwhere(bad_nan)[0])
        return (f"got NaN at index {idx} where {fmt(expected[idx])} was expected (NaN comes from "
                "0 · inf, inf − inf or inf / inf: an overflow or a log of 0 on the way; use the "
                "numerically stable form)")
    bad_inf = ~_isfinite(got) & _isfinite(expected)
    if bad_inf.any():
        idx = tuple(int(i) for i in _argwhere(bad_inf)[0])
        return (
            f"got {got[idx]} at index {idx} where {fmt(expected[idx])} was expected "
            "(an overflow: use the numerically stable form)"
        )
    wrong = ~_isclose(got, expected, rtol=tol.rtol, atol=tol.atol)
    n_wrong = int(wrong.sum())
    idx = tuple(int(i) for i in _argwhere(wrong)[0])
    return (
        f"{n_wrong} of {got.size} values differ; the first at index {idx}: "
        f"expected {fmt(expected[idx])}, got {fmt(got[idx])}"
    )


def values_match(got: Any, expected: Any, tol: Tolerance) -> bool:
    """Structural equality of plain values (arrays, numbers, strings, tuples of them)."""
    if isinstance(expected, tuple):
        return (
            isinstance(got, tuple)
            and len(got) == len(expected)
            and all(values_match(g, e, tol) for g, e in zip(got, expected, strict=True))
        )
    if isinstance(expected, numpy.ndarray):
        return isinstance(got, numpy.ndarray) and arrays_match(got, expected, tol)
    if isinstance(expected, bool) or isinstance(expected, str):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, int):
        return type(got) is int and got == expected
    if isinstance(expected, float):
        if not isinstance(got, float):
            return False
        if tol.digits:
            return significant_close(got, expected, tol.digits)
        return coerce.close(got, expected, rtol=tol.rtol, atol=tol.atol)
    return False
