"""Checks of notebook 05, gradient descent and its variants (ids ``05.<name>``).

Every update rule is a pure step function, ``w_new = gd_step(w, g, lr)`` or
``(w_new, state_new) = momentum_step(w, g, state, lr, mu)``. Its probe runs several
steps from a given start, on a given sequence of gradients or on the gradient of a
quadratic bowl, threading the state the student's function returns, and returns the
trajectory; the reference trajectory comes from the classes of
``reference_impl.optimizers`` on the same gradients. The probe also rejects a step that
changes ``w``, ``g`` or a state array in place, or that produces NaN.

Where ε goes: AdaGrad, RMSProp and Adam accept ε outside the root (√r + ε, as in the
reference and Kingma & Ba's Algorithm 1) and inside it (√(r + ε)). The two differ only
while r is comparable to ε, i.e. for gradients near 1e-4, so every case uses gradients
that are 0 or at least 0.5 in size. For AdaDelta, ε inside both roots is the method.

Learning-rate schedules (``step_decay``, ``exponential_decay``, ``cosine_decay``,
``linear_warmup``) are called for a range of step counts t, from 0, and their rates compared
with ``reference_impl.schedules``; the cases put steps on both sides of every boundary (a drop,
the end of the warm-up, t = T) and leave ``lr_min`` at its default once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autograder.checks.cases import Case, probe
from autograder.checks.compare import Tolerance
from autograder.checks.notebooks.nb05 import RULES, Bowl, Rule
from autograder.specs.base import FunctionCheck, Mistake, ValueCheck
from autograder.specs.registry import register
from reference_impl import optimizers, schedules
from reference_impl.data import minibatches as reference_minibatches

Array = NDArray[Any]

# float32 trajectories drift by about 1e-7 relative per step; named mistakes by far more.
TRAJECTORY = Tolerance(rtol=1e-5, atol=1e-6)
# The questions ask for at least three significant figures.
TYPED = Tolerance(digits=3)

ALEXNET_IMAGES, ALEXNET_BATCH, ALEXNET_EPOCHS = 1_200_000, 128, 90
MNIST_TRAIN, MNIST_BATCH = 60_000, 64


def _arr(values: Any, dtype: Any = np.float64) -> Array:
    return np.asarray(values, dtype=dtype)


class _Reference:
    """A reference optimizer class behind the interface of a step function.

    ``names`` maps the notebook's state (one array, or the keys of a dict) to the names the
    reference optimizer keeps it under. Each call builds the optimizer afresh, loads the
    state it is given, takes one step and returns the new state in the notebook's form:
    ``step(w, g, **hyper)`` or ``step(w, g, state, **hyper) -> (w_new, state_new)``.
    """

    def __init__(self, cls: type[optimizers.Optimizer], names: dict[str, str]) -> None:
        self.cls, self.names = cls, names

    def __call__(self, w: Array, g: Array, *rest: Any, **hyper: Any) -> Any:
        opt = self.cls(**hyper)
        w_new = np.array(w, copy=True)
        if not self.names:
            opt.step([(w_new, np.asarray(g))])
            return w_new
        state = rest[0]
        mine = state if isinstance(state, dict) else {next(iter(self.names)): state}
        opt.state[0] = {theirs: np.array(mine[ours], dtype=w_new.dtype if ours != "t"
                                         else np.float64, copy=True)
                        for ours, theirs in self.names.items()}
        opt.step([(w_new, np.asarray(g))])
        new: dict[str, Any] = {ours: np.array(opt.state[0][theirs], copy=True)
                               for ours, theirs in self.names.items()}
        if "t" in new:
            new["t"] = int(new["t"])
        return w_new, (new if isinstance(state, dict) else next(iter(new.values())))


def trajectory_probe(rule: Rule) -> Any:
    return probe("nb05.trajectory", rule=rule.name)


def _grads(rows: Any) -> Array:
    """(T, *w.shape) gradients, one row per step."""
    return _arr(rows)


def _signed(rng: np.random.Generator, shape: tuple[int, ...], low: float = 0.5,
            high: float = 2.0) -> Array:
    """Random gradients of random sign and size in [low, high]: far from the ε scale."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def _hidden_factory(sample: Callable[[np.random.Generator], dict[str, float]],
                    bowl_a: tuple[float, ...] = (1.0, 20.0), bowl_steps: int = 25,
                    defaults: dict[str, float] | None = None,
                    ) -> Callable[[np.random.Generator], list[Case]]:
    """Hidden cases shared by every optimizer; ``sample`` draws its hyper-parameters.

    ``defaults`` are the only hyper-parameters of one more case, which relies on the
    documented defaults of every other one (momentum 0.9, the decay rates, ε).
    """

    def hidden(rng: np.random.Generator) -> list[Case]:
        out: list[Case] = []
        for shape, steps in (((5,), 6), ((3, 4), 4)):
            out.append(Case((rng.normal(size=shape), _signed(rng, (steps, *shape)), sample(rng)),
                            f"random start of shape {shape}, {steps} random gradients"))
        out.append(Case((rng.normal(size=4), _signed(rng, (5, 4), 500.0, 1000.0), sample(rng)),
                        "gradients of order ±1000"))
        g32 = _signed(rng, (5, 6)).astype(np.float32)
        out.append(Case((rng.normal(size=6).astype(np.float32), g32, sample(rng)),
                        "float32 weights and gradients"))
        out.append(Case((_arr([3.0, -1.0]), Bowl(bowl_a, bowl_steps), sample(rng)),
                        f"{bowl_steps} steps down an ill-conditioned bowl"))
        zeros = _signed(rng, (4, 3))
        zeros[0, :] = 0.0
        zeros[2, 1] = 0.0
        out.append(Case((rng.normal(size=3), zeros, sample(rng)),
                        "some gradients exactly 0, the first step's all 0"))
        out.append(Case((_arr([0.7]), _grads([[-1.5]]), sample(rng)), "a single weight, one step"))
        if defaults is not None:
            out.append(Case((rng.normal(size=3), _signed(rng, (6, 3)), dict(defaults)),
                            "the documented default hyper-parameters: only "
                            + (", ".join(defaults) or "nothing") + " passed"))
        return out

    return hidden


def _optimizer_check(key: str, title: str, cls: type[optimizers.Optimizer], rule: Rule,
                     cases: Callable[[np.random.Generator], list[Case]],
                     hidden: Callable[[np.random.Generator], list[Case]],
                     mistakes: tuple[Mistake, ...]) -> FunctionCheck:
    names = dict(zip(rule.state, _REFERENCE_STATE[key], strict=True))
    what = ("the path w₀, w₁, … (one row per step)" if not rule.state else
            "the path w₀, w₁, … and the state returned at each step (output 1: "
            + ", ".join(rule.state) + ", flattened)")
    return FunctionCheck(id=f"05.{key}", title=f"{title}: {what}", reference=_Reference(cls, names),
                         cases=cases, hidden_cases=hidden, probe=trajectory_probe(rule),
                         kind=("array", "array") if rule.state else "array", tol=TRAJECTORY,
                         mistakes=mistakes)


