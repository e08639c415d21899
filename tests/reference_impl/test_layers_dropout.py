"""Tests for reference_impl.layers.dropout: inverted dropout's scaling, mask reuse, and
the identity at inference."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impl.gradcheck import check_module
from reference_impl.layers import Dropout
from tests.reference_impl._layers_support import (
    assert_checked,
    assert_matches_oracle,
    gradient_checks,
    vjp,
)
from tests.strategies import matrices, seeds

drop_probabilities = st.sampled_from([0.0, 0.1, 0.5, 0.9])


@given(x=matrices(), p=drop_probabilities, seed=seeds)
def test_inference_is_the_identity_both_ways(x: np.ndarray, p: float, seed: int) -> None:
    layer = Dropout(p, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    dy = x[::-1].copy()
    np.testing.assert_array_equal(layer.backward(dy), dy)


@given(x=matrices(), p=drop_probabilities, seed=seeds)
def test_training_keeps_units_scaled_by_one_over_keep_probability(x: np.ndarray, p: float, seed: int) -> None:
    y = Dropout(p, rng=np.random.default_rng(seed)).forward(x)
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=1e-15)


@given(x=matrices(), p=drop_probabilities, seed=seeds)
def test_backward_reuses_the_mask_drawn_by_forward(x: np.ndarray, p: float, seed: int) -> None:
    layer = Dropout(p, rng=np.random.default_rng(seed))
    y = layer.forward(np.ones_like(x))
    dy = np.random.default_rng(seed).standard_normal(x.shape)
    np.testing.assert_array_equal(layer.backward(dy), dy * y)


@given(x=matrices(), p=drop_probabilities, seed=seeds)
def test_backward_matches_autograd_for_the_same_mask(x: np.ndarray, p: float, seed: int) -> None:
    layer = Dropout(p, rng=np.random.default_rng(seed))
    y = layer.forward(x)
    # Recover the scaled mask by drawing it again from the same seed.
    mask = Dropout(p, rng=np.random.default_rng(seed)).forward(np.ones_like(x))
    np.testing.assert_array_equal(y, x * mask)
    dy = np.random.default_rng(seed + 1).standard_normal(x.shape)
    assert_matches_oracle(layer.backward(dy), vjp(lambda v: v * mask, (x,), dy), "dx")


@gradient_checks
@given(x=matrices(away_from=0.0), p=drop_probabilities, seed=seeds)
def test_backward_passes_the_gradient_check(x: np.ndarray, p: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert_checked(check_module(Dropout(p, rng=rng), x, rng=rng), {"x"})


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_training_preserves_the_mean_activation(p: float) -> None:
    # 200,000 units of value 1: the mean of y has standard deviation √(p/(1−p)/n) ≤ 0.0045.
    y = Dropout(p, rng=np.random.default_rng(0)).forward(np.ones((200, 1000)))
    assert y.mean() == pytest.approx(1.0, abs=5 * np.sqrt(p / (1 - p) / y.size))
    assert np.mean(y == 0) == pytest.approx(p, abs=0.01)


def test_each_forward_draws_a_new_mask() -> None:
    layer = Dropout(0.5, rng=np.random.default_rng(1))
    x = np.ones((10, 10))
    assert not np.array_equal(layer.forward(x), layer.forward(x))


def test_same_seed_gives_the_same_mask() -> None:
    x = np.ones((4, 5))
    first = Dropout(0.3, rng=np.random.default_rng(7)).forward(x)
    second = Dropout(0.3, rng=np.random.default_rng(7)).forward(x)
    np.testing.assert_array_equal(first, second)


def test_forward_does_not_mutate_its_input_and_keeps_float32() -> None:
    x = np.ones((3, 4), dtype=np.float32)
    y = Dropout(0.5, rng=np.random.default_rng(0)).forward(x)
    np.testing.assert_array_equal(x, np.ones((3, 4)))
    assert y.dtype == np.float32


@pytest.mark.parametrize(
    ("p", "error", "message"),
    [
        (1.0, ValueError, r"p must be a drop probability in \[0, 1\), got 1.0"),
        (-0.1, ValueError, "got -0.1"),
        ("half", TypeError, "p must be a probability"),
        (True, TypeError, "p must be a probability"),
    ],
)
def test_probability_outside_zero_one_is_rejected(p: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Dropout(p, rng=np.random.default_rng(0))


def test_backward_before_forward_and_wrong_dy_shape_raise() -> None:
    layer = Dropout(0.5, rng=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 2)))
    layer.forward(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"expected dy of shape \(2, 2\)"):
        layer.backward(np.ones((2, 3)))


def test_dropout_requires_a_generator() -> None:
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        Dropout(0.5, rng=0)  # type: ignore[arg-type]
