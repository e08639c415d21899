"""Hypothesis strategies shared by the tests: random shapes and well-scaled float64 arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

small_dims = st.integers(min_value=1, max_value=6)


@st.composite
def matrices(
    draw: st.DrawFn,
    *,
    rows: int | None = None,
    cols: int | None = None,
    scale: float = 3.0,
    away_from: float | None = None,
) -> np.ndarray:
    """A float64 (rows, cols) matrix with entries in [-scale, scale].

    ``away_from`` keeps entries at least 1e-3 from a kink (0 for ReLU) so that
    centred differences stay valid there.
    """
    n = rows if rows is not None else draw(small_dims)
    m = cols if cols is not None else draw(small_dims)
    elements = st.floats(-scale, scale, allow_nan=False, allow_infinity=False, width=64)
    arr = draw(hnp.arrays(np.float64, (n, m), elements=elements))
    if away_from is not None:
        near = np.abs(arr - away_from) < 1e-3
        arr = np.where(near, away_from + 0.5, arr)
    return arr


seeds = st.integers(min_value=0, max_value=2**32 - 1)
