"""Run the student's answer and turn what it returns into plain values. Nothing is decided here.

Every observation is ``("ok", value)`` or ``("error", "ExceptionName: message")``. Values
are builtin floats, ints, bools and strings, float64 arrays, or tuples of them, so the
grader can compare them without running anything the student wrote.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy

from autograder.checks import coerce
from autograder.checks.cases import Case

Kind = Literal["array", "float_array", "float", "int", "str", "bool"]
KindSpec = Kind | tuple[Kind, ...]
Observation = tuple[str, Any]

_array_equal = numpy.array_equal
_deepcopy = copy.deepcopy


def coerce_kind(value: Any, kind: KindSpec) -> Any:
    """``value`` as the plain value of ``kind``; a tuple kind accepts a tuple, list or array."""
    if isinstance(kind, tuple):
        if isinstance(value, numpy.ndarray) and value.ndim >= 1 and len(value) == len(kind):
            value = tuple(value)
        if not isinstance(value, (tuple, list)) or len(value) != len(kind):
            raise coerce.CoercionError(
                f"expected {len(kind)} values ({', '.join(kind)}) in a tuple, "
                f"got {type(value).__name__}"
                + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
        return tuple(coerce_kind(v, k) for v, k in zip(value, kind, strict=True))
    if kind == "array":
        return coerce.as_array(value).astype(numpy.float64)
    if kind == "float_array":  # the exercise promises floats: an integer array is wrong
        arr = coerce.as_array(value)
        if arr.dtype.kind != "f":
            raise coerce.CoercionError(
                f"expected an array of floats, got dtype {arr.dtype}; the exercise asks for "
                "float output (np.zeros gives floats; np.zeros(..., dtype=int) does not)")
        return arr.astype(numpy.float64)
    if kind == "float":
        return coerce.as_float(value)
    if kind == "int":
        return coerce.as_int(value)
    if kind == "bool":
        if not isinstance(value, (bool, numpy.bool_)):
            raise coerce.CoercionError(f"expected True or False, got {type(value).__name__}")
        return bool(value)
    return coerce.as_str(value)


def error_text(exc: BaseException) -> str:
    """``"Name: message"`` of an exception, however broken its ``__str__``."""
    name = type(exc).__name__
    try:
        text = str(exc)
    except Exception:
        text = "(the exception could not be printed)"
    return f"{name}: {text}"[:500]


def _same(a: Any, b: Any) -> bool:
    """Is ``a`` still what the pristine copy ``b`` holds (arrays, lists, tuples, dicts)?"""
    if isinstance(b, numpy.ndarray):
        return isinstance(a, numpy.ndarray) and a.shape == b.shape and bool(
            _array_equal(a, b, equal_nan=True))
    if isinstance(b, (list, tuple)):
        return isinstance(a, type(b)) and len(a) == len(b) and all(
            _same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(b, dict):
        return (isinstance(a, dict) and a.keys() == b.keys()
                and all(_same(a[k], v) for k, v in b.items()))
    if isinstance(b, (int, float, str)) and not isinstance(b, bool):
        return type(a) is type(b) and a == b
    return True


MUTATED = ("ValueError: your code changed its input in place; work on a copy "
           "(x = x.copy()) or build a new array")


def observe_cases(answer: Any, cases: Sequence[Case], probe: Callable[[Any, Case], Any],
                  kind: KindSpec, *, callable_answer: bool = True) -> list[Observation]:
    """Run ``probe(answer, case)`` on a private copy of each case's inputs."""
    if callable_answer and not callable(answer):
        return [("error", f"TypeError: expected a function or class, got {type(answer).__name__}")]
    out: list[Observation] = []
    for case in cases:
        args, kwargs = _deepcopy(case.args), _deepcopy(case.kwargs)
        try:
            value = coerce_kind(probe(answer, Case(args, case.label, kwargs, case.batch)), kind)
        except BaseException as exc:  # SystemExit from student code is an answer too
            out.append(("error", error_text(exc)))
            continue
        if not (all(_same(a, b) for a, b in zip(args, case.args, strict=True))
                and all(_same(kwargs.get(k), v) for k, v in case.kwargs.items())):
            out.append(("error", MUTATED))
            continue
        out.append(("ok", value))
    return out


def observe_value(answer: Any, kind: Literal["int", "float"]) -> list[Observation]:
    try:
        return [("ok", coerce_kind(answer, kind))]
    except BaseException as exc:
        return [("error", error_text(exc))]


def observe_choice(answer: Any, kind: Literal["order", "set"]) -> list[Observation]:
    """The letters of a choice answer, lower case, in the order given (sorted for a set)."""
    try:
        if isinstance(answer, (set, frozenset, list, tuple)) and kind == "set":
            text = "".join(sorted(coerce.as_str(a) for a in answer))
        else:
            text = coerce.as_str(answer)
        return [("ok", "".join(ch for ch in text.lower() if ch.isalnum()))]
    except BaseException as exc:
        return [("error", error_text(exc))]
