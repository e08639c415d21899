"""Tests for reference_impl.layers.loss: the fused softmax cross-entropy module and the
squared / absolute error modules."""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impl.gradcheck import check_module
from reference_impl.layers import (
    AbsoluteError,
    L1Loss,
    MSELoss,
    SoftmaxCrossEntropy,
    SquaredError,
)
from tests.reference_impl._layers_support import assert_checked, assert_matches_oracle, gradient_checks, vjp
from tests.strategies import matrices, seeds


def cross_entropy_oracle(z: Any, y: np.ndarray) -> Any:
    shifted = z - anp.max(z, axis=1, keepdims=True)
    logp = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
    return -anp.mean(logp[np.arange(len(y)), y])


@st.composite
def logits_and_labels(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    # Logits within ±3 keep every probability above e^-6, so each gradient entry stays
    # well above the rounding floor of centred differences (extremes are tested below).
    z = draw(matrices())
    labels = draw(st.lists(st.integers(0, z.shape[1] - 1), min_size=z.shape[0], max_size=z.shape[0]))
    return z, np.array(labels)


def test_cross_entropy_of_the_course_example_is_in_nats() -> None:
    # Probabilities (0.3, 0.3, 0.4) come from logits log p; the loss is −ln 0.4.
    logits = np.log(np.array([[0.3, 0.3, 0.4]]))
    assert SoftmaxCrossEntropy().forward(logits, np.array([2])) == pytest.approx(-np.log(0.4))


@gradient_checks
@given(data=logits_and_labels(), seed=seeds)
def test_cross_entropy_gradient_passes_the_check_and_matches_autograd(
    data: tuple[np.ndarray, np.ndarray], seed: int
) -> None:
    z, y = data
    loss = SoftmaxCrossEntropy()
    assert_checked(check_module(loss, z, y, rng=np.random.default_rng(seed)), {"logits"})
    value = loss.forward(z, y)
    assert value == pytest.approx(float(cross_entropy_oracle(z, y)), rel=1e-12, abs=1e-15)
    assert_matches_oracle(loss.backward(), vjp(cross_entropy_oracle, (z, y), 1.0), "dlogits")


def test_backward_is_p_minus_one_hot_over_n_scaled_by_dy() -> None:
    loss = SoftmaxCrossEntropy()
    loss.forward(np.zeros((2, 4)), np.array([1, 3]))
    expected = (np.full((2, 4), 0.25) - np.eye(4)[[1, 3]]) / 2
    np.testing.assert_allclose(loss.backward(), expected)
    np.testing.assert_allclose(loss.backward(3.0), 3.0 * expected)


def test_one_hot_targets_give_the_same_loss_and_gradient_as_labels() -> None:
    z = np.array([[1.0, -2.0, 0.5], [0.0, 4.0, -1.0]])
    by_label, by_row = SoftmaxCrossEntropy(), SoftmaxCrossEntropy()
    assert by_label.forward(z, np.array([2, 1])) == pytest.approx(by_row.forward(z, np.eye(3)[[2, 1]]))
    np.testing.assert_allclose(by_label.backward(), by_row.backward())


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_cross_entropy_stays_finite_for_logits_of_plus_minus_1000(sign: float) -> None:
    z = sign * np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 500.0]])
    loss = SoftmaxCrossEntropy()
    value = loss.forward(z, np.array([1, 0]))
    grad = loss.backward()
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value == pytest.approx(float(cross_entropy_oracle(z, np.array([1, 0]))))


@pytest.mark.parametrize(
    ("logits", "y", "error", "message"),
    [
        (np.zeros((2, 3)), np.array([0, 3]), ValueError, r"label 3 outside \[0, 3\)"),
        (np.zeros((2, 3)), np.array([0, -1]), ValueError, "label -1 outside"),
        (np.zeros((2, 3)), np.array([0, 1, 2]), ValueError, "expected y with 2 labels"),
        (np.zeros(3), np.array([0]), ValueError, r"logits with 2 dimension\(s\)"),
        (np.array([[0.0, np.nan]]), np.array([0]), ValueError, "logits contains NaN"),
        (np.zeros((2, 3)), np.array([0.5, 1.0]), TypeError, "integer class labels"),
    ],
)
def test_cross_entropy_rejects_bad_input_naming_the_problem(
    logits: np.ndarray, y: np.ndarray, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        SoftmaxCrossEntropy().forward(logits, y)


def test_loss_backward_before_forward_or_with_array_dy_raises() -> None:
    loss = SoftmaxCrossEntropy()
    with pytest.raises(RuntimeError, match="before forward"):
        loss.backward()
    loss.forward(np.zeros((1, 2)), np.array([0]))
    with pytest.raises(TypeError, match="dy of a loss must be a real scalar"):
        loss.backward(np.ones(2))


# Regression losses

REGRESSION = {
    "squared": (SquaredError, lambda a, b: anp.mean((a - b) ** 2)),
    "absolute": (AbsoluteError, lambda a, b: anp.mean(anp.abs(a - b))),
}


@pytest.mark.parametrize("name", sorted(REGRESSION))
@gradient_checks
@given(y_hat=matrices(rows=4, cols=3), seed=seeds)
def test_regression_losses_pass_the_check_and_match_autograd(name: str, y_hat: np.ndarray, seed: int) -> None:
    make, oracle = REGRESSION[name]
    rng = np.random.default_rng(seed)
    # Targets at least 0.1 from y_hat keep the absolute value away from its kink.
    y = y_hat + rng.choice([-1.0, 1.0], y_hat.shape) * rng.uniform(0.1, 2.0, y_hat.shape)
    loss = make()
    assert_checked(check_module(loss, y_hat, y, rng=rng), {"y_hat"})
    assert loss.forward(y_hat, y) == pytest.approx(float(oracle(y_hat, y)), rel=1e-12)
    assert_matches_oracle(loss.backward(2.0), vjp(oracle, (y_hat, y), 2.0), f"{name} dy_hat")


def test_squared_and_absolute_error_of_a_worked_example() -> None:
    y_hat, y = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[1.0, 0.0], [4.0, 5.0]])
    assert SquaredError().forward(y_hat, y) == pytest.approx((0 + 4 + 1 + 0) / 4)
    assert AbsoluteError().forward(y_hat, y) == pytest.approx((0 + 2 + 1 + 0) / 4)


def test_mse_and_l1_are_the_squared_and_absolute_errors() -> None:
    assert MSELoss is SquaredError and L1Loss is AbsoluteError


def test_regression_loss_rejects_targets_of_another_shape() -> None:
    with pytest.raises(ValueError, match=r"expected y of shape \(2, 3\)"):
        SquaredError().forward(np.zeros((2, 3)), np.zeros((3, 2)))
