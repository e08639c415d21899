"""Learning-rate schedules: the step size α_t as a function of the step count t.

``t`` counts optimizer steps from 0, so the first update uses α_0. Every schedule here
returns one float for one step; a training loop calls it before each step and hands the
value to the optimizer (``optimizer.lr = schedule(t)``). In teaching order:

- ``step_decay``: α_t = α_0 · drop^⌊t / every⌋, the rate cut by a factor every few steps
  (AlexNet divided its rate by 10 each time the validation error stopped improving,
  Krizhevsky, Sutskever & Hinton, 2012);
- ``exponential_decay``: α_t = α_0 · e^(−k t), the same idea made smooth;
- ``cosine_decay``: half a cosine from α_0 down to α_min over T steps (Loshchilov &
  Hutter, 2017, "SGDR: Stochastic gradient descent with warm restarts");
- ``linear_warmup``: α_t = α_0 · min(1, (t + 1) / W), a ramp over the first W steps
  (Goyal et al., 2017, "Accurate, large minibatch SGD: training ImageNet in 1 hour").

A decay lets mini-batch SGD settle: with a constant rate the noise of the batch
gradients keeps the weights jittering around a minimum at a distance that grows with α.
A warm-up protects the first steps, when the weights are random and the gradients (and
an adaptive optimizer's running averages) are least reliable.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference_impl._validation import positive_int, positive_real

__all__ = ["cosine_decay", "exponential_decay", "linear_warmup", "step_decay"]


def _step(t: Any) -> int:
    """A step count: an int ≥ 0 (numpy integers accepted, bool and floats rejected)."""
    if isinstance(t, bool) or not isinstance(t, int | np.integer):
        raise TypeError(f"t must be an int step count, got {type(t).__name__}")
    if t < 0:
        raise ValueError(f"t counts steps from 0, got {t}")
    return int(t)


def step_decay(t: int, lr0: float, drop: float, every: int) -> float:
    """Step decay: α_t = lr0 · drop^⌊t / every⌋.

    t: the step count, from 0. lr0: α_0 > 0. drop: the factor in (0, 1] applied every
    ``every`` steps (0.1 divides the rate by 10). every: steps between drops, ≥ 1; the
    first drop takes effect at t = every.
    """
    t = _step(t)
    lr0 = positive_real(lr0, "lr0")
    drop = positive_real(drop, "drop")
    if drop > 1.0:
        raise ValueError(f"drop must be in (0, 1], got {drop}; it multiplies the rate at every drop")
    every = positive_int(every, "every")
    return lr0 * drop ** (t // every)


def exponential_decay(t: int, lr0: float, k: float) -> float:
    """Exponential decay: α_t = lr0 · e^(−k t).

    t: the step count, from 0. lr0: α_0 > 0. k: the decay rate ≥ 0 per step; the rate
    falls by a factor e every 1/k steps (k = 0 keeps it constant).
    """
    t = _step(t)
    lr0 = positive_real(lr0, "lr0")
    if isinstance(k, bool) or not isinstance(k, int | float | np.integer | np.floating):
        raise TypeError(f"k must be a number, got {type(k).__name__}")
    if not (math.isfinite(k) and k >= 0):
        raise ValueError(f"k must be a finite number >= 0, got {k}")
    return lr0 * math.exp(-float(k) * t)


def cosine_decay(t: int, lr0: float, T: int, lr_min: float = 0.0) -> float:
    """Cosine decay: α_t = lr_min + ½ (lr0 − lr_min)(1 + cos(π t / T)) for t ≤ T, lr_min after.

    t: the step count, from 0. lr0: α_0 > 0, the rate at t = 0. T: the step ≥ 1 at which
    the rate reaches lr_min; it stays there afterwards (the cosine is not continued back
    up). lr_min: the final rate, 0 ≤ lr_min ≤ lr0.

    The curve starts flat (the derivative is 0 at t = 0), falls fastest half way, and
    lands flat on lr_min: long at a high rate, then a gentle landing.
    """
    t = _step(t)
    lr0 = positive_real(lr0, "lr0")
    T = positive_int(T, "T")
    if isinstance(lr_min, bool) or not isinstance(lr_min, int | float | np.integer | np.floating):
        raise TypeError(f"lr_min must be a number, got {type(lr_min).__name__}")
    if not 0.0 <= lr_min <= lr0:
        raise ValueError(f"lr_min must be in [0, lr0] = [0, {lr0}], got {lr_min}")
    if t >= T:
        return float(lr_min)
    return float(lr_min) + 0.5 * (lr0 - lr_min) * (1.0 + math.cos(math.pi * t / T))


def linear_warmup(t: int, lr0: float, warmup_steps: int) -> float:
    """Linear warm-up: α_t = lr0 · min(1, (t + 1) / W), with W = warmup_steps.

    t: the step count, from 0. lr0: the rate reached after the warm-up, > 0.
    warmup_steps: W ≥ 1. The first step uses lr0 / W (never 0: a step of size 0 is a
    step wasted), step W − 1 uses lr0, and every later step lr0.
    """
    t = _step(t)
    lr0 = positive_real(lr0, "lr0")
    warmup_steps = positive_int(warmup_steps, "warmup_steps")
    return lr0 * min(1.0, (t + 1) / warmup_steps)
