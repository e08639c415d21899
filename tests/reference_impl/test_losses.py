"""Tests for reference_impl.losses: values, gradients (centred differences and autograd), errors."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad as autograd_grad
from hypothesis import given
from hypothesis import strategies as st

from reference_impl import losses
from reference_impl.losses import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    cross_entropy,
    cross_entropy_grad,
    log_softmax,
    logsumexp,
    mean_absolute_error,
    mean_absolute_error_grad,
    mean_squared_error,
    mean_squared_error_grad,
    misclassification_rate,
    one_hot,
    softmax_cross_entropy,
    sum_of_squares,
    sum_of_squares_grad,
    top_k_error,
)
from tests.strategies import matrices, seeds, small_dims

TARGETS = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=float)
MODEL_1 = np.array([[0.3, 0.3, 0.4], [0.3, 0.4, 0.3], [0.1, 0.2, 0.7]])
MODEL_2 = np.array([[0.1, 0.2, 0.7], [0.1, 0.7, 0.2], [0.3, 0.4, 0.3]])


def centred_difference(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> Any:
    """(f(x + h eᵢ) − f(x − h eᵢ)) / 2h for every index i of x."""
    x = x.astype(np.float64).copy()
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        keep = x[i]
        x[i] = keep + h
        up = f(x)
        x[i] = keep - h
        down = f(x)
        x[i] = keep
        out[i] = (up - down) / (2 * h)
    return out


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    scale = max(float(np.max(np.abs(got))), float(np.max(np.abs(want))), 1e-12)
    return float(np.max(np.abs(got - want))) / scale


def assert_grad_close(got: np.ndarray, want: np.ndarray, tol: float, what: str) -> None:
    err = relative_error(got, want)
    assert err <= tol, f"{what}: relative error {err:.2e} > {tol:.0e}\ngot\n{got}\nwant\n{want}"


def softmax(z: np.ndarray) -> Any:
    return np.exp(log_softmax(z))


def anp_logsumexp(z: Any) -> Any:
    m = anp.max(z, axis=1, keepdims=True)
    return m + anp.log(anp.sum(anp.exp(z - m), axis=1, keepdims=True))


@st.composite
def classification(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probabilities (N, C), integer labels (N,), logits (N, C)) with C >= 2."""
    n = draw(small_dims)
    c = draw(st.integers(2, 6))
    z = draw(matrices(rows=n, cols=c))
    labels = np.random.default_rng(draw(seeds)).integers(0, c, size=n)
    return softmax(z), labels, z


