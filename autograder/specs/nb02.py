"""Checks of notebook 2, "Activation functions": ids ``02.<name>``.

Every activation and its derivative is checked against ``reference_impl.activations``;
the notebook's own tools (a finite-difference checker, the dead-unit fraction) and its
numeric answers have their reference here. Sigmoid and softmax are called with numpy
overflow turned into an error, so a formula whose exp overflows at z = ±1000 fails
even where the overflow happens not to spoil the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autograder.checks.cases import Case, probe
from autograder.checks.compare import Tolerance, significant_close
from autograder.checks.notebooks.nb02 import CUBE, EXP, GAUSS, SIN, SOFTPLUS, UNSTABLE_HINT
from autograder.specs.base import ChoiceCheck, FunctionCheck, Mistake, ValueCheck
from autograder.specs.registry import register
from reference_impl import activations as A

Array = NDArray[Any]
FLOAT32_TOL = Tolerance(rtol=1e-5, atol=1e-6)
FD_TOL = Tolerance(rtol=1e-7, atol=1e-9)
LAM, ALP = A.SELU_LAMBDA, A.SELU_ALPHA


def _arr(values: Any, dtype: Any = np.float64) -> Array:
    return np.asarray(values, dtype=dtype)




STABLE_CALL = probe("common.stable_call", hint=UNSTABLE_HINT)
_TANH_UNSTABLE = ("a ratio of exponentials overflows once |z| > 709 and then gives inf / inf = "
                  "NaN: np.tanh is stable, and so is 2σ(2z) − 1 with your stable sigmoid")


def numerical_derivative_reference(f: Callable[[Any], Any], z: Any, eps: float = 1e-5) -> Array:
    """g′(z) ≈ (f(z + ε) − f(z − ε)) / 2ε, elementwise. z: any shape; returns z's shape."""
    z = np.asarray(z, dtype=np.float64)
    return (np.asarray(f(z + eps)) - np.asarray(f(z - eps))) / (2 * eps)


def dead_fraction_reference(activations: Any) -> float:
    """Fraction of units (columns) never active (> 0) on any example. activations: (N, M)."""
    a = np.asarray(activations)
    return float(np.mean(np.all(a <= 0, axis=0)))


_AROUND_ZERO = ("five points around 0, including the kink z = 0", [-2.0, -0.5, 0.0, 0.5, 2.0])
_TAILS = ("large |z|: the flat tails", [-30.0, -8.0, 8.0, 30.0])
_EXTREME = [-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0]


def _batch(rng: np.random.Generator) -> Array:
    return np.round(rng.uniform(-3.0, 3.0, size=(2, 3)), 2)


_INTEGER = Case((np.array([-4, -1, 0, 1, 3]),), "integer z: the output is still a float array")


def _unary_cases(extreme_visible: bool) -> Callable[[np.random.Generator], list[Case]]:
    def make(rng: np.random.Generator) -> list[Case]:
        cases = [Case((_arr(_AROUND_ZERO[1]),), _AROUND_ZERO[0]),
                 Case((_batch(rng),), "a (2, 3) batch: same shape out"),
                 Case((_arr(_TAILS[1]),), _TAILS[0])]
        if extreme_visible:
            cases.append(Case((_arr([-1000.0, 0.0, 1000.0]),),
                              "z = ±1000: must stay finite, without any overflow"))
        cases.append(_INTEGER)
        return cases
    return make


def _unary_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [Case((3.0 * rng.normal(size=shape),), f"random values of shape {shape}")
             for shape in ((7,), (4, 5), (2, 3, 4))]
    with_zeros = 2.0 * rng.normal(size=(3, 4))
    with_zeros[rng.random(size=(3, 4)) < 0.4] = 0.0
    cases += [
        Case((with_zeros,), "a batch with exact zeros (the kink)"),
        Case((_arr([0.7]),), "a single value, shape (1,)"),
        Case((_arr(_EXTREME),), "extremes: ±1000 and ±50 next to small values"),
        Case(((3.0 * rng.normal(size=(5, 4))).astype(np.float32),), "float32 input"),
        Case((_arr([-1000.0, -20.0, 0.0, 20.0, 1000.0], np.float32),), "float32 extremes"),
        Case((np.array([-3, -1, 0, 2, 5]),), "integer input: the output is a float array"),
    ]
    return cases


def _alpha_cases(default: float) -> Callable[[np.random.Generator], list[Case]]:
    def make(rng: np.random.Generator) -> list[Case]:
        return [
            Case((_arr(_AROUND_ZERO[1]),), f"{_AROUND_ZERO[0]}, default alpha={default}"),
            Case((_batch(rng),), "a (2, 3) batch, alpha=0.2", {"alpha": 0.2}),
            Case((_arr([-30.0, -3.0, -0.1, 0.0, 0.1, 3.0]),), "alpha=0.5, both sides and 0",
                 {"alpha": 0.5}),
            Case(_INTEGER.args, f"{_INTEGER.label}, alpha=0.25", {"alpha": 0.25}),
        ]
    return make


def _alpha_hidden(rng: np.random.Generator) -> list[Case]:
    plain = _unary_hidden(rng)
    out = [Case(c.args, f"{c.label}, default alpha") for c in plain[::2]]
    out += [Case(c.args, f"{c.label}, alpha=0.3", {"alpha": 0.3}) for c in plain[1::2]]
    out.append(Case((3.0 * rng.normal(size=(3, 3)),), "alpha=0 (plain ReLU)", {"alpha": 0.0}))
    out.append(Case((3.0 * rng.normal(size=(2, 5)),), "alpha=1 (a straight line)", {"alpha": 1.0}))
    return out


