"""Tests for reference_impl.activations: values, derivatives (centred differences and
autograd), numerical stability, dtypes and input checks."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import elementwise_grad, grad, jacobian
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from reference_impl import activations as act
from tests.strategies import matrices, seeds, small_dims

H = 1e-5
TOL = 1e-7


def rel_error(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Elementwise |a − e| / (|a| + |e|), taken as 0 where both are exactly 0."""
    denom = np.abs(actual) + np.abs(expected)
    return np.abs(actual - expected) / np.where(denom == 0, 1.0, denom)


def assert_rel_close(actual: Any, expected: Any, what: str, tol: float = TOL) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    err = rel_error(actual, expected)
    if err.size and err.max() > tol:
        idx = np.unravel_index(np.argmax(err), err.shape)
        pytest.fail(
            f"{what}: at index {tuple(int(i) for i in idx)} got {actual[idx]!r}, "
            f"expected {expected[idx]!r} (relative error {err[idx]:.2e} > {tol:.0e})"
        )


def centred_diff(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray) -> np.ndarray:
    """Elementwise (f(z + h) − f(z − h)) / 2h, valid because f acts elementwise."""
    return (f(z + H) - f(z - H)) / (2 * H)


@contextmanager
def no_float_warnings() -> Iterator[None]:
    """Turn overflow, invalid and divide-by-zero (and any warning) into errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            yield


L, A = act.SELU_LAMBDA, act.SELU_ALPHA

# name -> (g, g′, the same g written in autograd.numpy, has a kink at 0)
ELEMENTWISE: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any], bool]] = {
    "identity": (act.identity, act.identity_grad, lambda z: 1.0 * z, False),
    "sigmoid": (act.sigmoid, act.sigmoid_grad, lambda z: 1.0 / (1.0 + anp.exp(-z)), False),
    "tanh": (act.tanh, act.tanh_grad, anp.tanh, False),
    "relu": (act.relu, act.relu_grad, lambda z: anp.where(z > 0, z, 0.0), True),
    "leaky_relu": (
        act.leaky_relu,
        act.leaky_relu_grad,
        lambda z: anp.where(z > 0, z, 0.01 * z),
        True,
    ),
    "leaky_relu(alpha=0.2)": (
        partial(act.leaky_relu, alpha=0.2),
        partial(act.leaky_relu_grad, alpha=0.2),
        lambda z: anp.where(z > 0, z, 0.2 * z),
        True,
    ),
    "elu": (act.elu, act.elu_grad, lambda z: anp.where(z > 0, z, anp.exp(z) - 1.0), True),
    "elu(alpha=0.5)": (
        partial(act.elu, alpha=0.5),
        partial(act.elu_grad, alpha=0.5),
        lambda z: anp.where(z > 0, z, 0.5 * (anp.exp(z) - 1.0)),
        True,
    ),
    "selu": (
        act.selu,
        act.selu_grad,
        lambda z: L * anp.where(z > 0, z, A * (anp.exp(z) - 1.0)),
        True,
    ),
}

# kinked functions are sampled at least 1e-3 from 0, far beyond the step H
z_for = {name: matrices(away_from=0.0 if kinked else None) for name, (_, _, _, kinked) in ELEMENTWISE.items()}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_centred_differences_and_autograd(name: str) -> None:
    g, g_grad, g_anp, _ = ELEMENTWISE[name]

    @given(z_for[name])
    def check(z: np.ndarray) -> None:
        dz = g_grad(z)
        assert_rel_close(dz, centred_diff(g, z), f"{name}_grad vs centred differences")
        assert_rel_close(dz, elementwise_grad(g_anp)(z), f"{name}_grad vs autograd")

    check()


@given(matrices(scale=10.0))
def test_values_match_the_textbook_formulas(z: np.ndarray) -> None:
    for name, (g, _, g_anp, _) in ELEMENTWISE.items():
        np.testing.assert_allclose(g(z), g_anp(z), rtol=1e-12, atol=1e-15, err_msg=name)


@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=0, max_dims=4),
        elements=st.floats(-5, 5, allow_nan=False, width=64),
    )
)
def test_elementwise_functions_keep_any_shape(z: np.ndarray) -> None:
    for name, (g, g_grad, _, _) in ELEMENTWISE.items():
        assert g(z).shape == z.shape, name
        assert g_grad(z).shape == z.shape, name


def test_activation_registry_pairs_each_function_with_its_derivative() -> None:
    expected = {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu"}
    assert set(act.ACTIVATIONS) == expected
    for name, (g, g_grad) in act.ACTIVATIONS.items():
        assert g is getattr(act, name)
        assert g_grad is getattr(act, f"{name}_grad")


def test_sigmoid_and_its_derivative_stay_finite_without_warnings_at_1000() -> None:
    for dtype in (np.float64, np.float32):
        z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
        with no_float_warnings():
            s, ds = act.sigmoid(z), act.sigmoid_grad(z)
        assert np.all(np.isfinite(s)) and np.all(np.isfinite(ds))
        assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
        assert ds[0] == 0.0 and ds[-1] == 0.0


def test_sigmoid_is_accurate_deep_in_the_negative_tail() -> None:
    z = np.array([-30.0, -100.0, -700.0])
    np.testing.assert_allclose(act.sigmoid(z), np.exp(z), rtol=1e-12)


def test_sigmoid_derivative_peaks_at_one_quarter_at_zero() -> None:
    assert act.sigmoid_grad(np.array(0.0)) == 0.25
    z = np.linspace(-50, 50, 100_001)
    assert act.sigmoid_grad(z).max() <= 0.25


@given(matrices(scale=20.0))
def test_tanh_is_a_rescaled_sigmoid(z: np.ndarray) -> None:
    np.testing.assert_allclose(act.tanh(z), 2 * act.sigmoid(2 * z) - 1, rtol=0, atol=1e-14)


def test_relu_gradient_at_zero_is_zero_and_leaky_gradient_is_alpha() -> None:
    z = np.zeros(3)
    assert np.all(act.relu_grad(z) == 0.0)
    assert np.all(act.leaky_relu_grad(z, alpha=0.1) == 0.1)


def test_selu_constants_make_zero_mean_unit_variance_a_fixed_point() -> None:
    # E[selu(Z)] and E[selu(Z)^2] for Z ~ N(0, 1) by the trapezoid rule on [-12, 12]
    z = np.linspace(-12.0, 12.0, 480_001)
    density = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
    y = act.selu(z)
    mean = np.trapezoid(y * density, z)
    second = np.trapezoid(y**2 * density, z)
    assert abs(mean) < 1e-7
    assert abs(second - mean**2 - 1.0) < 1e-7


# --- PReLU -----------------------------------------------------------------


@st.composite
def prelu_inputs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """z of shape (N, M) away from the kink and one slope per unit, shape (M,)."""
    z = draw(matrices(away_from=0.0))
    slope = st.floats(-0.5, 1.5, allow_nan=False, width=64)
    a = draw(hnp.arrays(np.float64, (z.shape[1],), elements=slope))
    return z, a


def prelu_anp(z: Any, a: Any) -> Any:
    return anp.where(z > 0, z, a * z)


@given(prelu_inputs())
def test_prelu_grad_matches_centred_differences_and_autograd(inputs: tuple) -> None:
    z, a = inputs
    dz = act.prelu_grad(z, a)
    assert_rel_close(dz, centred_diff(lambda t: act.prelu(t, a), z), "prelu_grad vs centred")
    assert_rel_close(dz, elementwise_grad(prelu_anp, 0)(z, a), "prelu_grad vs autograd")


@given(prelu_inputs())
def test_prelu_grad_slope_matches_centred_differences_elementwise(inputs: tuple) -> None:
    z, a = inputs
    a_full = np.broadcast_to(a, z.shape).copy()
    numeric = centred_diff(lambda s: act.prelu(z, s), a_full)
    assert_rel_close(act.prelu_grad_slope(z, a_full), numeric, "prelu_grad_slope vs centred")


@given(prelu_inputs())
def test_prelu_slope_gradient_summed_over_batch_matches_autograd(inputs: tuple) -> None:
    z, a = inputs
    per_unit = act.prelu_grad_slope(z, a).sum(axis=0)
    oracle = grad(lambda s: anp.sum(prelu_anp(z, s)))(a)
    numeric = np.array(
        [(act.prelu(z, a + H * e).sum() - act.prelu(z, a - H * e).sum()) / (2 * H) for e in np.eye(a.size)]
    )
    np.testing.assert_allclose(per_unit, oracle, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(per_unit, numeric, rtol=TOL, atol=1e-9)


@given(matrices())
def test_prelu_reduces_to_relu_and_leaky_relu(z: np.ndarray) -> None:
    np.testing.assert_array_equal(act.prelu(z, 0.0), act.relu(z))
    np.testing.assert_array_equal(act.prelu(z, 0.01), act.leaky_relu(z, alpha=0.01))


def test_prelu_rejects_a_slope_that_does_not_broadcast_to_z() -> None:
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 4\)"):
        act.prelu(np.ones((2, 4)), np.ones(3))
    with pytest.raises(ValueError, match="broadcast"):
        act.prelu_grad(np.ones((2, 4)), np.ones((3, 4)))


# --- Softmax ---------------------------------------------------------------


def softmax_anp(z: Any) -> Any:
    e = anp.exp(z - anp.max(z, axis=-1, keepdims=True))
    return e / anp.sum(e, axis=-1, keepdims=True)


@given(matrices(rows=1))
def test_softmax_jacobian_of_a_vector_matches_autograd_and_centred_differences(
    z: np.ndarray,
) -> None:
    z = z[0]
    jac = act.softmax_jacobian(act.softmax(z))
    assert jac.shape == (z.size, z.size)
    assert_rel_close(jac, jacobian(softmax_anp)(z), "softmax_jacobian vs autograd", tol=1e-12)
    # column j of the numeric Jacobian is ∂p/∂z_j
    numeric = np.stack(
        [(act.softmax(z + H * e) - act.softmax(z - H * e)) / (2 * H) for e in np.eye(z.size)],
        axis=1,
    )
    assert np.max(np.abs(jac - numeric)) <= TOL * np.max(np.abs(jac)) + 1e-12


@given(matrices())
def test_softmax_jacobian_of_a_batch_is_one_block_per_row(z: np.ndarray) -> None:
    jac = act.softmax_jacobian(act.softmax(z))
    n, c = z.shape
    assert jac.shape == (n, c, c)
    full = jacobian(softmax_anp)(z)
    for i in range(n):
        assert_rel_close(jac[i], full[i, :, i, :], f"softmax_jacobian row {i}", tol=1e-12)
    np.testing.assert_allclose(jac, np.swapaxes(jac, 1, 2), rtol=0, atol=1e-16)
    np.testing.assert_allclose(jac.sum(axis=2), 0.0, atol=1e-15)


@given(matrices(scale=1000.0))
def test_softmax_rows_sum_to_one_even_for_huge_scores(z: np.ndarray) -> None:
    with no_float_warnings():
        p = act.softmax(z)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(act.softmax(z, axis=0).sum(axis=0), 1.0, rtol=0, atol=1e-12)


@given(matrices(), st.floats(-500, 500, allow_nan=False))
def test_softmax_ignores_a_constant_shift(z: np.ndarray, shift: float) -> None:
    np.testing.assert_allclose(act.softmax(z + shift), act.softmax(z), rtol=1e-9, atol=1e-12)


def test_softmax_is_finite_without_warnings_at_1000() -> None:
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]])
    for dtype in (np.float64, np.float32):
        with no_float_warnings():
            p = act.softmax(z.astype(dtype))
        assert np.all(np.isfinite(p))
        np.testing.assert_allclose(p[0], [1.0, 0.0, 0.0])
        np.testing.assert_allclose(p[1], [1 / 3, 1 / 3, 1 / 3], rtol=1e-6)


def test_softmax_jacobian_rejects_scores_instead_of_probabilities() -> None:
    with pytest.raises(ValueError, match=r"softmax\(z\)"):
        act.softmax_jacobian(np.array([2.0, -1.0, 0.5]))


def test_softmax_rejects_a_missing_axis() -> None:
    with pytest.raises(ValueError, match=r"axis=2.*\(2, 3\)"):
        act.softmax(np.zeros((2, 3)), axis=2)


# --- Maxout ----------------------------------------------------------------


@st.composite
def maxout_inputs(draw: st.DrawFn) -> tuple[np.ndarray, int, np.ndarray]:
    """z (N, M*K) whose winning piece beats the runner-up by >= 0.05, K, and weights (N, M)."""
    n, m = draw(small_dims), draw(small_dims)
    k = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(seeds))
    ranks = rng.permuted(np.tile(np.arange(k), (n, m, 1)), axis=2)
    z = rng.uniform(-3, 3, (n, m, 1)) + 0.25 * ranks + rng.uniform(-0.1, 0.1, (n, m, k))
    return z.reshape(n, m * k), k, rng.normal(size=(n, m))


def maxout_anp(z: Any, k: int) -> Any:
    return anp.max(anp.reshape(z, (z.shape[0], -1, k)), axis=2)


@given(maxout_inputs())
def test_maxout_grad_matches_centred_differences_and_autograd(inputs: tuple) -> None:
    z, k, w = inputs
    analytic = np.repeat(w, k, axis=1) * act.maxout_grad(z, k)
    numeric = np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        e = np.zeros_like(z)
        e[idx] = H
        numeric[idx] = (np.sum(w * act.maxout(z + e, k)) - np.sum(w * act.maxout(z - e, k))) / (2 * H)
    assert_rel_close(analytic, numeric, "maxout_grad vs centred differences")
    oracle = grad(lambda t: anp.sum(w * maxout_anp(t, k)))(z)
    assert_rel_close(analytic, oracle, "maxout_grad vs autograd")


@given(maxout_inputs())
def test_maxout_takes_the_max_of_consecutive_blocks(inputs: tuple) -> None:
    z, k, _ = inputs
    n, width = z.shape
    out = act.maxout(z, k)
    assert out.shape == (n, width // k)
    np.testing.assert_array_equal(out, z.reshape(n, -1, k).max(axis=2))
    mask = act.maxout_grad(z, k)
    assert mask.shape == z.shape
    np.testing.assert_array_equal(mask.reshape(n, -1, k).sum(axis=2), 1.0)


def test_maxout_grad_routes_ties_to_the_first_piece() -> None:
    z = np.array([[0.0, 0.0, 0.0, 1.0, 2.0, 2.0]])
    np.testing.assert_array_equal(act.maxout_grad(z, 3), [[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]])


@given(matrices())
def test_maxout_with_pieces_z_and_a_fraction_of_z_is_relu_or_leaky_relu(z: np.ndarray) -> None:
    n, m = z.shape
    as_pieces = np.stack([z, np.zeros_like(z)], axis=2).reshape(n, 2 * m)
    np.testing.assert_array_equal(act.maxout(as_pieces, 2), act.relu(z))
    leaky_pieces = np.stack([z, 0.01 * z], axis=2).reshape(n, 2 * m)
    np.testing.assert_array_equal(act.maxout(leaky_pieces, 2), act.leaky_relu(z, alpha=0.01))


def test_maxout_rejects_a_width_that_is_not_a_multiple_of_pieces() -> None:
    with pytest.raises(ValueError, match=r"\(2, 7\)"):
        act.maxout(np.zeros((2, 7)), 2)
    with pytest.raises(ValueError, match=r"\(2, 7\)"):
        act.maxout_grad(np.zeros((2, 7)), 3)


def test_maxout_rejects_bad_pieces_and_non_matrix_input() -> None:
    with pytest.raises(TypeError, match="pieces"):
        act.maxout(np.zeros((2, 4)), 2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pieces"):
        act.maxout(np.zeros((2, 4)), 0)
    with pytest.raises(ValueError, match=r"\(8,\)"):
        act.maxout(np.zeros(8), 2)


# --- dtypes and input checks -----------------------------------------------

Z32 = np.array([[-1.5, 0.3, 2.0, -0.2], [0.7, -3.0, 1.1, 0.4]], dtype=np.float32)
SLOPE = np.array([0.1, 0.2, 0.3, 0.4])  # float64 on purpose: z's dtype must win

ALL_CALLS: dict[str, Callable[[np.ndarray], Any]] = {
    **{name: fn for name, (fn, _, _, _) in ELEMENTWISE.items()},
    **{f"{name}_grad": fn for name, (_, fn, _, _) in ELEMENTWISE.items()},
    "prelu": lambda z: act.prelu(z, SLOPE),
    "prelu_grad": lambda z: act.prelu_grad(z, SLOPE),
    "prelu_grad_slope": lambda z: act.prelu_grad_slope(z, SLOPE),
    "softmax": act.softmax,
    "softmax(axis=0)": partial(act.softmax, axis=0),
    "softmax_jacobian": lambda z: act.softmax_jacobian(act.softmax(z)),
    "maxout": lambda z: act.maxout(z, 2),
    "maxout_grad": lambda z: act.maxout_grad(z, 2),
}


@pytest.mark.parametrize("name", ALL_CALLS)
def test_float32_in_gives_float32_out(name: str) -> None:
    out = ALL_CALLS[name](Z32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ALL_CALLS[name](Z32.astype(np.float64)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ALL_CALLS)
def test_integer_input_gives_float64_out(name: str) -> None:
    assert ALL_CALLS[name](np.array([[1, -2, 3, 0]])).dtype == np.float64


@pytest.mark.parametrize("name", ALL_CALLS)
def test_nan_input_raises_value_error(name: str) -> None:
    z = Z32.astype(np.float64)
    z[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ALL_CALLS[name](z)


def test_inputs_are_not_modified() -> None:
    z = Z32.astype(np.float64)
    before = z.copy()
    for fn in ALL_CALLS.values():
        fn(z)
    np.testing.assert_array_equal(z, before)
    out = act.identity(z)
    out[0, 0] = 99.0
    assert z[0, 0] == before[0, 0]


def test_non_numeric_input_raises_type_error() -> None:
    with pytest.raises(TypeError, match="z"):
        act.relu(np.array(["a", "b"]))
