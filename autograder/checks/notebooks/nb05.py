"""Notebook 5 on the student's side: run an update rule along a path, split mini-batches.

A step function is run from a start point on given gradients (or on the gradient of a
quadratic ``Bowl``) and its whole path is returned: the weights w₀, w₁, … and the state it
hands back at every step (the velocity, the running averages, Adam's t), since the state
is half of what a rule returns. The probe rejects a step that changes its arguments in
place (arrays, or the state dict it was given) or produces NaN, with a hint for each rule.
The mini-batch probe checks the index batches' structure (a list; every index once,
shuffled, from the ``rng`` given) and returns their sizes. A learning-rate schedule is
called for a range of step counts and its rates returned, one float per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from autograder.checks.cases import Case
from autograder.checks.notebooks.common import own_generator_only

Array = NDArray[Any]


@dataclass(frozen=True)
class Bowl:
    """The gradient a ⊙ (w − c) of the quadratic bowl f(w) = ½ Σᵢ aᵢ (wᵢ − cᵢ)², for ``steps`` steps."""

    dlf_key: ClassVar[str] = "nb05.Bowl"

    a: tuple[float, ...]
    steps: int
    c: tuple[float, ...] | None = None

    def __call__(self, w: Array) -> Array:
        centre = 0.0 if self.c is None else np.asarray(self.c)
        return np.asarray(self.a) * (np.asarray(w, dtype=np.float64) - centre)

    def __repr__(self) -> str:
        where = "w" if self.c is None else f"(w − {list(self.c)})"
        return f"{self.steps} steps on the gradient g = {list(self.a)} ⊙ {where} of a bowl"


@dataclass(frozen=True)
class Rule:
    """How to run one optimizer's step function: its name, initial state, NaN hint, and the
    names of the state it returns (one array, or the keys of a dict)."""

    name: str
    init: Callable[[Array], Any] | None
    nan_hint: str
    state: tuple[str, ...] = ()


def _zeros(w: Array) -> Array:
    return np.zeros_like(w)


def _adam_init(w: Array) -> dict[str, Any]:
    return {"m": np.zeros_like(w), "v": np.zeros_like(w), "t": 0}


def _adadelta_init(w: Array) -> dict[str, Any]:
    return {"r": np.zeros_like(w), "s": np.zeros_like(w)}


def _state_arrays(state: Any, name: str) -> dict[str, tuple[Array, Array]]:
    """Each array a state holds, named as the student sees it, with a copy of its values."""
    if isinstance(state, np.ndarray):
        return {name: (state, state.copy())}
    if isinstance(state, dict):
        return {f"state[{k!r}]": (v, v.copy()) for k, v in state.items()
                if isinstance(v, np.ndarray)}
    return {}


def _dict_snapshot(state: Any) -> dict[str, tuple[Any, Any]] | None:
    """The objects a state dict holds, with a copy of each value, to see it left unchanged."""
    if not isinstance(state, dict):
        return None
    return {k: (v, np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
            for k, v in state.items()}


def _dict_changed(state: dict[str, Any], snapshot: dict[str, tuple[Any, Any]]) -> str:
    """The first entry of ``state`` that differs from ``snapshot``, or ""."""
    if state.keys() != snapshot.keys():
        return "its keys"
    for key, (obj, old) in snapshot.items():
        now = state[key]
        if now is not obj:
            return f"state[{key!r}]"
        if isinstance(old, np.ndarray) and not np.array_equal(now, old, equal_nan=True):
            return f"state[{key!r}]"
    return ""


def state_vector(rule: Rule, state: Any, shape: tuple[int, ...], k: int) -> Array:
    """The state a step returned, as one flat float vector in a fixed order of its parts."""
    if rule.init is None:
        return np.zeros(0)
    if len(rule.state) == 1:
        arr = np.asarray(state)
        if arr.dtype.kind not in "iuf" or arr.shape != shape:
            raise ValueError(f"{rule.name} returned its state {rule.state[0]} as "
                             f"{type(state).__name__} of shape {np.shape(state)} at step {k}; "
                             f"it is an array of w's shape {shape}")
        return arr.astype(np.float64).ravel()
    if not isinstance(state, dict):
        raise TypeError(f"{rule.name} must return its state as a dict with keys "
                        f"{', '.join(map(repr, rule.state))}, got {type(state).__name__}")
    parts = []
    for key in rule.state:
        if key not in state:
            raise KeyError(f"the state {rule.name} returned at step {k} has no {key!r}; keep "
                           f"the keys {', '.join(map(repr, rule.state))}")
        value = np.asarray(state[key])
        want = () if key == "t" else shape
        if value.dtype.kind not in "iuf" or value.shape != want:
            raise ValueError(f"state[{key!r}] returned at step {k} has shape {value.shape}; "
                             + ("t is a number, the steps taken" if key == "t"
                                else f"it has w's shape {shape}"))
        parts.append(value.astype(np.float64).ravel())
    return np.concatenate(parts)


def _gradient(source: Any, k: int, w: Array) -> Array:
    if isinstance(source, Bowl):
        return source(w.copy())
    return np.array(source[k], copy=True)


def _n_steps(source: Any) -> int:
    return source.steps if isinstance(source, Bowl) else len(source)


def _student_path(rule: Rule, step: Callable[..., Any], w0: Array, source: Any,
                  hyper: dict[str, float]) -> tuple[Array, Array]:
    w: Any = np.array(w0, copy=True)
    state = None if rule.init is None else rule.init(np.array(w0, copy=True))
    state_name = rule.state[0] if len(rule.state) == 1 else "state"
    shape = np.shape(w0)
    path = [np.asarray(w, dtype=np.float64)]
    states = [state_vector(rule, state, shape, 0)]
    for k in range(_n_steps(source)):
        g = _gradient(source, k, np.asarray(w, dtype=np.float64))
        before = {"w": (w, np.array(w, copy=True)), "g": (g, g.copy()),
                  **_state_arrays(state, state_name)}
        snapshot = _dict_snapshot(state)
        out = step(w, g, **hyper) if rule.init is None else step(w, g, state, **hyper)
        if snapshot is not None and isinstance(state, dict):
            changed = _dict_changed(state, snapshot)
            if changed:
                raise ValueError(
                    f"{rule.name} changed the state dict it was given ({changed}) at step "
                    f"{k + 1}; the state passed in is left unchanged: build a new dict (and "
                    "new arrays) and return it")
        for label, (obj, old) in before.items():
            # An array changed in place would corrupt the caller's copy (a saved trajectory).
            if isinstance(obj, np.ndarray) and not np.array_equal(obj, old, equal_nan=True):
                raise ValueError(
                    f"{rule.name} changed its argument {label} in place at step {k + 1}; "
                    f"build new arrays ({label} = ... rather than {label} -= ... or "
                    f"{label} *= ...) and return them")
        if rule.init is not None:
            if not (isinstance(out, tuple | list) and len(out) == 2):
                raise TypeError(f"{rule.name} must return a pair (w_new, state_new), got "
                                f"{type(out).__name__}")
            out, state = out
        w_new = np.asarray(out)
        if w_new.dtype.kind not in "iuf":
            raise TypeError(f"{rule.name} returned w of dtype {w_new.dtype}; return an array "
                            "of floats")
        if w_new.shape != np.shape(w0):
            raise ValueError(f"{rule.name} returned w of shape {w_new.shape} at step {k + 1}; "
                             f"w has shape {np.shape(w0)} and keeps it")
        if not np.all(np.isfinite(w_new)):
            raise ValueError(f"step {k + 1} produced NaN or inf in w; {rule.nan_hint}")
        w = w_new
        path.append(w_new.astype(np.float64))
        states.append(state_vector(rule, state, shape, k + 1))
    return np.stack(path), np.stack(states)


_BLOWUP = "does the step go against the gradient (w − ...)?"
_DIVIDE = ("look for a division by zero: is ε added to the denominator, so a zero gradient "
           "gives 0/(0 + ε) = 0 instead of 0/0?")

RULES = {rule.name: rule for rule in (
    Rule("gd_step", None, _BLOWUP),
    Rule("momentum_step", _zeros, _BLOWUP, ("v",)),
    Rule("nesterov_step", _zeros, _BLOWUP, ("v",)),
    Rule("adagrad_step", _zeros, _DIVIDE, ("r",)),
    Rule("rmsprop_step", _zeros, _DIVIDE, ("r",)),
    Rule("adam_step", _adam_init,
         "look for a division by zero: the bias correction 1 − β₁ᵗ is 0 when t = 0, "
         "so t must be 1 at the first step (add 1 to state['t'] before using it); and "
         "ε must be added to the denominator", ("m", "v", "t")),
    Rule("adadelta_step", _adadelta_init,
         "look for a division by zero: ε goes inside both roots, √(s + ε) and √(r + ε)",
         ("r", "s")),
)}


def trajectory(answer: Any, case: Case, rule: str) -> Array | tuple[Array, Array]:
    """The path of the step function ``rule`` from the case's start, hyper-parameters and
    gradients: w at every step (T + 1, *w.shape), and for a rule with state the state it
    returned at every step (T + 1, K)."""
    w0, source, hyper = case.args
    # Overflow is reported by the NaN check, not as a warning in the notebook.
    with np.errstate(all="ignore"):
        path, states = _student_path(RULES[rule], answer, w0, source, hyper)
    return (path, states) if RULES[rule].state else path


def _batches_of(answer: Any, n: int, b: int, seed: int) -> list[Array]:
    with own_generator_only():
        out = answer(n, b, np.random.default_rng(seed))
    if isinstance(out, np.ndarray) and out.ndim == 2:
        raise TypeError("minibatches returned one 2-D array; return a list of 1-D index arrays "
                        "(the last one may be shorter)")
    if not isinstance(out, (list, tuple)):
        raise TypeError(f"minibatches must return a list of index arrays (a training loop "
                        f"takes len() of it and may go through it twice), got "
                        f"{type(out).__name__}")
    try:
        batches = [np.asarray(batch) for batch in out]
    except TypeError:
        raise TypeError(f"minibatches must return a list of index arrays, got "
                        f"{type(out).__name__}") from None
    for i, batch in enumerate(batches):
        if batch.ndim != 1 or (batch.size and batch.dtype.kind not in "iu"):
            raise TypeError(f"batch {i} is an array of shape {batch.shape} and dtype "
                            f"{batch.dtype}; each batch is a 1-D array of integer indices")
    return batches


def _expected_sizes(n: int, b: int) -> list[int]:
    return [b] * (n // b) + ([n % b] if n % b else [])


def minibatch_sizes(answer: Any, case: Case) -> Array:
    """Batch sizes of the student's split, once the split passes the structural checks.

    Every index 0..N−1 must appear exactly once, the order must be shuffled (N ≥ 10),
    and the batches must come from the ``rng`` given (same seed, same batches; another
    seed, other batches).
    """
    n, b, seed = case.args
    batches = _batches_of(answer, n, b, seed)
    sizes = np.array([len(batch) for batch in batches], dtype=np.int64)
    if sizes.tolist() != _expected_sizes(n, b):
        return sizes
    order = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
    counts = np.bincount(order[(order >= 0) & (order < n)], minlength=n)
    outside = order[(order < 0) | (order >= n)]
    if outside.size:
        raise ValueError(f"index {outside[0]} is outside 0..{n - 1}")
    if np.any(counts != 1):
        missing = np.flatnonzero(counts == 0)
        twice = np.flatnonzero(counts > 1)
        raise ValueError(f"index {twice[0]} appears {counts[twice[0]]} times and index "
                         f"{missing[0]} never; split a permutation (rng.permutation(n)) so "
                         "that every example is used exactly once per epoch")
    if n >= 10 and np.array_equal(order, np.arange(n)):
        raise ValueError("the indices come in order 0, 1, 2, ...: shuffle them with "
                         "rng.permutation(n) before splitting")
    again = _batches_of(answer, n, b, seed)
    if len(again) != len(batches) or not all(
            np.array_equal(x, y) for x, y in zip(again, batches, strict=True)):
        raise ValueError("two Generators with the same seed gave different batches: shuffle "
                         "with the rng argument (rng.permutation), not np.random")
    if n >= 10:
        other = np.concatenate(_batches_of(answer, n, b, seed + 1))
        if np.array_equal(other, order):
            raise ValueError("two different seeds gave the same batches: your function ignores "
                             "the rng it is given")
    return sizes


def schedule_curve(answer: Any, case: Case) -> Array:
    """The rates ``answer(t, **hyper)`` for every step t of the case, one float per step.

    A schedule maps one step count to one number; an array (even of one entry), a string
    or None is reported with the step it came back for.
    """
    steps, hyper = case.args
    name = getattr(answer, "__name__", "the schedule")
    rates = []
    for t in steps:
        value = answer(t, **hyper)
        if isinstance(value, (str, bytes)) or value is None or np.ndim(value) != 0:
            raise TypeError(f"{name}(t={t}, ...) returned {type(value).__name__} of shape "
                            f"{np.shape(value)}; return one number, the learning rate of step t")
        rates.append(float(value))
    return np.array(rates, dtype=np.float64)


REGISTRY: dict[str, Any] = {"Bowl": Bowl, "trajectory": trajectory,
                            "minibatch_sizes": minibatch_sizes, "schedule_curve": schedule_curve}