def _prelu_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr(_AROUND_ZERO[1]), 0.25), f"{_AROUND_ZERO[0]}, one slope a = 0.25"),
        Case((_batch(rng), _arr([0.1, 0.25, 0.5])), "a (2, 3) batch, one slope per unit a: (3,)"),
        Case((_arr([[-2.0, 1.0], [0.5, -4.0]]), 0.0), "a = 0: PReLU is plain ReLU"),
        Case((np.array([[-2, 0, 3], [1, -4, 0]]), 0.5), "integer z: float output"),
    ]


def _prelu_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, m in ((4, 3), (1, 6), (7, 2)):
        cases.append(Case((3.0 * rng.normal(size=(n, m)), rng.uniform(0.0, 0.6, size=m)),
                          f"random ({n}, {m}) batch, slopes (M,)"))
    with_zeros = rng.normal(size=(3, 4))
    with_zeros[:, 1] = 0.0
    cases += [
        Case((with_zeros, rng.uniform(0.05, 0.5, size=4)), "a column of exact zeros"),
        Case((3.0 * rng.normal(size=(2, 3, 4)), 0.3), "shape (2, 3, 4), scalar slope"),
        Case((_arr([_EXTREME]), 0.2), "extremes ±1000, scalar slope"),
        Case(((3.0 * rng.normal(size=(5, 3))).astype(np.float32),
              _arr([0.1, 0.2, 0.3], np.float32)), "float32 input and slopes"),
        Case((3.0 * rng.normal(size=(6, 3)), _arr([1.5, -0.25, 3.0])),
             "slopes above 1 and below 0: a multiplies the negative side only"),
        Case((np.array([[-3, 0, 2], [4, -1, 0]]), 0.25), "integer z: float output"),
    ]
    return cases


def _softmax_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([1.0, 2.0, 3.0]),), "three scores (C,) = (3,)"),
        Case((_arr([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),), "a (N, C) = (2, 3) batch: each row sums to 1"),
        Case((_arr([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0]]),),
             "scores ±1000: must stay finite, without any overflow"),
        Case((_arr([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]),),
             "axis=0: here the classes run down the columns", {"axis": 0}),
    ]


def _softmax_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [Case((3.0 * rng.normal(size=(n, c)),), f"random ({n}, {c}) scores")
             for n, c in ((5, 4), (1, 10), (8, 2))]
    cases += [
        Case((3.0 * rng.normal(size=(2, 3, 4)),), "shape (2, 3, 4), default axis"),
        Case((3.0 * rng.normal(size=(2, 5, 3)),), "shape (2, 5, 3), axis=1", {"axis": 1}),
        Case((rng.normal(size=(4, 3)),), "axis=0 on a (4, 3) batch", {"axis": 0}),
        Case((_arr([[1000.0, 1000.0], [-1000.0, -1000.0]]),), "equal extreme scores"),
        Case((rng.normal(size=(3, 4)) + 1e5,), "every score near 1e5"),
        Case((_arr([[-1000.0, 0.0, 1000.0, 999.0]]),), "±1000 in one row"),
        Case((rng.normal(size=(4, 1)),), "a single class: every probability is 1"),
        Case(((3.0 * rng.normal(size=(6, 5))).astype(np.float32),), "float32 scores"),
        Case((np.array([[1, 2, 3], [0, 0, -4]]),), "integer scores: float probabilities"),
    ]
    return cases


def _probs(rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
    return A.softmax(rng.normal(size=shape))


def _jacobian_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((A.softmax(_arr([1.0, 2.0, 3.0])),), "p = softmax([1, 2, 3]), shape (3,)"),
        Case((_arr([0.5, 0.5]),), "p = [0.5, 0.5]"),
        Case((A.softmax(_arr([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]])),),
             "a (2, 3) batch of p: one (3, 3) Jacobian per row, (2, 3, 3)"),
    ]


def _jacobian_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_probs(rng, (6,)),), "random p, shape (6,)"),
        Case((_probs(rng, (4, 3)),), "random (4, 3) batch"),
        Case((_probs(rng, (1, 5)),), "a (1, 5) batch"),
        Case((_arr([0.0, 1.0, 0.0, 0.0]),), "one-hot p: the Jacobian is 0"),
        Case((_arr([1.0]),), "a single class"),
        Case((np.full(5, 0.2),), "uniform p over 5 classes"),
        Case((_probs(rng, (3, 4)).astype(np.float32),), "float32 p"),
    ]


def _maxout_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([[1.0, 5.0, 2.0, -1.0]]), 2), "one example, M = 2 units of K = 2 pieces"),
        Case((_arr([[0.0, 3.0, 1.0, -2.0, 4.0, 4.5], [2.0, 1.0, 0.0, 1.0, -1.0, -3.0]]), 3),
             "(N, M·K) = (2, 6), K = 3 pieces: blocks of 3 consecutive columns"),
        Case((_arr([[1.0, -1.0, 2.0, 0.5], [-3.0, 2.0, 0.0, 4.0]]), 2),
             "(2, 4), K = 2: columns (0, 1) make unit 0, columns (2, 3) unit 1"),
        Case((_arr([[2.0, 2.0, -1.0, 3.0]]), 2), "a tie in the first unit: the first piece wins"),
    ]


