"""Tests for reference_impl.initializers: fans, the distributions' moments for any seed,
bounds, orthogonality, the registry, dtypes, reproducibility and input checks."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from reference_impl import initializers as init
from tests.strategies import seeds

# Each band is Z standard errors wide: for a normal estimator a miss has probability
# about 2.6e-12, so the few hundred checks below fail by chance essentially never.
Z = 7.0

# Shrinking a seed teaches nothing and costs minutes when a band fails, so skip it.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)

# shape -> (fan_in, fan_out), written out by hand rather than through compute_fans
SHAPES: dict[tuple[int, ...], tuple[int, int]] = {
    (784, 128): (784, 128),
    (128, 784): (128, 784),
    (300, 100): (300, 100),
    (20_000,): (20_000, 20_000),
    (3, 3, 64, 32): (576, 288),
}


@dataclass(frozen=True)
class Law:
    """The distribution a sample should follow: its mean, variance and fourth central moment."""

    family: str  # "uniform" or "normal"
    mean: float
    var: float
    low: float = -math.inf
    high: float = math.inf

    @property
    def mu4(self) -> float:
        # uniform: (b − a)⁴/80 = 9σ⁴/5; normal: 3σ⁴
        return (9 / 5 if self.family == "uniform" else 3.0) * self.var**2


def uniform_law(low: float, high: float) -> Law:
    return Law("uniform", (low + high) / 2, (high - low) ** 2 / 12, low, high)


def normal_law(mean: float, std: float) -> Law:
    return Law("normal", mean, std**2)


# name -> (draw(shape, rng), the law it must follow given (fan_in, fan_out))
RANDOM: dict[str, tuple[Callable[..., np.ndarray], Callable[[int, int], Law]]] = {
    "uniform": (
        lambda shape, rng: init.uniform(shape, rng=rng, low=-0.2, high=0.6),
        lambda fi, fo: uniform_law(-0.2, 0.6),
    ),
    "gaussian": (
        lambda shape, rng: init.gaussian(shape, rng=rng, mean=0.5, std=0.3),
        lambda fi, fo: normal_law(0.5, 0.3),
    ),
    "glorot_uniform": (
        lambda shape, rng: init.glorot_uniform(shape, rng=rng),
        lambda fi, fo: uniform_law(-math.sqrt(6 / (fi + fo)), math.sqrt(6 / (fi + fo))),
    ),
    "glorot_normal": (
        lambda shape, rng: init.glorot_normal(shape, rng=rng),
        lambda fi, fo: normal_law(0.0, math.sqrt(2 / (fi + fo))),
    ),
    "xavier_neon": (
        lambda shape, rng: init.xavier_neon(shape, rng=rng),
        lambda fi, fo: uniform_law(-math.sqrt(3 / fi), math.sqrt(3 / fi)),
    ),
    "kaiming_normal": (
        lambda shape, rng: init.kaiming_normal(shape, rng=rng),
        lambda fi, fo: normal_law(0.0, math.sqrt(2 / fi)),
    ),
    "kaiming_uniform": (
        lambda shape, rng: init.kaiming_uniform(shape, rng=rng),
        lambda fi, fo: uniform_law(-math.sqrt(6 / fi), math.sqrt(6 / fi)),
    ),
}


def assert_follows(w: np.ndarray, law: Law, what: str) -> None:
    """Sample mean, unbiased variance and (normal) tail mass inside Z-standard-error bands."""
    x = w.ravel().astype(np.float64)
    n = x.size
    se_mean = math.sqrt(law.var / n)
    # Var(s²) = (μ4 − σ⁴(n − 3)/(n − 1)) / n for n i.i.d. draws
    se_var = math.sqrt((law.mu4 - law.var**2 * (n - 3) / (n - 1)) / n)
    mean, var = x.mean(), x.var(ddof=1)
    assert abs(mean - law.mean) <= Z * se_mean, (
        f"{what}: sample mean {mean:.3e}, expected {law.mean:.3e} ± {Z * se_mean:.1e}"
    )
    assert abs(var - law.var) <= Z * se_var, (
        f"{what}: sample variance {var:.4e}, expected {law.var:.4e} ± {Z * se_var:.1e}"
    )
    if law.family == "uniform":
        assert x.min() >= law.low and x.max() <= law.high, f"{what}: sample leaves [low, high]"
    else:
        # beyond 2σ: 4.55 % for a normal, 0 % for a uniform of the same variance
        p = math.erfc(2 / math.sqrt(2))
        tail = np.mean(np.abs(x - law.mean) > 2 * math.sqrt(law.var))
        se_tail = math.sqrt(p * (1 - p) / n)
        assert abs(tail - p) <= Z * se_tail, f"{what}: {tail:.4f} of the sample beyond 2σ"


@pytest.mark.parametrize("name", RANDOM)
def test_sample_mean_and_variance_match_the_formula_for_any_seed(name: str) -> None:
    draw, law_for = RANDOM[name]

    @settings(max_examples=20, phases=NO_SHRINK)
    @given(seeds, st.sampled_from(sorted(SHAPES)))
    def check(seed: int, shape: tuple[int, ...]) -> None:
        w = draw(shape, np.random.default_rng(seed))
        assert w.shape == shape and w.dtype == np.float64
        assert_follows(w, law_for(*SHAPES[shape]), f"{name}{shape} seed {seed}")

    check()


def test_the_moment_bands_reject_a_wrong_scale() -> None:
    rng = np.random.default_rng(0)
    fan_in, _ = SHAPES[(784, 128)]
    with pytest.raises(AssertionError, match="variance"):
        # a variance of 1/fan_in instead of 2/fan_in
        assert_follows(rng.normal(0, math.sqrt(1 / fan_in), (784, 128)), normal_law(0, 0.0505), "")
    with pytest.raises(AssertionError, match="beyond"):
        b = init.kaiming_std(fan_in) * math.sqrt(3)
        assert_follows(rng.uniform(-b, b, (784, 128)), normal_law(0, b / math.sqrt(3)), "")


def test_compute_fans_reads_a_weight_as_d_in_by_d_out() -> None:
    assert init.compute_fans((784, 128)) == (784, 128)
    assert init.compute_fans((10,)) == (10, 10)
    assert init.compute_fans(10) == (10, 10)
    assert init.compute_fans((3, 3, 64, 32)) == (576, 288)
    assert init.compute_fans(np.array([5, 7])) == (5, 7)


@pytest.mark.parametrize(
    ("shape", "error", "match"),
    [
        ((), ValueError, "empty"),
        ((0, 5), ValueError, "non-positive"),
        ((4, -1), ValueError, "non-positive"),
        ((2.5, 3), TypeError, "ints"),
        ("34", TypeError, "tuple of ints"),
        ((True, 3), TypeError, "ints"),
    ],
)
def test_compute_fans_rejects_bad_shapes(shape: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        init.compute_fans(shape)
    with pytest.raises(error, match=match):
        init.glorot_uniform(shape, rng=np.random.default_rng(0))


def test_the_notebook_numbers_are_pinned() -> None:
    assert init.glorot_uniform_bound(784, 128) == pytest.approx(0.0811, abs=5e-5)
    assert init.glorot_uniform_bound(784, 128) == pytest.approx(math.sqrt(6 / 912), rel=1e-15)
    assert init.xavier_neon_bound(784) == pytest.approx(0.0619, abs=5e-5)
    assert init.xavier_neon_bound(784) == pytest.approx(math.sqrt(3 / 784), rel=1e-15)
    assert init.kaiming_std(784) == pytest.approx(0.0505, abs=5e-5)
    assert init.kaiming_std(784) == pytest.approx(math.sqrt(2 / 784), rel=1e-15)


def test_bound_helpers_reject_non_positive_fans() -> None:
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_std(0)
    with pytest.raises(ValueError, match="fan_out"):
        init.glorot_uniform_bound(10, -3)
    with pytest.raises(TypeError, match="fan_in"):
        init.xavier_neon_bound(2.0)  # type: ignore[arg-type]


def test_uniform_initialisers_reach_but_never_pass_their_bound() -> None:
    rng = np.random.default_rng(1)
    for fn, bound in [
        (init.glorot_uniform, init.glorot_uniform_bound(784, 128)),
        (init.xavier_neon, init.xavier_neon_bound(784)),
        (init.kaiming_uniform, math.sqrt(6 / 784)),
    ]:
        w = fn((784, 128), rng=rng)
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.999 * bound


# --- Orthogonal and identity ------------------------------------------------


@given(seeds, st.integers(1, 12), st.integers(1, 12), st.sampled_from([1.0, 0.5, 2.0]))
def test_orthogonal_has_orthonormal_columns_when_tall_and_rows_when_wide(
    seed: int, d: int, m: int, gain: float
) -> None:
    w = init.orthogonal((d, m), rng=np.random.default_rng(seed), gain=gain)
    assert w.shape == (d, m)
    gram = w.T @ w if d >= m else w @ w.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(d, m)), rtol=0, atol=1e-12)


def test_orthogonal_flattens_leading_axes() -> None:
    w = init.orthogonal((3, 3, 4, 5), rng=np.random.default_rng(2))
    flat = w.reshape(36, 5)
    np.testing.assert_allclose(flat.T @ flat, np.eye(5), atol=1e-12)


@settings(max_examples=3, phases=NO_SHRINK)
@given(seeds)
def test_orthogonal_is_haar_distributed(seed: int) -> None:
    # Haar on O(3): every entry has mean 0 and variance 1/3, and det = ±1 with equal odds.
    # An uncorrected QR fails both, since its first column always has a negative top entry.
    rng = np.random.default_rng(seed)
    draws = 1500
    ws = np.stack([init.orthogonal((3, 3), rng=rng) for _ in range(draws)])
    se_entry = math.sqrt(1 / 3 / draws)
    assert np.all(np.abs(ws.mean(axis=0)) <= Z * se_entry), ws.mean(axis=0)
    positive = np.mean(np.linalg.det(ws) > 0)
    assert abs(positive - 0.5) <= Z * math.sqrt(0.25 / draws), positive


def test_orthogonal_rejects_a_vector_shape() -> None:
    with pytest.raises(ValueError, match="at least 2 axes"):
        init.orthogonal((5,), rng=np.random.default_rng(0))


def test_identity_is_a_scaled_identity_matrix() -> None:
    np.testing.assert_array_equal(init.identity((4, 4)), np.eye(4))
    np.testing.assert_array_equal(init.identity((3, 3), gain=0.5), 0.5 * np.eye(3))


@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (4,), (2, 2, 2)])
def test_identity_rejects_non_square_shapes_and_names_the_fix(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"square.*orthogonal"):
        init.identity(shape)


def test_constant_fills_every_entry() -> None:
    np.testing.assert_array_equal(init.constant((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.constant((5,), 0.01), np.full(5, 0.01))


# --- Registry, dtypes, randomness and argument checks ----------------------


def test_registry_names_every_initialiser() -> None:
    expected = {
        "constant",
        "uniform",
        "gaussian",
        "glorot_uniform",
        "glorot_normal",
        "xavier_neon",
        "kaiming_normal",
        "kaiming_uniform",
        "orthogonal",
        "identity",
    }
    assert set(init.INITIALIZERS) == expected
    for name in expected:
        assert init.get_initializer(name) is getattr(init, name)


def test_get_initializer_lists_the_valid_names_for_an_unknown_one() -> None:
    with pytest.raises(ValueError, match=r"'xavier'.*glorot_uniform.*kaiming_normal"):
        init.get_initializer("xavier")
    with pytest.raises(TypeError, match="str"):
        init.get_initializer(3)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_every_initialiser_can_be_called_as_init_shape_rng(name: str) -> None:
    w = init.get_initializer(name)((6, 6), rng=np.random.default_rng(0))
    assert w.shape == (6, 6) and w.dtype == np.float64


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_dtype_float32_is_honoured_with_the_same_numbers(name: str) -> None:
    fn = init.get_initializer(name)
    w32 = fn((5, 5), rng=np.random.default_rng(3), dtype=np.float32)
    w64 = fn((5, 5), rng=np.random.default_rng(3))
    assert w32.dtype == np.float32
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_integer_dtype_is_rejected(name: str) -> None:
    with pytest.raises(TypeError, match="floating"):
        init.get_initializer(name)((4, 4), rng=np.random.default_rng(0), dtype=np.int64)


@pytest.mark.parametrize("name", [*sorted(RANDOM), "orthogonal"])
@given(seed=seeds)
@settings(max_examples=5)
def test_same_seed_gives_the_same_array_and_another_seed_another(name: str, seed: int) -> None:
    fn = init.get_initializer(name)
    a = fn((7, 4), rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(a, fn((7, 4), rng=np.random.default_rng(seed)))
    assert not np.array_equal(a, fn((7, 4), rng=np.random.default_rng(seed + 1)))


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
@pytest.mark.parametrize("bad_rng", [0, np.random.RandomState(0), np.random.default_rng, "seed"])
def test_rng_that_is_not_a_generator_raises_type_error(name: str, bad_rng: Any) -> None:
    with pytest.raises(TypeError, match="default_rng"):
        init.get_initializer(name)((4, 4), rng=bad_rng)


@pytest.mark.parametrize("name", [*sorted(RANDOM), "orthogonal"])
def test_random_initialisers_require_rng(name: str) -> None:
    with pytest.raises(TypeError, match="rng"):
        init.get_initializer(name)((4, 4))
    with pytest.raises(TypeError, match="Generator"):
        init.get_initializer(name)((4, 4), rng=None)


def test_hyper_parameters_are_checked() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="low < high"):
        init.uniform((2, 2), rng=rng, low=0.1, high=-0.1)
    with pytest.raises(ValueError, match="std"):
        init.gaussian((2, 2), rng=rng, std=-1.0)
    with pytest.raises(ValueError, match="finite"):
        init.constant((2, 2), math.nan)
    with pytest.raises(ValueError, match="gain"):
        init.orthogonal((2, 2), rng=rng, gain=math.inf)