@st.composite
def regression(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(y_hat, y) of one shape (N, M), every difference at least 1e-3 from 0."""
    y_hat = draw(matrices())
    diff = draw(matrices(rows=y_hat.shape[0], cols=y_hat.shape[1], away_from=0.0))
    return y_hat, y_hat - diff


@st.composite
def binary(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(p (N,) in [0.05, 0.95], y (N,) in [0, 1], half the time exactly 0/1)."""
    n = draw(small_dims)
    rng = np.random.default_rng(draw(seeds))
    p = rng.uniform(0.05, 0.95, size=n)
    y = rng.integers(0, 2, size=n).astype(float) if draw(st.booleans()) else rng.uniform(size=n)
    return p, y


def test_two_models_with_equal_error_rate_differ_in_cross_entropy() -> None:
    # Model 1: −(ln 0.4 + ln 0.4 + ln 0.1)/3 = (0.9163 + 0.9163 + 2.3026)/3 ≈ 1.378.
    assert cross_entropy(MODEL_1, TARGETS) == pytest.approx(1.38, abs=5e-3)
    assert cross_entropy(MODEL_1, TARGETS) == pytest.approx(-(2 * math.log(0.4) + math.log(0.1)) / 3)
    # Model 2: −(ln 0.7 + ln 0.7 + ln 0.3)/3 = (0.3567 + 0.3567 + 1.2040)/3 ≈ 0.639.
    assert cross_entropy(MODEL_2, TARGETS) == pytest.approx(0.64, abs=5e-3)
    assert cross_entropy(MODEL_2, TARGETS) == pytest.approx(-(2 * math.log(0.7) + math.log(0.3)) / 3)
    assert misclassification_rate(MODEL_1, TARGETS) == pytest.approx(1 / 3)
    assert misclassification_rate(MODEL_2, TARGETS) == pytest.approx(1 / 3)


def test_cross_entropy_is_in_nats() -> None:
    assert cross_entropy([[0.1, 0.9]], [0]) == pytest.approx(2.302585, abs=1e-6)
    assert cross_entropy([[0.1, 0.9]], [0]) / math.log(10) == pytest.approx(1.0)


def test_binary_cross_entropy_of_an_untrained_pass_prediction() -> None:
    # The student passed (y = 1) but the untrained net said 0.1: the cost is −ln 0.1.
    assert binary_cross_entropy([0.1], [1]) == pytest.approx(2.302585, abs=1e-6)
    assert binary_cross_entropy([[0.1], [0.9]], [[0], [1]]) == pytest.approx(-math.log(0.9))


def test_cross_entropy_clips_a_zero_probability_at_eps() -> None:
    loss = cross_entropy([[0.0, 1.0]], [0])
    assert loss == pytest.approx(-math.log(1e-12))
    assert np.isfinite(cross_entropy_grad([[0.0, 1.0]], [0])).all()


@given(classification(), st.booleans())
def test_cross_entropy_grad_matches_centred_differences(
    case: tuple[np.ndarray, np.ndarray, np.ndarray], as_one_hot: bool
) -> None:
    p, labels, _ = case
    y = one_hot(labels, p.shape[1]) if as_one_hot else labels
    numeric = centred_difference(lambda q: cross_entropy(q, y), p)
    assert_grad_close(cross_entropy_grad(p, y), numeric, 1e-7, "cross_entropy_grad")


@given(classification())
def test_cross_entropy_grad_matches_autograd(
    case: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    p, labels, _ = case
    t = one_hot(labels, p.shape[1])
    oracle = autograd_grad(lambda q: -anp.sum(t * anp.log(q)) / q.shape[0])(p)
    assert_grad_close(cross_entropy_grad(p, t), oracle, 1e-12, "cross_entropy_grad vs autograd")


@given(binary(), st.booleans())
def test_binary_cross_entropy_grad_matches_centred_differences_and_autograd(
    case: tuple[np.ndarray, np.ndarray], column: bool
) -> None:
    p, y = case
    if column:
        p, y = p[:, None], y[:, None]
    numeric = centred_difference(lambda q: binary_cross_entropy(q, y), p)
    oracle = autograd_grad(lambda q: -anp.mean(y * anp.log(q) + (1 - y) * anp.log(1 - q)))(p)
    got = binary_cross_entropy_grad(p, y)
    assert got.shape == p.shape
    assert_grad_close(got, numeric, 1e-7, "binary_cross_entropy_grad")
    assert_grad_close(got, oracle, 1e-12, "binary_cross_entropy_grad vs autograd")


REGRESSION = [
    (mean_squared_error, mean_squared_error_grad, lambda a, b: anp.mean((a - b) ** 2)),
    (mean_absolute_error, mean_absolute_error_grad, lambda a, b: anp.mean(anp.abs(a - b))),
    (sum_of_squares, sum_of_squares_grad, lambda a, b: 0.5 * anp.sum((a - b) ** 2) / a.shape[0]),
]


@pytest.mark.parametrize(("loss", "loss_grad", "anp_loss"), REGRESSION, ids=["mse", "mae", "sos"])
@given(case=regression())
def test_regression_grad_matches_centred_differences_and_autograd(
    loss: Callable[..., float],
    loss_grad: Callable[..., np.ndarray],
    anp_loss: Callable[..., Any],
    case: tuple[np.ndarray, np.ndarray],
) -> None:
    y_hat, y = case
    assert loss(y_hat, y) == pytest.approx(float(anp_loss(y_hat, y)), rel=1e-12)
    numeric = centred_difference(lambda a: loss(a, y), y_hat)
    got = loss_grad(y_hat, y)
    assert_grad_close(got, numeric, 1e-7, loss_grad.__name__)
    assert_grad_close(got, autograd_grad(anp_loss)(y_hat, y), 1e-12, f"{loss_grad.__name__} autograd")


def test_mean_absolute_error_subgradient_is_zero_where_prediction_is_exact() -> None:
    assert mean_absolute_error_grad([[1.0, 2.0]], [[1.0, 0.0]]).tolist() == [[0.0, 0.5]]


def test_sum_of_squares_halves_the_sum_over_outputs_and_averages_over_examples() -> None:
    y_hat = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    y = np.zeros((2, 3))
    # ½(1 + 4 + 9) = 7 for the first example, 0 for the second: mean 3.5.
    assert sum_of_squares(y_hat, y) == pytest.approx(3.5)
    # MSE divides by all 6 entries: 14/6; sum of squares is M/2 = 1.5 times that.
    assert mean_squared_error(y_hat, y) == pytest.approx(14 / 6)
    assert sum_of_squares(y_hat, y) == pytest.approx(1.5 * mean_squared_error(y_hat, y))


@given(classification())
def test_softmax_cross_entropy_equals_cross_entropy_of_softmax(
    case: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    p, labels, z = case
    loss, dz = softmax_cross_entropy(z, labels)
    assert loss == pytest.approx(cross_entropy(p, labels), rel=1e-12)
    assert_grad_close(dz, (p - one_hot(labels, z.shape[1])) / z.shape[0], 1e-12, "p − y over N")


@given(classification())
def test_softmax_cross_entropy_grad_matches_autograd_and_centred_differences(
    case: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    _, labels, z = case
    t = one_hot(labels, z.shape[1])
    oracle = autograd_grad(lambda v: -anp.sum(t * (v - anp_logsumexp(v))) / v.shape[0])(z)
    numeric = centred_difference(lambda v: softmax_cross_entropy(v, labels)[0], z)
    _, dz = softmax_cross_entropy(z, labels)
    assert_grad_close(dz, oracle, 1e-12, "softmax_cross_entropy vs autograd")
    assert_grad_close(dz, numeric, 1e-7, "softmax_cross_entropy vs centred differences")


def test_softmax_cross_entropy_is_finite_and_exact_for_extreme_logits() -> None:
    z = np.array([[1000.0, -1000.0], [1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0]])
    loss, dz = softmax_cross_entropy(z, [0, 1, 1, 0])
    # Per row: 0, 2000 (confidently wrong), 0, ln 2 (a tie); mean over 4 rows.
    assert loss == pytest.approx((2000 + math.log(2)) / 4)
    assert np.isfinite(dz).all()
    want = np.array([[0, 0], [1, -1], [0, 0], [-0.5, 0.5]]) / 4
    np.testing.assert_allclose(dz, want, atol=1e-15)


def test_softmax_cross_entropy_with_mixed_extreme_logits_has_rows_of_zero_sum_gradient() -> None:
    z = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -999.0, 3.0], [1e3, 1e3 - 1e-3, -5.0]])
    loss, dz = softmax_cross_entropy(z, [2, 0, 1])
    assert np.isfinite(loss) and np.isfinite(dz).all()
    assert loss == pytest.approx((2000 + 1003 + math.log1p(math.exp(1e-3))) / 3, rel=1e-12)
    np.testing.assert_allclose(dz.sum(axis=1), 0.0, atol=1e-14)


def test_log_softmax_and_logsumexp_stay_finite_for_logits_of_1000() -> None:
    z = np.array([[1000.0, 1000.0], [-1000.0, -1000.0], [1000.0, -1000.0]])
    np.testing.assert_allclose(logsumexp(z), [1000 + math.log(2), -1000 + math.log(2), 1000.0])
    half = -math.log(2)
    np.testing.assert_allclose(log_softmax(z), np.array([[half, half], [half, half], [0, -2000]]))


@given(matrices(scale=5.0))
def test_logsumexp_matches_the_naive_formula_and_log_softmax_rows_normalise(z: np.ndarray) -> None:
    np.testing.assert_allclose(logsumexp(z), np.log(np.exp(z).sum(axis=1)), atol=1e-12)
    np.testing.assert_allclose(logsumexp(z, axis=0), np.log(np.exp(z).sum(axis=0)), atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(z)).sum(axis=1), 1.0, rtol=1e-12)