def _maxout_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [Case((3.0 * rng.normal(size=(n, m * k)), k), f"random ({n}, {m}·{k}), K = {k}")
             for n, m, k in ((4, 3, 2), (2, 2, 4), (5, 1, 3), (1, 5, 2))]
    tied = np.round(rng.normal(size=(3, 6)))
    tied[:, 1] = tied[:, 0]
    cases += [
        Case((tied, 2), "ties within several units"),
        Case((rng.normal(size=(3, 4)), 1), "K = 1: maxout is the identity"),
        Case((_arr([[1000.0, -1000.0, -1000.0, 999.0]]), 2), "extremes ±1000"),
        Case(((3.0 * rng.normal(size=(4, 6))).astype(np.float32), 3), "float32 input"),
        Case((np.array([[3, -1, 2, 2], [0, 5, -4, 1]]), 2), "integer input"),
    ]
    return cases


def _fd_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((CUBE, _arr([-1.0, 0.0, 0.5, 2.0])), "z³ at four points, default eps"),
        Case((SIN, np.round(rng.uniform(-3.0, 3.0, size=(2, 3)), 2)), "sin on a (2, 3) batch"),
        Case((EXP, _arr([-1.0, 0.0, 1.0])), "eᶻ with eps=1e-2 (use the eps you are given)",
             {"eps": 1e-2}),
    ]


def _fd_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((SOFTPLUS, rng.normal(size=(3, 4))), "softplus on a random (3, 4) batch"),
        Case((GAUSS, rng.normal(size=5)), "a Gaussian bump with eps=1e-3", {"eps": 1e-3}),
        Case((CUBE, rng.normal(size=(2, 2, 2))), "z³ with eps=0.1 on shape (2, 2, 2)",
             {"eps": 0.1}),
        Case((EXP, _arr([0.3])), "eᶻ at a single point, shape (1,)"),
        Case((SIN, np.zeros(4)), "sin at z = 0, where the forward difference is off"),
        Case((CUBE, 5.0 * rng.normal(size=6)), "z³ at larger |z|"),
        Case((SOFTPLUS, np.array([-2, 0, 3])), "integer z"),
    ]


def _dead_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([[0.0, 1.5, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.3, 0.0, 0.0],
                     [0.0, 2.0, 0.0, 0.0]]),), "4 examples, 4 units: units 0 and 3 never fire"),
        Case((_arr([[0.5, 0.1], [0.0, 0.2]]),), "2 units, both fire at least once"),
        Case((np.zeros((3, 4)),), "every unit silent on every example"),
        Case((_arr([[-0.01, 0.5, -0.02], [-0.03, -0.01, 0.0]]),),
             "leaky ReLU outputs: a negative value is not active either"),
    ]


def _dead_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, m in ((50, 20), (8, 40), (200, 7)):
        z = rng.normal(size=(n, m)) + rng.normal(scale=2.0, size=m) - 1.5
        cases.append(Case((np.maximum(z, 0.0),), f"ReLU outputs ({n}, {m})"))
    z = rng.normal(size=(30, 12)) - 1.5
    cases += [
        Case((np.where(z > 0, z, 0.01 * z),), "leaky ReLU outputs (30, 12)"),
        Case((np.maximum(rng.normal(size=(1, 10)), 0.0),), "a single example (1, 10)"),
        Case((np.maximum(rng.normal(size=(25, 1)) - 3.0, 0.0),), "a single unit (25, 1)"),
        Case((np.maximum(rng.normal(size=(40, 16)) - 1.0, 0.0).astype(np.float32),),
             "float32 activations"),
        Case((np.ones((6, 5)),), "every unit always active"),
    ]
    return cases


def _naive_sigmoid(z: Any) -> Array:
    return 1.0 / (1.0 + np.exp(-np.asarray(z)))


def _naive_softmax(z: Any, axis: int = -1) -> Array:
    e = np.exp(np.asarray(z))
    return e / e.sum(axis=axis, keepdims=True)


def _softmax_whole(z: Any, axis: int = -1) -> Array:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def _softmax_no_exp(z: Any, axis: int = -1) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(z) / np.sum(z, axis=axis, keepdims=True)


def _maxout_strided(z: Any, pieces: int) -> Array:
    z = np.asarray(z)
    return z.reshape(z.shape[0], pieces, -1).max(axis=1)


def _maxout_grad_strided(z: Any, pieces: int) -> Array:
    z = np.asarray(z, dtype=np.float64)
    groups = z.reshape(z.shape[0], pieces, -1)
    mask = np.zeros_like(groups)
    np.put_along_axis(mask, np.argmax(groups, axis=1)[:, None, :], 1.0, axis=1)
    return mask.reshape(z.shape)


def _maxout_grad_all_ties(z: Any, pieces: int) -> Array:
    z = np.asarray(z, dtype=np.float64)
    groups = z.reshape(z.shape[0], -1, pieces)
    return (groups == groups.max(axis=2, keepdims=True)).astype(np.float64).reshape(z.shape)


def _in_input_dtype(reference: Callable[..., Any]) -> Callable[..., Any]:
    """The reference's values written into an array of z's own dtype: np.empty_like(z) or
    np.full_like(z, alpha) of an integer z holds integers, and the fractions are cut off."""

    def impl(z: Any, *args: Any, **kwargs: Any) -> Array:
        z = np.asarray(z)
        return np.asarray(reference(z, *args, **kwargs)).astype(z.dtype)

    return impl


