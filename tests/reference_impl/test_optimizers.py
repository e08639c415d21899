"""Tests for reference_impl.optimizers: hand-computed steps, convergence, state and validation.

The hand-computed steps all follow f(w) = ½(w₁² + 4w₂²), so ∇f(w) = (w₁, 4w₂), from
w₀ = (1, −0.5), where g₀ = (1, −2). The expected numbers are derived in the comments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from reference_impl.optimizers import (
    OPTIMIZERS,
    SGD,
    AdaDelta,
    AdaGrad,
    Adam,
    GradientDescent,
    Momentum,
    Nesterov,
    Optimizer,
    RMSProp,
    iterations_per_epoch,
    minimize,
)

W0 = np.array([1.0, -0.5])


def bowl_grad(w: np.ndarray) -> Any:
    return np.array([1.0, 4.0]) * w


def first_steps(optimizer: Optimizer, n: int) -> Any:
    """Rows w₁ … wₙ of the trajectory on the bowl from W0, stepped through ``step``."""
    w = W0.copy()
    rows = []
    for _ in range(n):
        optimizer.step([(w, bowl_grad(w))])
        rows.append(w.copy())
    return np.array(rows)


def test_gradient_descent_first_three_steps() -> None:
    # w ← w − 0.1 g with g = (w₁, 4w₂) scales w₁ by 0.9 and w₂ by 0.6 per step:
    # (0.9, −0.3), (0.81, −0.18), (0.729, −0.108).
    want = [[0.9, -0.3], [0.81, -0.18], [0.729, -0.108]]
    np.testing.assert_allclose(first_steps(GradientDescent(lr=0.1), 3), want, rtol=1e-14)


def test_sgd_follows_the_gradient_descent_rule() -> None:
    assert issubclass(SGD, GradientDescent)
    want = [[0.9, -0.3], [0.81, -0.18], [0.729, -0.108]]
    np.testing.assert_allclose(first_steps(SGD(lr=0.1), 3), want, rtol=1e-14)


def test_momentum_first_three_steps() -> None:
    # v₁ = −0.1·(1, −2) = (−0.1, 0.2); w₁ = (0.9, −0.3).
    # g₁ = (0.9, −1.2); v₂ = 0.9·v₁ − 0.1·g₁ = (−0.18, 0.3); w₂ = (0.72, 0.0).
    # g₂ = (0.72, 0); v₃ = (−0.162 − 0.072, 0.27) = (−0.234, 0.27); w₃ = (0.486, 0.27).
    want = [[0.9, -0.3], [0.72, 0.0], [0.486, 0.27]]
    np.testing.assert_allclose(first_steps(Momentum(lr=0.1, mu=0.9), 3), want, atol=1e-14)


def test_nesterov_first_two_steps() -> None:
    # v₁ = (−0.1, 0.2); w₁ = w₀ − 0.9·0 + 1.9·v₁ = (0.81, −0.12).
    # g₁ = (0.81, −0.48); v₂ = 0.9·v₁ − 0.1·g₁ = (−0.171, 0.228);
    # w₂ = w₁ − 0.9·v₁ + 1.9·v₂ = (0.81 + 0.09 − 0.3249, −0.12 − 0.18 + 0.4332) = (0.5751, 0.1332).
    want = [[0.81, -0.12], [0.5751, 0.1332]]
    np.testing.assert_allclose(first_steps(Nesterov(lr=0.1, mu=0.9), 2), want, atol=1e-14)


def test_adagrad_first_two_steps() -> None:
    # r₁ = g₀² = (1, 4); w₁ = w₀ − 0.1·g₀/(√r₁ + ε) = (0.9, −0.4) up to ε = 1e-8.
    # g₁ = (0.9, −1.6); r₂ = (1.81, 6.56);
    # w₂ = (0.9 − 0.09/√1.81, −0.4 + 0.16/√6.56) = (0.9 − 0.066896, −0.4 + 0.062470).
    want = [[0.900000001, -0.4000000005], [0.8331035282939, -0.3375304959408]]
    np.testing.assert_allclose(first_steps(AdaGrad(lr=0.1), 2), want, atol=1e-12)


def test_rmsprop_first_two_steps() -> None:
    # r₁ = 0.1·g₀² = (0.1, 0.4); w₁ = w₀ − 0.01·(1/√0.1, −2/√0.4) = w₀ ∓ 0.0316228.
    # g₁ = (0.9683772, −1.8735089); r₂ = 0.9·r₁ + 0.1·g₁² = (0.1837754, 0.7110036);
    # w₂ = w₁ − 0.01·g₁/√r₂ = (0.9683772 − 0.0225892, −0.4683772 + 0.0222188).
    want = [[0.9683772243983, -0.4683772238983], [0.9457880262459, -0.4461584613705]]
    np.testing.assert_allclose(first_steps(RMSProp(lr=0.01, rho=0.9), 2), want, atol=1e-12)


def test_adam_first_two_steps() -> None:
    # t=1: m = 0.1·g₀, v = 0.001·g₀²; m̂ = g₀, v̂ = g₀²; w₁ = w₀ − 0.1·sign(g₀) = (0.9, −0.4).
    # t=2: g₁ = (0.9, −1.6); m = 0.09·g₀ + 0.1·g₁ = (0.18, −0.34);
    # v = 0.000999·g₀² + 0.001·g₁² = (0.001809, 0.006556);
    # m̂ = m/0.19 = (0.947368, −1.789474); v̂ = v/0.001999 = (0.904952, 3.279640);
    # w₂ = w₁ − 0.1·m̂/√v̂ = (0.9 − 0.099588, −0.4 + 0.098813).
    want = [[0.900000001, -0.4000000005], [0.8004122297123, -0.3011874206234]]
    np.testing.assert_allclose(first_steps(Adam(lr=0.1), 2), want, atol=1e-12)


def test_adadelta_first_two_steps() -> None:
    # r₁ = 0.05·g₀² = (0.05, 0.2); Δ₁ = −√(0 + 1e-6)/√(r₁ + 1e-6)·g₀ = (−0.0044721, 0.0044721);
    # s₁ = 0.05·Δ₁² ≈ (1.0e-6, 1.0e-6); w₁ = w₀ + Δ₁.
    # g₁ = (0.9955279, −1.9821115); r₂ = 0.95·r₁ + 0.05·g₁² = (0.0970538, 0.3864383);
    # Δ₂ = −√(s₁ + 1e-6)/√(r₂ + 1e-6)·g₁ = (−0.0045192, 0.0045092); w₂ = w₁ + Δ₂.
    want = [[0.9955279087657, -0.4955278752253], [0.9910087481492, -0.4910186503618]]
    np.testing.assert_allclose(first_steps(AdaDelta(), 2), want, atol=1e-12)


def test_adam_bias_correction_makes_the_first_step_lr_times_sign_of_gradient() -> None:
    w = np.array([3.0, -2.0, 0.5, 7.0])
    g = np.array([1e-3, -50.0, 2.0, -1e-2])
    Adam(lr=0.01).step([(w, g)])
    np.testing.assert_allclose(w - [3.0, -2.0, 0.5, 7.0], -0.01 * np.sign(g), rtol=1e-5)


def test_eps_sits_outside_the_root_for_adagrad_rmsprop_adam_and_inside_for_adadelta() -> None:
    # With g = 1 and ε = 1 the first steps are: AdaGrad 0.1·1/(1 + 1) = 0.05;
    # RMSProp r = 0.5 (ρ = 0.5), 0.1/(√0.5 + 1); Adam 0.1/(1 + 1); AdaDelta √1/√(0.5 + 1).
    cases: list[tuple[Optimizer, float]] = [
        (AdaGrad(lr=0.1, eps=1.0), 0.05),
        (RMSProp(lr=0.1, rho=0.5, eps=1.0), 0.1 / (np.sqrt(0.5) + 1)),
        (Adam(lr=0.1, eps=1.0), 0.05),
        (AdaDelta(rho=0.5, eps=1.0), 1 / np.sqrt(1.5)),
    ]
    for optimizer, step in cases:
        w = np.zeros(1)
        optimizer.step([(w, np.ones(1))])
        assert w[0] == pytest.approx(-step, rel=1e-12), type(optimizer).__name__


# Ill-conditioned bowl: curvatures 1 and 25, minimum at (1, −2); each optimizer's settings
# are chosen to reach it (no shared learning rate suits both GD and Adam).
A = np.array([1.0, 25.0])
W_STAR = np.array([1.0, -2.0])
CONVERGENCE = [
    (GradientDescent(lr=0.07), 500),
    (SGD(lr=0.07), 500),
    (Momentum(lr=0.04, mu=0.7), 300),
    (Nesterov(lr=0.04, mu=0.7), 300),
    (AdaGrad(lr=1.0), 300),
    (RMSProp(lr=0.05, rho=0.9), 500),
    (Adam(lr=0.05), 2000),
    (AdaDelta(), 2000),
]


@pytest.mark.parametrize(("optimizer", "n_steps"), CONVERGENCE, ids=lambda o: repr(o))
def test_optimizer_converges_on_an_ill_conditioned_quadratic(
    optimizer: Optimizer, n_steps: int
) -> None:
    path = minimize(optimizer, lambda w: A * (w - W_STAR), [-3.0, 2.0], n_steps)
    assert path.shape == (n_steps + 1, 2)
    np.testing.assert_array_equal(path[0], [-3.0, 2.0])
    assert np.linalg.norm(path[-1] - W_STAR) < 1e-6, path[-1]


def test_weight_decay_adds_decay_times_weight_to_the_gradient() -> None:
    # g ← g + λw = 1 + 0.5·2 = 2, so w ← 2 − 0.1·2 = 1.8; a zero gradient still shrinks w.
    w = np.array([2.0, -4.0])
    GradientDescent(lr=0.1, weight_decay=0.5).step([(w, np.array([1.0, 0.0]))])
    np.testing.assert_allclose(w, [1.8, -3.8])
    # Momentum sees the decayed gradient too: v = −0.1·(0 + 0.5·2) = −0.1.
    w = np.array([2.0])
    Momentum(lr=0.1, weight_decay=0.5).step([(w, np.zeros(1))])
    np.testing.assert_allclose(w, [1.9])


def test_step_never_modifies_the_gradient_arrays() -> None:
    w, g = np.ones(3), np.full(3, 2.0)
    for cls in OPTIMIZERS.values():
        cls(weight_decay=0.1).step([(w, g)])
    np.testing.assert_array_equal(g, 2.0)


def test_state_is_kept_per_parameter() -> None:
    # Two parameters stepped together move exactly as each would alone.
    together = Momentum(lr=0.1)
    a, b = np.array([1.0, 2.0]), np.array([[-3.0]])
    for _ in range(3):
        together.step([(a, 2 * a), (b, -b)])
    alone_a, alone_b = Momentum(lr=0.1), Momentum(lr=0.1)
    a2, b2 = np.array([1.0, 2.0]), np.array([[-3.0]])
    for _ in range(3):
        alone_a.step([(a2, 2 * a2)])
        alone_b.step([(b2, -b2)])
    np.testing.assert_allclose(a, a2, rtol=1e-15)
    np.testing.assert_allclose(b, b2, rtol=1e-15)
    assert together.t == 3 and set(together.state) == {0, 1}


def test_reset_clears_the_state_and_the_step_count() -> None:
    opt = Adam(lr=0.1)
    w = np.array([1.0])
    opt.step([(w, np.array([1.0]))])
    opt.step([(w, np.array([1.0]))])
    assert opt.t == 2
    opt.reset()
    assert opt.t == 0 and opt.state == {}
    before = w.copy()
    opt.step([(w, np.array([-5.0]))])
    # A fresh Adam moves by lr·sign(g) again.
    assert w[0] - before[0] == pytest.approx(0.1, rel=1e-6)


def test_a_parameter_added_later_gets_its_own_adam_bias_correction() -> None:
    opt = Adam(lr=0.1)
    a, b = np.zeros(1), np.zeros(1)
    opt.step([(a, np.ones(1))])
    opt.step([(a, np.ones(1)), (b, np.ones(1))])
    assert b[0] == pytest.approx(-0.1, rel=1e-6)


def test_float32_parameters_stay_float32_and_are_updated_in_place() -> None:
    w = np.ones((2, 2), dtype=np.float32)
    view = w
    Adam(lr=0.5).step([(w, np.ones((2, 2)))])
    assert w.dtype == np.float32 and view is w
    np.testing.assert_allclose(w, 0.5, rtol=1e-6)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: GradientDescent(lr=0.0), "lr must be a finite number > 0"),
        (lambda: SGD(lr=-1.0), "lr must be a finite number > 0"),
        (lambda: Momentum(mu=1.0), r"mu must be in \[0, 1\)"),
        (lambda: Nesterov(mu=-0.1), r"mu must be in \[0, 1\)"),
        (lambda: Adam(beta1=1.0), r"beta1 must be in \[0, 1\)"),
        (lambda: Adam(beta2=1.5), r"beta2 must be in \[0, 1\)"),
        (lambda: RMSProp(rho=1.0), r"rho must be in \[0, 1\)"),
        (lambda: AdaDelta(rho=2.0), r"rho must be in \[0, 1\)"),
        (lambda: AdaGrad(eps=0.0), "eps must be a finite number > 0"),
        (lambda: Adam(lr=float("nan")), "lr must be a finite number > 0"),
        (lambda: Momentum(weight_decay=-1e-4), "weight_decay must be a finite number >= 0"),
    ],
)
def test_invalid_hyper_parameters_raise(make: Callable[[], Optimizer], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_non_numeric_hyper_parameter_raises_type_error() -> None:
    with pytest.raises(TypeError, match="lr must be a number"):
        GradientDescent(lr="0.1")  # type: ignore[arg-type]


def test_mismatched_shapes_raise_naming_the_parameter_and_leave_all_parameters_unchanged() -> None:
    a, b = np.ones(2), np.ones((2, 3))
    opt = GradientDescent()
    with pytest.raises(ValueError, match=r"gradient 1 has shape \(3, 2\).*parameter 1 has shape"):
        opt.step([(a, np.ones(2)), (b, np.ones((3, 2)))])
    np.testing.assert_array_equal(a, 1.0)
    assert opt.t == 0


def test_non_finite_gradient_raises_naming_the_parameter() -> None:
    with pytest.raises(ValueError, match="gradient 1 contains NaN or inf"):
        Adam().step([(np.ones(1), np.ones(1)), (np.ones(2), np.array([1.0, np.inf]))])
    with pytest.raises(ValueError, match="gradient 0 contains NaN"):
        RMSProp().step([(np.ones(1), np.array([np.nan]))])


def test_parameters_must_be_float_arrays_that_can_change_in_place() -> None:
    with pytest.raises(TypeError, match="parameter 0 must be a float numpy array"):
        GradientDescent().step([([1.0, 2.0], np.ones(2))])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="parameter 0 must be a float numpy array"):
        GradientDescent().step([(np.ones(2, dtype=int), np.ones(2))])
    frozen = np.ones(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="parameter 0 is read-only"):
        GradientDescent().step([(frozen, np.ones(2))])


def test_a_parameter_that_changes_shape_between_steps_raises() -> None:
    opt = Momentum()
    opt.step([(np.ones(2), np.ones(2))])
    with pytest.raises(ValueError, match=r"parameter 0 changed shape.*reset"):
        opt.step([(np.ones(3), np.ones(3))])


def test_optimizers_registry_maps_names_to_classes_with_working_defaults() -> None:
    assert OPTIMIZERS["sgd"] is SGD and OPTIMIZERS["adam"] is Adam
    assert set(OPTIMIZERS) == {
        "gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adadelta"
    }
    for name, cls in OPTIMIZERS.items():
        w = np.array([1.0])
        cls().step([(w, np.array([1.0]))])
        assert w[0] < 1.0, name


def test_iterations_per_epoch() -> None:
    assert iterations_per_epoch(60000, 64) == 938
    assert iterations_per_epoch(60000, 64, drop_last=True) == 937
    assert iterations_per_epoch(1000, 1000) == 1
    assert iterations_per_epoch(1000, 1) == 1000
    assert iterations_per_epoch(10, 32) == 1


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((0, 10), ValueError, "n_samples must be at least 1"),
        ((10, 0), ValueError, "batch_size must be at least 1"),
        ((10.0, 2), TypeError, "n_samples must be an int"),
        ((10, 32, True), ValueError, "leaves no full batch"),
    ],
)
def test_iterations_per_epoch_rejects_bad_sizes(
    args: tuple[Any, ...], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        iterations_per_epoch(*args)


def test_minimize_resets_the_optimizer_and_returns_the_trajectory() -> None:
    opt = GradientDescent(lr=0.1)
    opt.step([(np.ones(5), np.ones(5))])
    path = minimize(opt, bowl_grad, W0, 3)
    np.testing.assert_allclose(path, [[1.0, -0.5], [0.9, -0.3], [0.81, -0.18], [0.729, -0.108]])
    assert opt.t == 3
    assert minimize(opt, bowl_grad, W0, 0).tolist() == [[1.0, -0.5]]


def test_minimize_rejects_a_start_that_is_not_a_vector() -> None:
    with pytest.raises(ValueError, match=r"w0 of shape \(dim,\)"):
        minimize(GradientDescent(), bowl_grad, np.ones((2, 2)), 3)
