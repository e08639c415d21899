"""The contract every layer in reference_impl.layers keeps: inputs are never mutated,
gradients accumulate until zero_grad, float32 stays float32, and backward without a
forward pass, or with a dy of the wrong shape, fails loudly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import reference_impl
from reference_impl import layers
from reference_impl.layers import (
    ELU,
    SELU,
    AbsoluteError,
    Add,
    Dropout,
    Identity,
    LeakyReLU,
    Linear,
    Max,
    Maxout,
    Multiply,
    PReLU,
    ReLU,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropy,
    SquaredError,
    Sum,
    Switch,
    Tanh,
    mlp,
)
from reference_impl.layers.base import Module

Rng = np.random.Generator
Factory = Callable[[Rng, Any], Module]
Inputs = Callable[[Rng, Any], tuple[Any, ...]]


def x_2d(rng: Rng, dtype: Any = np.float64, shape: tuple[int, int] = (4, 6)) -> np.ndarray:
    # Magnitudes in [0.1, 2] keep every kink (0 for ReLU, ties for max) out of reach.
    return (rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)).astype(dtype)


def one(rng: Rng, dtype: Any) -> tuple[Any, ...]:
    return (x_2d(rng, dtype),)


def two(rng: Rng, dtype: Any) -> tuple[Any, ...]:
    return x_2d(rng, dtype), x_2d(rng, dtype)


CASES: dict[str, tuple[Factory, Inputs]] = {
    "Linear": (lambda rng, dt: Linear(6, 3, rng=rng, dtype=dt), one),
    "Identity": (lambda rng, dt: Identity(), one),
    "Sigmoid": (lambda rng, dt: Sigmoid(), one),
    "Tanh": (lambda rng, dt: Tanh(), one),
    "ReLU": (lambda rng, dt: ReLU(), one),
    "LeakyReLU": (lambda rng, dt: LeakyReLU(0.1), one),
    "ELU": (lambda rng, dt: ELU(), one),
    "SELU": (lambda rng, dt: SELU(), one),
    "PReLU": (lambda rng, dt: PReLU(6, dtype=dt), one),
    "Softmax": (lambda rng, dt: Softmax(), one),
    "Maxout": (lambda rng, dt: Maxout(3), one),
    "Dropout": (lambda rng, dt: Dropout(0.5, rng=rng), one),
    "Add": (lambda rng, dt: Add(), two),
    "Multiply": (lambda rng, dt: Multiply(), two),
    "Sum": (lambda rng, dt: Sum(axis=0), one),
    "Max": (lambda rng, dt: Max(), one),
    "Switch": (lambda rng, dt: Switch(), lambda rng, dt: (rng.random((4, 6)) < 0.5, *two(rng, dt))),
    "SoftmaxCrossEntropy": (
        lambda rng, dt: SoftmaxCrossEntropy(),
        lambda rng, dt: (x_2d(rng, dt), rng.integers(0, 6, 4)),
    ),
    "SquaredError": (lambda rng, dt: SquaredError(), two),
    "AbsoluteError": (lambda rng, dt: AbsoluteError(), two),
    "mlp": (lambda rng, dt: mlp([6, 5, 2], rng=rng, dropout=0.2, dtype=dt), one),
}


def run(module: Module, inputs: tuple[Any, ...], rng: Rng) -> tuple[Any, Any]:
    """One forward and backward pass with a random dy; returns (dy, what backward gave)."""
    out = module.forward(*inputs)
    dy = 1.5 if np.ndim(out) == 0 else rng.standard_normal(np.shape(out)).astype(out.dtype)
    return dy, module.backward(dy)


def param_grads(module: Module) -> list[np.ndarray]:
    return [g.copy() for _, g in module.parameters()]


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_and_backward_never_mutate_their_arguments(name: str) -> None:
    make, inputs = CASES[name]
    rng = np.random.default_rng(0)
    module, args = make(rng, np.float64), inputs(rng, np.float64)
    before = [np.array(a, copy=True) for a in args]
    out = module.forward(*args)
    dy = 1.0 if np.ndim(out) == 0 else np.ones(np.shape(out))
    dy_before = np.array(dy, copy=True)
    module.backward(dy)
    for arg, saved in zip(args, before, strict=True):
        np.testing.assert_array_equal(arg, saved)
    np.testing.assert_array_equal(dy, dy_before)


ACCUMULATING: dict[str, Factory] = {
    "Linear": CASES["Linear"][0],
    "PReLU": CASES["PReLU"][0],
    "mlp": lambda rng, dt: mlp([6, 5, 2], rng=rng, activation="tanh", dtype=dt),
}


@pytest.mark.parametrize("name", sorted(ACCUMULATING))
def test_gradients_accumulate_over_two_passes_and_zero_grad_resets_them(name: str) -> None:
    rng = np.random.default_rng(1)
    module = ACCUMULATING[name](rng, np.float64)
    first, second = one(rng, np.float64), one(rng, np.float64)

    def grads_after(*batches: tuple[Any, ...]) -> list[np.ndarray]:
        module.zero_grad()
        for i, batch in enumerate(batches):
            run(module, batch, np.random.default_rng(10 + i))
        return param_grads(module)

    held = module.parameters()
    alone = [a + b for a, b in zip(grads_after(first), grads_after(second), strict=True)]
    module.zero_grad()
    run(module, first, np.random.default_rng(10))
    run(module, second, np.random.default_rng(10))
    assert held, "the module under test must have parameters"
    for (_, total), expected in zip(held, alone, strict=True):
        np.testing.assert_allclose(total, expected, rtol=1e-12, atol=1e-15)
    module.zero_grad()
    assert all(not g.any() for _, g in held)


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_in_gives_float32_out_and_float32_gradients(name: str) -> None:
    make, inputs = CASES[name]
    rng = np.random.default_rng(4)
    module, args = make(rng, np.float32), inputs(rng, np.float32)
    out = module.forward(*args)
    if np.ndim(out) == 0:
        assert isinstance(out, float)
        grads = module.backward(1.0)
    else:
        assert out.dtype == np.float32, f"{name} returned {out.dtype}"
        grads = module.backward(np.ones(np.shape(out), np.float32))
    for g in grads if isinstance(grads, tuple) else (grads,):
        assert g is None or g.dtype == np.float32, f"{name} backward gave {g.dtype}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_backward_before_forward_raises_saying_so(name: str) -> None:
    module = CASES[name][0](np.random.default_rng(5), np.float64)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        module.backward(np.ones((4, 6)))


LOSSES = {"SoftmaxCrossEntropy", "SquaredError", "AbsoluteError"}


@pytest.mark.parametrize("name", sorted(set(CASES) - LOSSES))
def test_backward_rejects_dy_of_another_shape_naming_the_expected_one(name: str) -> None:
    make, inputs = CASES[name]
    rng = np.random.default_rng(6)
    module = make(rng, np.float64)
    out = module.forward(*inputs(rng, np.float64))
    with pytest.raises(ValueError, match=rf"expected dy of shape \({np.shape(out)[0]},"):
        module.backward(np.ones((np.shape(out)[0], 99)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_nan_input_is_rejected_naming_the_argument(name: str) -> None:
    make, inputs = CASES[name]
    rng = np.random.default_rng(7)
    args = list(inputs(rng, np.float64))
    position = 1 if name == "Switch" else 0
    args[position] = args[position].copy()
    args[position][1, 2] = np.nan
    with pytest.raises(ValueError, match="contains NaN"):
        make(rng, np.float64).forward(*args)


def test_package_exports_every_layer_and_the_top_level_helpers() -> None:
    for name in layers.__all__:
        assert hasattr(layers, name), name
    assert reference_impl.Sequential is layers.Sequential
    assert reference_impl.mlp is layers.mlp
    assert reference_impl.count_parameters([784, 64, 10]) == 50_890
