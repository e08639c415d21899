"""Gradient-based optimizers: rules that turn (parameter, gradient) pairs into updates.

Every optimizer is a small stateful object. ``step(pairs)`` takes a list of
``(param, grad)`` numpy arrays, such as ``Module.parameters()`` returns, and updates
each ``param`` in place, because parameters are the model's state and layers hold
references to them. Per-parameter state (velocities, running averages) is kept by
position in the list, so pass the parameters in the same order at every step;
``t`` counts the steps taken and ``reset()`` forgets everything.

All optimizers accept ``weight_decay`` (L2 regularisation, ``reference_impl.regularization``):
before the rule is applied the gradient becomes ``g + weight_decay · w``, the gradient of
the loss plus ``½ · weight_decay · ‖w‖²``. Gradients handed in are never modified.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reference_impl._validation import positive_int, positive_real

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "GradientDescent",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSProp",
    "iterations_per_epoch",
    "minimize",
]

Array = NDArray[Any]




def _decay_rate(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}; typical values are 0.9 to 0.999")
    return float(value)


class Optimizer:
    """Base class: validates the pairs, applies weight decay, then calls ``_update``.

    Subclasses implement ``_update(i, w, g)``, which changes ``w`` in place using
    ``self.state[i]``, a dict of arrays for the parameter at position ``i``.
    """

    def __init__(self, lr: float = 0.01, weight_decay: float = 0.0) -> None:
        self.lr = positive_real(lr, "lr")
        if isinstance(weight_decay, bool) or not isinstance(
            weight_decay, int | float | np.integer | np.floating
        ):
            raise TypeError(f"weight_decay must be a number, got {type(weight_decay).__name__}")
        if not (math.isfinite(weight_decay) and weight_decay >= 0):
            raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay}")
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.state: dict[int, dict[str, Array]] = {}

    def reset(self) -> None:
        """Forget all per-parameter state and set the step count back to 0."""
        self.t = 0
        self.state.clear()

    def _check(self, pairs: Sequence[tuple[Array, Array]]) -> list[tuple[Array, Array]]:
        if not isinstance(pairs, list | tuple):
            raise TypeError(
                f"pairs must be a list of (param, grad) tuples, got {type(pairs).__name__}; "
                "pass e.g. model.parameters()"
            )
        checked = []
        for i, pair in enumerate(pairs):
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                raise TypeError(f"pairs[{i}] must be a (param, grad) tuple")
            w, g = pair
            if not (isinstance(w, np.ndarray) and w.dtype.kind == "f"):
                raise TypeError(
                    f"parameter {i} must be a float numpy array so it can be updated in place, "
                    f"got {type(w).__name__}"
                    + (f" of dtype {w.dtype}" if isinstance(w, np.ndarray) else "")
                )
            if not w.flags.writeable:
                raise ValueError(f"parameter {i} is read-only; pass a writeable array")
            g = np.asarray(g)
            if g.dtype.kind not in "biuf":
                raise TypeError(f"gradient {i} must hold real numbers, got dtype {g.dtype}")
            if g.shape != w.shape:
                raise ValueError(
                    f"gradient {i} has shape {g.shape} but parameter {i} has shape {w.shape}; "
                    "pair each parameter with its own gradient"
                )
            # A finite sum means finite terms: one cheap pass in the common case; the
            # elementwise test runs only when the sum is not finite (it may have overflowed).
            if not np.isfinite(g.sum()) and not np.all(np.isfinite(g)):
                raise ValueError(
                    f"gradient {i} contains NaN or inf; lower the learning rate or check the "
                    "backward pass that produced it"
                )
            state = self.state.get(i)
            if state and any(v.shape != w.shape for v in state.values() if v.ndim):
                raise ValueError(
                    f"parameter {i} changed shape since the last step; keep the order of the "
                    "pairs fixed, or call reset() before optimising different parameters"
                )
            checked.append((w, g))
        return checked

    def step(self, pairs: Sequence[tuple[Array, Array]]) -> None:
        """Update every ``param`` in place from its ``grad``; ``pairs`` is [(w, g), ...].

        Each ``grad`` has the shape of its ``param``. Nothing changes if any pair is
        invalid, because all pairs are checked before the first update.
        """
        checked = self._check(pairs)
        if self.weight_decay:
            # Imported here: notebook 7 asks students to write it, so its sandbox lacks it.
            from reference_impl.regularization import decayed_gradient
        self.t += 1
        for i, (w, g) in enumerate(checked):
            # Work in the parameter's own precision; float32 weights stay fast.
            g = g.astype(w.dtype, copy=False)
            if self.weight_decay:
                g = decayed_gradient(g, w, self.weight_decay)
            self._update(i, w, g)

    def _update(self, i: int, w: Array, g: Array) -> None:
        raise NotImplementedError

    def _zeros(self, i: int, w: Array, *names: str) -> list[Array]:
        """State arrays ``names`` for parameter ``i``, created as zeros on first use."""
        state = self.state.setdefault(i, {})
        for name in names:
            if name not in state:
                state[name] = np.zeros(w.shape, dtype=w.dtype)
        return [state[name] for name in names]

    def __repr__(self) -> str:
        args = ", ".join(
            f"{k}={v}" for k, v in vars(self).items() if k not in ("t", "state")
        )
        return f"{type(self).__name__}({args})"


class GradientDescent(Optimizer):
    """Gradient descent: w ← w − α g.

    ``α`` is ``lr``. Step against the gradient: too small an ``α`` crawls, too large
    overshoots and diverges.
    """

    def __init__(self, lr: float = 0.1, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)

    def _update(self, i: int, w: Array, g: Array) -> None:
        w -= self.lr * g


class SGD(GradientDescent):
    """Stochastic gradient descent: w ← w − α g, with g the gradient on a mini-batch.

    The rule is that of ``GradientDescent``. Full-batch gradient descent, SGD (one
    example) and mini-batch SGD differ only in which gradient is fed to ``step``: the
    mean over all N examples, over one, or over a batch of B. One epoch is then 1,
    N or ⌈N/B⌉ steps (see ``iterations_per_epoch``).
    """


class Momentum(Optimizer):
    """Momentum: v ← μ v − α g; w ← w + v.

    The velocity ``v`` (zero at first) accumulates past gradients, so steps grow along
    directions where gradients agree and cancel where they oscillate. ``μ`` is ``mu``,
    0.9 by default; μ = 0 is plain gradient descent.
    """

    def __init__(self, lr: float = 0.01, mu: float = 0.9, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
        self.mu = _decay_rate(mu, "mu")

    def _update(self, i: int, w: Array, g: Array) -> None:
        (v,) = self._zeros(i, w, "v")
        v *= self.mu
        v -= self.lr * g
        w += v


class Nesterov(Optimizer):
    """Nesterov momentum: v′ = μ v − α g; w ← w − μ v + (1 + μ) v′; v ← v′.

    Nesterov's method evaluates the gradient at the look-ahead point w + μ v
    (Sutskever et al. 2013). Tracking the look-ahead point instead of w, as in the
    CS231n notes, lets the gradient be taken at the stored parameters: with g the
    gradient there, the update above is the exact change of variables.
    """

    def __init__(self, lr: float = 0.01, mu: float = 0.9, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
        self.mu = _decay_rate(mu, "mu")

    def _update(self, i: int, w: Array, g: Array) -> None:
        (v,) = self._zeros(i, w, "v")
        v_prev = v.copy()
        v *= self.mu
        v -= self.lr * g
        w += -self.mu * v_prev + (1.0 + self.mu) * v


class AdaGrad(Optimizer):
    """AdaGrad: r ← r + g²; w ← w − α g / (√r + ε).

    Each weight's rate is divided by the root of the sum of all its past squared
    gradients (Duchi, Hazan & Singer 2011), so the effective rate only ever shrinks.
    """

    def __init__(self, lr: float = 0.01, eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
        self.eps = positive_real(eps, "eps")

    def _update(self, i: int, w: Array, g: Array) -> None:
        (r,) = self._zeros(i, w, "cache")
        r += g * g
        w -= self.lr * g / (np.sqrt(r) + self.eps)


class RMSProp(Optimizer):
    """RMSProp: r ← ρ r + (1 − ρ) g²; w ← w − α g / (√r + ε).

    Like AdaGrad but with a moving average of squared gradients, so only recent
    gradients set the scale and the rate does not decay to zero (Tieleman & Hinton 2012).
    """

    def __init__(
        self, lr: float = 0.001, rho: float = 0.9, eps: float = 1e-8, weight_decay: float = 0.0
    ) -> None:
        super().__init__(lr, weight_decay)
        self.rho = _decay_rate(rho, "rho")
        self.eps = positive_real(eps, "eps")

    def _update(self, i: int, w: Array, g: Array) -> None:
        (r,) = self._zeros(i, w, "cache")
        r *= self.rho
        r += (1.0 - self.rho) * g * g
        w -= self.lr * g / (np.sqrt(r) + self.eps)


class Adam(Optimizer):
    """Adam: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; w ← w − α m̂ / (√v̂ + ε).

    The bias-corrected moments are m̂ = m / (1 − β₁ᵗ) and v̂ = v / (1 − β₂ᵗ): m and v
    start at 0 and would otherwise be too small for the first steps. With them the first
    step moves each weight by about α·sign(g). Kingma & Ba (2014), "Adam: A Method for
    Stochastic Optimization". Here t counts the steps this parameter has taken.
    """

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay)
        self.beta1 = _decay_rate(beta1, "beta1")
        self.beta2 = _decay_rate(beta2, "beta2")
        self.eps = positive_real(eps, "eps")

    def _update(self, i: int, w: Array, g: Array) -> None:
        m, v, t = self._zeros(i, w, "m", "v", "t")
        t += 1
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * g * g
        m_hat = m / (1.0 - self.beta1 ** float(t))
        v_hat = v / (1.0 - self.beta2 ** float(t))
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def _zeros(self, i: int, w: Array, *names: str) -> list[Array]:
        state = self.state.setdefault(i, {})
        if "t" not in state:
            # A 0-d counter so a parameter first seen at a later step gets its own correction.
            state["t"] = np.zeros((), dtype=np.float64)
        return super()._zeros(i, w, *names)


class AdaDelta(Optimizer):
    """AdaDelta: r ← ρr + (1−ρ)g²; Δ = −√(s + ε)/√(r + ε)·g; s ← ρs + (1−ρ)Δ²; w ← w + αΔ.

    Zeiler (2012), "ADADELTA: An Adaptive Learning Rate Method": the ratio of the RMS of
    past updates to the RMS of past gradients sets each weight's step, giving updates in
    the units of w. The paper has no learning rate; ``lr`` = 1 recovers it.
    """

    def __init__(
        self, rho: float = 0.95, eps: float = 1e-6, lr: float = 1.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(lr, weight_decay)
        self.rho = _decay_rate(rho, "rho")
        self.eps = positive_real(eps, "eps")

    def _update(self, i: int, w: Array, g: Array) -> None:
        r, s = self._zeros(i, w, "grad_sq", "delta_sq")
        r *= self.rho
        r += (1.0 - self.rho) * g * g
        delta = -np.sqrt(s + self.eps) / np.sqrt(r + self.eps) * g
        s *= self.rho
        s += (1.0 - self.rho) * delta * delta
        w += self.lr * delta


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": GradientDescent,
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adadelta": AdaDelta,
}


def iterations_per_epoch(n_samples: int, batch_size: int, drop_last: bool = False) -> int:
    """Iterations per epoch: ⌈N / B⌉, or ⌊N / B⌋ when the last, short batch is dropped.

    One epoch is one pass over the N training examples in batches of B. Full-batch
    gradient descent (B = N) takes one iteration per epoch.
    """
    n_samples = positive_int(n_samples, "n_samples")
    batch_size = positive_int(batch_size, "batch_size")
    if drop_last:
        if batch_size > n_samples:
            raise ValueError(
                f"batch_size {batch_size} exceeds n_samples {n_samples}, so drop_last=True "
                "leaves no full batch; lower batch_size or set drop_last=False"
            )
        return int(n_samples // batch_size)
    return int(-(-n_samples // batch_size))


def minimize(
    optimizer: Optimizer, grad_fn: Callable[[Array], Any], w0: Any, n_steps: int
) -> Array:
    """Trajectory w₀, w₁, …, w_T of ``optimizer`` following ``grad_fn``; shape (T + 1, dim).

    ``w0`` is the start ``(dim,)``, e.g. a point of a 2-D loss surface; ``grad_fn(w)``
    returns the gradient ``(dim,)`` at ``w``. The optimizer is reset first, so every
    trajectory starts from fresh state. Row 0 is ``w0``.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an Optimizer, got {type(optimizer).__name__}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int | np.integer) or n_steps < 0:
        raise ValueError(f"n_steps must be an int >= 0, got {n_steps!r}")
    w = np.array(w0, dtype=np.float64)
    if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)):
        raise ValueError(f"expected a finite w0 of shape (dim,), got shape {w.shape}")
    optimizer.reset()
    path = np.empty((int(n_steps) + 1, w.size), dtype=np.float64)
    path[0] = w
    for k in range(int(n_steps)):
        point = w.copy()
        point.flags.writeable = False
        optimizer.step([(w, np.asarray(grad_fn(point), dtype=np.float64))])
        path[k + 1] = w
    return path
