"""Early stopping: end training once the validation loss has stopped improving.

An epoch improves when its validation loss is strictly below every earlier one;
training stops at the first epoch that is ``patience`` epochs past the best one, and the
weights of the best epoch are the ones to keep. Epochs are counted from 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reference_impl._validation import positive_int

Array = NDArray[Any]

__all__ = ["EarlyStopping", "early_stopping_epoch"]


def early_stopping_epoch(val_losses: Any, patience: int) -> tuple[int, int]:
    """(best_epoch, stop_epoch), 0-based, for the validation curve ``val_losses`` (E,).

    Training stops at the first epoch e with e − best ≥ patience, or runs all E epochs
    (stop_epoch = E − 1); best_epoch is the best epoch seen up to the stop.
    """
    patience = positive_int(patience, "patience")
    losses = np.asarray(val_losses, dtype=np.float64).ravel()
    if losses.size == 0:
        raise ValueError("val_losses is empty: pass the validation loss of each epoch")
    best, best_loss = 0, math.inf
    for epoch, loss in enumerate(losses):
        if loss < best_loss:
            best, best_loss = epoch, float(loss)
        elif epoch - best >= patience:
            return best, epoch
    return best, len(losses) - 1


class EarlyStopping:
    """The rule of :func:`early_stopping_epoch`, one epoch at a time, keeping the best weights.

    ``update(val_loss, weights) -> should_stop`` is called once per epoch with the live
    parameter arrays; when the loss improves, copies of them are kept in
    ``best_weights`` (the arrays themselves go on changing in place during training).
    ``restore(weights)`` writes the kept copies back into the live arrays, in place.
    """

    def __init__(self, patience: int) -> None:
        self.patience = positive_int(patience, "patience")
        self.epoch = -1
        self.best_epoch: int | None = None
        self.best_loss = math.inf
        self.best_weights: list[Array] | None = None

    def update(self, val_loss: float, weights: Sequence[Array]) -> bool:
        """Record one epoch; True when training should stop after it."""
        self.epoch += 1
        if val_loss < self.best_loss:
            self.best_loss = float(val_loss)
            self.best_epoch = self.epoch
            self.best_weights = [np.array(w, copy=True) for w in weights]
            return False
        best = self.epoch if self.best_epoch is None else self.best_epoch
        return self.epoch - best >= self.patience

    def restore(self, weights: Sequence[Array]) -> None:
        """Copy the best epoch's values back into ``weights``, in place."""
        if self.best_weights is None:
            raise ValueError("no epoch has been recorded yet: call update first")
        if len(weights) != len(self.best_weights):
            raise ValueError(f"expected {len(self.best_weights)} arrays, got {len(weights)}")
        for w, best in zip(weights, self.best_weights, strict=True):
            w[...] = best