# The names under which reference_impl.optimizers keeps each rule's state.
_REFERENCE_STATE: dict[str, tuple[str, ...]] = {
    "gd_step": (), "momentum_step": ("v",), "nesterov_step": ("v",),
    "adagrad_step": ("cache",), "rmsprop_step": ("cache",), "adam_step": ("m", "v", "t"),
    "adadelta_step": ("grad_sq", "delta_sq"),
}




# Gradient descent: w ← w − α g.

GD_RULE = RULES["gd_step"]


def _gd_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([2.0]), Bowl((2.0,), 3), {"lr": 0.05}), "f(w) = w² from w = 2, lr = 0.05"),
        Case((_arr([1.0, -2.0]), _grads([[1.0, -1.0], [0.5, 0.5], [-2.0, 0.0]]), {"lr": 0.5}),
             "two weights, three given gradients, lr = 0.5"),
        Case((_arr([[1.0, 0.0], [0.0, 1.0]]), _grads([[[1.0, 2.0], [3.0, 4.0]]] * 2),
              {"lr": 0.01}), "a (2, 2) weight matrix, the same gradient twice"),
        Case((_arr([0.5, 0.5]), _grads([[0.0, 0.0]]), {"lr": 0.1}),
             "a zero gradient: nothing moves"),
    ]


def _gd_hyper(rng: np.random.Generator) -> dict[str, float]:
    return {"lr": float(rng.choice([0.001, 0.01, 0.03]))}


GD_STEP = _optimizer_check(
    "gd_step", "gd_step(w, g, lr)", optimizers.GradientDescent, GD_RULE, _gd_cases,
    _hidden_factory(_gd_hyper),
    (
        Mistake("a step up the gradient", "gradient descent subtracts: w − lr·g",
                lambda w, g, lr: w + lr * g),
        Mistake("the learning rate left out", "scale the gradient by lr: w − lr·g",
                lambda w, g, lr: w - g),
        Mistake("the step returned instead of the new weights",
                "return w − lr·g, the weights after the step", lambda w, g, lr: -lr * g),
        Mistake("the gradient divided by lr", "multiply the gradient by lr",
                lambda w, g, lr: w - g / lr),
    ),
)


# Momentum: v ← μ v − α g; w ← w + v.

MOMENTUM_RULE = RULES["momentum_step"]


def _momentum_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([0.0]), _grads([[1.0]] * 4), {"lr": 0.1, "mu": 0.9}),
             "a constant gradient 1 from w = 0: the velocity builds up"),
        Case((_arr([0.0]), _grads([[1.0], [-1.0], [1.0], [-1.0]]), {"lr": 0.1, "mu": 0.9}),
             "a gradient that flips sign every step"),
        Case((_arr([3.0, 1.0]), Bowl((1.0, 10.0), 5), {"lr": 0.05, "mu": 0.9}),
             "5 steps down a bowl, lr = 0.05, μ = 0.9"),
        Case((_arr([1.0, 2.0]), _grads([[1.0, -1.0], [2.0, 0.5]]), {"lr": 0.1, "mu": 0.0}),
             "μ = 0: plain gradient descent"),
    ]


def _momentum_hyper(rng: np.random.Generator) -> dict[str, float]:
    return {"lr": float(rng.choice([0.001, 0.01, 0.02])), "mu": float(rng.choice([0.5, 0.9, 0.99]))}


def _momentum_sign(w: Array, g: Array, v: Array, lr: float, mu: float = 0.9) -> tuple[Array, Array]:
    v = mu * v + lr * g
    return w + v, v


def _momentum_no_mu(w: Array, g: Array, v: Array, lr: float, mu: float = 0.9) -> tuple[Array, Array]:
    v = v - lr * g
    return w + v, v


def _momentum_dampened(w: Array, g: Array, v: Array, lr: float,
                       mu: float = 0.9) -> tuple[Array, Array]:
    v = mu * v - (1 - mu) * lr * g
    return w + v, v


def _momentum_old_velocity(w: Array, g: Array, v: Array, lr: float,
                           mu: float = 0.9) -> tuple[Array, Array]:
    return w + v, mu * v - lr * g


def _momentum_state_not_kept(w: Array, g: Array, v: Array, lr: float,
                             mu: float = 0.9) -> tuple[Array, Array]:
    return w + mu * v - lr * g, v


MOMENTUM_STEP = _optimizer_check(
    "momentum_step", "momentum_step(w, g, v, lr, mu)", optimizers.Momentum, MOMENTUM_RULE,
    _momentum_cases, _hidden_factory(_momentum_hyper, defaults={"lr": 0.05}),
    (
        Mistake("the gradient added to the velocity (+lr·g)",
                "the velocity collects steps downhill: v = μ·v − lr·g", _momentum_sign),
        Mistake("the old velocity not scaled by μ",
                "multiply the old velocity by μ: without it nothing is ever forgotten",
                _momentum_no_mu),
        Mistake("a (1 − μ) factor on the gradient",
                "this notebook's velocity is v = μ·v − lr·g, with no (1 − μ)",
                _momentum_dampened),
        Mistake("w moved by the old velocity",
                "update v first, then move w by the new v", _momentum_old_velocity),
        Mistake("the new velocity not returned",
                "return the updated v as the state, or the next step starts from the old one",
                _momentum_state_not_kept),
    ),
)


# Nesterov (the look-ahead form): v′ = μ v − α g; w ← w − μ v + (1 + μ) v′.

NESTEROV_RULE = RULES["nesterov_step"]


def _nesterov_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([0.0]), _grads([[1.0]] * 4), {"lr": 0.1, "mu": 0.9}),
             "a constant gradient 1 from w = 0"),
        Case((_arr([0.0]), _grads([[1.0], [-1.0], [1.0], [-1.0]]), {"lr": 0.1, "mu": 0.9}),
             "a gradient that flips sign every step"),
        Case((_arr([3.0, 1.0]), Bowl((1.0, 10.0), 5), {"lr": 0.05, "mu": 0.9}),
             "5 steps down a bowl, lr = 0.05, μ = 0.9"),
        Case((_arr([1.0, 2.0]), _grads([[1.0, -1.0], [2.0, 0.5]]), {"lr": 0.1, "mu": 0.0}),
             "μ = 0: plain gradient descent"),
    ]


def _nesterov_plain(w: Array, g: Array, v: Array, lr: float, mu: float = 0.9) -> tuple[Array, Array]:
    v = mu * v - lr * g
    return w + v, v


def _nesterov_minus(w: Array, g: Array, v: Array, lr: float, mu: float = 0.9) -> tuple[Array, Array]:
    v_new = mu * v - lr * g
    return w - mu * v + (1 - mu) * v_new, v_new


def _nesterov_no_correction(w: Array, g: Array, v: Array, lr: float,
                            mu: float = 0.9) -> tuple[Array, Array]:
    v_new = mu * v - lr * g
    return w + (1 + mu) * v_new, v_new


def _nesterov_sign(w: Array, g: Array, v: Array, lr: float, mu: float = 0.9) -> tuple[Array, Array]:
    v_new = mu * v + lr * g
    return w - mu * v + (1 + mu) * v_new, v_new


