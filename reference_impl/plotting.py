"""The course's pictures: activations, per-layer histograms, loss curves, optimiser paths.

Every function returns a ``matplotlib.figure.Figure`` and never calls ``plt.show``; in a
notebook the figure is shown at the end of the cell (assign it, ``fig = ...``, to avoid
a second copy from the returned value). Functions that draw one panel take ``ax=`` to
draw into an existing axes instead of a new figure. Nothing here needs a display: it
works with the headless Agg backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import NDArray

from reference_impl._validation import as_float_array

Array = NDArray[Any]


class _HistoryLike(Protocol):
    train_loss: list[float]
    train_acc: list[float]
    val_loss: list[float]
    val_acc: list[float]
    best_epoch: int | None


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The axes to draw into: ``ax`` itself, or the single axes of a new figure."""
    if ax is not None:
        figure = ax.get_figure()
        if not isinstance(figure, Figure):
            raise TypeError("ax must belong to a matplotlib Figure")
        return figure, ax
    figure, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return figure, new_ax


def _grid(n: int, ncols: int, panel: float) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` panels on a grid of ``ncols`` columns; spare cells removed."""
    if n < 1:
        raise ValueError("nothing to plot: pass at least one item")
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    # Constrained layout is solved at draw time, so building many panels stays cheap.
    figure, grid = plt.subplots(
        nrows, ncols, figsize=(panel * ncols, panel * nrows), squeeze=False, layout="constrained"
    )
    cells = list(grid.ravel())
    for spare in cells[n:]:
        spare.remove()
    return figure, cells[:n]


def plot_activation(
    fn: Callable[[Array], Array],
    grad: Callable[[Array], Array],
    *,
    name: str,
    z: Array | None = None,
    ax: Axes | None = None,
) -> Figure:
    """g(z) and g′(z) on one axes, two lines; ``z`` (K,) defaults to 401 points on [−5, 5]."""
    z = np.linspace(-5.0, 5.0, 401) if z is None else as_float_array(z, "z", ndim=1)
    figure, ax = _axes(ax, (4.0, 3.0))
    ax.plot(z, fn(z), label=f"{name}(z)")
    ax.plot(z, grad(z), "--", label=f"{name}′(z)")
    ax.set_title(name)
    ax.set_xlabel("z")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return figure


def plot_activations(
    names: Sequence[str], *, z: Array | None = None, ncols: int = 3
) -> Figure:
    """One panel per activation of ``reference_impl.activations.ACTIVATIONS``: g and g′."""
    from reference_impl.activations import ACTIVATIONS

    unknown = [n for n in names if n not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"unknown activation {unknown[0]!r}; choose from {sorted(ACTIVATIONS)}")
    figure, cells = _grid(len(names), ncols, 3.2)
    for name, ax in zip(names, cells, strict=True):
        fn, grad = ACTIVATIONS[name]
        plot_activation(fn, grad, name=name, z=z, ax=ax)
    return figure


def plot_layer_histograms(
    values: Sequence[Array],
    *,
    title: str = "",
    bins: int = 40,
    ncols: int = 10,
    xlim: tuple[float, float] | None = None,
) -> Figure:
    """A small histogram per layer of ``values`` (a list of arrays of any shape, one per layer).

    Each panel is titled with the layer number and the values' standard deviation, the
    number that shrinks or explodes with depth under a poor initialisation. Panels
    share the x range (``xlim``, or the range of all values) so spreads compare at a glance.
    """
    arrays = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    if xlim is None:
        finite = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.array([])
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
        xlim = (low, high) if high > low else (low - 1.0, high + 1.0)
    figure, cells = _grid(len(arrays), ncols, 1.8)
    for layer, (a, ax) in enumerate(zip(arrays, cells, strict=True), start=1):
        counts, edges = np.histogram(a[np.isfinite(a)], bins=bins, range=xlim)
        # One filled step outline per panel: far cheaper to draw than a bar per bin.
        ax.stairs(counts, edges, fill=True, color="C0")
        ax.set_title(f"layer {layer}\nstd {np.std(a):.2g}", fontsize="small")
        ax.set_yticks([])
        ax.tick_params(labelsize="x-small")
    if title:
        figure.suptitle(title)
    return figure


def plot_std_by_depth(
    stds: Mapping[str, Sequence[float]], *, ax: Axes | None = None, log: bool = True
) -> Figure:
    """One line per label: standard deviation against layer number 1, 2, …; log y by default.

    ``stds`` maps a label to a list of one std per layer (a list of floats).
    """
    if not stds:
        raise ValueError("stds is empty: pass {label: [std of layer 1, std of layer 2, ...]}")
    figure, ax = _axes(ax, (5.0, 3.5))
    for label, series in stds.items():
        ys = np.asarray(series, dtype=np.float64)
        ax.plot(np.arange(1, len(ys) + 1), ys, marker="o", markersize=3, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("standard deviation")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return figure


def _curves(history: _HistoryLike | Mapping[str, Sequence[float]]) -> tuple[
    dict[str, Sequence[float]], int | None
]:
    if isinstance(history, Mapping):
        curves = {k: history[k] for k in ("train_loss", "val_loss", "train_acc", "val_acc")
                  if k in history and len(history[k])}
        best = None
    else:
        curves = {k: getattr(history, k) for k in ("train_loss", "val_loss", "train_acc",
                                                     "val_acc") if len(getattr(history, k))}
        best = history.best_epoch
    if not curves:
        raise ValueError(
            "no curves to plot: pass a History or a dict with train_loss/val_loss/"
            "train_acc/val_acc lists"
        )
    return curves, best


def plot_loss_curves(history: _HistoryLike | Mapping[str, Sequence[float]]) -> Figure:
    """Loss (left) and accuracy (right) per epoch, training against validation.

    ``history`` is a ``training.History`` or a dict with any of ``train_loss``,
    ``val_loss``, ``train_acc``, ``val_acc``. A History's ``best_epoch`` (0-based) is
    marked by a dotted vertical line on both panels.
    """
    curves, best = _curves(history)
    figure, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9.0, 3.5), layout="constrained")
    for ax, metric, ylabel in ((loss_ax, "loss", "loss"), (acc_ax, "acc", "accuracy")):
        for split, style in (("train", "-"), ("val", "--")):
            series = curves.get(f"{split}_{metric}")
            if series is not None:
                epochs = np.arange(1, len(series) + 1)
                ax.plot(epochs, series, style, label=split)
        if best is not None:
            ax.axvline(best + 1, color="gray", linestyle=":", label="best")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize="small")
    return figure


def _on_grid(f: Callable[[Array], Any], xx: Array, yy: Array) -> Array:
    """f evaluated at every grid point: vectorised as f(stack([xx, yy])) when that works."""
    try:
        values = np.asarray(f(np.stack([xx, yy])), dtype=np.float64)
        if values.shape == xx.shape:
            return values
    except Exception:
        # Any failure only means f is not vectorised: fall back to one point at a time.
        pass
    points = np.stack([xx.ravel(), yy.ravel()], axis=1)
    return np.array([float(f(p)) for p in points]).reshape(xx.shape)


def plot_trajectories(
    f: Callable[[Array], Any],
    trajectories: Mapping[str, Array],
    *,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    levels: int | Sequence[float] = 30,
    resolution: int = 200,
    ax: Axes | None = None,
) -> Figure:
    """Contours of f(w), w = (w₁, w₂), with each optimiser's path (T, 2) drawn over them.

    ``f`` takes a point of shape (2,); it is called once on the whole grid, as
    ``f(np.stack([W1, W2]))``, when written with ``w[0]`` and ``w[1]``, else point by
    point. One line per trajectory (markers at each step, a ring at the start); the
    limits default to the paths' extent plus a margin.
    """
    paths = {label: as_float_array(t, f"trajectories[{label!r}]", ndim=2)
             for label, t in trajectories.items()}
    for label, path in paths.items():
        if path.shape[1] != 2:
            raise ValueError(f"expected trajectories[{label!r}] of shape (T, 2), got {path.shape}")
    if xlim is None or ylim is None:
        if not paths:
            raise ValueError("give xlim and ylim, or at least one trajectory to take them from")
        allp = np.concatenate(list(paths.values()))
        finite = allp[np.isfinite(allp).all(axis=1)]
        low, high = finite.min(axis=0), finite.max(axis=0)
        pad = 0.1 * np.maximum(high - low, 1e-3)
        xlim = xlim or (float(low[0] - pad[0]), float(high[0] + pad[0]))
        ylim = ylim or (float(low[1] - pad[1]), float(high[1] + pad[1]))
    figure, ax = _axes(ax, (5.0, 4.5))
    xx, yy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    ax.contour(xx, yy, _on_grid(f, xx, yy), levels=levels, cmap="viridis", linewidths=0.7)
    for i, (label, path) in enumerate(paths.items()):
        line = ax.plot(path[:, 0], path[:, 1], "-o", markersize=2.5, color=f"C{i % 10}",
                       label=label, linewidth=1.2)[0]
        ax.scatter(path[:1, 0], path[:1, 1], s=60, facecolors="none",
                   edgecolors=line.get_color())
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("w₁")
    ax.set_ylabel("w₂")
    if paths:
        ax.legend(fontsize="small")
    return figure


def plot_decision_boundary(
    predict_fn: Callable[[Array], Array],
    X: Array,
    y: Array,
    *,
    resolution: int = 200,
    margin: float = 0.5,
    ax: Axes | None = None,
) -> Figure:
    """Regions of the plane by predicted class, with the points ``X`` (N, 2) coloured by ``y`` (N,).

    ``predict_fn`` maps a grid of points (G, 2) to labels (G,) or to scores (G, C), of
    which the arg-max is taken.
    """
    X = as_float_array(X, "X", ndim=2)
    if X.shape[1] != 2:
        raise ValueError(f"expected X of shape (N, 2), got {X.shape}; plot two features only")
    labels = np.asarray(y)
    if labels.shape != (len(X),):
        raise ValueError(f"expected y of shape ({len(X)},), got {labels.shape}")
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(low[0], high[0], resolution),
                         np.linspace(low[1], high[1], resolution))
    out = np.asarray(predict_fn(np.column_stack([xx.ravel(), yy.ravel()])))
    pred = out.argmax(axis=1) if out.ndim == 2 else out
    if pred.shape != (xx.size,):
        raise ValueError(
            f"predict_fn returned shape {out.shape} for {xx.size} points; "
            "return labels (G,) or scores (G, C)"
        )
    n_classes = int(max(pred.max(), labels.max())) + 1
    figure, ax = _axes(ax, (5.0, 4.5))
    cmap = plt.get_cmap("tab10", max(n_classes, 2))
    bounds = np.arange(-0.5, n_classes + 0.5)
    ax.contourf(xx, yy, pred.reshape(xx.shape), levels=bounds, cmap=cmap, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap=cmap, vmin=-0.5, vmax=max(n_classes, 2) - 0.5,
               edgecolors="k", linewidths=0.4, s=20)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    return figure


def plot_confusion_matrix(
    cm: Array,
    *,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    ax: Axes | None = None,
) -> Figure:
    """The (C, C) confusion matrix as an image, rows = true class, columns = predicted.

    Every cell is annotated with its count (or, with ``normalize=True``, its share of
    the row, i.e. the recall of that class spread over the predictions).
    """
    counts = np.asarray(cm)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"expected a square confusion matrix (C, C), got shape {counts.shape}")
    c = counts.shape[0]
    names = [str(i) for i in range(c)] if class_names is None else list(class_names)
    if len(names) != c:
        raise ValueError(f"got {len(names)} class names for a {c}×{c} matrix")
    shown = counts.astype(np.float64)
    if normalize:
        rows = shown.sum(axis=1, keepdims=True)
        shown = np.divide(shown, rows, out=np.zeros_like(shown), where=rows > 0)
    figure, ax = _axes(ax, (0.45 * c + 2.0, 0.45 * c + 1.6))
    ax.imshow(shown, cmap="Blues")
    threshold = shown.max() / 2 if shown.size else 0.0
    for i in range(c):
        for j in range(c):
            text = f"{shown[i, j]:.2f}" if normalize else f"{int(counts[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize="x-small",
                    color="white" if shown[i, j] > threshold else "black")
    ax.set_xticks(range(c), names)
    ax.set_yticks(range(c), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return figure


def plot_images(
    images: Array,
    labels: Array,
    predictions: Array | None = None,
    *,
    ncols: int = 10,
) -> Figure:
    """A grid of square grey images (N, S, S) or flattened (N, S·S), titled with their labels.

    With ``predictions`` (N,), each title reads ``label→prediction`` and wrong ones are red.
    """
    arr = as_float_array(images, "images")
    if arr.ndim == 2:
        side = math.isqrt(arr.shape[1])
        if side * side != arr.shape[1]:
            raise ValueError(
                f"flattened images need a square number of pixels, got {arr.shape[1]}; "
                "pass them as (N, S, S)"
            )
        arr = arr.reshape(len(arr), side, side)
    if arr.ndim != 3:
        raise ValueError(f"expected images of shape (N, S, S) or (N, S·S), got {arr.shape}")
    truth = np.asarray(labels)
    if truth.shape != (len(arr),):
        raise ValueError(f"expected labels of shape ({len(arr)},), got {truth.shape}")
    guess = None if predictions is None else np.asarray(predictions)
    if guess is not None and guess.shape != truth.shape:
        raise ValueError(f"expected predictions of shape ({len(arr)},), got {guess.shape}")
    figure, cells = _grid(len(arr), ncols, 1.1)
    for i, ax in enumerate(cells):
        ax.imshow(arr[i], cmap="gray_r", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if guess is None:
            ax.set_title(f"{truth[i]}", fontsize="small")
        else:
            wrong = guess[i] != truth[i]
            ax.set_title(f"{truth[i]}→{guess[i]}", fontsize="small",
                         color="red" if wrong else "black")
    return figure
