"""Tests for reference_impl.schedules: hand-computed rates, the laws each schedule obeys, validation."""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impl.schedules import cosine_decay, exponential_decay, linear_warmup, step_decay

steps = st.integers(min_value=0, max_value=10_000)
rates = st.floats(min_value=1e-6, max_value=10.0)


def test_step_decay_halves_the_rate_at_every_tenth_step() -> None:
    got = [step_decay(t, 0.1, 0.5, 10) for t in (0, 9, 10, 19, 20, 35)]
    assert got == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125], rel=1e-15)


@given(t=steps, lr0=rates, drop=st.floats(0.01, 1.0), every=st.integers(1, 50))
def test_step_decay_is_constant_within_a_block_and_drops_at_its_end(
        t: int, lr0: float, drop: float, every: int) -> None:
    start = (t // every) * every
    assert step_decay(t, lr0, drop, every) == step_decay(start, lr0, drop, every)
    assert step_decay(start + every, lr0, drop, every) == pytest.approx(
        drop * step_decay(start, lr0, drop, every), rel=1e-12)


def test_exponential_decay_falls_by_e_every_one_over_k_steps() -> None:
    assert exponential_decay(0, 0.2, 0.1) == 0.2
    assert exponential_decay(10, 0.2, 0.1) == pytest.approx(0.2 / math.e, rel=1e-15)
    assert exponential_decay(7, 0.2, 0.0) == 0.2


@given(t=steps, lr0=rates, k=st.floats(0.0, 0.05))
def test_exponential_decay_has_a_constant_ratio_per_step(t: int, lr0: float, k: float) -> None:
    now, then = exponential_decay(t, lr0, k), exponential_decay(t + 1, lr0, k)
    if now > 1e-300:  # far down the curve both underflow to 0
        assert then / now == pytest.approx(math.exp(-k), rel=1e-9)


def test_cosine_decay_at_its_landmarks() -> None:
    assert cosine_decay(0, 1.0, 10) == 1.0
    assert cosine_decay(5, 1.0, 10) == pytest.approx(0.5, abs=1e-15)
    assert cosine_decay(10, 1.0, 10) == 0.0
    assert cosine_decay(15, 1.0, 10) == 0.0
    assert cosine_decay(5, 1.0, 10, lr_min=0.2) == pytest.approx(0.6, rel=1e-15)
    assert cosine_decay(30, 1.0, 10, lr_min=0.2) == 0.2


@given(lr0=rates, T=st.integers(1, 500), frac=st.floats(0.0, 1.0))
def test_cosine_decay_never_rises_and_stays_in_its_range(lr0: float, T: int, frac: float) -> None:
    lr_min = frac * lr0
    curve = [cosine_decay(t, lr0, T, lr_min) for t in range(2 * T + 2)]
    assert all(b <= a + 1e-15 * lr0 for a, b in pairwise(curve))
    assert min(curve) >= lr_min - 1e-15 * lr0 and max(curve) == lr0
    assert curve[T:] == [lr_min] * (T + 2)


@given(T=st.integers(2, 500), t=st.integers(0, 500))
def test_cosine_decay_is_symmetric_about_its_midpoint(T: int, t: int) -> None:
    if t <= T:
        assert cosine_decay(t, 1.0, T) + cosine_decay(T - t, 1.0, T) == pytest.approx(1.0, abs=1e-12)


def test_linear_warmup_ramps_from_lr0_over_w_and_then_holds() -> None:
    got = [linear_warmup(t, 0.4, 4) for t in range(7)]
    assert got == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4, 0.4, 0.4], rel=1e-15)
    assert linear_warmup(0, 0.3, 1) == 0.3


@given(t=steps, lr0=rates, W=st.integers(1, 1000))
def test_linear_warmup_is_positive_nondecreasing_and_capped(t: int, lr0: float, W: int) -> None:
    now, then = linear_warmup(t, lr0, W), linear_warmup(t + 1, lr0, W)
    assert 0.0 < now <= then <= lr0
    assert (now == lr0) == (t >= W - 1)


@pytest.mark.parametrize("schedule", [
    lambda t: step_decay(t, 0.1, 0.5, 3), lambda t: exponential_decay(t, 0.1, 0.1),
    lambda t: cosine_decay(t, 0.1, 5), lambda t: linear_warmup(t, 0.1, 5),
])
def test_numpy_integer_steps_give_the_same_float(schedule: Callable[[Any], float]) -> None:
    for t in range(8):
        value = schedule(np.int64(t))
        assert isinstance(value, float) and value == schedule(t)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: step_decay(-1, 0.1, 0.5, 10), ValueError, "counts steps from 0"),
    (lambda: step_decay(2.0, 0.1, 0.5, 10), TypeError, "t must be an int"),
    (lambda: step_decay(True, 0.1, 0.5, 10), TypeError, "t must be an int"),
    (lambda: step_decay(1, 0.1, 2.0, 10), ValueError, r"drop must be in \(0, 1\]"),
    (lambda: step_decay(1, 0.1, 0.5, 0), ValueError, "every must be at least 1"),
    (lambda: exponential_decay(1, 0.1, -0.1), ValueError, "k must be a finite number >= 0"),
    (lambda: exponential_decay(1, 0.0, 0.1), ValueError, "lr0 must be a finite number > 0"),
    (lambda: cosine_decay(1, 0.1, 0), ValueError, "T must be at least 1"),
    (lambda: cosine_decay(1, 0.1, 10, lr_min=0.5), ValueError, r"lr_min must be in \[0, lr0\]"),
    (lambda: linear_warmup(1, 0.1, 0), ValueError, "warmup_steps must be at least 1"),
])
def test_bad_arguments_are_refused_naming_the_fix(call: Callable[[], Any], error: type[Exception],
                                                  message: str) -> None:
    with pytest.raises(error, match=message):
        call()
