"""Tests for reference_impl.layers.batchnorm: batch statistics in training, running ones at
inference, and a backward pass checked against centred differences and autograd."""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impl.gradcheck import check_module
from reference_impl.layers import BatchNorm
from tests.reference_impl._layers_support import assert_checked, assert_matches_oracle, gradient_checks, vjp
from tests.strategies import seeds

EPS = 1e-5


@st.composite
def batches(draw: st.DrawFn) -> np.ndarray:
    """(N, M) with N ≥ 2 whose every feature has a spread of order 1 (σ² ≫ ε)."""
    n = draw(st.integers(2, 8))
    m = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(seeds))
    x = rng.normal(size=(n, m)) * rng.uniform(0.5, 3.0, size=m) + rng.uniform(-2, 2, size=m)
    x[:2] = [[-1.0] * m, [1.0] * m] + x[:2] * 0.1  # two examples apart: no feature is flat
    return x


def layer_with(gamma: np.ndarray, beta: np.ndarray, **kwargs: Any) -> BatchNorm:
    return BatchNorm.from_arrays(gamma, beta, **kwargs)


def bn_train(x: Any, gamma: Any, beta: Any) -> Any:
    mean = anp.mean(x, axis=0)
    var = anp.mean((x - mean) ** 2, axis=0)
    return gamma * (x - mean) / anp.sqrt(var + EPS) + beta


def test_training_forward_normalises_each_feature_over_the_batch() -> None:
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 40.0], [7.0, 20.0]])
    y = layer_with(np.array([2.0, 1.0]), np.array([0.5, -1.0])).forward(x)
    # Feature 0: mean 4, variance 5; feature 1: mean 20, variance 150.
    np.testing.assert_allclose(y[:, 0], 2.0 * (x[:, 0] - 4.0) / np.sqrt(5.0 + EPS) + 0.5, rtol=1e-14)
    np.testing.assert_allclose(y[:, 1], (x[:, 1] - 20.0) / np.sqrt(150.0 + EPS) - 1.0, rtol=1e-14)


@given(x=batches())
def test_training_output_has_mean_beta_and_spread_gamma(x: np.ndarray) -> None:
    m = x.shape[1]
    gamma, beta = np.linspace(0.5, 2.0, m), np.linspace(-1.0, 1.0, m)
    y = layer_with(gamma, beta).forward(x)
    np.testing.assert_allclose(y.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), gamma * np.sqrt(x.var(axis=0) / (x.var(axis=0) + EPS)),
                               rtol=1e-10)


