"""Shared by the layer tests: the autograd oracle, comparisons and well-separated inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from autograd import make_vjp
from hypothesis import settings

TOL = 1e-7

# Each example of a gradient check runs forward 4 times per entry: fewer examples keep it fast.
gradient_checks = settings(max_examples=15)


def vjp(f: Callable[..., Any], args: tuple[Any, ...], dy: Any, argnum: int = 0) -> np.ndarray:
    """dyᵀ ∂f/∂args[argnum], by reverse-mode autograd: the independent oracle."""
    pullback, _ = make_vjp(f, argnum)(*args)
    return np.asarray(pullback(dy))


def assert_matches_oracle(ours: Any, oracle: Any, what: str) -> None:
    """Our analytic gradient equals autograd's up to float64 rounding."""
    ours, oracle = np.asarray(ours), np.asarray(oracle)
    assert ours.shape == oracle.shape, f"{what}: shape {ours.shape} != oracle {oracle.shape}"
    np.testing.assert_allclose(ours, oracle, rtol=1e-9, atol=1e-12, err_msg=what)


def assert_checked(errors: dict[str, float], expected: set[str]) -> None:
    """check_module looked at exactly the expected names and all were within TOL."""
    assert set(errors) == expected, f"checked {sorted(errors)}, expected {sorted(expected)}"
    assert all(e <= TOL for e in errors.values()), errors


def separate_max(x: np.ndarray, axis: int = -1, gap: float = 1e-2) -> np.ndarray:
    """x with the first arg-max of every slice raised by ``gap``: no ties, no kinks nearby."""
    out = x.copy()
    winners = np.expand_dims(np.argmax(out, axis=axis), axis)
    lifted = np.take_along_axis(out, winners, axis=axis) + gap
    np.put_along_axis(out, winners, lifted, axis=axis)
    return out