def _integer_output(reference: Callable[..., Any]) -> Mistake:
    return Mistake("an integer output array", "np.empty_like(z), np.zeros_like(z) or "
                   "np.full_like(z, alpha) of an integer z make an integer array, which cuts off "
                   "every fraction: build the output as floats (np.where, or "
                   "np.zeros(z.shape))", _in_input_dtype(reference))


_SHAPE_OF_DERIVATIVE = ("a derivative has the shape of what it differentiates: g′(z) holds one "
                        "slope for every entry of z, so it has z's shape")
_SLOPE_ON_POSITIVES = "the slope multiplies the negative side only: g(z) = z for z > 0"
_KINK = ("at the kink z = 0 take the left (z <= 0) branch: test z > 0, not z >= 0")
_OUTPUT_NOT_INPUT = ("the derivative takes the input z, not the output; evaluate the "
                     "formula at z itself")
_FUNCTION_NOT_DERIVATIVE = "you returned g(z); the exercise asks for g′(z)"


NUMERICAL_DERIVATIVE = FunctionCheck(
    id="02.numerical_derivative",
    title="numerical_derivative(f, z, eps)",
    reference=numerical_derivative_reference,
    cases=_fd_cases,
    hidden_cases=_fd_hidden,
    tol=FD_TOL,
    shape_hint=_SHAPE_OF_DERIVATIVE,
    mistakes=(
        Mistake("a forward difference", "use the centred difference (f(z + ε) − f(z − ε)) / 2ε: "
                "its error shrinks like ε², the one-sided one only like ε",
                lambda f, z, eps=1e-5: (f(np.asarray(z) + eps) - f(np.asarray(z))) / eps),
        Mistake("a backward difference", "use the centred difference (f(z + ε) − f(z − ε)) / 2ε",
                lambda f, z, eps=1e-5: (f(np.asarray(z)) - f(np.asarray(z) - eps)) / eps),
        Mistake("dividing by ε instead of 2ε", "the two probes are 2ε apart",
                lambda f, z, eps=1e-5: (f(np.asarray(z) + eps) - f(np.asarray(z) - eps)) / eps),
        Mistake("the eps argument ignored", "use the eps you are given, not a fixed 1e-5",
                lambda f, z, eps=1e-5: numerical_derivative_reference(f, z)),
    ),
)

SIGMOID_CHECK = FunctionCheck(
    id="02.sigmoid", title="sigmoid(z)", reference=A.sigmoid,
    cases=_unary_cases(True), hidden_cases=_unary_hidden, probe=STABLE_CALL, tol=FLOAT32_TOL,
    mistakes=(
        _integer_output(A.sigmoid),
        Mistake("the sign of the exponent flipped", "σ(z) = 1 / (1 + e^(−z)); σ(2) is about 0.88",
                lambda z: A.sigmoid(-np.asarray(z))),
        Mistake("tanh instead of the sigmoid", "the sigmoid lies in (0, 1), σ(0) = 0.5", A.tanh),
        Mistake("unstable", UNSTABLE_HINT, _naive_sigmoid),
    ),
)

SIGMOID_GRAD = FunctionCheck(
    id="02.sigmoid_grad", title="sigmoid_grad(z)", reference=A.sigmoid_grad,
    cases=_unary_cases(True), hidden_cases=_unary_hidden, tol=FLOAT32_TOL,
    shape_hint=_SHAPE_OF_DERIVATIVE,
    mistakes=(
        _integer_output(A.sigmoid_grad),
        Mistake("computed on the output", _OUTPUT_NOT_INPUT + ": σ′(z) = σ(z)(1 − σ(z))",
                lambda z: A.sigmoid_grad(A.sigmoid(z))),
        Mistake("σ′ computed from z instead of σ(z)", "σ′ = s(1 − s) is written with the output "
                "s = σ(z): compute s = sigmoid(z) first, then s * (1 - s), not z * (1 - z)",
                lambda z: np.asarray(z) * (1.0 - np.asarray(z))),
        Mistake("the factor (1 − σ(z)) left out", "σ′(z) = σ(z)(1 − σ(z))", A.sigmoid),
        Mistake("tanh's formula", "1 − σ(z)² is the pattern of tanh′; σ′(z) = σ(z)(1 − σ(z))",
                lambda z: 1.0 - A.sigmoid(z) ** 2),
    ),
)

TANH_CHECK = FunctionCheck(
    id="02.tanh", title="tanh(z)", reference=A.tanh,
    cases=_unary_cases(True), hidden_cases=_unary_hidden, tol=FLOAT32_TOL,
    probe=probe("common.stable_call", hint=_TANH_UNSTABLE),
    mistakes=(
        _integer_output(A.tanh),
        Mistake("the sigmoid instead of tanh", "tanh lies in (−1, 1) and tanh(0) = 0", A.sigmoid),
        Mistake("2σ(z) − 1", "the rescaling is 2σ(2z) − 1: the argument is doubled too",
                lambda z: 2.0 * A.sigmoid(z) - 1.0),
    ),
)