def _nesterov_old_velocity_back(w: Array, g: Array, v: Array, lr: float,
                                mu: float = 0.9) -> tuple[Array, Array]:
    v_new = mu * v - lr * g
    return w - mu * v + (1 + mu) * v_new, v


NESTEROV_STEP = _optimizer_check(
    "nesterov_step", "nesterov_step(w, g, v, lr, mu)", optimizers.Nesterov, NESTEROV_RULE,
    _nesterov_cases, _hidden_factory(_momentum_hyper, defaults={"lr": 0.05}),
    (
        Mistake("plain momentum", "Nesterov moves w by −μ·v + (1 + μ)·v_new, not by v_new",
                _nesterov_plain),
        Mistake("(1 − μ) instead of (1 + μ)", "the new velocity counts (1 + μ) times",
                _nesterov_minus),
        Mistake("the −μ·v term left out", "w_new = w − μ·v + (1 + μ)·v_new: take back the "
                "old look-ahead μ·v", _nesterov_no_correction),
        Mistake("the gradient added to the velocity (+lr·g)", "v_new = μ·v − lr·g",
                _nesterov_sign),
        Mistake("the old velocity returned", "return v_new as the state", _nesterov_old_velocity_back),
    ),
)


# AdaGrad: r ← r + g²; w ← w − α g / (√r + ε).

ADAGRAD_RULE = RULES["adagrad_step"]


def _adagrad_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([0.0]), _grads([[2.0]] * 4), {"lr": 0.1, "eps": 1e-8}),
             "a constant gradient 2: steps of lr/√1, lr/√2, lr/√3, lr/√4"),
        Case((_arr([0.0, 0.0]), _grads([[100.0, 0.5], [100.0, 0.5]]), {"lr": 0.1, "eps": 1e-8}),
             "gradients 100 and 0.5: both weights move by the same amount"),
        Case((_arr([1.0, 1.0]), _grads([[0.0, 1.0], [1.0, 1.0], [-1.0, 2.0]]),
              {"lr": 0.1, "eps": 1e-8}), "a zero gradient at the first step"),
        Case((_arr([3.0, 1.0]), Bowl((1.0, 10.0), 6), {"lr": 0.5, "eps": 1e-8}),
             "6 steps down a bowl, lr = 0.5"),
    ]


def _adagrad_hyper(rng: np.random.Generator) -> dict[str, float]:
    return {"lr": float(rng.choice([0.01, 0.1, 0.5])), "eps": 1e-8}


def _adagrad_no_sqrt(w: Array, g: Array, r: Array, lr: float,
                     eps: float = 1e-8) -> tuple[Array, Array]:
    r = r + g * g
    return w - lr * g / (r + eps), r


def _adagrad_last_only(w: Array, g: Array, r: Array, lr: float,
                       eps: float = 1e-8) -> tuple[Array, Array]:
    r = g * g
    return w - lr * g / (np.sqrt(r) + eps), r


def _adagrad_old_cache(w: Array, g: Array, r: Array, lr: float,
                       eps: float = 1e-8) -> tuple[Array, Array]:
    return w - lr * g / (np.sqrt(r) + eps), r + g * g


def _adagrad_abs(w: Array, g: Array, r: Array, lr: float, eps: float = 1e-8) -> tuple[Array, Array]:
    r = r + np.abs(g)
    return w - lr * g / (np.sqrt(r) + eps), r


def _adagrad_multiply(w: Array, g: Array, r: Array, lr: float,
                      eps: float = 1e-8) -> tuple[Array, Array]:
    r = r + g * g
    return w - lr * g * np.sqrt(r), r


ADAGRAD_STEP = _optimizer_check(
    "adagrad_step", "adagrad_step(w, g, r, lr, eps)", optimizers.AdaGrad, ADAGRAD_RULE,
    _adagrad_cases, _hidden_factory(_adagrad_hyper, defaults={"lr": 0.1}),
    (
        Mistake("the square root forgotten", "divide by √r + ε, the root of the summed squares",
                _adagrad_no_sqrt),
        Mistake("only the latest squared gradient", "AdaGrad adds g² to everything before: "
                "r = r + g²", _adagrad_last_only),
        Mistake("the step taken with the old r", "add g² to r first, then divide by √r + ε",
                _adagrad_old_cache),
        Mistake("|g| summed instead of g²", "accumulate squares: r = r + g * g", _adagrad_abs),
        Mistake("multiplied by √r", "divide the gradient by √r + ε", _adagrad_multiply),
    ),
)


# RMSProp: r ← ρ r + (1 − ρ) g²; w ← w − α g / (√r + ε).

RMSPROP_RULE = RULES["rmsprop_step"]


def _rmsprop_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([0.0]), _grads([[2.0]] * 6), {"lr": 0.01, "rho": 0.9, "eps": 1e-8}),
             "a constant gradient 2: the steps settle at lr, they do not shrink to 0"),
        Case((_arr([0.0, 0.0]), _grads([[100.0, 0.5], [100.0, 0.5]]),
              {"lr": 0.01, "rho": 0.9, "eps": 1e-8}), "gradients 100 and 0.5"),
        Case((_arr([1.0, 1.0]), _grads([[0.0, 1.0], [1.0, -1.0], [-1.0, 2.0]]),
              {"lr": 0.01, "rho": 0.5, "eps": 1e-8}), "a zero gradient first, ρ = 0.5"),
        Case((_arr([3.0, 1.0]), Bowl((1.0, 10.0), 8), {"lr": 0.1, "rho": 0.9, "eps": 1e-8}),
             "8 steps down a bowl, lr = 0.1"),
    ]


def _rmsprop_hyper(rng: np.random.Generator) -> dict[str, float]:
    return {"lr": float(rng.choice([0.001, 0.01, 0.03])), "rho": float(rng.choice([0.9, 0.99])),
            "eps": 1e-8}


def _rms_adagrad(w: Array, g: Array, r: Array, lr: float, rho: float = 0.9,
                 eps: float = 1e-8) -> tuple[Array, Array]:
    r = r + g * g
    return w - lr * g / (np.sqrt(r) + eps), r


def _rms_no_one_minus(w: Array, g: Array, r: Array, lr: float, rho: float = 0.9,
                      eps: float = 1e-8) -> tuple[Array, Array]:
    r = rho * r + g * g
    return w - lr * g / (np.sqrt(r) + eps), r


def _rms_swapped(w: Array, g: Array, r: Array, lr: float, rho: float = 0.9,
                 eps: float = 1e-8) -> tuple[Array, Array]:
    r = (1 - rho) * r + rho * g * g
    return w - lr * g / (np.sqrt(r) + eps), r


def _rms_no_sqrt(w: Array, g: Array, r: Array, lr: float, rho: float = 0.9,
                 eps: float = 1e-8) -> tuple[Array, Array]:
    r = rho * r + (1 - rho) * g * g
    return w - lr * g / (r + eps), r


def _rms_old_cache(w: Array, g: Array, r: Array, lr: float, rho: float = 0.9,
                   eps: float = 1e-8) -> tuple[Array, Array]:
    return w - lr * g / (np.sqrt(r) + eps), rho * r + (1 - rho) * g * g


