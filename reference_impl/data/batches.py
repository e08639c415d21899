"""Shuffled mini-batches: one pass over the data, a batch at a time, is one epoch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reference_impl._validation import check_generator, positive_int
from reference_impl.data.splits import _check_xy

Array = NDArray[Any]


def minibatches(
    X: Any,
    y: Any,
    batch_size: int,
    *,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[Array, NDArray[np.intp]]]:
    """Yield ``(xb, yb)`` batches of ``X`` (N, ...) and ``y`` (N,), ``batch_size`` rows each.

    ``shuffle=True`` draws a fresh order from ``rng`` (required then); the last batch is
    smaller when ``batch_size`` does not divide N, unless ``drop_last=True`` drops it.
    One pass over the data is one epoch. Arguments are checked at the call, not at the
    first ``next``.
    """
    X, y = _check_xy(X, y)
    batch_size = positive_int(batch_size, "batch_size")
    if shuffle:
        if rng is None:
            raise TypeError(
                "shuffle=True needs rng=numpy.random.default_rng(seed); "
                "or pass shuffle=False for a fixed order"
            )
        order = check_generator(rng).permutation(len(y))
    else:
        order = np.arange(len(y))
    stop = len(y) - len(y) % batch_size if drop_last else len(y)
    return _batches(X, y, order, int(batch_size), stop)


def _batches(
    X: Array, y: NDArray[np.intp], order: NDArray[np.intp], batch_size: int, stop: int
) -> Iterator[tuple[Array, NDArray[np.intp]]]:
    for start in range(0, stop, batch_size):
        idx = order[start : min(start + batch_size, stop)]
        yield X[idx], y[idx]