TANH_GRAD = FunctionCheck(
    id="02.tanh_grad", title="tanh_grad(z)", reference=A.tanh_grad,
    cases=_unary_cases(False), hidden_cases=_unary_hidden, tol=FLOAT32_TOL,
    shape_hint=_SHAPE_OF_DERIVATIVE,
    mistakes=(
        _integer_output(A.tanh_grad),
        Mistake("1 − tanh(z)", "the tanh is squared: tanh′(z) = 1 − tanh(z)²",
                lambda z: 1.0 - A.tanh(z)),
        Mistake("computed on the output", _OUTPUT_NOT_INPUT + ": tanh′(z) = 1 − tanh(z)²",
                lambda z: A.tanh_grad(A.tanh(z))),
        Mistake("the sigmoid's formula", "tanh(z)(1 − tanh(z)) is the sigmoid's pattern; "
                "tanh′(z) = 1 − tanh(z)²", lambda z: A.tanh(z) * (1.0 - A.tanh(z))),
    ),
)

RELU_CHECK = FunctionCheck(
    id="02.relu", title="relu(z)", reference=A.relu,
    cases=_unary_cases(False), hidden_cases=_unary_hidden, tol=FLOAT32_TOL,
    mistakes=(
        Mistake("min instead of max", "ReLU keeps the positive part: max(0, z)",
                lambda z: np.minimum(np.asarray(z), 0.0)),
        Mistake("the derivative returned", "return max(0, z), not the 0/1 mask",
                A.relu_grad),
        Mistake("the absolute value", "negative inputs give 0, not |z|",
                lambda z: np.abs(np.asarray(z))),
    ),
)

RELU_GRAD = FunctionCheck(
    id="02.relu_grad", title="relu_grad(z)", reference=A.relu_grad,
    cases=_unary_cases(False), hidden_cases=_unary_hidden, tol=FLOAT32_TOL,
    shape_hint=_SHAPE_OF_DERIVATIVE,
    mistakes=(
        Mistake("1 at z = 0", _KINK, lambda z: (np.asarray(z) >= 0).astype(np.float64)),
        Mistake("the function returned", _FUNCTION_NOT_DERIVATIVE, A.relu),
        Mistake("the mask inverted", "the gradient passes where z > 0",
                lambda z: (np.asarray(z) <= 0).astype(np.float64)),
    ),
)


def _leaky_pos(z: Any, alpha: float = 0.01) -> Array:
    z = np.asarray(z)
    return np.where(z > 0, alpha * z, z)


LEAKY_RELU = FunctionCheck(
    id="02.leaky_relu", title="leaky_relu(z, alpha)", reference=A.leaky_relu,
    cases=_alpha_cases(0.01), hidden_cases=_alpha_hidden, tol=FLOAT32_TOL,
    mistakes=(
        _integer_output(A.leaky_relu),
        Mistake("leaky slope applied to positives", _SLOPE_ON_POSITIVES, _leaky_pos),
        Mistake("alpha ignored", "use the alpha you are given (0.01 is only the default)",
                lambda z, alpha=0.01: A.leaky_relu(z, 0.01)),
        Mistake("plain ReLU", "negative inputs keep a small slope: αz",
                lambda z, alpha=0.01: A.relu(z)),
    ),
)

LEAKY_RELU_GRAD = FunctionCheck(
    id="02.leaky_relu_grad", title="leaky_relu_grad(z, alpha)", reference=A.leaky_relu_grad,
    cases=_alpha_cases(0.01), hidden_cases=_alpha_hidden, tol=FLOAT32_TOL,
    shape_hint=_SHAPE_OF_DERIVATIVE,
    mistakes=(
        _integer_output(A.leaky_relu_grad),
        Mistake("leaky slope applied to positives", "g′ is 1 for z > 0 and α otherwise",
                lambda z, alpha=0.01: np.where(np.asarray(z) > 0, alpha, 1.0)),
        Mistake("1 at z = 0", _KINK,
                lambda z, alpha=0.01: np.where(np.asarray(z) >= 0, 1.0, alpha)),
        Mistake("alpha ignored", "use the alpha you are given",
                lambda z, alpha=0.01: A.leaky_relu_grad(z, 0.01)),
        Mistake("alpha ignored (ReLU's derivative)", "the negative side's slope is α, not 0: "
                "leaky′(z) = α for z <= 0", lambda z, alpha=0.01: A.relu_grad(z)),
        Mistake("αz instead of α", "the derivative of αz is α, a constant",
                lambda z, alpha=0.01: np.where(np.asarray(z) > 0, 1.0, alpha * np.asarray(z))),
    ),
)

PRELU = FunctionCheck(
    id="02.prelu", title="prelu(z, a)", reference=A.prelu,
    cases=_prelu_cases, hidden_cases=_prelu_hidden, tol=FLOAT32_TOL,
    mistakes=(
        Mistake("slope applied to positives", _SLOPE_ON_POSITIVES, _leaky_pos),
        Mistake("slope applied everywhere", "a only multiplies the negative side",
                lambda z, a: np.asarray(a) * np.asarray(z)),
    ),
)

PRELU_GRAD = FunctionCheck(
    id="02.prelu_grad", title="prelu_grad(z, a)", reference=A.prelu_grad,
    cases=_prelu_cases, hidden_cases=_prelu_hidden, tol=FLOAT32_TOL,
    shape_hint=_SHAPE_OF_DERIVATIVE,
    mistakes=(
        Mistake("slope applied to positives", "∂g/∂z is 1 for z > 0 and a otherwise",
                lambda z, a: np.where(np.asarray(z) > 0, a, 1.0)),
        Mistake("1 at z = 0", _KINK, lambda z, a: np.where(np.asarray(z) >= 0, 1.0, a)),
        Mistake("the slope gradient returned", "this is ∂g/∂z; ∂g/∂a is the next function",
                A.prelu_grad_slope),
    ),
)

