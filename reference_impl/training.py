"""The training loop: mini-batches, forward, loss, backward, update; then evaluation.

One step of :func:`fit` is the course's six-step recipe after initialisation: fetch a
batch, forward pass, cost, backward pass, update. With a validation set and
``patience``, training stops once the validation loss has not improved for that many
epochs and the model gets back the weights of its best epoch
(``reference_impl.early_stopping``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from reference_impl._validation import as_float_array, check_generator, positive_int
from reference_impl.data.batches import minibatches
from reference_impl.layers.base import Module
from reference_impl.layers.loss import SoftmaxCrossEntropy
from reference_impl.metrics import confusion_matrix

Array = NDArray[Any]

__all__ = ["History", "Stepper", "confusion_matrix", "evaluate", "fit", "predict"]


class Stepper(Protocol):
    """Anything with ``step(pairs)`` that updates ``(param, grad)`` pairs in place."""

    def step(self, pairs: list[tuple[Array, Array]]) -> None: ...


@dataclass
class History:
    """Per-epoch curves of a :func:`fit` run, one entry per epoch run.

    ``train_*`` are running means over the epoch's batches, taken in training mode
    while the weights change (cheap, and what a progress bar shows); ``val_*`` are
    measured after the epoch in inference mode. Accuracies are fractions in [0, 1].
    ``best_epoch`` is the 0-based index of the lowest validation loss (None without a
    validation set); ``stopped_early`` says whether patience ran out before ``epochs``.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs_run(self) -> int:
        """How many epochs were trained."""
        return len(self.train_loss)


def _labels(y: Any, name: str, n: int) -> NDArray[Any]:
    """Targets ``y``: integer labels (N,) or rows (N, ...) of a regression or one-hot target."""
    arr = np.asarray(y)
    if arr.ndim == 0 or len(arr) != n:
        raise ValueError(f"expected {name} with {n} rows (one per example), got shape {arr.shape}")
    if arr.ndim == 1 and arr.dtype.kind == "f":
        raise TypeError(
            f"{name} holds floats of shape (N,); class labels must be integers: "
            f"pass {name}.astype(int)"
        )
    return arr


def _accuracy(scores: Array, y: Array) -> float:
    """Fraction of rows whose arg-max score is the label; NaN when there are no classes."""
    if scores.ndim != 2 or scores.shape[1] < 2:
        return math.nan
    labels = y if y.ndim == 1 else (np.argmax(y, axis=1) if y.shape == scores.shape else None)
    if labels is None:
        return math.nan
    return float(np.mean(np.argmax(scores, axis=1) == labels))




