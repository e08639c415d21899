"""Train/validation/test splits, and standardisation fitted on the training part."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from reference_impl._validation import as_float_array, check_generator

Array = NDArray[Any]


class Split(NamedTuple):
    """Six arrays of a three-way split; unpack in this order or read them by name."""

    X_train: Array
    y_train: Array
    X_val: Array
    y_val: Array
    X_test: Array
    y_test: Array


def _check_xy(X: Any, y: Any) -> tuple[Array, NDArray[np.intp]]:
    """``X`` (N, ...) and integer labels ``y`` (N,) of the same length."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0:
        raise ValueError("X must have a leading example axis, got a scalar")
    if y.ndim != 1:
        raise ValueError(f"expected y of shape (N,), got {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)}; they must match")
    return X, y.astype(np.intp)


def _apportion(counts: NDArray[np.intp], total: int) -> NDArray[np.intp]:
    """Split ``total`` across groups in proportion to ``counts`` (largest remainders)."""
    if total == 0 or counts.sum() == 0:
        return np.zeros_like(counts)
    quota = counts * (total / counts.sum())
    share = np.floor(quota).astype(np.intp)
    # Hand the leftover units to the groups that lost most to rounding down.
    order = np.argsort(-(quota - share), kind="stable")
    share[order[: total - int(share.sum())]] += 1
    return np.minimum(share, counts)


def train_val_test_split(
    X: Any,
    y: Any,
    *,
    rng: np.random.Generator,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    stratify: bool = True,
) -> Split:
    """Shuffle ``X`` (N, ...) and ``y`` (N,) into train, validation and test parts.

    The test part gets ``round(test_fraction * N)`` examples and the validation part
    ``round(val_fraction * N)``; ``stratify=True`` keeps each class's share the same in
    every part (up to rounding). Returns a :class:`Split` (X_train, y_train, X_val,
    y_val, X_test, y_test); the inputs are not modified.
    """
    rng = check_generator(rng)
    X, y = _check_xy(X, y)
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must lie in [0, 1), got {value}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction = {val_fraction + test_fraction} leaves no "
            "training data; keep their sum below 1"
        )
    n = len(y)
    n_test = round(test_fraction * n)
    n_val = round(val_fraction * n)
    if n - n_test - n_val < 1:
        raise ValueError(f"{n} examples are too few for these fractions: training would be empty")
    if stratify:
        classes, inverse = np.unique(y, return_inverse=True)
        groups = [rng.permutation(np.flatnonzero(inverse == k)) for k in range(len(classes))]
        counts = np.array([len(g) for g in groups], dtype=np.intp)
        test_counts = _apportion(counts, n_test)
        val_counts = _apportion(counts - test_counts, n_val)
        test_idx = np.concatenate([g[:t] for g, t in zip(groups, test_counts, strict=True)])
        val_idx = np.concatenate(
            [g[t : t + v] for g, t, v in zip(groups, test_counts, val_counts, strict=True)]
        )
        train_idx = np.concatenate(
            [g[t + v :] for g, t, v in zip(groups, test_counts, val_counts, strict=True)]
        )
        # Within each part, mix the classes again: they were concatenated class by class.
        train_idx, val_idx, test_idx = (rng.permutation(i) for i in (train_idx, val_idx, test_idx))
    else:
        order = rng.permutation(n)
        test_idx, val_idx, train_idx = np.split(order, [n_test, n_test + n_val])
    return Split(X[train_idx], y[train_idx], X[val_idx], y[val_idx], X[test_idx], y[test_idx])


class Standardizer:
    """Per-feature standardisation x' = (x − μ) / σ, with μ and σ fitted on training data only.

    Features that never vary (σ below ``eps``, like the always-blank border pixels of
    the digits) are centred but not scaled, so they become 0 rather than NaN.
    """

    def __init__(self, *, eps: float = 1e-8) -> None:
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.eps = eps
        self.mean_: Array | None = None
        self.std_: Array | None = None

    def fit(self, X: Any) -> Standardizer:
        """Learn μ and σ per feature from ``X`` (N, D); returns ``self``."""
        X = as_float_array(X, "X", ndim=2)
        if len(X) == 0:
            raise ValueError("cannot fit a Standardizer on X with no rows")
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.std_ = np.where(std < self.eps, np.ones_like(std), std)
        return self

    def _fitted(self, X: Any) -> tuple[Array, Array, Array]:
        if self.mean_ is None or self.std_ is None:
            raise ValueError("this Standardizer is not fitted yet; call fit(X_train) first")
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.mean_.shape[0]:
            raise ValueError(
                f"expected X of shape (N, {self.mean_.shape[0]}) as in fit, got {X.shape}"
            )
        return X, self.mean_.astype(X.dtype), self.std_.astype(X.dtype)

    def transform(self, X: Any) -> Array:
        """(x − μ) / σ for ``X`` (N, D); float32 stays float32."""
        X, mean, std = self._fitted(X)
        return (X - mean) / std

    def fit_transform(self, X: Any) -> Array:
        """Fit on ``X`` (N, D) and return it standardised."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> Array:
        """x' σ + μ for standardised ``X`` (N, D): undoes :meth:`transform`."""
        X, mean, std = self._fitted(X)
        return X * std + mean