PRELU_GRAD_SLOPE = FunctionCheck(
    id="02.prelu_grad_slope", title="prelu_grad_slope(z, a)", reference=A.prelu_grad_slope,
    cases=_prelu_cases, hidden_cases=_prelu_hidden, tol=FLOAT32_TOL,
    shape_hint=("a derivative has the shape of what it is taken at: ∂g/∂a is given "
                "for every entry of z, so the result has z's shape; a layer sums it over the "
                "batch later"),
    mistakes=(
        Mistake("z everywhere", "a only acts where z <= 0, so ∂g/∂a is 0 for z > 0",
                lambda z, a: np.asarray(z, dtype=np.float64) + 0.0 * np.asarray(a)),
        Mistake("∂g/∂z returned", "differentiate in the slope a: ∂(a·z)/∂a = z",
                A.prelu_grad),
        Mistake("the positive part", "∂g/∂a = z where z <= 0, else 0: min(z, 0)",
                lambda z, a: np.maximum(np.asarray(z), 0.0)),
        Mistake("summed over the batch", "return one value per entry of z (z's shape); a layer "
                "sums over the batch later", lambda z, a: A.prelu_grad_slope(z, a).sum(axis=0)),
    ),
)

ELU = FunctionCheck(
    id="02.elu", title="elu(z, alpha)", reference=A.elu,
    cases=_alpha_cases(1.0), hidden_cases=_alpha_hidden, tol=FLOAT32_TOL,
    mistakes=(
        _integer_output(A.elu),
        Mistake("αe^z − 1", "the −1 is inside the parentheses: α(e^z − 1)",
                lambda z, alpha=1.0: np.where(np.asarray(z) > 0, z, alpha * np.exp(
                    np.minimum(z, 0)) - 1.0)),
        Mistake("the −1 left out", "ELU is α(e^z − 1) for z <= 0, so it is 0 at z = 0",
                lambda z, alpha=1.0: np.where(np.asarray(z) > 0, z, alpha * np.exp(
                    np.minimum(z, 0)))),
        Mistake("alpha ignored", "use the alpha you are given",
                lambda z, alpha=1.0: A.elu(z, 1.0)),
    ),
)

ELU_GRAD = FunctionCheck(
    id="02.elu_grad", title="elu_grad(z, alpha)", reference=A.elu_grad,
    cases=_alpha_cases(1.0), hidden_cases=_alpha_hidden, tol=FLOAT32_TOL,
    shape_hint=_SHAPE_OF_DERIVATIVE,
    mistakes=(
        _integer_output(A.elu_grad),
        Mistake("α left out", "d/dz α(e^z − 1) = αe^z",
                lambda z, alpha=1.0: A.elu_grad(z, 1.0)),
        Mistake("the function returned", _FUNCTION_NOT_DERIVATIVE, A.elu),
        Mistake("1 at z = 0", _KINK,
                lambda z, alpha=1.0: np.where(np.asarray(z) >= 0, 1.0, alpha * np.exp(
                    np.minimum(z, 0)))),
    ),
)

SELU = FunctionCheck(
    id="02.selu", title="selu(z)", reference=A.selu,
    cases=_unary_cases(False), hidden_cases=_unary_hidden, tol=FLOAT32_TOL,
    mistakes=(
        _integer_output(A.selu),
        Mistake("λ left out", "SELU is λ times an ELU with α ≈ 1.6733: multiply by λ",
                lambda z: A.elu(z, ALP)),
        Mistake("λ on the negative side only", "λ scales both sides: λz for z > 0",
                lambda z: np.where(np.asarray(z) > 0, z, A.selu(z))),
        Mistake("rounded constants", "use SELU_LAMBDA and SELU_ALPHA as given, all digits",
                lambda z: 1.05 * A.elu(z, 1.67)),
        Mistake("α left out", "the negative side is λα(e^z − 1)",
                lambda z: LAM * A.elu(z, 1.0)),
        Mistake("λ and α swapped", "λ ≈ 1.0507 scales both sides and α ≈ 1.6733 sets the "
                "negative side's floor: selu = λ·z for z > 0, λα(e^z − 1) otherwise",
                lambda z: ALP * A.elu(z, LAM)),
    ),
)

SELU_GRAD = FunctionCheck(
    id="02.selu_grad", title="selu_grad(z)", reference=A.selu_grad,
    cases=_unary_cases(False), hidden_cases=_unary_hidden, tol=FLOAT32_TOL,
    shape_hint=_SHAPE_OF_DERIVATIVE,
    mistakes=(
        _integer_output(A.selu_grad),
        Mistake("λ left out", "differentiate λ·ELU: the factor λ stays", lambda z: A.elu_grad(z, ALP)),
        Mistake("λ at z = 0", _KINK + " (SELU′ jumps from λα to λ there)",
                lambda z: np.where(np.asarray(z) >= 0, LAM, LAM * ALP * np.exp(np.minimum(z, 0)))),
        Mistake("the function returned", _FUNCTION_NOT_DERIVATIVE, A.selu),
        Mistake("α left out", "for z <= 0 the slope is λαe^z", lambda z: LAM * A.elu_grad(z, 1.0)),
        Mistake("λ and α swapped", "the slope is λ ≈ 1.0507 for z > 0 and λα·e^z below",
                lambda z: ALP * A.elu_grad(z, LAM)),
    ),
)

