"""Checks that hold what an exercise's text promises: precision, dtypes, state, PCA, the means.

Each test pins one piece of checking machinery that a contract-derived case relies on
(course/AUTHORING.md, "Deriving checks from a contract"); the mutation catalogues then
show the cases at work on whole answers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.checks import coerce
from autograder.checks.cases import Case
from autograder.checks.compare import Tolerance, significant_close, values_match
from autograder.checks.notebooks import nb03 as student03
from autograder.checks.notebooks import nb05 as student05
from autograder.checks.notebooks import nb06 as student06
from autograder.checks.observe import MUTATED, coerce_kind, observe_cases
from autograder.specs import nb03 as spec03
from autograder.specs import registry
from autograder.specs.base import ValueCheck
from reference_impl import mlp
from tests.strategies import seeds

NOTEBOOKS = ("01", "02", "03", "04", "05", "06", "07")
VALUE_CHECKS = [chk for nb in NOTEBOOKS for cid in registry.all_ids(nb)
                if isinstance(chk := registry.get(cid), ValueCheck)]


# Precision: a numeric answer is judged to the significant digits its question asks for.

@given(mantissa=st.floats(1.0, 9.999), exponent=st.integers(-8, 8), digits=st.integers(1, 5))
def test_every_correctly_rounded_answer_passes_and_one_unit_off_fails(
        mantissa: float, exponent: int, digits: int) -> None:
    exact = mantissa * 10.0**exponent
    rounded = float(f"{exact:.{digits - 1}e}")
    unit = 10.0 ** (math.floor(math.log10(abs(exact))) - digits + 1)
    assert significant_close(rounded, exact, digits)
    assert not significant_close(exact + 1.5 * unit, exact, digits)
    assert not significant_close(-exact, exact, digits)


def test_digits_apply_to_single_numbers_only() -> None:
    tol = Tolerance(digits=3)
    assert values_match(0.00247, 0.0024726, tol)
    assert not values_match(0.0025, 0.0024726, tol)
    assert not values_match(1 / math.exp(6), 0.0024726, tol)  # the 1 + forgotten


@pytest.mark.parametrize("chk", [c for c in VALUE_CHECKS if c.kind == "float"],
                         ids=lambda c: c.id)
def test_a_numeric_question_states_its_precision_and_its_mistakes_stay_apart(
        chk: ValueCheck) -> None:
    """Float answers are judged to stated significant digits (or an explicit absolute band),
    the rounded answer passes, and no named mistake is within that precision of it."""
    expected = float(chk.expected())
    assert chk.tol.digits or chk.tol.atol >= 1e-12, f"{chk.id}: no stated precision"
    if chk.tol.digits:
        rounded = float(f"{expected:.{chk.tol.digits - 1}e}")
        assert values_match(rounded, expected, chk.tol)
    for wrong, name, _ in chk.mistakes:
        assert not values_match(expected, float(wrong), chk.tol), f"{chk.id}: {name}"
        assert not values_match(float(wrong), expected, chk.tol), f"{chk.id}: {name}"


# Types: float output where promised, integers kept exact.

def test_a_float_array_kind_refuses_integers_and_booleans() -> None:
    assert coerce_kind(np.zeros(3, dtype=np.float32), "float_array").dtype == np.float64
    for wrong in (np.zeros(3, dtype=int), np.zeros(3, dtype=bool)):
        with pytest.raises(coerce.CoercionError, match="float"):
            coerce_kind(wrong, "float_array")


def test_integers_above_two_to_the_53_stay_exact() -> None:
    big = 10**16 + 1
    assert coerce.as_int(big) == big
    assert coerce.as_int(np.int64(big)) == big
    assert coerce.as_int(float(big)) != big  # a float has already lost the last digit


# State: arguments changed in place, dicts included.

def _bump_t(state: dict[str, Any]) -> int:
    state["t"] += 1
    return int(state["t"])


def test_a_dict_argument_changed_in_place_is_reported() -> None:
    case = Case(({"t": 0, "m": np.zeros(2)},), "a state dict")
    [(status, text)] = observe_cases(_bump_t, [case], lambda f, c: f(*c.args), "int")
    assert (status, text) == ("error", MUTATED)
    [(status, value)] = observe_cases(lambda s: s["t"] + 1, [case], lambda f, c: f(*c.args),
                                      "int")
    assert (status, value) == ("ok", 1)


def test_an_optimizer_that_rewrites_the_state_it_was_given_is_refused() -> None:
    def adam_in_place(w: Any, g: Any, state: dict[str, Any], lr: float) -> Any:
        state["t"] += 1
        return w - lr * np.sign(g), state

    case = Case((np.ones(2), np.ones((2, 2)), {"lr": 0.1}), "two steps")
    with pytest.raises(ValueError, match="changed the state dict it was given"):
        student05.trajectory(adam_in_place, case, "adam_step")


# PCA, not ZCA: the map from the data to the output has orthogonal columns.

def _zca(X: Any, eps: float = 1e-5) -> Any:
    Xc = X - X.mean(axis=0)
    lam, U = np.linalg.eigh(Xc.T @ Xc / len(Xc))
    return (Xc @ U / np.sqrt(lam + eps)) @ U.T


@settings(max_examples=25, deadline=None)
@given(seed=seeds, d=st.integers(2, 6))
def test_pca_whitening_is_told_from_zca_for_any_correlated_data(seed: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    X = (rng.normal(size=(400, d)) * np.geomspace(3.0, 0.3, d)) @ q.T
    case = Case((X,), "data")
    assert student03.whiten_stats(spec03.whiten, case)[2] == 0.0
    shuffled = lambda X, eps=1e-5: -spec03.whiten(X, eps)[:, ::-1]  # noqa: E731
    assert student03.whiten_stats(shuffled, case)[2] == 0.0  # any order, any sign
    assert student03.whiten_stats(_zca, case)[2] > 1e-3


# The capstone's means: the notebook's own modules, a nonlinearity, gradients that agree.

class _Affine:
    def __init__(self, rng: np.random.Generator) -> None:
        self.W, self.b = rng.normal(size=(64, 10)), rng.normal(size=10)

    def forward(self, x: Any) -> Any:
        return x @ self.W + self.b


def _digits(n: int = 32) -> Any:
    return np.random.default_rng(0).uniform(0, 1, size=(n, 64))


def test_a_model_from_reference_impl_is_not_the_students_own() -> None:
    with pytest.raises(ValueError, match="reference_impl"):
        student06.require_own_modules(mlp([64, 16, 10], rng=np.random.default_rng(0)))
    student06.require_own_modules([_Affine(np.random.default_rng(0))])


def test_an_affine_model_has_no_hidden_nonlinearity() -> None:
    with pytest.raises(ValueError, match="affine"):
        student06.require_nonlinear(_Affine(np.random.default_rng(0)), _digits())
    student06.require_nonlinear(mlp([64, 16, 10], rng=np.random.default_rng(0)), _digits())


def test_gradients_must_agree_with_centred_differences() -> None:
    model = mlp([64, 16, 10], rng=np.random.default_rng(1))
    student06.require_gradients(model, _digits())
    original = model.backward

    def halved(dy: Any) -> Any:
        out = original(dy)
        for _, g in model.parameters():
            g *= 0.5
        return out

    model.backward = halved  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="centred differences"):
        student06.require_gradients(model, _digits())


def test_the_capstone_returns_the_documented_pair_and_history() -> None:
    model = _Affine(np.random.default_rng(0))
    history = {"train_loss": [1.0, 0.5], "train_acc": [0.5, 0.9], "val_loss": [], "val_acc": []}
    assert student06.trained_model([model, history]) is model
    with pytest.raises(TypeError, match="pair"):
        student06.trained_model(model)
    with pytest.raises(ValueError, match="one number per epoch"):
        student06.trained_model((model, {**history, "train_acc": []}))