@given(classification())
def test_integer_and_one_hot_labels_give_the_same_results(
    case: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    p, labels, z = case
    t = one_hot(labels, p.shape[1])
    assert cross_entropy(p, labels) == cross_entropy(p, t)
    np.testing.assert_array_equal(cross_entropy_grad(p, labels), cross_entropy_grad(p, t))
    loss_i, dz_i = softmax_cross_entropy(z, labels)
    loss_t, dz_t = softmax_cross_entropy(z, t)
    assert loss_i == loss_t
    np.testing.assert_array_equal(dz_i, dz_t)
    assert misclassification_rate(z, labels) == misclassification_rate(z, t)
    assert top_k_error(z, labels, k=2) == top_k_error(z, t, k=2)


def test_one_hot_puts_digit_four_in_the_fifth_entry() -> None:
    y = one_hot([4, 0], 10)
    assert y.dtype == np.float64 and y.shape == (2, 10)
    assert y[0].tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert y[1, 0] == 1 and y.sum() == 2


def test_top_k_error_counts_labels_outside_the_k_highest_scores() -> None:
    scores = np.array([[0.1, 0.5, 0.3, 0.1], [0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]])
    labels = [2, 0, 0]  # ranks of the labels: 2nd, 1st, 4th
    assert top_k_error(scores, labels, k=1) == pytest.approx(2 / 3)
    assert top_k_error(scores, labels, k=2) == pytest.approx(1 / 3)
    assert top_k_error(scores, labels, k=3) == pytest.approx(1 / 3)
    assert top_k_error(scores, labels, k=4) == 0.0


@given(st.integers(1, 6), st.integers(2, 6), seeds)
def test_top_1_error_equals_misclassification_rate_even_with_ties(n: int, c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, size=(n, c)).astype(float)  # few values: many ties
    labels = rng.integers(0, c, size=n)
    assert top_k_error(scores, labels, k=1) == misclassification_rate(scores, labels)
    assert top_k_error(scores, labels, k=c) == 0.0


def test_metrics_have_no_gradient_functions() -> None:
    assert not hasattr(losses, "misclassification_rate_grad")
    assert not hasattr(losses, "top_k_error_grad")


def test_float32_inputs_give_float32_gradients() -> None:
    p = np.array([[0.2, 0.8]], dtype=np.float32)
    assert cross_entropy_grad(p, [1]).dtype == np.float32
    assert softmax_cross_entropy(p, [1])[1].dtype == np.float32
    assert binary_cross_entropy_grad(p[:, :1], np.ones((1, 1))).dtype == np.float32
    assert mean_squared_error_grad(p, p).dtype == np.float32
    assert log_softmax(p).dtype == np.float32
    assert isinstance(cross_entropy(p, [1]), float)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cross_entropy([[0.5, 0.5]], [[1, 0, 0]]), ValueError, r"shape \(1, 2\).*one column"),
        (lambda: cross_entropy([[0.5, 0.5]], [0, 1]), ValueError, "1 labels"),
        (lambda: cross_entropy([[1.5, -0.5]], [0]), ValueError, r"outside \[0, 1\].*softmax"),
        (lambda: cross_entropy([[0.5, 0.6]], [0]), ValueError, "sums to 1.1, not 1"),
        (lambda: cross_entropy([[0.5, 0.5]], [2]), ValueError, r"label 2 outside \[0, 2\)"),
        (lambda: cross_entropy([[0.5, 0.5]], [-1]), ValueError, "label -1 outside"),
        (lambda: cross_entropy([[np.nan, 0.5]], [0]), ValueError, "probs contains NaN"),
        (lambda: cross_entropy([0.5, 0.5], [0]), ValueError, r"probs with 2 dimension"),
        (lambda: cross_entropy(np.zeros((0, 2)), []), ValueError, "at least one example"),
        (lambda: cross_entropy([["a", "b"]], [0]), TypeError, "real numbers"),
        (lambda: cross_entropy([[0.5, 0.5]], [0.5]), TypeError, "integer class labels"),
        (lambda: binary_cross_entropy([[0.5, 0.5]], [[1, 0]]), ValueError, r"\(N,\) or \(N, 1\)"),
        (lambda: binary_cross_entropy([0.5, 0.5], [1]), ValueError, "reshape"),
        (lambda: binary_cross_entropy([1.2], [1]), ValueError, "sigmoid"),
        (lambda: binary_cross_entropy([0.2], [2]), ValueError, "0/1 labels"),
        (lambda: mean_squared_error([1.0, 2.0], [[1.0, 2.0]]), ValueError, r"shape \(2,\)"),
        (lambda: sum_of_squares_grad([np.nan], [1.0]), ValueError, "y_hat contains NaN"),
        (lambda: misclassification_rate([[1.0, 2.0]], [3]), ValueError, "label 3 outside"),
        (lambda: top_k_error([[1.0, 2.0]], [0], k=3), ValueError, r"k must be in \[1, 2\]"),
        (lambda: top_k_error([[1.0, 2.0]], [0], k=1.5), TypeError, "k must be an int"),  # type: ignore[arg-type]
        (lambda: one_hot([0, 1], 0), ValueError, "n_classes must be at least 1"),
        (lambda: softmax_cross_entropy([[0.0, 1.0]], [[2.0, -1.0]]), ValueError, "one-hot rows"),
    ],
)
def test_bad_inputs_raise_an_error_naming_the_problem(
    call: Callable[[], object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        call()