SOFTMAX = FunctionCheck(
    id="02.softmax", title="softmax(z, axis)", reference=A.softmax,
    cases=_softmax_cases, hidden_cases=_softmax_hidden, probe=STABLE_CALL, tol=FLOAT32_TOL,
    mistakes=(
        Mistake("softmax over the wrong axis", "normalise along `axis` (the class axis, the "
                "last one by default): every row of an (N, C) batch sums to 1",
                lambda z, axis=-1: A.softmax(z, axis=0)),
        Mistake("the axis argument ignored", "pass `axis` to max and sum instead of a fixed -1",
                lambda z, axis=-1: A.softmax(z)),
        Mistake("normalised over the whole array", "sum along `axis` with keepdims=True, "
                "not over every entry", _softmax_whole),
        Mistake("no exponential", "softmax divides e^(z_i) by Σ e^(z_j), not z_i by Σ z_j",
                _softmax_no_exp),
        Mistake("unstable", UNSTABLE_HINT, _naive_softmax),
    ),
)

SOFTMAX_JACOBIAN = FunctionCheck(
    id="02.softmax_jacobian", title="softmax_jacobian(p)", reference=A.softmax_jacobian,
    cases=_jacobian_cases, hidden_cases=_jacobian_hidden, tol=FLOAT32_TOL,
    shape_hint=("J holds ∂p_i/∂z_j for every pair (i, j): (C, C) for one row p, and "
                "one (C, C) Jacobian per row of a batch, (N, C, C)"),
    mistakes=(
        Mistake("diag(p) left out", "J = diag(p) − p pᵀ: the diagonal also has +p_i",
                lambda p: -np.asarray(p)[..., :, None] * np.asarray(p)[..., None, :]),
        Mistake("only the diagonal", "off the diagonal ∂p_i/∂z_j = −p_i p_j, not 0",
                lambda p: np.asarray(p)[..., :, None] * np.eye(np.shape(p)[-1])
                * (1 - np.asarray(p))[..., :, None]),
        Mistake("+ p pᵀ", "the outer product is subtracted: J = diag(p) − p pᵀ",
                lambda p: A.softmax_jacobian(p) + 2 * np.asarray(p)[..., :, None]
                * np.asarray(p)[..., None, :]),
        Mistake("softmax applied to p again", "p is already softmax(z): use it as it is",
                lambda p: A.softmax_jacobian(A.softmax(p))),
    ),
)

MAXOUT = FunctionCheck(
    id="02.maxout", title="maxout(z, pieces)", reference=A.maxout,
    cases=_maxout_cases, hidden_cases=_maxout_hidden, tol=FLOAT32_TOL,
    mistakes=(
        Mistake("pieces grouped with a stride", "a unit's K pieces are K consecutive columns: "
                "z.reshape(N, M, K)", _maxout_strided),
        Mistake("min instead of max", "maxout takes the largest piece",
                lambda z, pieces: np.asarray(z).reshape(np.shape(z)[0], -1, pieces).min(axis=2)),
        Mistake("the mean of the pieces", "maxout takes the largest piece, not the average",
                lambda z, pieces: np.asarray(z).reshape(np.shape(z)[0], -1, pieces).mean(axis=2)),
    ),
)

MAXOUT_GRAD = FunctionCheck(
    id="02.maxout_grad", title="maxout_grad(z, pieces)", reference=A.maxout_grad,
    cases=_maxout_cases, hidden_cases=_maxout_hidden, tol=FLOAT32_TOL,
    shape_hint=("∂h/∂z has the shape of z, (N, M·K): one 0 or 1 for every piece of "
                "every unit"),
    mistakes=(
        Mistake("pieces grouped with a stride", "a unit's K pieces are K consecutive columns: "
                "z.reshape(N, M, K)", _maxout_grad_strided),
        Mistake("every tied piece marked", "on a tie only the first winning piece gets the "
                "gradient (np.argmax picks it)", _maxout_grad_all_ties),
        Mistake("the winning values instead of 1", "the mask holds 1 for the winner, 0 elsewhere",
                lambda z, pieces: A.maxout_grad(z, pieces) * np.asarray(z)),
    ),
)

DEAD_FRACTION = FunctionCheck(
    id="02.dead_fraction", title="dead_fraction(activations)",
    reference=dead_fraction_reference, cases=_dead_cases, hidden_cases=_dead_hidden,
    kind="float",
    mistakes=(
        Mistake("zero entries counted, not units", "a unit is dead when its whole column is "
                "<= 0: check each column with np.all(..., axis=0)",
                lambda a: float(np.mean(np.asarray(a) <= 0))),
        Mistake("the wrong axis", "rows are examples, columns are units: reduce over axis 0",
                lambda a: float(np.mean(np.all(np.asarray(a) <= 0, axis=1)))),
        Mistake("any instead of all", "a unit is dead only if it is silent on every example",
                lambda a: float(np.mean(np.any(np.asarray(a) <= 0, axis=0)))),
        Mistake("a count, not a fraction", "divide by the number of units M",
                lambda a: float(np.sum(np.all(np.asarray(a) <= 0, axis=0)))),
        Mistake("only exact zeros", "active means > 0; a negative (leaky) output is not active",
                lambda a: float(np.mean(np.all(np.asarray(a) == 0, axis=0)))),
    ),
)


