"""Tests for reference_impl.gradcheck: finite differences, relative error, and the checks
that must accept correct backward passes and catch wrong ones, naming where."""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given

from reference_impl.gradcheck import (
    GradientCheckError,
    check_gradient,
    check_module,
    numerical_gradient,
    relative_error,
)
from reference_impl.layers import Dropout, Linear, Multiply, Sequential, SoftmaxCrossEntropy, Tanh
from tests.reference_impl._layers_support import assert_checked, assert_matches_oracle, gradient_checks, vjp
from tests.strategies import matrices, seeds


def smooth(x: Any) -> Any:
    """A smooth test function (N, M) -> (N, M) coupling every entry of a row."""
    return anp.tanh(x) * anp.sum(x**2, axis=1, keepdims=True)


# numerical_gradient


@pytest.mark.parametrize("order", [2, 4])
def test_numerical_gradient_of_sum_of_squares_is_twice_x(order: int) -> None:
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -0.25]])
    got = numerical_gradient(lambda v: float(np.sum(v**2)), x, order=order)
    np.testing.assert_allclose(got, 2 * x, rtol=1e-9, atol=1e-9)


@gradient_checks
@given(x=matrices(), seed=seeds)
def test_numerical_gradient_is_the_vector_jacobian_product_of_autograd(x: np.ndarray, seed: int) -> None:
    dy = np.random.default_rng(seed).standard_normal(x.shape)
    got = numerical_gradient(lambda v: smooth(v), x.copy(), dy, eps=1e-4, order=4)
    np.testing.assert_allclose(got, vjp(smooth, (x,), dy), rtol=1e-7, atol=1e-8)


def test_numerical_gradient_uses_ones_when_dy_is_none() -> None:
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    expected = vjp(smooth, (x,), np.ones_like(x))
    np.testing.assert_allclose(numerical_gradient(smooth, x), expected, rtol=1e-6, atol=1e-8)


def test_numerical_gradient_ignores_dy_when_f_returns_a_float() -> None:
    x = np.array([1.0, 2.0])
    got = numerical_gradient(lambda v: float(np.sum(v**3)), x, dy=np.array([5.0, 7.0]))
    np.testing.assert_allclose(got, 3 * x**2, rtol=1e-8)


def test_numerical_gradient_restores_x_after_every_perturbation() -> None:
    x = np.array([[0.1, 0.2], [0.3, 0.4]])
    before = x.copy()
    seen: list[np.ndarray] = []

    def f(v: np.ndarray) -> float:
        seen.append(v.copy())
        return float(np.sum(np.sin(v)))

    numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    # Each call perturbs exactly one entry of the original.
    assert all(np.count_nonzero(s != before) == 1 for s in seen)


def test_numerical_gradient_restores_x_when_f_raises() -> None:
    x = np.array([1.0, 2.0])

    def f(v: np.ndarray) -> float:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_copes_with_f_returning_x_itself() -> None:
    x = np.array([[1.0, -2.0], [0.5, 4.0]])
    np.testing.assert_allclose(numerical_gradient(lambda v: v, x), np.ones_like(x), rtol=1e-9)


