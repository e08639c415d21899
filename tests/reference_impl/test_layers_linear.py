"""Tests for reference_impl.layers.linear: y = x W + b, its gradients, init and checks."""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given

from reference_impl import initializers
from reference_impl.gradcheck import check_module
from reference_impl.layers import Linear
from tests.reference_impl._layers_support import assert_checked, assert_matches_oracle, gradient_checks, vjp
from tests.strategies import matrices, seeds, small_dims


def affine(x: Any, W: Any, b: Any) -> Any:
    return anp.dot(x, W) + b


def test_forward_is_x_times_W_plus_b() -> None:
    layer = Linear(2, 3, rng=np.random.default_rng(0))
    layer.params["W"][...] = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    layer.params["b"][...] = [0.5, -0.5, 0.0]
    y = layer.forward(np.array([[1.0, -1.0]]))
    np.testing.assert_array_equal(y, [[-2.5, -3.5, -3.0]])


def test_weights_are_d_in_by_d_out_and_biases_start_at_bias_init() -> None:
    layer = Linear(784, 128, rng=np.random.default_rng(0), bias_init=0.01)
    assert layer.params["W"].shape == (784, 128)
    np.testing.assert_array_equal(layer.params["b"], np.full(128, 0.01))
    assert set(layer.grads) == {"W", "b"}
    assert not layer.grads["W"].any()


def test_init_by_name_draws_from_that_initializer_with_the_same_generator() -> None:
    layer = Linear(5, 4, rng=np.random.default_rng(3), init="kaiming_normal")
    expected = initializers.kaiming_normal((5, 4), rng=np.random.default_rng(3))
    np.testing.assert_array_equal(layer.params["W"], expected)


def test_init_may_be_a_callable() -> None:
    layer = Linear(2, 2, rng=np.random.default_rng(0), init=lambda shape, **_: np.eye(*shape))
    np.testing.assert_array_equal(layer.params["W"], np.eye(2))


# Entries kept 1e-3 away from 0 keep every gradient entry above the check's rounding floor.
@gradient_checks
@given(x=matrices(away_from=0.0), d_out=small_dims, seed=seeds)
def test_backward_passes_the_gradient_check_for_every_argument(x: np.ndarray, d_out: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    layer = Linear(x.shape[1], d_out, rng=rng, bias_init=0.1)
    assert_checked(check_module(layer, x, rng=rng), {"x", "W", "b"})


@given(x=matrices(), d_out=small_dims, seed=seeds)
def test_backward_matches_autograd(x: np.ndarray, d_out: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    layer = Linear(x.shape[1], d_out, rng=rng)
    W, b = layer.params["W"], layer.params["b"]
    dy = rng.standard_normal((x.shape[0], d_out))
    layer.forward(x)
    dx = layer.backward(dy)
    assert_matches_oracle(dx, vjp(affine, (x, W, b), dy, 0), "dx")
    assert_matches_oracle(layer.grads["W"], vjp(affine, (x, W, b), dy, 1), "dW")
    assert_matches_oracle(layer.grads["b"], vjp(affine, (x, W, b), dy, 2), "db")


def test_float32_layer_on_float32_input_stays_float32() -> None:
    layer = Linear(3, 2, rng=np.random.default_rng(0), dtype=np.float32)
    assert layer.params["W"].dtype == np.float32 and layer.params["b"].dtype == np.float32
    y = layer.forward(np.ones((4, 3), dtype=np.float32))
    assert y.dtype == np.float32
    dx = layer.backward(np.ones((4, 2), dtype=np.float32))
    assert dx.dtype == np.float32 and layer.grads["W"].dtype == np.float32


def test_zero_grad_zeroes_in_place_so_held_pairs_stay_valid() -> None:
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    pairs = layer.parameters()
    layer.forward(np.ones((1, 3)))
    layer.backward(np.ones((1, 2)))
    layer.zero_grad()
    layer.forward(np.ones((1, 3)))
    layer.backward(np.ones((1, 2)))
    np.testing.assert_array_equal(pairs[1][1], [1.0, 1.0])
    assert pairs[1][1] is layer.grads["b"]


@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        (np.ones((4, 5)), ValueError, r"expected x of shape \(N, 3\), got \(4, 5\)"),
        (np.ones(3), ValueError, r"x with 2 dimension\(s\), got shape \(3,\)"),
        (np.array([[1.0, np.nan, 0.0]]), ValueError, "contains NaN"),
        (np.array([["a", "b", "c"]]), TypeError, "real numbers"),
    ],
)
def test_forward_rejects_bad_x_naming_the_problem(
    x: np.ndarray, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Linear(3, 2, rng=np.random.default_rng(0)).forward(x)


def test_backward_rejects_dy_of_the_wrong_shape_naming_both_shapes() -> None:
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"expected dy of shape \(4, 2\).*got \(4, 3\)"):
        layer.backward(np.ones((4, 3)))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"d_in": 0}, ValueError, "d_in must be at least 1, got 0"),
        ({"d_out": 2.5}, TypeError, "d_out must be an int, got float"),
        ({"rng": 0}, TypeError, r"numpy\.random\.Generator"),
        ({"init": "zeros_please"}, ValueError, "unknown initializer 'zeros_please'"),
        ({"bias_init": float("inf")}, ValueError, "bias_init must be finite"),
        ({"dtype": np.int32}, TypeError, "float32 or float64"),
    ],
)
def test_constructor_rejects_bad_arguments_naming_them(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    args: dict[str, Any] = {"d_in": 3, "d_out": 2, "rng": np.random.default_rng(0)}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        Linear(args.pop("d_in"), args.pop("d_out"), **args)


def test_repr_shows_the_shape() -> None:
    assert repr(Linear(3, 2, rng=np.random.default_rng(0))) == ("Linear(d_in=3, d_out=2, dtype=float64)")


def test_a_first_layer_without_input_grad_skips_dx_but_keeps_parameter_gradients() -> None:
    from reference_impl.layers import Linear, ReLU, Sequential

    rng = np.random.default_rng(3)
    x, dy = rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    full = Sequential(Linear(4, 3, rng=np.random.default_rng(0)), ReLU(), Linear(3, 2, rng=np.random.default_rng(1)))
    lean = Sequential(Linear(4, 3, rng=np.random.default_rng(0)), ReLU(), Linear(3, 2, rng=np.random.default_rng(1)))
    lean[0].input_grad = False
    full.forward(x)
    lean.forward(x)
    assert full.backward(dy) is not None
    assert lean.backward(dy) is None
    for (_, _, g_full), (_, _, g_lean) in zip(full.named_parameters(), lean.named_parameters(), strict=True):
        np.testing.assert_allclose(g_lean, g_full)
    lean.forward(x)
    lean.backward(dy)  # accumulates: twice the gradient after two backward passes
    np.testing.assert_allclose(lean[0].grads["W"], 2 * full[0].grads["W"])
