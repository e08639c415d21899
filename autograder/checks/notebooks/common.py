"""Probes every notebook uses: call the answer, with or without overflow raised; and the
guard that an answer given a generator draws from it alone, never from ``np.random``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from autograder.checks.cases import Case

UNSTABLE_HINT = ("a naive exp overflowed; rewrite the formula so every exp sees a "
                 "non-positive argument (the numerically stable form)")


def call(answer: Any, case: Case) -> Any:
    """The default probe: call the answer with the case's arguments."""
    return answer(*case.args, **case.kwargs)


def stable_call(answer: Any, case: Case, hint: str = UNSTABLE_HINT) -> Any:
    """Call the answer with overflow raised: a naive exp at ±1000 is reported as unstable."""
    try:
        with np.errstate(over="raise"):
            return answer(*case.args, **case.kwargs)
    except FloatingPointError as exc:
        raise FloatingPointError(f"unstable: {exc}; {hint}") from None


GLOBAL_RNG = ("your code used numpy's global generator (np.random.seed, np.random.normal, "
              "np.random.permutation, ...): a seed then cannot reproduce a run, and two "
              "generators no longer give independent numbers. Draw every random number from "
              "one Generator, the rng you are given or rng = np.random.default_rng(seed): "
              "rng.normal, rng.uniform, rng.permutation, rng.random")


def _global_state() -> Any:
    return np.random.get_state(legacy=False)


def _same_state(a: Any, b: Any) -> bool:
    return bool(a["state"]["pos"] == b["state"]["pos"] and a["has_gauss"] == b["has_gauss"]
                and np.array_equal(a["state"]["key"], b["state"]["key"]))


@contextmanager
def own_generator_only() -> Iterator[None]:
    """Raise ValueError if the code run inside touches numpy's global random state
    (np.random.seed, np.random.normal, ...): the exercise gives it a generator to use."""
    before = _global_state()
    yield
    if not _same_state(before, _global_state()):
        raise ValueError(GLOBAL_RNG)


def same_twice(answer: Any, case: Case, hint: str) -> Any:
    """Call the answer twice on the same inputs: a deterministic answer gives one result.

    ``hint`` says why a second, different result is wrong for this exercise.
    """
    first = answer(*case.args, **case.kwargs)
    kept = np.array(first, dtype=np.float64, copy=True)
    again = np.asarray(answer(*case.args, **case.kwargs), dtype=np.float64)
    if kept.shape != again.shape or not np.array_equal(kept, again, equal_nan=True):
        raise ValueError(f"two calls with the same arguments gave different results: {hint}")
    return first


REGISTRY: dict[str, Any] = {"call": call, "stable_call": stable_call, "same_twice": same_twice}