RMSPROP_STEP = _optimizer_check(
    "rmsprop_step", "rmsprop_step(w, g, r, lr, rho, eps)", optimizers.RMSProp, RMSPROP_RULE,
    _rmsprop_cases, _hidden_factory(_rmsprop_hyper, defaults={"lr": 0.01}),
    (
        Mistake("a cumulative sum (that is AdaGrad)",
                "keep a moving average instead: r = ρ·r + (1 − ρ)·g²", _rms_adagrad),
        Mistake("the (1 − ρ) factor left out", "r = ρ·r + (1 − ρ)·g²", _rms_no_one_minus),
        Mistake("ρ and 1 − ρ swapped", "ρ multiplies the old average, 1 − ρ the new g²",
                _rms_swapped),
        Mistake("the square root forgotten", "divide by √r + ε", _rms_no_sqrt),
        Mistake("the step taken with the old r", "update r first, then divide by √r + ε",
                _rms_old_cache),
    ),
)


# Adam: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; w ← w − α m̂ / (√v̂ + ε), t counted from 1.

ADAM_RULE = RULES["adam_step"]


def _adam_cases(rng: np.random.Generator) -> list[Case]:
    default = {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    return [
        Case((_arr([0.5]), _grads([[3.0]] * 3), {**default, "lr": 0.05}),
             "a constant gradient 3, lr = 0.05: with bias correction every step is lr"),
        Case((_arr([0.0, 0.0]), _grads([[1000.0, -0.5], [1000.0, -0.5]]), default),
             "gradients 1000 and −0.5: the first step is lr·sign(g) for both"),
        Case((_arr([0.0]), _grads([[1.0], [-1.0], [1.0], [-1.0]]), default),
             "a gradient that flips sign every step"),
        Case((_arr([3.0, 1.0]), Bowl((1.0, 10.0), 10), {**default, "beta1": 0.8, "beta2": 0.99}),
             "10 steps down a bowl, β₁ = 0.8, β₂ = 0.99"),
    ]


def _adam_hyper(rng: np.random.Generator) -> dict[str, float]:
    return {"lr": float(rng.choice([0.001, 0.01, 0.1])), "beta1": float(rng.choice([0.8, 0.9])),
            "beta2": float(rng.choice([0.99, 0.999])), "eps": 1e-8}


def _adam_variant(correct_m: bool = True, correct_v: bool = True, shift: int = 0,
                  sqrt: bool = True) -> Callable[..., tuple[Array, dict[str, Any]]]:
    def step(w: Array, g: Array, state: dict[str, Any], lr: float, beta1: float = 0.9,
             beta2: float = 0.999, eps: float = 1e-8) -> tuple[Array, dict[str, Any]]:
        t = state["t"] + 1
        m = beta1 * state["m"] + (1 - beta1) * g
        v = beta2 * state["v"] + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** (t + shift)) if correct_m else m
        v_hat = v / (1 - beta2 ** (t + shift)) if correct_v else v
        root = np.sqrt(v_hat) if sqrt else v_hat
        return w - lr * m_hat / (root + eps), {"m": m, "v": v, "t": t}

    return step


def _adam_betas_swapped(w: Array, g: Array, state: dict[str, Any], lr: float, beta1: float = 0.9,
                        beta2: float = 0.999, eps: float = 1e-8) -> tuple[Array, dict[str, Any]]:
    return _adam_variant()(w, g, state, lr, beta2, beta1, eps)


ADAM_STEP = _optimizer_check(
    "adam_step", "adam_step(w, g, state, lr, beta1, beta2, eps)", optimizers.Adam, ADAM_RULE,
    _adam_cases, _hidden_factory(_adam_hyper, defaults={"lr": 0.01}),
    (
        Mistake("no bias correction", "divide m by 1 − β₁ᵗ and v by 1 − β₂ᵗ: both start at 0 "
                "and are far too small for the first steps", _adam_variant(False, False)),
        Mistake("only m bias-corrected", "correct v too: v̂ = v / (1 − β₂ᵗ)",
                _adam_variant(True, False)),
        Mistake("only v bias-corrected", "correct m too: m̂ = m / (1 − β₁ᵗ)",
                _adam_variant(False, True)),
        Mistake("t one ahead in the correction", "t is 1 at the first step: add 1 to state['t'] "
                "once, then use it", _adam_variant(shift=1)),
        Mistake("the square root forgotten", "divide by √v̂ + ε", _adam_variant(sqrt=False)),
        Mistake("β₁ and β₂ swapped", "β₁ (0.9) averages the gradients, β₂ (0.999) their "
                "squares", _adam_betas_swapped),
    ),
)


# AdaDelta: r ← ρr + (1−ρ)g²; Δ = −√(s + ε)/√(r + ε)·g; s ← ρs + (1−ρ)Δ²; w ← w + αΔ.

ADADELTA_RULE = RULES["adadelta_step"]


def _adadelta_cases(rng: np.random.Generator) -> list[Case]:
    default = {"rho": 0.95, "eps": 1e-6, "lr": 1.0}
    return [
        Case((_arr([0.0]), _grads([[1.0]] * 5), default),
             "a constant gradient 1: tiny first steps that grow"),
        Case((_arr([1.0, -1.0]), _grads([[2.0, -0.5], [1.0, 0.5], [-1.0, 1.0]]), default),
             "two weights, three given gradients"),
        Case((_arr([1.0, -1.0]), _grads([[2.0, -0.5], [1.0, 0.5], [-1.0, 1.0]]),
              {**default, "lr": 0.5}), "the same with lr = 0.5"),
        Case((_arr([3.0, 1.0]), Bowl((1.0, 10.0), 20), {**default, "rho": 0.9}),
             "20 steps down a bowl, ρ = 0.9"),
    ]


def _adadelta_hyper(rng: np.random.Generator) -> dict[str, float]:
    return {"rho": float(rng.choice([0.9, 0.95])), "eps": float(rng.choice([1e-6, 1e-4])),
            "lr": float(rng.choice([1.0, 0.5]))}


def _adadelta_variant(kind: str) -> Callable[..., tuple[Array, dict[str, Any]]]:
    def step(w: Array, g: Array, state: dict[str, Any], rho: float = 0.95, eps: float = 1e-6,
             lr: float = 1.0) -> tuple[Array, dict[str, Any]]:
        r = rho * state["r"] + (1 - rho) * g * g
        s = state["s"]
        if kind == "eps_outside":
            delta = -(np.sqrt(s) + eps) / (np.sqrt(r) + eps) * g
        elif kind == "inverted":
            delta = -np.sqrt(r + eps) / np.sqrt(s + eps) * g
        elif kind == "no_sqrt":
            delta = -(s + eps) / (r + eps) * g
        elif kind == "sign":
            delta = np.sqrt(s + eps) / np.sqrt(r + eps) * g
        else:
            delta = -np.sqrt(s + eps) / np.sqrt(r + eps) * g
        s_new = rho * s + (1 - rho) * (g * g if kind == "s_of_g" else delta * delta)
        step_size = 1.0 if kind == "no_lr" else lr
        return w + step_size * delta, {"r": r, "s": s_new}

    return step


