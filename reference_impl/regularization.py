"""L2 regularisation (weight decay): a penalty ½·λ·‖w‖² added to the loss, and its gradient.

The gradient of the penalty is λ·w, so gradient descent on loss + penalty updates
w ← w − α (g + λ w): every step also shrinks the weights towards 0 by the factor
(1 − αλ), hence "weight decay". The optimizers' ``weight_decay`` argument uses
:func:`decayed_gradient`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reference_impl._validation import finite_real

__all__ = ["decayed_gradient", "l2_penalty"]


def l2_penalty(weights: Iterable[Any], lam: float) -> float:
    """½·λ·Σ_k ‖W_k‖², summed over every entry of every array in ``weights`` (any shapes)."""
    lam = finite_real(lam, "lam")
    return 0.5 * lam * sum(float(np.sum(np.asarray(w, dtype=np.float64) ** 2)) for w in weights)


def decayed_gradient(g: NDArray[Any], w: NDArray[Any], lam: float) -> NDArray[Any]:
    """g + λ·w: the gradient of the loss plus that of the penalty ½·λ·‖w‖². g, w: one shape."""
    return g + lam * w