@pytest.mark.parametrize(
    ("x", "kwargs", "error", "message"),
    [
        (np.ones(3, dtype=np.float32), {}, TypeError, "float64"),
        ([1.0, 2.0], {}, TypeError, "numpy array"),
        (np.ones(3), {"eps": 0.0}, ValueError, "eps"),
        (np.ones(3), {"order": 3}, ValueError, "order must be 2 or 4"),
        (np.ones(3), {"dy": np.ones(4)}, ValueError, r"dy of shape \(3,\)"),
        (np.array([1.0, np.nan]), {}, ValueError, "NaN"),
    ],
)
def test_numerical_gradient_rejects_bad_input_naming_the_problem(
    x: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        numerical_gradient(lambda v: v * 2.0, x, **kwargs)


def test_numerical_gradient_rejects_a_read_only_x() -> None:
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        numerical_gradient(lambda v: v, x)


# relative_error


def test_relative_error_is_the_worst_entry_of_the_elementwise_ratio() -> None:
    a = np.array([1.0, 0.1234, 100.0])
    b = np.array([1.0, 0.5678, 100.1])
    expected = abs(0.1234 - 0.5678) / (0.1234 + 0.5678)
    assert relative_error(a, b) == pytest.approx(expected)
    assert relative_error(b, a) == pytest.approx(expected)


def test_relative_error_is_not_hidden_by_large_correct_entries() -> None:
    a = np.array([1e6, 1e6, 1e-3])
    b = np.array([1e6, 1e6, 2e-3])
    assert relative_error(a, b) == pytest.approx(1 / 3)


def test_relative_error_of_matching_zeros_is_zero_and_of_a_sign_flip_is_one() -> None:
    assert relative_error(np.zeros(4), np.zeros(4)) == 0.0
    assert relative_error(np.array([2.0]), np.array([-2.0])) == 1.0
    assert relative_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_relative_error_counts_nan_and_inf_as_infinitely_wrong() -> None:
    assert relative_error(np.array([1.0, np.inf]), np.array([1.0, 1.0])) == np.inf
    assert relative_error(np.array([np.nan, 1.0]), np.array([1.0, 1.0])) == np.inf


def test_relative_error_rejects_shapes_that_differ() -> None:
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        relative_error(np.zeros(2), np.zeros(3))


# GradientCheckError, check_gradient


def test_gradient_check_error_message_names_argument_index_values_and_error() -> None:
    err = GradientCheckError("W", (2, 3), 0.1234, 0.5678, 0.643)
    assert isinstance(err, AssertionError)
    assert str(err) == (
        "gradient of 'W' wrong at index (2, 3): analytic 0.1234, numeric 0.5678 (relative error 6.4e-01)"
    )
    assert (err.name, err.index, err.analytic, err.numeric) == ("W", (2, 3), 0.1234, 0.5678)


def affine(x: Any, W: Any) -> Any:
    return anp.tanh(anp.dot(x, W))


@gradient_checks
@given(seed=seeds)
def test_check_gradient_accepts_correct_gradients(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, W, dy = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    analytic = {"x": vjp(affine, (x, W), dy, 0), "W": vjp(affine, (x, W), dy, 1)}
    errors = check_gradient(affine, {"x": x, "W": W}, analytic, dy)
    assert_checked(errors, {"x", "W"})


def test_check_gradient_catches_a_wrong_entry_and_names_argument_and_index() -> None:
    rng = np.random.default_rng(0)
    x, W, dy = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    dW = vjp(affine, (x, W), dy, 1)
    dW[2, 3] += 0.5
    inputs = {"x": x.copy(), "W": W.copy()}
    with pytest.raises(GradientCheckError, match=r"'W' wrong at index \(2, 3\)") as info:
        check_gradient(affine, inputs, {"x": vjp(affine, (x, W), dy, 0), "W": dW}, dy)
    assert info.value.name == "W" and info.value.index == (2, 3)
    assert info.value.analytic == pytest.approx(dW[2, 3])
    assert info.value.rel_error > 1e-3
    np.testing.assert_array_equal(inputs["W"], W)
    np.testing.assert_array_equal(inputs["x"], x)


def test_check_gradient_holds_inputs_without_an_analytic_gradient_fixed() -> None:
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 0.3, -0.2]])
    labels = np.array([0, 2])

    def loss(z: np.ndarray, y: np.ndarray) -> float:
        return SoftmaxCrossEntropy().forward(z, y)

    module = SoftmaxCrossEntropy()
    module.forward(logits, labels)
    errors = check_gradient(loss, {"z": logits, "y": labels}, {"z": module.backward()})
    assert_checked(errors, {"z"})