def fit(
    model: Module,
    optimizer: Stepper,
    X_train: Any,
    y_train: Any,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    X_val: Any = None,
    y_val: Any = None,
    patience: int | None = None,
    loss: Module | None = None,
    callback: Callable[[int, History], bool | None] | None = None,
) -> History:
    """Train ``model`` by mini-batch gradient descent; returns the per-epoch :class:`History`.

    ``X_train`` (N, D) and ``y_train`` (N,) integer labels (or (N, C) targets); the
    batches are reshuffled from ``rng`` every epoch. Each step: ``zero_grad``, forward,
    loss, ``backward(1.0)``, ``optimizer.step(model.parameters())``. ``loss`` defaults to
    ``SoftmaxCrossEntropy()``, so the model outputs logits (N, C).

    With ``X_val`` (N_val, D) and ``y_val``, the validation loss and accuracy are
    recorded after every epoch. ``patience=p`` (needs a validation set) stops after p
    epochs without a lower validation loss and then restores the weights of the best
    epoch via ``state_dict``/``load_state_dict``. ``callback(epoch, history)`` runs after
    each epoch (0-based); returning True stops training there.
    """
    rng = check_generator(rng)
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    X_train = as_float_array(X_train, "X_train")
    y_train = _labels(y_train, "y_train", len(X_train))
    has_val = X_val is not None or y_val is not None
    if has_val:
        if X_val is None or y_val is None:
            raise ValueError("pass both X_val and y_val, or neither")
        X_val = as_float_array(X_val, "X_val")
        y_val = _labels(y_val, "y_val", len(X_val))
    if patience is not None:
        patience = positive_int(patience, "patience")
        if not has_val:
            raise ValueError("early stopping watches the validation loss: pass X_val and y_val")
        if not (hasattr(model, "state_dict") and hasattr(model, "load_state_dict")):
            raise TypeError(
                f"early stopping restores weights through state_dict/load_state_dict, which "
                f"{type(model).__name__} lacks; wrap the model in Sequential(...)"
            )
        # Imported here: notebook 7 asks students to write it, so its sandbox lacks it.
        from reference_impl.early_stopping import EarlyStopping

        stopper: Any = EarlyStopping(patience)
    else:
        stopper = None
    loss_fn = SoftmaxCrossEntropy() if loss is None else loss

    history = History()
    best_loss = math.inf
    for epoch in range(epochs):
        total_loss = total_correct = 0.0
        for xb, yb in minibatches(X_train, y_train, batch_size, rng=rng):
            model.zero_grad()
            scores = model.forward(xb, training=True)
            batch_loss = loss_fn.forward(scores, yb)
            if not math.isfinite(batch_loss):
                raise FloatingPointError(
                    f"the training loss became {batch_loss} in epoch {epoch}; the weights "
                    "diverged: lower the learning rate (or scale the inputs)"
                )
            total_loss += batch_loss * len(xb)
            model.backward(loss_fn.backward(1.0))
            optimizer.step(model.parameters())
            total_correct += _accuracy(scores, yb) * len(xb)
        history.train_loss.append(total_loss / len(X_train))
        history.train_acc.append(total_correct / len(X_train))

        stop = False
        if has_val:
            metrics = evaluate(model, X_val, y_val, loss=loss_fn)
            history.val_loss.append(metrics["loss"])
            history.val_acc.append(metrics["accuracy"])
            if metrics["loss"] < best_loss:
                best_loss = metrics["loss"]
                history.best_epoch = epoch
            if stopper is not None:
                state = model.state_dict()  # type: ignore[attr-defined]
                stop = stopper.update(metrics["loss"], list(state.values()))
                history.stopped_early = stop and epoch < epochs - 1
        if callback is not None and callback(epoch, history):
            stop = True
        if stop:
            break
    if stopper is not None and stopper.best_weights is not None:
        names = list(model.state_dict())  # type: ignore[attr-defined]
        model.load_state_dict(dict(zip(names, stopper.best_weights, strict=True)))  # type: ignore[attr-defined]
    return history


def _outputs(model: Module, X: Any) -> Array:
    X = as_float_array(X, "X")
    return np.asarray(model.forward(X, training=False))


def evaluate(model: Module, X: Any, y: Any, loss: Module | None = None) -> dict[str, float]:
    """``{"loss": L, "accuracy": a}`` of ``model`` on ``X`` (N, D) and ``y`` (N,).

    The model runs in inference mode (``training=False``: no dropout). ``loss``
    defaults to ``SoftmaxCrossEntropy()``; the accuracy is the fraction of arg-max
    predictions equal to the label (NaN for outputs without classes).
    """
    scores = _outputs(model, X)
    targets = _labels(y, "y", len(scores))
    loss_fn = SoftmaxCrossEntropy() if loss is None else loss
    return {"loss": float(loss_fn.forward(scores, targets)), "accuracy": _accuracy(scores, targets)}


def predict(model: Module, X: Any) -> NDArray[np.intp]:
    """Predicted labels (N,): argmaxₖ of the model's scores (N, C) on ``X`` (N, D).

    Inference is a forward pass only, with ``training=False``.
    """
    scores = _outputs(model, X)
    if scores.ndim != 2:
        raise ValueError(f"predict needs scores of shape (N, C), the model returned {scores.shape}")
    return np.argmax(scores, axis=1).astype(np.intp)
