"""Tests for reference_impl.layers.zoo: add, multiply, sum, max and switch, whose
backward passes copy, swap, broadcast, route and select the gradient."""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impl.gradcheck import check_module
from reference_impl.layers import Add, Max, Multiply, Sum, Switch
from tests.reference_impl._layers_support import (
    assert_checked,
    assert_matches_oracle,
    gradient_checks,
    separate_max,
    vjp,
)
from tests.strategies import matrices, seeds

axes = st.sampled_from([0, 1, -1])


@st.composite
def pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    a = draw(matrices(away_from=0.0))
    b = draw(matrices(rows=a.shape[0], cols=a.shape[1], away_from=0.0))
    return a, b


@gradient_checks
@given(ab=pairs(), seed=seeds)
def test_add_sends_the_gradient_to_both_inputs(ab: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    a, b = ab
    rng = np.random.default_rng(seed)
    assert_checked(check_module(Add(), a, b, rng=rng), {"a", "b"})
    layer, dy = Add(), rng.standard_normal(a.shape)
    np.testing.assert_array_equal(layer.forward(a, b), a + b)
    da, db = layer.backward(dy)
    np.testing.assert_array_equal(da, dy)
    np.testing.assert_array_equal(db, dy)


@gradient_checks
@given(ab=pairs(), seed=seeds)
def test_multiply_scales_each_gradient_by_the_other_input(
    ab: tuple[np.ndarray, np.ndarray], seed: int
) -> None:
    a, b = ab
    rng = np.random.default_rng(seed)
    assert_checked(check_module(Multiply(), a, b, rng=rng), {"a", "b"})
    layer, dy = Multiply(), rng.standard_normal(a.shape)
    layer.forward(a, b)
    da, db = layer.backward(dy)
    assert_matches_oracle(da, vjp(lambda a, b: a * b, (a, b), dy, 0), "da")
    assert_matches_oracle(db, vjp(lambda a, b: a * b, (a, b), dy, 1), "db")


def test_multiply_by_a_closed_gate_blocks_the_gradient() -> None:
    layer = Multiply()
    layer.forward(np.array([[2.0, 3.0]]), np.array([[0.0, 1.0]]))
    da, db = layer.backward(np.array([[1.0, 1.0]]))
    np.testing.assert_array_equal(da, [[0.0, 1.0]])
    np.testing.assert_array_equal(db, [[2.0, 3.0]])


@gradient_checks
@given(x=matrices(away_from=0.0), axis=axes, keepdims=st.booleans(), seed=seeds)
def test_sum_broadcasts_the_gradient_back(x: np.ndarray, axis: int, keepdims: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    layer = Sum(axis=axis, keepdims=keepdims)
    assert_checked(check_module(layer, x, rng=rng), {"x"})
    y = layer.forward(x)
    np.testing.assert_allclose(y, x.sum(axis=axis, keepdims=keepdims))
    dy = rng.standard_normal(y.shape)

    def oracle(v: Any) -> Any:
        return anp.sum(v, axis=axis, keepdims=keepdims)

    assert_matches_oracle(layer.backward(dy), vjp(oracle, (x,), dy), "dx")


@gradient_checks
@given(x=matrices(), axis=axes, seed=seeds)
def test_max_routes_the_gradient_to_the_arg_max(x: np.ndarray, axis: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = separate_max(x, axis=axis)
    layer = Max(axis=axis)
    assert_checked(check_module(layer, x, rng=rng), {"x"})
    y = layer.forward(x)
    np.testing.assert_array_equal(y, x.max(axis=axis))
    dy = rng.standard_normal(y.shape)
    assert_matches_oracle(layer.backward(dy), vjp(lambda v: anp.max(v, axis=axis), (x,), dy), "dx")


def test_max_gives_a_tie_to_the_first_arg_max_only() -> None:
    layer = Max()
    layer.forward(np.array([[3.0, 1.0, 3.0], [0.0, 2.0, 2.0]]))
    np.testing.assert_array_equal(layer.backward(np.array([5.0, 7.0])), [[5.0, 0.0, 0.0], [0.0, 7.0, 0.0]])


@gradient_checks
@given(ab=pairs(), seed=seeds)
def test_switch_sends_the_gradient_down_the_chosen_branch(
    ab: tuple[np.ndarray, np.ndarray], seed: int
) -> None:
    a, b = ab
    rng = np.random.default_rng(seed)
    cond = rng.random(a.shape) < 0.5
    assert_checked(check_module(Switch(), cond, a, b, rng=rng), {"a", "b"})
    layer, dy = Switch(), rng.standard_normal(a.shape)
    np.testing.assert_array_equal(layer.forward(cond, a, b), np.where(cond, a, b))
    dcond, da, db = layer.backward(dy)
    assert dcond is None
    oracle = (lambda a, b: anp.where(cond, a, b), (a, b))
    assert_matches_oracle(da, vjp(*oracle, dy, 0), "da")
    assert_matches_oracle(db, vjp(*oracle, dy, 1), "db")


def test_switch_broadcasts_a_condition_per_column() -> None:
    layer = Switch()
    y = layer.forward(np.array([True, False]), np.ones((3, 2)), np.zeros((3, 2)))
    np.testing.assert_array_equal(y, [[1.0, 0.0]] * 3)
    _, da, db = layer.backward(np.full((3, 2), 2.0))
    np.testing.assert_array_equal(da, [[2.0, 0.0]] * 3)
    np.testing.assert_array_equal(db, [[0.0, 2.0]] * 3)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: Add().forward(np.ones((2, 3)), np.ones((3, 2))), ValueError, r"same shape"),
        (lambda: Multiply().forward(np.ones(2), np.ones(3)), ValueError, r"got \(3,\)"),
        (lambda: Sum(axis=2).forward(np.ones((2, 3))), ValueError, "axis=2 is out of range"),
        (lambda: Max(axis=1.0).forward(np.ones((2, 3))), TypeError, "axis must be an int"),  # type: ignore[arg-type]
        (
            lambda: Switch().forward(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2))),
            TypeError,
            "cond must be a boolean array",
        ),
        (
            lambda: Switch().forward(np.ones(3, bool), np.ones((2, 2)), np.ones((2, 2))),
            ValueError,
            r"does not broadcast to a of shape \(2, 2\)",
        ),
        (lambda: Add().forward(np.array([np.nan]), np.ones(1)), ValueError, "a contains NaN"),
    ],
)
def test_bad_input_raises_naming_the_problem(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_backward_with_a_dy_of_the_wrong_shape_names_the_expected_shape() -> None:
    layer = Sum(axis=0)
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"expected dy of shape \(3,\)"):
        layer.backward(np.ones(4))