@pytest.mark.parametrize(
    ("analytic", "error", "message"),
    [
        ({"v": np.zeros(3)}, ValueError, "name no input"),
        ({"x": np.zeros(4)}, ValueError, r"shape \(4,\), expected \(3,\)"),
        ({"x": None}, ValueError, "no analytic gradient"),
    ],
)
def test_check_gradient_rejects_unusable_analytic_gradients(
    analytic: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        check_gradient(lambda x: x * 2, {"x": np.ones(3)}, analytic)


def test_check_gradient_reports_a_nan_gradient_as_wrong() -> None:
    with pytest.raises(GradientCheckError, match=r"index \(1,\)"):
        check_gradient(lambda x: x * 2, {"x": np.ones(3)}, {"x": np.array([2.0, np.nan, 2.0])})


# check_module


class WrongBias(Linear):
    """db averaged instead of summed over the batch: a classic mistake."""

    def backward(self, dy: Any) -> np.ndarray:
        dx = super().backward(dy)
        self.grads["b"] /= np.asarray(dy).shape[0]
        return dx


class WrongInput(Linear):
    """dx computed with W instead of Wᵀ on a square layer."""

    def backward(self, dy: Any) -> np.ndarray:
        super().backward(dy)
        return np.asarray(dy) @ self.params["W"]


class SwappedMultiply(Multiply):
    """Returns (dy ⊙ a, dy ⊙ b): each factor scaled by itself, not by the other."""

    def backward(self, dy: Any) -> tuple[np.ndarray, np.ndarray]:
        db, da = super().backward(dy)
        return da, db


def test_check_module_catches_a_wrong_parameter_gradient_and_names_it() -> None:
    rng = np.random.default_rng(1)
    layer = WrongBias(3, 2, rng=rng)
    with pytest.raises(GradientCheckError, match=r"gradient of 'b' wrong at index \(\d,\)"):
        check_module(layer, rng.standard_normal((4, 3)), rng=rng)


def test_check_module_catches_a_wrong_input_gradient_and_names_it() -> None:
    rng = np.random.default_rng(2)
    with pytest.raises(GradientCheckError, match=r"gradient of 'x' wrong at index \(\d, \d\)"):
        check_module(WrongInput(3, 3, rng=rng), rng.standard_normal((2, 3)), rng=rng)


def test_check_module_names_the_wrong_input_of_a_multi_input_module() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)) + 5.0
    with pytest.raises(GradientCheckError, match="gradient of 'a' wrong"):
        check_module(SwappedMultiply(), a, b, rng=rng)


@gradient_checks
@given(seed=seeds)
def test_check_module_accepts_correct_single_and_multi_input_modules(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4))
    assert_checked(check_module(Linear(4, 2, rng=rng), x, rng=rng), {"x", "W", "b"})
    assert_checked(check_module(Multiply(), x, x[::-1].copy(), rng=rng), {"a", "b"})


def test_check_module_checks_a_loss_against_its_scalar_value() -> None:
    rng = np.random.default_rng(4)
    errors = check_module(SoftmaxCrossEntropy(), rng.standard_normal((5, 3)), [0, 2, 1, 1, 0], rng=rng)
    assert_checked(errors, {"logits"})


def test_check_module_replays_the_same_dropout_mask_at_every_evaluation() -> None:
    rng = np.random.default_rng(5)
    model = Sequential(Linear(4, 6, rng=rng), Dropout(0.5, rng=rng), Linear(6, 2, rng=rng))
    errors = check_module(model, rng.standard_normal((3, 4)), rng=rng)
    assert_checked(errors, {"x", "0.W", "0.b", "2.W", "2.b"})


def test_check_module_leaves_inputs_and_parameters_as_they_were() -> None:
    rng = np.random.default_rng(6)
    layer, x = Linear(3, 2, rng=rng), rng.standard_normal((4, 3))
    x_before, W_before = x.copy(), layer.params["W"].copy()
    check_module(layer, x, rng=rng)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(layer.params["W"], W_before)


def test_check_module_agrees_with_autograd_on_what_it_accepts() -> None:
    rng = np.random.default_rng(7)
    model = Sequential(Linear(3, 4, rng=rng), Tanh())
    x = rng.standard_normal((2, 3))
    check_module(model, x, rng=np.random.default_rng(8))
    dy = np.random.default_rng(8).standard_normal((2, 4))
    W, b = model[0].params["W"], model[0].params["b"]
    oracle = vjp(lambda W: anp.tanh(anp.dot(x, W) + b), (W,), dy)
    assert_matches_oracle(model[0].grads["W"], oracle, "dW left by check_module")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda rng: (Linear(3, 2, rng=rng), np.ones((2, 3), np.float32)), TypeError, "float64"),
        (
            lambda rng: (Linear(3, 2, rng=rng, dtype=np.float32), np.ones((2, 3))),
            TypeError,
            "parameter 'W' is float32",
        ),
        (lambda rng: (Tanh(), np.array([[np.nan]])), ValueError, "NaN"),
    ],
)
def test_check_module_rejects_bad_input_naming_the_problem(
    make: Any, error: type[Exception], message: str
) -> None:
    rng = np.random.default_rng(9)
    module, x = make(rng)
    with pytest.raises(error, match=message):
        check_module(module, x, rng=rng)


def test_check_module_demands_a_generator_for_dy() -> None:
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        check_module(Tanh(), np.ones((2, 2)), rng=42)  # type: ignore[arg-type]


def test_check_module_rejects_something_that_is_not_a_module() -> None:
    with pytest.raises(TypeError, match="must be a Module"):
        check_module(np.tanh, np.ones(2), rng=np.random.default_rng(0))  # type: ignore[arg-type]
