"""Checks of notebook 1, "From a unit to a network": ids ``01.<name>``.

References come from ``reference_impl`` where it has the function (``one_hot``,
``count_parameters``); the notebook's own small functions (a unit, the collapse of two
linear layers, bumps and folds) have their reference here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autograder.checks.cases import Case, probe
from autograder.checks.compare import Tolerance
from autograder.checks.notebooks import nb01 as student
from autograder.checks.notebooks.nb01 import COS, EXP, IDENTITY, ONE, RAMP, RELU, SIGMOID, SIN, SQUARE, TANH
from autograder.specs.base import ChoiceCheck, FunctionCheck, Mistake, PropertyCheck, ValueCheck
from autograder.specs.registry import register
from reference_impl import count_parameters
from reference_impl.activations import relu, sigmoid
from reference_impl.losses import one_hot

Array = NDArray[Any]
FLOAT32_TOL = Tolerance(rtol=1e-5, atol=1e-6)




def _arr(values: Any, dtype: Any = np.float64) -> Array:
    return np.asarray(values, dtype=dtype)



WORKED_B, WORKED_W, WORKED_X = 1.0, (3.0, -2.0), (-1.0, 2.0)


def worked_z() -> float:
    """z = b + w·x for the worked example (bias 1, w = (3, −2), x = (−1, 2))."""
    return WORKED_B + float(np.dot(WORKED_W, WORKED_X))


def worked_a() -> float:
    """a = σ(z) for the worked example."""
    return float(sigmoid(worked_z()))


def unit_reference(x: Any, w: Any, b: float, g: Callable[[Any], Array]) -> Array:
    """a = g(x·w + b). x: (N, D) or (D,); w: (D,); b: a number; returns (N,) or a scalar."""
    return g(np.asarray(x) @ np.asarray(w) + b)


def _unit_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]), _arr([0.5, -1.0]), 0.25, IDENTITY),
             "3 examples, identity g: a = z"),
        Case((_arr([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]]), _arr([1.0, 1.0, -1.0]), -0.5, RELU),
             "2 examples of 3 features, relu"),
        Case((_arr([0.5, -0.5]), _arr([2.0, 2.0]), 0.0, SIGMOID), "one example (D,), sigmoid"),
        Case((_arr([[2.0, 1.0], [0.0, -3.0]]), _arr([1.0, 0.5]), -2.0, TANH),
             "2 examples, tanh, a negative bias"),
    ]


def _unit_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for g in (SIGMOID, RELU, TANH, IDENTITY):
        n, d = (int(v) for v in rng.integers(1, 9, size=2))
        cases.append(Case((rng.normal(size=(n, d)), rng.normal(size=d), float(rng.normal()), g),
                          f"random ({n}, {d}) batch, {g}"))
    cases.append(Case((rng.normal(size=(1, 1)), rng.normal(size=1), 0.3, SIGMOID),
                      "a single example with a single feature"))
    cases.append(Case((rng.normal(size=(6, 4)).astype(np.float32),
                       rng.normal(size=4).astype(np.float32), 0.5, TANH), "float32 input"))
    cases.append(Case((_arr([[1000.0, -1000.0], [-1000.0, 1000.0]]), _arr([1.0, 1.0]), 0.0,
                       SIGMOID), "±1000 inputs that cancel"))
    cases.append(Case((_arr([[1000.0, 1.0], [-1000.0, 1.0]]), _arr([3.0, 1.0]), 1.0, SIGMOID),
                      "±1000 inputs: σ saturates at 0 and 1"))
    cases.append(Case((np.zeros((5, 3)), np.zeros(3), -1.5, RELU), "zero weights: only the bias"))
    cases.append(Case((rng.normal(size=5), rng.normal(size=5), -0.2, TANH),
                      "one example (D,): a single number back, not an array of shape (1,)"))
    cases.append(Case((np.array([[1, 2], [3, -4]]), np.array([2, -1]), 1, IDENTITY),
                      "integer inputs"))
    return cases


UNIT = FunctionCheck(
    id="01.unit",
    title="unit(x, w, b, g)",
    reference=unit_reference,
    cases=_unit_cases,
    hidden_cases=_unit_hidden,
    tol=FLOAT32_TOL,
    mistakes=(
        Mistake("the bias left out", "z is w·x plus b: add the bias before applying g",
                lambda x, w, b, g: g(np.asarray(x) @ w)),
        Mistake("g applied before the bias", "the bias is part of z: compute z = x·w + b "
                "first, then a = g(z)", lambda x, w, b, g: g(np.asarray(x) @ w) + b),
        Mistake("z returned instead of a", "return the activation a = g(z), not z",
                lambda x, w, b, g: np.asarray(x) @ w + b),
        Mistake("the bias added to every input", "b is added once to the weighted sum, "
                "not to each feature", lambda x, w, b, g: g((np.asarray(x) + b) @ w)),
    ),
)

EXAMPLE_Z = ValueCheck(
    id="01.example_z",
    title="z of the worked example",
    expected=worked_z,
    tol=Tolerance(digits=3),
    mistakes=(
        (-7.0, "the bias left out", "z includes the bias b = 1"),
        (6.0, "a sign error", "multiply each weight by its own input, keeping the signs"),
        (2.0, "the sign of the second product lost", "(−2)·2 is negative"),
        (-8.0, "the bias subtracted", "the bias is added to w·x"),
    ),
)

EXAMPLE_A = ValueCheck(
    id="01.example_a",
    title="a = σ(z) of the worked example",
    expected=worked_a,
    tol=Tolerance(digits=3),  # the question asks for at least three significant digits
    mistakes=(
        (1.0 / math.exp(6.0), "the 1 + forgotten", "σ(z) = 1/(1 + e^(−z)): the 1 in the "
         "denominator matters in the third digit"),
        (float(sigmoid(6.0)), "σ of the wrong sign", "σ(z) = 1/(1 + e^(−z)); for a very "
         "negative z it is close to 0"),
        (float(sigmoid(-7.0)), "the bias left out", "compute z with the bias first"),
        (-6.0, "z given instead of a", "a is σ(z), a number between 0 and 1"),
        (0.0, "ReLU instead of the sigmoid", "this unit uses the logistic sigmoid; give a few "
         "significant digits, not 0"),
    ),
)



def collapse_reference(W1: Any, b1: Any, W2: Any, b2: Any) -> tuple[Array, Array]:
    """(x W1 + b1) W2 + b2 = x (W1 W2) + (b1 W2 + b2). W1: (D, H); b1: (H,); W2: (H, M); b2: (M,)."""
    W1, b1, W2, b2 = (np.asarray(a) for a in (W1, b1, W2, b2))
    return W1 @ W2, b1 @ W2 + b2


def _collapse_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]]), _arr([1.0, 0.0, 2.0]),
              _arr([[1.0], [-1.0], [0.5]]), _arr([0.5])), "2 → 3 → 1"),
        Case((_arr([[2.0, 0.0], [1.0, 1.0]]), _arr([1.0, -1.0]),
              _arr([[1.0, 3.0], [0.0, 1.0]]), _arr([0.0, 2.0])), "2 → 2 → 2, square weights"),
        Case((_arr([[1.0, -2.0]]), _arr([3.0, 1.0]), np.eye(2), _arr([0.0, 0.0])),
             "second layer is the identity: the first layer comes back"),
    ]


def _collapse_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(3):
        d, h, m = (int(v) for v in rng.integers(1, 7, size=3))
        cases.append(Case((rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=(h, m)),
                           rng.normal(size=m)), f"random {d} → {h} → {m}"))
    cases.append(Case((rng.normal(size=(4, 4)), rng.normal(size=4), rng.normal(size=(4, 4)),
                       rng.normal(size=4)), "random square 4 → 4 → 4"))
    cases.append(Case(tuple(a.astype(np.float32) for a in (
        rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=(5, 2)),
        rng.normal(size=2))), "float32 weights"))
    cases.append(Case((np.zeros((3, 2)), _arr([1.0, 2.0]), rng.normal(size=(2, 3)),
                       _arr([1000.0, -1000.0, 0.0])), "zero first weights: only biases pass"))
    return cases


COLLAPSE = FunctionCheck(
    id="01.collapse",
    title="collapse(W1, b1, W2, b2)",
    reference=collapse_reference,
    cases=_collapse_cases,
    hidden_cases=_collapse_hidden,
    kind=("array", "array"),
    tol=FLOAT32_TOL,
    mistakes=(
        Mistake("the biases simply added", "the first bias also passes through W2: "
                "b = b1 W2 + b2", lambda W1, b1, W2, b2: (W1 @ W2, b1 + b2)),
        Mistake("the second bias forgotten", "b = b1 W2 + b2",
                lambda W1, b1, W2, b2: (W1 @ W2, b1 @ W2)),
        Mistake("the first bias forgotten", "b1 is transformed by W2 and kept",
                lambda W1, b1, W2, b2: (W1 @ W2, b2)),
        Mistake("the product in the wrong order", "with rows as examples x goes through W1 "
                "first: W = W1 @ W2", lambda W1, b1, W2, b2: (W2 @ W1, b1 @ W2 + b2)),
    ),
)



XOR_X = student.XOR_X
xor_forward = student.xor_forward


def _xor_cases(rng: np.random.Generator) -> list[Case]:
    return [Case((XOR_X,), "the four XOR points")]


XOR_REFERENCE = (_arr([[1.0, 1.0], [1.0, 1.0]]), _arr([0.0, -1.0]), _arr([6.0, -12.0]), -3.0)

XOR = PropertyCheck(
    id="01.xor",
    title="hand-set XOR weights (W1, b1, w2, b2)",
    cases=_xor_cases,
    probe=probe("nb01.xor_weights"),
    kind=("array", "array", "array", "array"),
    callable_answer=False,
    judge="nb01.judge_xor",
)



def _one_hot_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([4]), 10), "the digit 4 among 10 classes"),
        Case((np.array([0, 2, 1]), 3), "three labels, three classes"),
        Case((np.array([1, 1, 0]), 4), "class 3 never occurs but still has a column"),
    ]


def _one_hot_hidden(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(50, 200))
    return [
        Case((rng.integers(0, 10, size=n), 10), f"{n} random digits"),
        Case((np.array([0]), 1), "one class only"),
        Case((np.array([6, 6, 6]), 7), "the last class, repeated"),
        Case((np.zeros(0, dtype=int), 5), "no labels at all: shape (0, 5)"),
        Case((rng.integers(0, 3, size=12), 1000), "few labels, 1000 classes"),
        Case((rng.integers(0, 10, size=20).astype(np.uint8), 10), "labels stored as uint8"),
        Case(([2, 0, 1, 2], 3), "labels as a Python list"),
        Case((rng.integers(256, 1000, size=8), 1000), "labels above 255 among 1000 classes"),
    ]


ONE_HOT = FunctionCheck(
    id="01.one_hot",
    title="one_hot(labels, n_classes)",
    reference=one_hot,
    cases=_one_hot_cases,
    hidden_cases=_one_hot_hidden,
    kind="float_array",
    mistakes=(
        Mistake("columns sized from the labels", "use n_classes for the number of columns: "
                "a class may be missing from a batch",
                lambda y, c: np.eye(int(np.max(y)) + 1)[y]),
        Mistake("classes counted from 1", "label k goes in column k (label 0 in the first "
                "column)", lambda y, c: np.eye(c)[np.asarray(y) - 1]),
        Mistake("the transpose", "one row per example: the result is (N, n_classes)",
                lambda y, c: np.eye(c)[y].T),
    ),
)



_QUIZ_SIZES = ([784, 128, 32, 10], [784, 64, 10], [4096, 32, 3])


def _count_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(([2, 3, 1],), "2-3-1"),
        Case(([4, 5],), "one layer, 4 inputs to 5 outputs"),
        Case(([3, 4, 4, 2],), "two hidden layers 3-4-4-2"),
    ]


def _count_hidden(rng: np.random.Generator) -> list[Case]:
    cases: list[Case] = []
    while len(cases) < 4:
        sizes = [int(v) for v in rng.integers(1, 300, size=int(rng.integers(2, 7)))]
        if sizes not in _QUIZ_SIZES:
            cases.append(Case((sizes,), f"random widths {sizes}"))
    cases.append(Case(([1, 1],), "1-1: one weight and one bias"))
    cases.append(Case(([4096, 4096, 1000],), "wide layers, 4096-4096-1000"))
    cases.append(Case((tuple([10] * 12),), "a deep stack, widths as a tuple"))
    cases.append(Case(([10**8, 10**8 + 1, 3],), "widths of 10⁸: a count above 2⁵³, exact "
                      "only in integer arithmetic"))
    return cases


COUNT_PARAMETERS = FunctionCheck(
    id="01.count_parameters",
    title="count_parameters(layer_sizes)",
    reference=count_parameters,
    cases=_count_cases,
    hidden_cases=_count_hidden,
    kind="int",
    mistakes=(
        Mistake("the biases left out", "every unit after the input layer has one bias",
                lambda s: sum(a * b for a, b in pairwise(s))),
        Mistake("biases given to the input layer", "the input layer only holds the data: "
                "biases belong to the units that compute, d_out per layer",
                lambda s: sum(a * b + a for a, b in pairwise(s))),
        Mistake("biases given to the input layer", "the input layer only holds the data: it has "
                "no weights and no biases; count d_in·d_out + d_out for each later layer",
                lambda s: count_parameters(s) + s[0]),
        Mistake("the output biases left out", "the output layer has biases too",
                lambda s: sum(a * b for a, b in pairwise(s)) + sum(s[1:-1])),
    ),
)


def _count(sizes: list[int]) -> Callable[[], int]:
    return lambda: count_parameters(sizes)


def _no_bias(sizes: list[int]) -> int:
    return sum(a * b for a, b in pairwise(sizes))


_NO_BIAS_HINT = "each unit after the input layer also has a bias"
_INPUT_BIAS_HINT = "the input layer has no biases: it only holds the data"

PARAMS_DEEP = ValueCheck(
    id="01.params_784_128_32_10", title="parameters of 784-128-32-10",
    expected=_count([784, 128, 32, 10]), kind="int",
    mistakes=((_no_bias([784, 128, 32, 10]), "the biases left out", _NO_BIAS_HINT),
              (count_parameters([784, 128, 32, 10]) + 784, "input biases", _INPUT_BIAS_HINT),
              (784 * 128, "the first layer's weights only", "add every layer's weights and "
               "biases")),
)
PARAMS_SHALLOW = ValueCheck(
    id="01.params_784_64_10", title="parameters of 784-64-10",
    expected=_count([784, 64, 10]), kind="int",
    mistakes=((_no_bias([784, 64, 10]), "the biases left out", _NO_BIAS_HINT),
              (count_parameters([784, 64, 10]) + 784, "input biases", _INPUT_BIAS_HINT)),
)
INPUTS_64 = ValueCheck(
    id="01.inputs_64x64", title="input units for a 64×64 grayscale image",
    expected=lambda: 64 * 64, kind="int",
    mistakes=((64, "one side of the image", "every pixel is an input"),
              (64 * 64 * 3, "three colour channels", "a grayscale image has one channel"),
              (64 * 64 + 1, "a bias counted as an input", "count only the pixels")),
)
OUTPUTS_3 = ValueCheck(
    id="01.outputs_3", title="output units for 3 classes",
    expected=lambda: 3, kind="int",
    mistakes=((1, "a single output", "with one-hot targets there is one output per class"),
              (2, "one fewer than the classes", "the course gives every class its own "
               "output unit")),
)
PARAMS_64 = ValueCheck(
    id="01.params_4096_32_3", title="parameters of 4096-32-3",
    expected=_count([4096, 32, 3]), kind="int",
    mistakes=((_no_bias([4096, 32, 3]), "the biases left out", _NO_BIAS_HINT),
              (count_parameters([4096, 32, 3]) + 4096, "input biases", _INPUT_BIAS_HINT),
              (4096 * 32, "the first layer's weights only", "add every layer's weights "
               "and biases")),
)

CHANGE_HIDDEN = ChoiceCheck(
    id="01.changes_hidden_64", title="what changes when the hidden layer grows 32 → 64",
    expected="cd", options="abcde", kind="set",
    mistakes=(("d", "the total forgotten", "more hidden units bring more weights and biases"),
              ("c", "the hidden biases forgotten", "each new hidden unit has its own bias"),
              ("cde", "output biases counted", "there is one output bias per class, and the "
               "classes did not change")),
)
CHANGE_CLASSES = ChoiceCheck(
    id="01.changes_classes_1000", title="what changes when 3 classes become 1000",
    expected="bce", options="abcde", kind="set",
    mistakes=(("bc", "the output biases forgotten", "every output unit has a bias"),
              ("bcde", "hidden biases counted", "the hidden layer is untouched"),
              ("abce", "the inputs counted", "the image, hence the input layer, is the same")),
)

TRAINING_ORDER = ChoiceCheck(
    id="01.training_order", title="the order of the training steps",
    expected="dfbaec", options="abcdef", kind="order",
    mistakes=(("dfbeac", "backward before the cost", "the backward pass starts from the "
               "gradient of the cost, so the cost must exist first"),
              ("dfbace", "update before backward", "the update needs the gradients that the "
               "backward pass produces"),
              ("fdbaec", "fetching before seeding", "the weights are seeded once, before the "
               "loop; each iteration begins by fetching a batch"),
              ("dbfaec", "forward before fetching", "the forward pass needs a batch to run on")),
)

TRUE_STATEMENTS = ChoiceCheck(
    id="01.true_statements", title="which statements are true",
    expected="be", options="abcdef", kind="set",
    mistakes=(("abe", "the input layer taken for an affine layer", "the input layer holds "
               "the data and computes nothing"),
              ("bde", "random initialisation taken as optional", "identical starting weights "
               "make the hidden units identical forever"),
              ("bcde", "two statements misjudged", "activations are not initialisers, and "
               "initialisation must be random"),
              ("bef", "the collapse forgotten", "linear layers stacked without an activation "
               "are still one linear map")),
)



def bump_reference(x: Any, center: Any, width: float, steepness: float) -> Array:
    """σ(s(x − c + w/2)) − σ(s(x − c − w/2)): about 1 on [c − w/2, c + w/2], 0 far away. x: any shape."""
    x = np.asarray(x)
    return sigmoid(steepness * (x - center + width / 2)) - sigmoid(
        steepness * (x - center - width / 2))


def _bump_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.linspace(-3.0, 3.0, 7), 0.0, 2.0, 10.0), "centre 0, width 2, steepness 10"),
        Case((_arr([0.5, 0.75, 1.0, 1.25, 1.5]), 1.0, 0.5, 50.0), "a narrow steep bump at 1"),
        Case((_arr([-2.0, 0.0, 2.0, 4.0]), 1.0, 2.0, 1.0), "a soft bump, steepness 1"),
    ]


def _bump_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.uniform(-5, 5, size=30), float(rng.uniform(-2, 2)), float(rng.uniform(0.5, 3)),
              float(rng.uniform(1, 40))), "random bump"),
        Case((_arr([-1000.0, -1.0, 0.0, 1.0, 1000.0]), 0.0, 1.0, 50.0), "±1000 inputs"),
        Case((rng.uniform(-2, 2, size=8), 0.3, 0.0, 10.0), "width 0: no bump at all"),
        Case((rng.uniform(-3, 3, size=(4, 5)), -1.0, 2.5, 8.0), "a (4, 5) grid of inputs"),
        Case((rng.uniform(-3, 3, size=10).astype(np.float32), 0.5, 1.5, 20.0), "float32 input"),
        Case((np.linspace(-2, 2, 9)[:, None], np.array([-1.0, 0.0, 1.5]), 1.0, 12.0),
             "centres as an array (3,) broadcast against x (9, 1): one bump per column"),
        Case((np.array([-2, -1, 0, 1, 2]), 0, 2, 5), "integer x, centre, width and steepness"),
    ]


BUMP = FunctionCheck(
    id="01.bump",
    title="bump(x, center, width, steepness)",
    reference=bump_reference,
    cases=_bump_cases,
    hidden_cases=_bump_hidden,
    tol=FLOAT32_TOL,
    mistakes=(
        Mistake("the subtraction reversed", "subtract the sigmoid that switches on later "
                "(the right edge) from the one that switches on first",
                lambda x, c, w, s: -bump_reference(x, c, w, s)),
        Mistake("width taken as the half-width", "the edges are at center ± width/2",
                lambda x, c, w, s: bump_reference(x, c, 2 * w, s)),
        Mistake("steepness left out", "multiply the shifted input by the steepness inside σ",
                lambda x, c, w, s: bump_reference(x, c, w, 1.0)),
    ),
)


def bump_approximation_reference(x: Any, f: Callable[[Any], Any], n_bumps: int, lo: float,
                                 hi: float, steepness: float) -> Array:
    """Σ_i f(c_i)·bump(x, c_i, w, s), w = (hi − lo)/n, c_i the midpoints of n equal cells. x: (N,)."""
    width = (hi - lo) / n_bumps
    centers = lo + width * (np.arange(n_bumps) + 0.5)
    heights = np.asarray(f(centers), dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    return bump_reference(x[:, None], centers, width, steepness) @ heights


def _approx_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([0.5, 1.5, 2.5, 3.5]), RAMP, 4, 0.0, 4.0, 20.0),
             "f(x) = x, 4 bumps on [0, 4], read at the centres"),
        Case((np.linspace(0.0, 2 * np.pi, 6), SIN, 3, 0.0, 2 * np.pi, 5.0),
             "sin with 3 bumps on [0, 2π]"),
        Case((_arr([-1.0, 0.0, 1.0]), ONE, 1, -1.0, 1.0, 10.0),
             "a constant with a single bump"),
    ]


def _approx_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.linspace(0, 2 * np.pi, 40), SIN, 12, 0.0, 2 * np.pi, 20.0),
             "sin with 12 bumps"),
        Case((rng.uniform(-2, 2, size=25), COS, 7, -2.0, 2.0, 15.0),
             "cos with 7 bumps at random points"),
        Case((np.linspace(-1, 3, 9), SQUARE, 50, -1.0, 3.0, 200.0),
             "x² with 50 narrow bumps"),
        Case((_arr([-1000.0, 0.5, 1000.0]), EXP, 5, 0.0, 1.0, 30.0),
             "inputs far outside the interval"),
    ]


BUMP_APPROXIMATION = FunctionCheck(
    id="01.bump_approximation",
    title="bump_approximation(x, f, n_bumps, lo, hi, steepness)",
    reference=bump_approximation_reference,
    cases=_approx_cases,
    hidden_cases=_approx_hidden,
    tol=Tolerance(rtol=1e-6, atol=1e-8),
    mistakes=(
        Mistake("heights read at the left edges", "read each height at the centre of its cell",
                lambda x, f, n, lo, hi, s: _edge_heights(x, f, n, lo, hi, s)),
        Mistake("all heights 1", "scale each bump by the function's value at its centre",
                lambda x, f, n, lo, hi, s: bump_approximation_reference(
                    x, np.ones_like, n, lo, hi, s)),
    ),
)


def _edge_heights(x: Any, f: Callable[[Any], Any], n: int, lo: float, hi: float,
                  s: float) -> Array:
    width = (hi - lo) / n
    centers = lo + width * (np.arange(n) + 0.5)
    heights = np.asarray(f(centers - width / 2), dtype=np.float64)
    return bump_reference(np.asarray(x, dtype=np.float64)[:, None], centers, width, s) @ heights



def relu_abs_reference(x: Any) -> Array:
    """|x| = relu(x) + relu(−x): two ReLUs fold the line at 0. x: any shape."""
    return relu(x) + relu(-np.asarray(x))


def _relu_abs_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_arr([-2.0, -0.5, 0.0, 0.5, 2.0]),), "five points around 0"),
        Case((_arr([[-3.0, 1.0], [4.0, -0.25]]),), "a (2, 2) array"),
    ]


def _relu_abs_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(size=(3, 4, 2)),), "a random (3, 4, 2) array"),
        Case((_arr([-1000.0, 1000.0, -1e-12]),), "±1000 and a tiny negative"),
        Case((rng.normal(size=7).astype(np.float32),), "float32 input"),
        Case((np.zeros(3),), "zeros"),
    ]


RELU_ABS = FunctionCheck(
    id="01.relu_abs",
    title="relu_abs(x)",
    reference=relu_abs_reference,
    cases=_relu_abs_cases,
    hidden_cases=_relu_abs_hidden,
    mistakes=(
        Mistake("relu(x) − relu(−x)", "that gives x back; add the two ReLUs",
                lambda x: relu(x) - relu(-np.asarray(x))),
        Mistake("only relu(x)", "the second ReLU, of −x, covers the negative side",
                lambda x: relu(x)),
    ),
)


def folds_reference(x: Any, depth: int) -> Array:
    """t∘…∘t (depth times) with t(x) = 2|x| − 1, which folds [−1, 1] onto itself. x: any shape."""
    y = np.asarray(x, dtype=np.float64)
    for _ in range(depth):
        y = 2.0 * relu_abs_reference(y) - 1.0
    return y


def _folds_cases(rng: np.random.Generator) -> list[Case]:
    x = _arr([-1.0, -0.75, -0.5, 0.0, 0.25, 1.0])
    return [
        Case((x, 1), "one fold"),
        Case((x, 2), "two folds"),
        Case((x, 0), "depth 0: x unchanged"),
    ]


def _folds_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.uniform(-1, 1, size=20), 5), "five folds of random points"),
        Case((rng.uniform(-1, 1, size=(3, 3)), 3), "a (3, 3) array, three folds"),
        Case((_arr([-1000.0, 1000.0]), 2), "±1000: outside [−1, 1]"),
        Case((np.linspace(-1, 1, 9).astype(np.float32), 4), "float32 grid, four folds"),
    ]


FOLDS = FunctionCheck(
    id="01.folds",
    title="folds(x, depth)",
    reference=folds_reference,
    cases=_folds_cases,
    hidden_cases=_folds_hidden,
    tol=FLOAT32_TOL,
    mistakes=(
        Mistake("one fold too few", "apply the fold exactly depth times",
                lambda x, d: folds_reference(x, max(d - 1, 0))),
        Mistake("one fold too many", "apply the fold exactly depth times",
                lambda x, d: folds_reference(x, d + 1)),
        Mistake("no stretch and shift", "each fold is t(x) = 2|x| − 1, which maps [−1, 1] "
                "back onto [−1, 1]", lambda x, d: np.abs(x) if d else np.asarray(x)),
    ),
)

PIECES_DEEP = ValueCheck(
    id="01.pieces_deep", title="linear pieces of 5 folds on [−1, 1]",
    expected=lambda: 2 ** 5, kind="int",
    mistakes=((10, "pieces counted per unit", "each fold doubles the pieces"),
              (31, "kinks counted instead of pieces", "n kinks cut a line into n + 1 pieces"),
              (6, "one more piece per fold", "each fold doubles the pieces, it does not add one"),
              (2 ** 10, "one doubling per ReLU", "a fold uses two ReLUs and doubles once")),
)
PIECES_WIDE = ValueCheck(
    id="01.pieces_wide", title="most linear pieces of one layer of 10 ReLUs on a line",
    expected=lambda: 10 + 1, kind="int",
    mistakes=((10, "kinks counted instead of pieces", "n kinks cut a line into n + 1 pieces"),
              (2 ** 10, "doubling per unit", "units side by side add kinks; they do not "
               "fold"),
              (20, "two pieces per unit", "each unit adds one kink, so one more piece")),
)

FORBIDDEN = ("reference_impl.losses", "reference_impl.layers.counting")

register(
    EXAMPLE_Z, EXAMPLE_A, UNIT, COLLAPSE, XOR, ONE_HOT, COUNT_PARAMETERS,
    PARAMS_DEEP, PARAMS_SHALLOW, INPUTS_64, OUTPUTS_3, PARAMS_64,
    CHANGE_HIDDEN, CHANGE_CLASSES, TRAINING_ORDER, TRUE_STATEMENTS,
    BUMP, BUMP_APPROXIMATION, RELU_ABS, FOLDS, PIECES_DEEP, PIECES_WIDE,
)
