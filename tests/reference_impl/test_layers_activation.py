"""Tests for reference_impl.layers.activation: every activation layer's backward against
centred differences and autograd, softmax's vector–Jacobian product, maxout routing,
PReLU's slope gradient and the factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given

from reference_impl import activations as act
from reference_impl.gradcheck import check_module
from reference_impl.layers import (
    ACTIVATION_LAYERS,
    ELU,
    SELU,
    Activation,
    Identity,
    LeakyReLU,
    Maxout,
    PReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from reference_impl.layers.activation import activation
from reference_impl.layers.base import Module
from tests.reference_impl._layers_support import (
    assert_checked,
    assert_matches_oracle,
    gradient_checks,
    separate_max,
    vjp,
)
from tests.strategies import matrices, seeds, small_dims

L, A = act.SELU_LAMBDA, act.SELU_ALPHA

# name -> (layer factory, the same function in autograd.numpy)
ELEMENTWISE: dict[str, tuple[Callable[[], Module], Callable[[Any], Any]]] = {
    "identity": (Identity, lambda z: 1.0 * z),
    "sigmoid": (Sigmoid, lambda z: 1.0 / (1.0 + anp.exp(-z))),
    "tanh": (Tanh, anp.tanh),
    "relu": (ReLU, lambda z: anp.where(z > 0, z, 0.0)),
    "leaky_relu": (lambda: LeakyReLU(0.1), lambda z: anp.where(z > 0, z, 0.1 * z)),
    "elu": (lambda: ELU(0.7), lambda z: anp.where(z > 0, z, 0.7 * (anp.exp(z) - 1.0))),
    "selu": (SELU, lambda z: L * anp.where(z > 0, z, A * (anp.exp(z) - 1.0))),
    "softmax": (
        Softmax,
        lambda z: (
            anp.exp(z - anp.max(z, axis=1, keepdims=True))
            / anp.sum(anp.exp(z - anp.max(z, axis=1, keepdims=True)), axis=1, keepdims=True)
        ),
    ),
}


# Kinks sit at 0, so every z stays 1e-3 away from it (which also keeps gradients off the
# rounding floor of the check).
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@gradient_checks
@given(z=matrices(away_from=0.0), seed=seeds)
def test_backward_passes_the_gradient_check(name: str, z: np.ndarray, seed: int) -> None:
    make, _ = ELEMENTWISE[name]
    assert_checked(check_module(make(), z, rng=np.random.default_rng(seed)), {"z"})


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@given(z=matrices(away_from=0.0), seed=seeds)
def test_forward_and_backward_match_autograd(name: str, z: np.ndarray, seed: int) -> None:
    make, oracle = ELEMENTWISE[name]
    layer = make()
    dy = np.random.default_rng(seed).standard_normal(z.shape)
    np.testing.assert_allclose(layer.forward(z), oracle(z), rtol=1e-12, atol=1e-15)
    assert_matches_oracle(layer.backward(dy), vjp(oracle, (z,), dy), f"{name} dz")


def test_relu_passes_no_gradient_at_or_below_zero() -> None:
    layer = ReLU()
    layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), [[0.0, 0.0, 1.0]])


def test_activation_wraps_any_function_and_its_derivative() -> None:
    cube = Activation(lambda z: z**3, lambda z: 3 * z**2)
    np.testing.assert_array_equal(cube.forward(np.array([[2.0]])), [[8.0]])
    np.testing.assert_array_equal(cube.backward(np.array([[0.5]])), [[6.0]])


# Softmax


@given(z=matrices(), seed=seeds)
def test_softmax_backward_equals_the_jacobian_vector_product(z: np.ndarray, seed: int) -> None:
    layer = Softmax()
    p = layer.forward(z)
    dy = np.random.default_rng(seed).standard_normal(z.shape)
    expected = np.einsum("nij,ni->nj", act.softmax_jacobian(p), dy)
    np.testing.assert_allclose(layer.backward(dy), expected, rtol=1e-9, atol=1e-14)


def test_softmax_backward_never_builds_the_jacobian(monkeypatch: pytest.MonkeyPatch) -> None:
    layer = Softmax()
    layer.forward(np.array([[1.0, 2.0, 3.0]]))

    def refuse(p: Any) -> Any:
        raise AssertionError("backward built the (N, C, C) Jacobian")

    monkeypatch.setattr(act, "softmax_jacobian", refuse)
    dz = layer.backward(np.array([[1.0, 0.0, 0.0]]))
    assert dz.sum() == pytest.approx(0.0, abs=1e-15)


def test_softmax_grad_gives_the_full_jacobian_for_study() -> None:
    z = np.array([[0.5, -1.0, 2.0]])
    jac = Softmax().grad(z)
    assert jac.shape == (1, 3, 3)
    np.testing.assert_allclose(jac, act.softmax_jacobian(act.softmax(z)))


def test_softmax_stays_finite_for_huge_scores() -> None:
    layer = Softmax()
    p = layer.forward(np.array([[1000.0, -1000.0, 0.0]]))
    np.testing.assert_allclose(p, [[1.0, 0.0, 0.0]])
    assert np.all(np.isfinite(layer.backward(np.ones((1, 3)))))


# Maxout


def maxout_oracle(pieces: int) -> Callable[[Any], Any]:
    return lambda z: anp.max(anp.reshape(z, (z.shape[0], -1, pieces)), axis=2)


@gradient_checks
@given(seed=seeds, n=small_dims, m=small_dims, pieces=small_dims)
def test_maxout_routes_the_gradient_to_the_winning_piece(seed: int, n: int, m: int, pieces: int) -> None:
    rng = np.random.default_rng(seed)
    groups = separate_max(rng.uniform(-3, 3, (n, m, pieces)), axis=2)
    z = groups.reshape(n, m * pieces)
    layer = Maxout(pieces)
    assert_checked(check_module(layer, z, rng=rng), {"z"})
    dy = rng.standard_normal((n, m))
    np.testing.assert_array_equal(layer.forward(z), groups.max(axis=2))
    assert_matches_oracle(layer.backward(dy), vjp(maxout_oracle(pieces), (z,), dy), "maxout dz")


def test_maxout_gives_a_tie_to_the_first_piece_only() -> None:
    layer = Maxout(2)
    layer.forward(np.array([[1.0, 1.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(layer.backward(np.array([[5.0, 7.0]])), [[5.0, 0.0, 0.0, 7.0]])


def test_maxout_rejects_widths_that_are_not_a_multiple_of_pieces() -> None:
    with pytest.raises(ValueError, match="not a multiple of pieces=2"):
        Maxout(2).forward(np.ones((3, 5)))


# PReLU


def prelu_oracle(z: Any, a: Any) -> Any:
    return anp.where(z > 0, z, a * z)


@gradient_checks
@given(z=matrices(away_from=0.0), seed=seeds)
def test_prelu_gradients_pass_the_check_and_match_autograd(z: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    layer = PReLU(z.shape[1])
    layer.params["a"][...] = rng.uniform(0.0, 0.5, z.shape[1])
    assert_checked(check_module(layer, z, rng=rng), {"z", "a"})
    a = layer.params["a"]
    dy = rng.standard_normal(z.shape)
    layer.zero_grad()
    layer.forward(z)
    assert_matches_oracle(layer.backward(dy), vjp(prelu_oracle, (z, a), dy, 0), "dz")
    assert_matches_oracle(layer.grads["a"], vjp(prelu_oracle, (z, a), dy, 1), "da")


def test_prelu_slope_gradient_sums_over_the_batch() -> None:
    layer = PReLU(2)
    np.testing.assert_array_equal(layer.params["a"], [0.25, 0.25])
    layer.forward(np.array([[-1.0, 2.0], [-3.0, -4.0]]))
    layer.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(layer.grads["a"], [-4.0, -4.0])


def test_prelu_rejects_z_with_the_wrong_number_of_units() -> None:
    with pytest.raises(ValueError, match=r"expected z of shape \(N, 3\), got \(2, 4\)"):
        PReLU(3).forward(np.ones((2, 4)))


# Shared behaviour and the factory


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_float32_in_gives_float32_out_both_ways(name: str) -> None:
    layer = ELEMENTWISE[name][0]()
    z = np.array([[0.5, -1.5, 2.0]], dtype=np.float32)
    assert layer.forward(z).dtype == np.float32
    assert layer.backward(np.ones_like(z)).dtype == np.float32


def test_factory_builds_every_registered_activation() -> None:
    extra: dict[str, dict[str, Any]] = {"prelu": {"n_units": 3}, "maxout": {"pieces": 2}}
    for name, cls in ACTIVATION_LAYERS.items():
        assert isinstance(activation(name, **extra.get(name, {})), cls)


def test_factory_passes_keyword_arguments_to_the_layer() -> None:
    layer = activation("leaky_relu", alpha=0.2)
    assert isinstance(layer, LeakyReLU) and layer.alpha == 0.2


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: activation("swish"), ValueError, "unknown activation 'swish'; valid names: elu"),
        (lambda: activation(3), TypeError, "activation name must be a str"),  # type: ignore[arg-type]
        (lambda: LeakyReLU(alpha=float("nan")), ValueError, "alpha must be finite"),
        (lambda: ELU(alpha="big"), TypeError, "alpha must be a real number"),  # type: ignore[arg-type]
        (lambda: Maxout(0), ValueError, "pieces must be at least 1, got 0"),
        (lambda: PReLU(2.0), TypeError, "n_units must be an int, got float"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_raise_naming_the_problem(
    call: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call()