TANH_GRID = np.linspace(-5.0, 5.0, 101)
SOFTMAX_SCORES = (1.5, 0.5, 3.0, 1.0, 1.5)


def _gap(other: Callable[[Array], Array]) -> float:
    return float(np.max(np.abs(A.tanh(TANH_GRID) - other(TANH_GRID))))


def _top(scale: float) -> Callable[[], float]:
    return lambda: float(np.max(A.softmax(scale * _arr(SOFTMAX_SCORES))))


# Grids with an even number of points on [−a, a] step over z = 0, the maximum: the largest
# value on such a grid is below the true one (those that round to it at 4 digits are left out).
_GRIDS_MISSING_ZERO = sorted({
    value for value in (float(np.max(A.sigmoid_grad(np.linspace(-a, a, n))))
                        for a in (3.0, 5.0, 6.0, 10.0) for n in (10, 20, 50, 100, 200))
    if not significant_close(value, float(A.sigmoid_grad(0.0)), 4)})

MAX_SIGMOID_GRAD = ValueCheck(
    id="02.max_sigmoid_grad", title="the largest value of σ′",
    expected=lambda: float(A.sigmoid_grad(0.0)),
    tol=Tolerance(digits=4),  # the question asks for four significant digits
    mistakes=(
        *((value, "the maximum of a grid that misses z = 0",
           "a grid's largest value is below the true maximum unless it contains the peak: "
           "derive it, or evaluate sigmoid_grad where σ′ peaks") for value in _GRIDS_MISSING_ZERO),
        (0.5, "σ(0) instead of σ′(0)", "take the maximum of the derivative, not of σ"),
        (1.0, "the maximum of tanh′", "this is the sigmoid's derivative σ(z)(1 − σ(z))"),
        (float(A.sigmoid_grad(A.sigmoid(0.0))), "σ′ evaluated on σ(z)",
         "your sigmoid_grad must take z, not σ(z)"),
    ),
)

TANH_GAP = ValueCheck(
    id="02.tanh_gap", title="max |tanh(z) − (2σ(2z) − 1)| on the grid",
    expected=lambda: _gap(lambda z: 2.0 * A.sigmoid(2.0 * z) - 1.0),
    tol=Tolerance(rtol=0.0, atol=1e-9),
    mistakes=(
        (_gap(lambda z: 2.0 * A.sigmoid(z) - 1.0), "2σ(z) − 1", "double the argument too: σ(2z)"),
        (_gap(lambda z: A.sigmoid(2.0 * z)), "σ(2z) not rescaled", "stretch to (−1, 1): 2σ(2z) − 1"),
        (_gap(lambda z: 2.0 * A.sigmoid(2.0 * z)), "the −1 left out", "shift down: 2σ(2z) − 1"),
        (_gap(A.sigmoid), "σ(z) compared with tanh(z)", "compare tanh with 2σ(2z) − 1"),
    ),
)

P_TOP = ValueCheck(
    id="02.p_top", title="the largest softmax output for z_scores",
    expected=_top(1.0), tol=Tolerance(digits=3),
    mistakes=(
        (3.0, "the largest score, not its probability", "apply softmax first, then take the max"),
        (2.0, "an index", "give the probability itself, not where it is"),
        (3.0 / 7.5, "scores divided by their sum", "softmax exponentiates before normalising"),
    ),
)

P_TOP_DOUBLED = ValueCheck(
    id="02.p_top_doubled", title="the largest softmax output for 2 · z_scores",
    expected=_top(2.0), tol=Tolerance(digits=3),
    mistakes=(
        (_top(1.0)(), "the scores not doubled", "compute softmax(2 * z_scores)"),
        (_top(0.5)(), "the scores halved", "double the scores: 2 * z_scores"),
        (2.0 * _top(1.0)(), "the output doubled", "double the inputs, then apply softmax"),
        (_top(4.0)(), "the scores scaled by 4", "double the scores once: 2 * z_scores"),
    ),
)

PRACTICE = ChoiceCheck(
    id="02.practice", title="which activation in practice", expected="abe", options="abcdef",
    kind="set",
    mistakes=(
        ("ab", "one true statement missed", "sigmoid is a poor hidden unit, but is it poor "
         "everywhere in a network?"),
        ("abef", "maxout thought free", "count the weights of a maxout unit with K = 2 pieces"),
        ("abce", "tanh overrated", "tanh is zero-centred, but which weakness of the sigmoid "
         "does it keep?"),
        ("abde", "sigmoid in hidden layers", "σ′ ≤ 0.25 at every layer: what did the 20-layer "
         "experiment show?"),
    ),
)

FORBIDDEN = ("reference_impl.activations", "reference_impl.losses", "reference_impl.gradcheck",
             "reference_impl.layers.activation")

register(
    NUMERICAL_DERIVATIVE, SIGMOID_CHECK, SIGMOID_GRAD, TANH_CHECK, TANH_GRAD, RELU_CHECK,
    RELU_GRAD, LEAKY_RELU, LEAKY_RELU_GRAD, PRELU, PRELU_GRAD, PRELU_GRAD_SLOPE, ELU, ELU_GRAD,
    SELU, SELU_GRAD, SOFTMAX, SOFTMAX_JACOBIAN, MAXOUT, MAXOUT_GRAD, DEAD_FRACTION,
    MAX_SIGMOID_GRAD, TANH_GAP, P_TOP, P_TOP_DOUBLED, PRACTICE,
)