def test_running_statistics_move_towards_each_batch_with_momentum() -> None:
    layer = BatchNorm(2, momentum=0.9)
    np.testing.assert_array_equal(layer.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(layer.running_var, [1.0, 1.0])
    layer.forward(np.array([[0.0, 2.0], [4.0, 2.0]]))  # mean (2, 2), variance (4, 0)
    np.testing.assert_allclose(layer.running_mean, [0.2, 0.2], rtol=1e-15)
    np.testing.assert_allclose(layer.running_var, [1.3, 0.9], rtol=1e-15)
    layer.forward(np.array([[1.0, 0.0], [3.0, 0.0]]))  # mean (2, 0), variance (1, 0)
    np.testing.assert_allclose(layer.running_mean, [0.9 * 0.2 + 0.2, 0.9 * 0.2], rtol=1e-15)
    np.testing.assert_allclose(layer.running_var, [0.9 * 1.3 + 0.1, 0.9 * 0.9], rtol=1e-15)


def test_inference_uses_the_running_statistics_and_changes_nothing() -> None:
    layer = layer_with(np.array([2.0]), np.array([1.0]))
    layer.running_mean[...] = 3.0
    layer.running_var[...] = 4.0
    x = np.array([[3.0], [5.0], [-1.0]])
    y = layer.forward(x, training=False)
    np.testing.assert_allclose(y[:, 0], 2.0 * (x[:, 0] - 3.0) / np.sqrt(4.0 + EPS) + 1.0, rtol=1e-15)
    assert layer.running_mean[0] == 3.0 and layer.running_var[0] == 4.0
    # One example at inference is the same whatever else shares its batch.
    np.testing.assert_array_equal(layer.forward(x[:1], training=False), y[:1])


def test_many_training_batches_make_the_running_statistics_those_of_the_data() -> None:
    rng = np.random.default_rng(0)
    layer = BatchNorm(3, momentum=0.9)
    centre, scale = np.array([5.0, -2.0, 0.0]), np.array([3.0, 0.5, 1.0])
    for _ in range(300):
        layer.forward(centre + scale * rng.normal(size=(256, 3)))
    np.testing.assert_allclose(layer.running_mean, centre, atol=0.05)
    np.testing.assert_allclose(layer.running_var, scale**2, rtol=0.05)


@gradient_checks
@given(x=batches(), seed=seeds, training=st.booleans())
def test_backward_passes_the_gradient_check_for_x_gamma_and_beta(
        x: np.ndarray, seed: int, training: bool) -> None:
    rng = np.random.default_rng(seed)
    m = x.shape[1]
    layer = layer_with(rng.uniform(0.5, 2.0, m), rng.normal(size=m))
    layer.running_mean[...] = rng.normal(size=m)
    layer.running_var[...] = rng.uniform(0.5, 2.0, m)
    errors = check_module(layer, x, rng=rng, training=training)
    assert_checked(errors, {"x", "gamma", "beta"})


@given(x=batches(), seed=seeds)
def test_backward_matches_autograd(x: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = x.shape[1]
    gamma, beta = rng.uniform(0.5, 2.0, m), rng.normal(size=m)
    dy = rng.normal(size=x.shape)
    layer = layer_with(gamma, beta)
    layer.forward(x)
    assert_matches_oracle(layer.backward(dy), vjp(bn_train, (x, gamma, beta), dy, 0), "dx")
    assert_matches_oracle(layer.grads["gamma"], vjp(bn_train, (x, gamma, beta), dy, 1), "dgamma")
    assert_matches_oracle(layer.grads["beta"], vjp(bn_train, (x, gamma, beta), dy, 2), "dbeta")


@given(x=batches(), seed=seeds)
def test_dx_is_blind_to_shifting_and_scaling_a_feature_over_the_batch(x: np.ndarray, seed: int) -> None:
    # ε shrinks x̂'s spread below 1 by a factor σ²/(σ² + ε): a tiny ε makes the law exact.
    layer = BatchNorm(x.shape[1], eps=1e-12)
    x_hat = layer.forward(x)  # γ = 1, β = 0
    dx = layer.backward(np.random.default_rng(seed).normal(size=x.shape))
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose((dx * x_hat).sum(axis=0), 0.0, atol=1e-9)


def test_parameter_gradients_accumulate_over_two_backward_passes() -> None:
    rng = np.random.default_rng(1)
    layer = layer_with(np.array([1.5, 0.5]), np.array([0.0, 1.0]))
    x1, x2 = rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    dy1, dy2 = rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    layer.forward(x1)
    layer.backward(dy1)
    first = {k: v.copy() for k, v in layer.grads.items()}
    layer.forward(x2)
    layer.backward(dy2)
    alone = layer_with(np.array([1.5, 0.5]), np.array([0.0, 1.0]))
    alone.forward(x2)
    alone.backward(dy2)
    for name in ("gamma", "beta"):
        np.testing.assert_allclose(layer.grads[name], first[name] + alone.grads[name], rtol=1e-14)


def test_forward_keeps_float32_and_leaves_its_input_alone() -> None:
    x = np.array([[1.0, 2.0], [3.0, 5.0]], dtype=np.float32)
    before = x.copy()
    y = BatchNorm(2).forward(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: BatchNorm(2).forward(np.ones((1, 2))), ValueError, "at least 2 examples"),
    (lambda: BatchNorm(2).forward(np.ones((3, 4))), ValueError, r"expected x of shape \(N, 2\)"),
    (lambda: BatchNorm(2).forward(np.ones(2)), ValueError, "2 dimension"),
    (lambda: BatchNorm(2).backward(np.ones((3, 2))), RuntimeError, "before forward"),
    (lambda: BatchNorm(2, momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda: BatchNorm(2, eps=0.0), ValueError, "eps must be a finite number > 0"),
    (lambda: BatchNorm(0), ValueError, "d must be at least 1"),
])
def test_bad_input_is_refused_naming_the_fix(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_from_arrays_copies_gamma_and_beta_and_keeps_their_float_type() -> None:
    gamma, beta = np.array([1.0, 2.0], dtype=np.float32), np.array([0.0, -1.0], dtype=np.float32)
    layer = BatchNorm.from_arrays(gamma, beta, momentum=0.5)
    assert layer.params["gamma"].dtype == np.float32 and layer.momentum == 0.5
    gamma[0] = 7.0
    np.testing.assert_array_equal(layer.params["gamma"], [1.0, 2.0])
    assert BatchNorm.from_arrays([1, 2], [0, 0]).params["gamma"].dtype == np.float64
    with pytest.raises(ValueError, match="beta must have gamma's shape"):
        BatchNorm.from_arrays([1.0, 2.0], [0.0])


def test_a_single_example_runs_at_inference() -> None:
    y = BatchNorm(3).forward(np.array([[1.0, 2.0, 3.0]]), training=False)
    np.testing.assert_allclose(y, [[1.0, 2.0, 3.0]] / np.sqrt(1.0 + EPS), rtol=1e-15)
