"""Turn whatever a student returned into plain values before anything compares them.

Every builtin and numpy function used here is captured when this module is first
imported, which the course arranges to happen before any student code runs; later
monkeypatching of numpy or builtins does not reach these references.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy

_ndarray = numpy.ndarray
_asarray = numpy.asarray
_array = numpy.array
_float64 = numpy.float64
_isfinite = numpy.isfinite
_float = builtins.float
_int = builtins.int
_str = builtins.str
_bool = builtins.bool
_isinstance = builtins.isinstance
_type = builtins.type
_tuple = builtins.tuple
_len = builtins.len
_round = builtins.round
_isclose_scalar = math.isclose
_str_eq = str.__eq__


class CoercionError(TypeError):
    """The answer could not be turned into the expected kind of value."""


def as_array(value: Any) -> numpy.ndarray:
    """A fresh numeric ndarray copy of ``value``; bool and integer dtypes are kept."""
    try:
        arr = _array(value, copy=True)
    except Exception as exc:
        raise CoercionError(
            f"expected an array of numbers, got {_type(value).__name__} ({exc})"
        ) from None
    if arr.dtype.kind not in "biuf":
        raise CoercionError(
            f"expected an array of numbers, got an array of dtype {arr.dtype} "
            f"built from {_type(value).__name__}"
        )
    # A base-class ndarray: subclasses could override comparisons.
    return _asarray(arr).view(_ndarray)


def as_float(value: Any) -> float:
    """A builtin float; a 1-element array is accepted, anything larger is an error."""
    if _isinstance(value, (_ndarray, numpy.generic)):
        arr = as_array(value)
        if arr.size != 1:
            raise CoercionError(f"expected a single number, got an array of shape {arr.shape}")
        return _float(arr.reshape(-1)[0])
    if _isinstance(value, (_bool, _str)) or value is None:
        raise CoercionError(f"expected a number, got {_type(value).__name__} {value!r}")
    try:
        out = _float(value)
    except Exception:
        raise CoercionError(f"expected a number, got {_type(value).__name__}") from None
    if _type(out) is not _float:  # pragma: no cover - float() always returns a float
        raise CoercionError("float() did not return a float")
    return out


def as_int(value: Any) -> int:
    """A builtin int; floats that are whole numbers (104938.0) are accepted.

    Integers keep every digit: 2**60 + 1 is not rounded through a float.
    """
    if _isinstance(value, (_int, numpy.integer)) and not _isinstance(value, _bool):
        return _int(_int.__index__(value)) if _isinstance(value, _int) else _int(value.item())
    if _isinstance(value, _ndarray) and value.size == 1 and value.dtype.kind in "iu":
        return _int(value.reshape(-1)[0].item())
    number = as_float(value)
    if not math.isfinite(number) or number != _round(number):
        raise CoercionError(f"expected a whole number, got {number!r}")
    return _int(number)


def as_str(value: Any) -> str:
    """A builtin str, built character by character so no subclass survives."""
    if not _isinstance(value, _str):
        raise CoercionError(f"expected a string, got {_type(value).__name__}")
    return "".join(_str(ch) for ch in _str.__str__(value))


def str_equal(a: str, b: str) -> bool:
    return _str_eq(a, b)


def close(a: float, b: float, *, rtol: float, atol: float) -> bool:
    return _isclose_scalar(a, b, rel_tol=rtol, abs_tol=atol)
