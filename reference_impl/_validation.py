"""Input checks shared by the package: each error names the bad value and the fix."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating[Any]]


def as_float_array(x: Any, name: str, *, ndim: int | None = None) -> FloatArray:
    """Return ``x`` as a float64 array (float32 stays float32); reject NaN and non-numbers.

    Raises TypeError for non-numeric input and ValueError for a wrong number of
    dimensions or for NaN values.
    """
    if isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except Exception as exc:  # pragma: no cover - numpy raises many kinds here
            raise TypeError(f"{name} must be array-like of numbers, got {type(x).__name__}") from exc
        if arr.dtype == np.float32:
            pass
        elif arr.dtype.kind in "biuf":
            arr = arr.astype(np.float64)
        else:
            raise TypeError(
                f"{name} must hold real numbers, got dtype {arr.dtype}; "
                "convert it with np.asarray(..., dtype=float)"
            )
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"expected {name} with {ndim} dimension(s), got shape {arr.shape}")
    # NaN poisons a sum, so the elementwise scan runs only when the sum says it must.
    if np.isnan(arr.sum()) and np.isnan(arr).any():
        index = tuple(int(i) for i in np.argwhere(np.isnan(arr))[0])
        raise ValueError(f"{name} contains NaN at index {index}; remove or impute missing values")
    return arr


def as_labels(y: Any, name: str, *, n_classes: int) -> NDArray[np.intp]:
    """Return integer class labels ``(N,)`` in ``[0, n_classes)``."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"expected {name} of shape (N,), got {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(arr == np.round(arr)):
            raise TypeError(f"{name} must hold integer class labels, got non-integer floats")
        arr = arr.astype(np.intp)
    elif arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        bad = arr[(arr < 0) | (arr >= n_classes)][0]
        raise ValueError(f"{name} has label {bad} outside [0, {n_classes}); labels must be 0..C-1")
    return arr.astype(np.intp)


def check_generator(rng: Any) -> np.random.Generator:
    """Demand an explicit ``numpy.random.Generator``: library code never seeds globally."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
            "create one with numpy.random.default_rng(seed)"
        )
    return rng


def positive_int(value: Any, name: str) -> int:
    """A count such as ``batch_size``, ``d_in`` or ``pieces``: an int >= 1 (bool rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def finite_real(value: Any, name: str) -> float:
    """A finite real hyper-parameter such as ``alpha`` (bool and strings rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


def positive_real(value: Any, name: str) -> float:
    """A step size or tolerance: a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)