ADADELTA_STEP = _optimizer_check(
    "adadelta_step", "adadelta_step(w, g, state, rho, eps, lr)", optimizers.AdaDelta,
    ADADELTA_RULE, _adadelta_cases, _hidden_factory(_adadelta_hyper, bowl_steps=30, defaults={}),
    (
        Mistake("ε outside the roots", "AdaDelta needs √(s + ε): with s = 0 at the start, "
                "√s + ε makes every step almost 0", _adadelta_variant("eps_outside")),
        Mistake("the ratio upside down", "Δ = −√(s + ε) / √(r + ε) · g: past updates on top, "
                "past gradients below", _adadelta_variant("inverted")),
        Mistake("the square roots forgotten", "take the root of each running average",
                _adadelta_variant("no_sqrt")),
        Mistake("a step up the gradient", "Δ carries a minus sign", _adadelta_variant("sign")),
        Mistake("s averaged from g² instead of Δ²", "s tracks the squared updates: "
                "s = ρ·s + (1 − ρ)·Δ²", _adadelta_variant("s_of_g")),
        Mistake("lr ignored", "move w by lr·Δ", _adadelta_variant("no_lr")),
    ),
)


# Epochs and iterations.

def _ipe_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((1000, 64), "1000 examples in batches of 64: the last batch is short"),
        Case((1024, 64), "1024 examples in batches of 64: no remainder"),
        Case((1000, 1000), "full batch: B = N"),
        Case((1000, 300), "1000 examples in batches of 300: three full batches and one of 100"),
        Case((1000, 64, True), "drop_last=True: the short batch is dropped"),
        Case((10**17 + 1, 10), "N = 10¹⁷ + 1: a float division rounds the remainder away; "
             "integer arithmetic (//) does not"),
    ]


def _ipe_hidden(rng: np.random.Generator) -> list[Case]:
    out = [Case((MNIST_TRAIN, MNIST_BATCH), "MNIST in batches of 64"),
           Case((1000, 1), "pure SGD: B = 1"),
           Case((ALEXNET_IMAGES, ALEXNET_BATCH), "ImageNet in batches of 128"),
           Case((1, 1), "one example"),
           Case((7, 100), "B larger than N: one short batch"),
           Case((10**9 + 1, 3), "a billion examples"),
           Case((10**18 + 3, 10**9), "N = 10¹⁸ + 3: N / B in floats loses the remainder"),
           Case((10**18 + 3, 10**9, True), "N = 10¹⁸ + 3 with drop_last"),
           Case((96, 32, True), "drop_last with no remainder")]
    for _ in range(4):
        n = int(rng.integers(2, 5000))
        b = int(rng.integers(1, n))
        drop = bool(rng.integers(0, 2))
        out.append(Case((n, b, drop), f"random N = {n}, B = {b}, drop_last={drop}"))
    return out


ITERATIONS_PER_EPOCH = FunctionCheck(
    id="05.iterations_per_epoch",
    title="iterations_per_epoch(n_samples, batch_size, drop_last)",
    reference=optimizers.iterations_per_epoch,
    cases=_ipe_cases,
    hidden_cases=_ipe_hidden,
    kind="int",
    mistakes=(
        Mistake("rounded down although the short batch is kept",
                "a short last batch is still an iteration: ⌈N / B⌉ unless drop_last",
                lambda n, b, d=False: n // b),
        Mistake("drop_last ignored", "with drop_last=True the short batch is dropped: ⌊N / B⌋",
                lambda n, b, d=False: -(-n // b)),
        Mistake("one batch too many when B divides N",
                "N // B + 1 counts an empty batch when there is no remainder: use ⌈N / B⌉",
                lambda n, b, d=False: n // b + (0 if d else 1)),
        Mistake("rounded to the nearest integer", "round up (⌈N / B⌉), not to the nearest",
                lambda n, b, d=False: n // b if d else round(n / b)),
        Mistake("float division", "N / B is a float, which holds only about 16 significant "
                "digits: use integer arithmetic, -(-N // B) for ⌈N / B⌉ and N // B for ⌊N / B⌋",
                lambda n, b, d=False: int(n / b) if d else math.ceil(n / b)),
    ),
)


def minibatches_reference(n_samples: int, batch_size: int, rng: np.random.Generator) -> list[Array]:
    """Index batches of a random permutation of 0..N−1: ⌈N/B⌉ arrays of B indices, the last shorter."""
    labels = np.arange(n_samples)
    return [yb for _, yb in reference_minibatches(np.zeros((n_samples, 1)), labels, batch_size,
                                                  rng=rng)]


def _mb_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((10, 3, 0), "10 examples in batches of 3 (sizes 3, 3, 3, 1), seed 0"),
        Case((100, 32, 1), "100 examples in batches of 32, seed 1"),
        Case((64, 64, 2), "one full batch of all 64 examples, seed 2"),
        Case((5, 10, 3), "a batch size larger than N: one batch of 5, seed 3"),
    ]


def _mb_hidden(rng: np.random.Generator) -> list[Case]:
    out = [Case((MNIST_TRAIN, MNIST_BATCH, 7), "60 000 examples in batches of 64"),
           Case((1, 1, 8), "a single example"),
           Case((97, 1, 9), "pure SGD: batches of one"),
           Case((1000, 999, 10), "one full batch and a batch of 1")]
    for k in range(3):
        n = int(rng.integers(10, 3000))
        b = int(rng.integers(1, n + 1))
        out.append(Case((n, b, 20 + k), f"random N = {n}, B = {b}"))
    return out


def _mb_drop_last(n: int, b: int, rng: np.random.Generator) -> list[Array]:
    order = rng.permutation(n)
    return [order[i:i + b] for i in range(0, n - n % b, b)]


def _mb_array_split(n: int, b: int, rng: np.random.Generator) -> list[Array]:
    return list(np.array_split(rng.permutation(n), math.ceil(n / b)))


def _mb_merged(n: int, b: int, rng: np.random.Generator) -> list[Array]:
    return list(np.array_split(rng.permutation(n), max(n // b, 1)))


MINIBATCHES = FunctionCheck(
    id="05.minibatches",
    title="minibatches(n_samples, batch_size, rng): the batch sizes and the checks on indices",
    reference=minibatches_reference,
    cases=_mb_cases,
    hidden_cases=_mb_hidden,
    probe=probe("nb05.minibatch_sizes"),
    kind="array",
    tol=Tolerance(rtol=0.0, atol=0.0),
    mistakes=(
        Mistake("the short last batch dropped", "keep the remainder as a last, smaller batch: "
                "every example is used once per epoch", _mb_drop_last),
        Mistake("np.array_split", "np.array_split evens out the sizes; the batches here hold "
                "batch_size indices each, except the last", _mb_array_split),
        Mistake("the remainder merged into other batches",
                "the remainder is a batch of its own, after the full ones", _mb_merged),
    ),
)


# Numeric answers.

def _first_steps(cls: type[optimizers.Optimizer], n: int, **hyper: float) -> Array:
    """Trajectory of ``cls`` on f(w) = w² from w = 1 (gradient 2w)."""
    return optimizers.minimize(cls(**hyper), lambda w: 2 * w, [1.0], n)[:, 0]


def _gd(k: int) -> float:
    return float(_first_steps(optimizers.GradientDescent, 2, lr=0.1)[k])


def _momentum(k: int) -> float:
    return float(_first_steps(optimizers.Momentum, 2, lr=0.1, mu=0.9)[k])


def _adam1() -> float:
    return float(_first_steps(optimizers.Adam, 1, lr=0.1)[1])


GD_W1 = ValueCheck(
    "05.gd_w1", "gradient descent: w after one step", lambda: _gd(1), tol=TYPED,
    mistakes=(
        (1.2, "a step up the gradient", "the update subtracts lr·f′(w)"),
        (0.9, "f′(w) = w", "the derivative of w² is 2w"),
        (-0.2, "the step instead of w", "give the weight after the step, w − lr·f′(w)"),
        (0.98, "the learning rate applied twice", "the step is lr·f′(w) = 0.1 · 2w"),
    ),
)
GD_W2 = ValueCheck(
    "05.gd_w2", "gradient descent: w after two steps", lambda: _gd(2), tol=TYPED,
    mistakes=(
        (1.44, "steps up the gradient", "the update subtracts lr·f′(w)"),
        (0.81, "f′(w) = w", "the derivative of w² is 2w"),
        (0.6, "the first gradient reused", "take the gradient at the new w, 2·w₁"),
        (0.8, "one step only", "this asks for w after two steps"),
    ),
)
MOMENTUM_W1 = ValueCheck(
    "05.momentum_w1", "momentum: w after one step", lambda: _momentum(1), tol=TYPED,
    mistakes=(
        (1.2, "the gradient added to the velocity", "v = μ·v − lr·g"),
        (0.98, "a (1 − μ) factor on the gradient", "v = μ·v − lr·g, no (1 − μ)"),
        (1.0, "w moved by the old velocity", "update v first (from 0), then w = w + v"),
        (0.9, "f′(w) = w", "the derivative of w² is 2w"),
    ),
)
MOMENTUM_W2 = ValueCheck(
    "05.momentum_w2", "momentum: w after two steps", lambda: _momentum(2), tol=TYPED,
    mistakes=(
        (0.64, "plain gradient descent", "the second velocity keeps μ times the first"),
        (0.8, "w moved by the old velocity", "update v first, then w = w + v"),
        (0.44, "the old velocity not scaled by μ", "v₂ = μ·v₁ − lr·g₂"),
        (1.62, "the gradient added to the velocity", "v = μ·v − lr·g"),
        (0.42, "the first gradient reused", "take g₂ at w₁: g₂ = 2·w₁"),
    ),
)
ADAM_W1 = ValueCheck(
    "05.adam_w1", "Adam: w after one step", _adam1, tol=TYPED,
    mistakes=(
        (1 - 0.1 * 0.2 / math.sqrt(0.004), "no bias correction",
         "divide m by 1 − β₁ and v by 1 − β₂ at t = 1"),
        (1 - 0.1 * 2.0 / math.sqrt(0.004), "only m corrected", "correct v as well"),
        (1 - 0.1 * 0.2 / 2.0, "only v corrected", "correct m as well"),
        (1.1, "a step up the gradient", "the update subtracts lr·m̂ / (√v̂ + ε)"),
        (0.8, "a gradient-descent step", "Adam's first step is lr·m̂/√v̂ = lr·g/|g|"),
    ),
)

ITERS_MNIST = ValueCheck(
    "05.iters_mnist", "iterations per epoch, N = 60 000, B = 64",
    lambda: optimizers.iterations_per_epoch(MNIST_TRAIN, MNIST_BATCH), kind="int",
    tol=Tolerance(rtol=0.0, atol=0.0),
    mistakes=(
        (MNIST_TRAIN // MNIST_BATCH, "rounded down",
         "the short last batch is still an iteration: round up"),
        (MNIST_TRAIN, "one iteration per example", "each iteration uses a batch of 64"),
        (MNIST_BATCH, "the batch size", "count the batches that make one pass over the data"),
    ),
)
ITERS_FULL_BATCH = ValueCheck(
    "05.iters_full_batch", "iterations per epoch of full-batch gradient descent",
    lambda: optimizers.iterations_per_epoch(MNIST_TRAIN, MNIST_TRAIN), kind="int",
    tol=Tolerance(rtol=0.0, atol=0.0),
    mistakes=(
        (MNIST_TRAIN, "one iteration per example", "full batch: one gradient over all N "
         "examples per iteration"),
        (0, "no iterations", "one pass over the data takes one full-batch step"),
        (MNIST_TRAIN // MNIST_BATCH + 1, "the mini-batch count", "here B = N"),
    ),
)

_ALEXNET_PER_EPOCH = optimizers.iterations_per_epoch(ALEXNET_IMAGES, ALEXNET_BATCH)
ALEXNET_ITERATIONS = ValueCheck(
    "05.alexnet_iterations", "iterations of 90 epochs of 1.2 M images at batch 128",
    lambda: ALEXNET_EPOCHS * _ALEXNET_PER_EPOCH, kind="int",
    tol=Tolerance(rtol=0.0, atol=0.0),
    mistakes=(
        (_ALEXNET_PER_EPOCH, "one epoch", "multiply by the 90 epochs"),
        (ALEXNET_EPOCHS * ALEXNET_IMAGES, "one image per iteration",
         "each iteration processes a batch of 128 images"),
        (ALEXNET_EPOCHS * (_ALEXNET_PER_EPOCH + 1), "one batch too many per epoch",
         "128 divides 1 200 000 exactly: there is no short batch"),
        (ALEXNET_EPOCHS, "the epochs", "each epoch is many iterations"),
    ),
)


# Learning-rate schedules: α_t as a function of the step count t, counted from 0.

def _steps(n: int) -> list[int]:
    return list(range(n))


def _sched_case(steps: Any, hyper: dict[str, float], label: str) -> Case:
    return Case((steps, hyper), label)


def _random_rate(rng: np.random.Generator) -> float:
    return float(np.round(rng.uniform(0.001, 0.5), 4))


def _step_decay_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _sched_case(_steps(35), {"lr0": 0.1, "drop": 0.5, "every": 10},
                    "lr0 = 0.1 halved every 10 steps, t = 0 … 34: the first drop is at t = 10"),
        _sched_case(_steps(13), {"lr0": 1.0, "drop": 0.1, "every": 3},
                    "lr0 = 1 divided by 10 every 3 steps, t = 0 … 12"),
        _sched_case(_steps(6), {"lr0": 0.5, "drop": 0.5, "every": 1},
                    "every = 1: a drop at every step"),
    ]


def _step_decay_hidden(rng: np.random.Generator) -> list[Case]:
    out = []
    for _ in range(3):
        every = int(rng.integers(2, 40))
        hyper = {"lr0": _random_rate(rng), "drop": float(rng.choice([0.1, 0.2, 0.5, 0.9])),
                 "every": every}
        out.append(_sched_case(_steps(5 * every + 3), hyper, f"random hyper-parameters, every = {every}"))
    out.append(_sched_case(np.arange(0, 40, 3), {"lr0": 0.3, "drop": 0.5, "every": 6},
                           "numpy integer steps t = 0, 3, 6, …"))
    out.append(_sched_case([0, 999, 1000, 1001, 54_321], {"lr0": 0.1, "drop": 0.9, "every": 1000},
                           "large step counts"))
    out.append(_sched_case(_steps(8), {"lr0": 1, "drop": 1.0, "every": 2},
                           "drop = 1 and an integer lr0: a constant rate of 1"))
    out.append(_sched_case([9, 10, 11, 19, 20, 21], {"lr0": 0.2, "drop": 0.3, "every": 10},
                           "the steps on both sides of each drop"))
    return out


def _step_continuous(t: int, lr0: float, drop: float, every: int) -> float:
    return lr0 * drop ** (t / every)


def _step_early(t: int, lr0: float, drop: float, every: int) -> float:
    return lr0 * drop ** ((t + 1) // every)


def _step_round(t: int, lr0: float, drop: float, every: int) -> float:
    return lr0 * drop ** round(t / every)


def _step_once(t: int, lr0: float, drop: float, every: int) -> float:
    return lr0 * drop if t >= every else lr0


def _step_every_ignored(t: int, lr0: float, drop: float, every: int) -> float:
    return lr0 * drop**t


STEP_DECAY = FunctionCheck(
    id="05.step_decay",
    title="step_decay(t, lr0, drop, every): the rates for t = 0, 1, 2, …",
    reference=schedules.step_decay,
    cases=_step_decay_cases,
    hidden_cases=_step_decay_hidden,
    probe=probe("nb05.schedule_curve"),
    mistakes=(
        Mistake("a smooth exponent t / every",
                "the rate is constant between drops: the exponent is the integer ⌊t / every⌋, "
                "t // every (drop ** (t / every) is exponential decay)", _step_continuous),
        Mistake("the first drop one step early",
                "t counts from 0 and the first drop takes effect at t = every: ⌊t / every⌋, "
                "not ⌊(t + 1) / every⌋", _step_early),
        Mistake("the exponent rounded to the nearest integer",
                "round down, t // every: the rate drops at t = every, not half way there",
                _step_round),
        Mistake("a single drop", "the drops compound: after k drops the rate is lr0 · dropᵏ",
                _step_once),
        Mistake("every ignored", "drop once every `every` steps, not at every step: "
                "drop ** (t // every)", _step_every_ignored),
    ),
)


def _exp_decay_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _sched_case(_steps(21), {"lr0": 0.1, "k": 0.1},
                    "lr0 = 0.1, k = 0.1, t = 0 … 20: the rate falls by e every 10 steps"),
        _sched_case(_steps(8), {"lr0": 1.0, "k": 0.5}, "lr0 = 1, k = 0.5"),
        _sched_case(_steps(5), {"lr0": 0.3, "k": 0.0}, "k = 0: a constant rate"),
    ]


def _exp_decay_hidden(rng: np.random.Generator) -> list[Case]:
    out = [_sched_case(_steps(30), {"lr0": _random_rate(rng), "k": float(np.round(rng.uniform(0.01, 0.3), 3))},
                       "random lr0 and k") for _ in range(3)]
    out.append(_sched_case(np.arange(0, 100, 7), {"lr0": 0.05, "k": 0.02}, "numpy integer steps"))
    out.append(_sched_case([0, 1000, 10_000, 100_000], {"lr0": 0.1, "k": 0.001}, "large step counts"))
    out.append(_sched_case(_steps(4), {"lr0": 2, "k": 1}, "integer lr0 and k"))
    out.append(_sched_case([0, 1, 2], {"lr0": 0.1, "k": 0.9}, "a fast decay, k = 0.9"))
    return out


def _exp_sign(t: int, lr0: float, k: float) -> float:
    return lr0 * math.exp(k * t)


def _exp_no_t(t: int, lr0: float, k: float) -> float:
    return lr0 * math.exp(-k)


def _exp_inverse_time(t: int, lr0: float, k: float) -> float:
    return lr0 / (1 + k * t)


def _exp_one_minus_k(t: int, lr0: float, k: float) -> float:
    return lr0 * (1 - k) ** t


def _exp_k_power(t: int, lr0: float, k: float) -> float:
    return lr0 * k**t


def _exp_shifted(t: int, lr0: float, k: float) -> float:
    return lr0 * math.exp(-k * (t + 1))


EXPONENTIAL_DECAY = FunctionCheck(
    id="05.exponential_decay",
    title="exponential_decay(t, lr0, k): the rates for t = 0, 1, 2, …",
    reference=schedules.exponential_decay,
    cases=_exp_decay_cases,
    hidden_cases=_exp_decay_hidden,
    probe=probe("nb05.schedule_curve"),
    mistakes=(
        Mistake("a growing exponential", "the exponent is negative: lr0 · e^(−k t)", _exp_sign),
        Mistake("t left out", "the exponent grows with the step: e^(−k t), not e^(−k)", _exp_no_t),
        Mistake("inverse-time decay", "lr0 / (1 + k t) is another schedule (1/t decay); "
                "exponential decay is lr0 · e^(−k t)", _exp_inverse_time),
        Mistake("(1 − k)ᵗ instead of e^(−k t)", "the two agree only for tiny k: use "
                "np.exp(-k * t)", _exp_one_minus_k),
        Mistake("kᵗ", "k is a rate in the exponent: lr0 · e^(−k t)", _exp_k_power),
        Mistake("the first step already decayed", "t counts from 0 and α₀ = lr0: "
                "e^(−k t), not e^(−k (t + 1))", _exp_shifted),
    ),
)


def _cosine_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _sched_case(_steps(13), {"lr0": 1.0, "T": 10},
                    "lr0 = 1, T = 10, lr_min left at its default 0, t = 0 … 12: after T the "
                    "rate stays at lr_min"),
        _sched_case(_steps(21), {"lr0": 0.1, "T": 20, "lr_min": 0.01},
                    "lr0 = 0.1 down to lr_min = 0.01 over T = 20 steps"),
        _sched_case(_steps(9), {"lr0": 0.5, "T": 4, "lr_min": 0.1},
                    "lr_min = 0.1, T = 4, t = 0 … 8"),
    ]


def _cosine_hidden(rng: np.random.Generator) -> list[Case]:
    out = []
    for _ in range(3):
        T = int(rng.integers(5, 60))
        lr0 = _random_rate(rng)
        out.append(_sched_case(_steps(T + 5), {"lr0": lr0, "T": T,
                                               "lr_min": float(np.round(lr0 * rng.uniform(0, 0.3), 5))},
                               f"random lr0 and lr_min, T = {T}"))
    out.append(_sched_case(_steps(4), {"lr0": 0.2, "T": 1}, "T = 1: one step at lr0, then lr_min"))
    out.append(_sched_case(np.arange(0, 2001, 250), {"lr0": 0.1, "T": 1000},
                           "numpy integer steps up to twice T"))
    out.append(_sched_case(_steps(7), {"lr0": 0.4, "T": 6, "lr_min": 0.4}, "lr_min = lr0: constant"))
    out.append(_sched_case(_steps(6), {"lr0": 1, "T": 3, "lr_min": 0}, "integer lr0 and lr_min"))
    return out


def _cos_no_clamp(t: int, lr0: float, T: int, lr_min: float = 0.0) -> float:
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * t / T))


def _cos_no_min(t: int, lr0: float, T: int, lr_min: float = 0.0) -> float:
    return 0.5 * lr0 * (1 + math.cos(math.pi * min(t, T) / T))


def _cos_min_added(t: int, lr0: float, T: int, lr_min: float = 0.0) -> float:
    return lr_min + 0.5 * lr0 * (1 + math.cos(math.pi * min(t, T) / T))


def _cos_bare(t: int, lr0: float, T: int, lr_min: float = 0.0) -> float:
    return max(lr_min, lr0 * math.cos(math.pi * min(t, T) / T))


def _cos_full_period(t: int, lr0: float, T: int, lr_min: float = 0.0) -> float:
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(2 * math.pi * min(t, T) / T))


def _cos_degrees(t: int, lr0: float, T: int, lr_min: float = 0.0) -> float:
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(180.0 * min(t, T) / T))


COSINE_DECAY = FunctionCheck(
    id="05.cosine_decay",
    title="cosine_decay(t, lr0, T, lr_min=0.0): the rates for t = 0, 1, 2, …",
    reference=schedules.cosine_decay,
    cases=_cosine_cases,
    hidden_cases=_cosine_hidden,
    probe=probe("nb05.schedule_curve"),
    mistakes=(
        Mistake("the cosine continued past T",
                "after T steps the rate stays at lr_min; the cosine would climb back up",
                _cos_no_clamp),
        Mistake("lr_min ignored", "the curve ends at lr_min: "
                "lr_min + ½ (lr0 − lr_min)(1 + cos(π t / T))", _cos_no_min),
        Mistake("lr_min added on top", "scale the half cosine by lr0 − lr_min, so that t = 0 "
                "gives lr0 and t = T gives lr_min", _cos_min_added),
        Mistake("a bare cosine", "lr0 · cos(π t / T) falls to −lr0: shift and halve it, "
                "½ (1 + cos(π t / T)) runs from 1 to 0", _cos_bare),
        Mistake("a full period", "half a period from lr0 down to lr_min: cos(π t / T), "
                "not cos(2π t / T)", _cos_full_period),
        Mistake("degrees instead of radians", "np.cos takes radians: the angle is π t / T",
                _cos_degrees),
    ),
)


def _warmup_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _sched_case(_steps(10), {"lr0": 0.4, "warmup_steps": 4},
                    "lr0 = 0.4, 4 warm-up steps, t = 0 … 9: 0.1, 0.2, 0.3, then 0.4 from t = 3 on"),
        _sched_case(_steps(4), {"lr0": 0.3, "warmup_steps": 1},
                    "one warm-up step: the full rate from t = 0"),
        _sched_case(_steps(15), {"lr0": 1.0, "warmup_steps": 10}, "lr0 = 1, 10 warm-up steps"),
    ]


def _warmup_hidden(rng: np.random.Generator) -> list[Case]:
    out = []
    for _ in range(3):
        W = int(rng.integers(2, 50))
        out.append(_sched_case(_steps(W + 6), {"lr0": _random_rate(rng), "warmup_steps": W},
                               f"random lr0, {W} warm-up steps"))
    out.append(_sched_case(np.arange(0, 3000, 199), {"lr0": 0.01, "warmup_steps": 2000},
                           "numpy integer steps, a long warm-up"))
    out.append(_sched_case([0, 1, 2, 100_000], {"lr0": 2, "warmup_steps": 3}, "an integer lr0"))
    out.append(_sched_case([98, 99, 100, 101], {"lr0": 0.1, "warmup_steps": 100},
                           "the steps around the end of the warm-up"))
    return out


def _warm_from_zero(t: int, lr0: float, warmup_steps: int) -> float:
    return lr0 * min(1.0, t / warmup_steps)


def _warm_uncapped(t: int, lr0: float, warmup_steps: int) -> float:
    return lr0 * (t + 1) / warmup_steps


def _warm_plus_one(t: int, lr0: float, warmup_steps: int) -> float:
    return lr0 * min(1.0, (t + 1) / (warmup_steps + 1))


def _warm_constant(t: int, lr0: float, warmup_steps: int) -> float:
    return lr0 / warmup_steps if t < warmup_steps else lr0


def _warm_quadratic(t: int, lr0: float, warmup_steps: int) -> float:
    return lr0 * min(1.0, (t + 1) / warmup_steps) ** 2


def _warm_integer(t: int, lr0: float, warmup_steps: int) -> float:
    return lr0 * min(1, (t + 1) // warmup_steps)


LINEAR_WARMUP = FunctionCheck(
    id="05.linear_warmup",
    title="linear_warmup(t, lr0, warmup_steps): the rates for t = 0, 1, 2, …",
    reference=schedules.linear_warmup,
    cases=_warmup_cases,
    hidden_cases=_warmup_hidden,
    probe=probe("nb05.schedule_curve"),
    mistakes=(
        Mistake("a first step of size 0", "the first step (t = 0) already uses lr0 / W: "
                "(t + 1) / W, which reaches lr0 at t = W − 1", _warm_from_zero),
        Mistake("no cap after the warm-up", "after W steps the rate stays at lr0: "
                "min(1, (t + 1) / W)", _warm_uncapped),
        Mistake("W + 1 in the denominator", "the ramp reaches lr0 at step W − 1: (t + 1) / W",
                _warm_plus_one),
        Mistake("a constant warm-up", "the rate grows by lr0 / W at every step of the warm-up",
                _warm_constant),
        Mistake("a quadratic ramp", "a linear warm-up grows in equal steps: lr0 · (t + 1) / W",
                _warm_quadratic),
        Mistake("integer division", "(t + 1) // W is 0 until the end of the warm-up: divide "
                "with /", _warm_integer),
    ),
)


FORBIDDEN = ("reference_impl.optimizers", "reference_impl.data.batches",
             "reference_impl.schedules")

register(
    GD_STEP,
    MOMENTUM_STEP,
    NESTEROV_STEP,
    ADAGRAD_STEP,
    RMSPROP_STEP,
    ADAM_STEP,
    ADADELTA_STEP,
    ITERATIONS_PER_EPOCH,
    MINIBATCHES,
    GD_W1,
    GD_W2,
    MOMENTUM_W1,
    MOMENTUM_W2,
    ADAM_W1,
    ITERS_MNIST,
    ITERS_FULL_BATCH,
    ALEXNET_ITERATIONS,
)
register(STEP_DECAY, EXPONENTIAL_DECAY, COSINE_DECAY, LINEAR_WARMUP)

__all__ = ["minibatches_reference", "trajectory_probe"]
