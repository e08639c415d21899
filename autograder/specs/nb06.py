"""Checks of notebook 06, backpropagation: ids ``06.<name>``.

Hand-derived numbers (chain rule, forward and reverse mode, the worked path) are
computed here from their formulas. The student's modules are classes: each check id
is one part (output, dx, dW, db, ...) that a probe gets by building the student's
class, running forward then backward, and reading the part; the references are the
layers of ``reference_impl.layers``. The capstone check trains the student's network
itself and measures the test accuracy in the probe, so the number cannot be typed in.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from autograder.checks.cases import Case, probe
from autograder.checks.compare import Tolerance
from autograder.checks.notebooks.nb06 import (
    ACCURACY_THRESHOLD,
    CROSS,
    LOGSUMEXP,
    N_CLASSES,
    SUM_CUBES,
    SUM_EXP,
    SUM_SQUARES,
    TANH_MIX,
    digits_split,
)
from autograder.specs.base import FunctionCheck, Mistake, ValueCheck, stable_rng
from autograder.specs.registry import register
from reference_impl import count_parameters, gradcheck
from reference_impl import layers as L
from reference_impl.activations import sigmoid
from reference_impl.optimizers import Momentum
from reference_impl.training import fit

Array = NDArray[Any]

# float32 cases lose about 1e-7 relative accuracy; every named mistake is off by far more.
LOOSE = Tolerance(rtol=1e-5, atol=1e-6)
# Hand-computed numbers may be typed with four significant figures.
TYPED = Tolerance(digits=3)  # the questions ask for three significant digits




def _f64(a: Any) -> Array:
    return np.asarray(a, dtype=np.float64)



# The chain rule by hand: f(x, y) = (x·y + sin x)·(x + y) at (1, 2).

CHAIN_X, CHAIN_Y = 1.0, 2.0


def _chain(x: float, y: float) -> tuple[float, float]:
    """u = x·y + sin x and v = x + y, the two factors of f = u·v."""
    return x * y + math.sin(x), x + y


def chain_df_dx() -> float:
    """∂f/∂x = (y + cos x)·v + u·1: the paths through x·y and sin x, then through x + y."""
    u, v = _chain(CHAIN_X, CHAIN_Y)
    return (CHAIN_Y + math.cos(CHAIN_X)) * v + u


def chain_df_dy() -> float:
    """∂f/∂y = x·v + u·1: the path through x·y, then through x + y."""
    u, v = _chain(CHAIN_X, CHAIN_Y)
    return CHAIN_X * v + u


_U, _V = _chain(CHAIN_X, CHAIN_Y)
_COS = math.cos(CHAIN_X)

# sin and cos both fed degrees: u changes too.
_U_DEG = CHAIN_X * CHAIN_Y + math.sin(math.radians(CHAIN_X))
_DEGREES_DX = ((CHAIN_Y + math.cos(math.radians(CHAIN_X))) * _V + _U_DEG,
               "degrees instead of radians", "np.sin, np.cos, math.sin and math.cos take radians: "
               "x = 1 means 1 radian, not 1 degree")

DF_DX = ValueCheck(
    id="06.df_dx", title="∂f/∂x at (1, 2)", expected=chain_df_dx, tol=TYPED,
    mistakes=(
        ((CHAIN_Y + _COS) * _V, "the path through x + y left out",
         "x also enters the second factor v = x + y: add u·∂v/∂x"),
        (CHAIN_Y * _V + _U, "the path through sin x left out",
         "x reaches u twice, through x·y and through sin x: add cos x · v"),
        (_COS * _V + _U, "the path through x·y left out", "∂(x·y)/∂x = y is a path too"),
        ((CHAIN_Y + math.sin(CHAIN_X)) * _V + _U, "sin x differentiated to sin x",
         "the derivative of sin x is cos x"),
        ((CHAIN_Y - _COS) * _V + _U, "the derivative of sin taken as −cos",
         "d(sin x)/dx = +cos x (it is cos whose derivative is −sin)"),
        ((CHAIN_Y + math.cos(math.radians(CHAIN_X))) * _V + _U, "degrees instead of radians",
         "np.cos and math.cos take radians"),
        _DEGREES_DX,
    ),
)
DF_DY = ValueCheck(
    id="06.df_dy", title="∂f/∂y at (1, 2)", expected=chain_df_dy, tol=TYPED,
    mistakes=(
        (CHAIN_X * _V, "the path through x + y left out", "y also enters v = x + y: add u·1"),
        (_U, "the path through x·y left out", "y enters u = x·y + sin x: add x·v"),
        (CHAIN_Y * _V + _U, "∂(x·y)/∂y taken as y", "∂(x·y)/∂y = x"),
        (CHAIN_X * _V + CHAIN_X * CHAIN_Y, "sin x left out of u",
         "u = x·y + sin x, and the path through v multiplies by all of u"),
        (CHAIN_X * _V + _U_DEG, "degrees instead of radians", "np.sin and math.sin take "
         "radians: x = 1 means 1 radian, not 1 degree"),
    ),
)
N_PATHS_X = ValueCheck(
    id="06.n_paths_x", title="paths from x to f", expected=lambda: 3, kind="int",
    mistakes=((2, "one path missed", "x enters x·y, sin x and x + y: count each"),
              (1, "a single path", "every edge that leaves x starts a path")),
)
N_PATHS_Y = ValueCheck(
    id="06.n_paths_y", title="paths from y to f", expected=lambda: 2, kind="int",
    mistakes=((3, "sin x counted for y", "sin x depends on x only"),
              (1, "a single path", "y enters x·y and x + y")),
)


# Reverse mode in code: f_and_grad(x, y) -> (f, ∂f/∂x, ∂f/∂y), elementwise.


def f_and_grad_reference(x: Any, y: Any) -> tuple[Array, Array, Array]:
    """f = (x·y + sin x)(x + y) with ∂f/∂x = (y + cos x)(x + y) + u and ∂f/∂y = x(x + y) + u.

    x, y: arrays of the same shape; returns three arrays of that shape.
    """
    x, y = _f64(x), _f64(y)
    u, v = x * y + np.sin(x), x + y
    return u * v, (y + np.cos(x)) * v + u, x * v + u


def _fg_missing_v(x: Any, y: Any) -> tuple[Array, Array, Array]:
    x, y = _f64(x), _f64(y)
    u, v = x * y + np.sin(x), x + y
    return u * v, (y + np.cos(x)) * v, x * v


def _fg_overwrite(x: Any, y: Any) -> tuple[Array, Array, Array]:
    x, y = _f64(x), _f64(y)
    u, v = x * y + np.sin(x), x + y
    return u * v, u + 0 * x, u + 0 * y


def _fg_assigned(x_path: int, y_path: int) -> Callable[[Any, Any], tuple[Array, Array, Array]]:
    """Each gradient assigned instead of added: only one path's contribution survives
    (x_path 0, 1, 2: through v, sin x, x·y; y_path 0, 1: through v, x·y; -1: added right)."""

    def impl(x: Any, y: Any) -> tuple[Array, Array, Array]:
        x, y = _f64(x), _f64(y)
        u, v = x * y + np.sin(x), x + y
        dx = [u, v * np.cos(x), v * y][x_path] if x_path >= 0 else (y + np.cos(x)) * v + u
        dy = [u, v * x][y_path] if y_path >= 0 else x * v + u
        return u * v, dx + 0 * y, dy + 0 * x

    return impl


_OVERWRITTEN = [(xp, yp) for xp in (-1, 0, 1, 2) for yp in (-1, 0, 1) if (xp, yp) != (-1, -1)]


def _fg_no_sin_path(x: Any, y: Any) -> tuple[Array, Array, Array]:
    x, y = _f64(x), _f64(y)
    u, v = x * y + np.sin(x), x + y
    return u * v, y * v + u, x * v + u


def _fg_swapped(x: Any, y: Any) -> tuple[Array, Array, Array]:
    x, y = _f64(x), _f64(y)
    u, v = x * y + np.sin(x), x + y
    return u * v, (x + np.cos(x)) * v + u, y * v + u


def _fg_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array(1.0), np.array(2.0)), "the point (1, 2) of the exercise above"),
        Case((np.array([0.0, np.pi, -1.0]), np.array([1.0, -1.0, 0.5])), "three points at once"),
        Case((np.array([[2.0, -2.0], [0.5, 0.0]]), np.array([[0.0, 1.0], [-3.0, 0.0]])),
             "a (2, 2) grid, with zeros"),
    ]


def _fg_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for shape in ((7,), (3, 4), (2, 2, 3)):
        cases.append(Case((rng.normal(size=shape), rng.normal(size=shape)), f"random {shape}"))
    cases.append(Case((np.array([1000.0, -1000.0]), np.array([-1000.0, 1000.0])),
                      "x = ±1000: f and its slopes are large"))
    cases.append(Case((rng.normal(size=6).astype(np.float32), rng.normal(size=6).astype(np.float32)),
                      "float32 input"))
    cases.append(Case((np.zeros(3), np.zeros(3)), "all zeros"))
    cases.append(Case((np.array([1, -2, 3]), np.array([2, 0, -1])), "integer inputs"))
    cases.append(Case((1.0, 2.0), "plain Python numbers"))
    return cases


F_AND_GRAD = FunctionCheck(
    id="06.f_and_grad",
    title="f_and_grad(x, y)",
    reference=f_and_grad_reference,
    cases=_fg_cases,
    hidden_cases=_fg_hidden,
    kind=("array", "array", "array"),
    tol=LOOSE,
    mistakes=(
        Mistake("the path through v = x + y left out", "the gradient arriving at v must flow "
                "back into both x and y (dv/dx = dv/dy = 1), and add to what came through u",
                _fg_missing_v),
        Mistake("gradients overwritten instead of added", "x gets gradient from three paths: "
                "accumulate with dx += ..., do not assign", _fg_overwrite),
        *(Mistake("gradients overwritten instead of added", "x reaches f along three paths and y "
                  "along two: each path adds its product to x_bar or y_bar (+=); assigning "
                  "keeps only the last one", _fg_assigned(xp, yp)) for xp, yp in _OVERWRITTEN),
        Mistake("the path through sin x left out", "x also reaches u through sin x: add "
                "du · cos x to dx", _fg_no_sin_path),
        Mistake("x and y swapped in ∂(x·y)", "∂(x·y)/∂x = y and ∂(x·y)/∂y = x", _fg_swapped),
    ),
)


# Forward against reverse mode: how many sweeps for the whole gradient or Jacobian.

MODE_SIZES = [784, 64, 10]
N_MODE_PARAMS = count_parameters(MODE_SIZES)
JAC_IN, JAC_OUT = 3, 1000

FORWARD_PASSES_GRAD = ValueCheck(
    id="06.forward_passes_grad", title="forward-mode sweeps for the gradient of a loss",
    expected=lambda: N_MODE_PARAMS, kind="int",
    mistakes=((1, "the modes swapped", "a forward sweep follows one input direction: it gives "
               "∂L/∂wᵢ for one weight at a time"),
              (10, "the outputs counted", "forward mode needs one sweep per input"),
              (784, "the pixels counted", "the gradient is with respect to the weights")),
)
REVERSE_PASSES_GRAD = ValueCheck(
    id="06.reverse_passes_grad", title="reverse-mode sweeps for the gradient of a loss",
    expected=lambda: 1, kind="int",
    mistakes=((N_MODE_PARAMS, "the modes swapped", "a backward sweep starts from one output "
               "and reaches every weight at once"),
              (2, "the forward pass counted as well", "count backward sweeps only"),
              (10, "the output units counted", "the loss is a single number")),
)
FORWARD_PASSES_JAC = ValueCheck(
    id="06.forward_passes_jacobian", title="forward-mode sweeps for the Jacobian of g",
    expected=lambda: JAC_IN, kind="int",
    mistakes=((JAC_OUT, "the modes swapped", "forward mode needs one sweep per input"),
              (1, "a single sweep", "one forward sweep gives one column of the Jacobian")),
)
REVERSE_PASSES_JAC = ValueCheck(
    id="06.reverse_passes_jacobian", title="reverse-mode sweeps for the Jacobian of g",
    expected=lambda: JAC_OUT, kind="int",
    mistakes=((JAC_IN, "the modes swapped", "reverse mode needs one sweep per output"),
              (1, "a single sweep", "one backward sweep gives one row of the Jacobian")),
)


# The worked path: ∂C/∂w for one first-layer weight of a 2-2-3-1 sigmoid net.

PATH_X = np.array([1.5, -0.5])
PATH_W1 = np.array([[0.5, -1.0], [0.25, 0.5]])
PATH_B1 = np.array([0.0, 0.5])
PATH_W2 = np.array([[1.0, -0.5, 0.5], [0.5, 1.0, -1.0]])
PATH_B2 = np.array([0.0, 0.0, 0.0])
PATH_W3 = np.array([1.0, -2.0, 0.5])
PATH_B3 = 0.0
PATH_T = 1.0


@dataclass(frozen=True)
class _PathValues:
    a1: Array
    a2: Array
    y_hat: float
    dz2: Array


def _path_values() -> _PathValues:
    """Forward pass of the worked net and ∂C/∂z² for C = ½(ŷ − t)²."""
    a1 = sigmoid(PATH_X @ PATH_W1 + PATH_B1)
    a2 = sigmoid(a1 @ PATH_W2 + PATH_B2)
    y_hat = float(a2 @ PATH_W3 + PATH_B3)
    dz2 = (y_hat - PATH_T) * PATH_W3 * a2 * (1 - a2)
    return _PathValues(a1, a2, y_hat, dz2)


def path_dC_da() -> float:
    """∂C/∂a¹₁ = Σₖ ∂C/∂z²ₖ · W2[1, k]: hidden unit 1 feeds all three units of layer 2."""
    return float(_path_values().dz2 @ PATH_W2[1])


def path_dC_dw() -> float:
    """∂C/∂W1[0, 1] = ∂C/∂a¹₁ · σ′(z¹₁) · x₀."""
    pv = _path_values()
    return path_dC_da() * float(pv.a1[1] * (1 - pv.a1[1])) * float(PATH_X[0])


_PV = _path_values()
_SIG1 = float(_PV.a1[1] * (1 - _PV.a1[1]))
# Unit 1 feeds 3 units. Only two single paths are named: the three would add up to the answer.
_PATHS = [float(_PV.dz2[k] * PATH_W2[1, k]) for k in range(2)]
_ONE_PATH_HINT = ("unit 1 of layer 1 feeds all three units of layer 2, so its activation "
                  "reaches the cost along three paths: add the three contributions "
                  "∂C/∂z²ₖ · W2[1, k]")
_NO_SIG2 = float(((_PV.y_hat - PATH_T) * PATH_W3) @ PATH_W2[1])
_Z2 = _PV.a1 @ PATH_W2 + PATH_B2
_SIG_OF_Z = float(((_PV.y_hat - PATH_T) * PATH_W3 * _Z2 * (1 - _Z2)) @ PATH_W2[1])

DC_DA = ValueCheck(
    id="06.dC_da", title="∂C/∂a for hidden unit 1 of layer 1", expected=path_dC_da, tol=TYPED,
    mistakes=(
        *((path, "one path only", _ONE_PATH_HINT) for path in _PATHS),
        (path_dC_da() / 3, "the mean of the paths", "contributions along different paths add up"),
        (float(_PV.dz2 @ PATH_W2[0]), "the weights of the other unit", "unit 1's outgoing "
         "weights are the row W2[1, :]"),
        (_NO_SIG2, "σ′ of layer 2 left out", "each path passes through a sigmoid of layer 2: "
         "multiply by a²ₖ(1 − a²ₖ)"),
        (_SIG_OF_Z, "σ′ computed from z", "σ′(z) = a(1 − a) uses the activation a = σ(z), not z"),
        (-path_dC_da(), "a sign error", "∂C/∂ŷ = ŷ − t for C = ½(ŷ − t)²"),
    ),
)
DC_DW = ValueCheck(
    id="06.dC_dw", title="∂C/∂w for w = W1[0, 1]", expected=path_dC_dw, tol=TYPED,
    mistakes=(
        *((path * _SIG1 * float(PATH_X[0]), "one path only", _ONE_PATH_HINT) for path in _PATHS),
        (path_dC_da() * float(PATH_X[0]), "σ′ of layer 1 left out", "w acts on z¹₁, and a¹₁ = σ(z¹₁): "
         "multiply by a¹₁(1 − a¹₁)"),
        (path_dC_da() * _SIG1, "the input left out", "∂z¹₁/∂w = x₀"),
        (path_dC_da() * _SIG1 * float(PATH_X[1]), "the wrong input", "W1[0, 1] multiplies x₀, "
         "the first input"),
        (-path_dC_dw(), "a sign error", "∂C/∂ŷ = ŷ − t"),
    ),
)


# A gradient checker: numerical_gradient(f, x, eps) by centred differences.


def numerical_gradient_reference(f: Callable[[Array], Any], x: Array, eps: float = 1e-6) -> Array:
    """∂f/∂xᵢ ≈ (f(x + h eᵢ) − f(x − h eᵢ)) / 2h for every entry i. x: any shape; f(x) a scalar."""
    return gradcheck.numerical_gradient(f, np.array(x, dtype=np.float64), eps=eps)


def _ng_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((SUM_SQUARES, np.array([1.0, -2.0, 3.0])), "Σ x², default eps: the gradient is 2x"),
        Case((SUM_CUBES, np.array([0.5, -1.0, 2.0]), 0.1),
             "Σ x³ with eps = 0.1: the centred formula gives 3x² + eps², exactly"),
        Case((TANH_MIX, np.array([[0.5, -0.5, 1.0], [0.0, 2.0, -1.0]]), 1e-3),
             "a function of a (2, 3) matrix: the gradient has its shape"),
        Case((LOGSUMEXP, np.array([[1.0, 2.0], [0.0, -1.0]]), 1e-2), "log-sum-exp of a (2, 2) array"),
    ]


def _ng_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((SUM_SQUARES, rng.normal(size=(2, 3, 2))), "a random (2, 3, 2) array"),
        Case((SUM_EXP, rng.normal(size=5), 0.5), "Σ exp x with a large eps = 0.5"),
        Case((SUM_CUBES, np.array([2.0]), 0.25), "a single entry"),
        Case((CROSS, rng.normal(size=4), 1e-4), "terms that couple entries"),
        Case((TANH_MIX, rng.normal(size=(4, 3)), 1e-5), "a random (4, 3) matrix"),
        Case((LOGSUMEXP, rng.normal(size=(3, 3)) * 5, 1e-3), "log-sum-exp, larger inputs"),
        Case((SUM_CUBES, np.array([0.1, -0.2, 0.3, 0.05])),
             "Σ x³ near 0 with the default eps: the default decides the error eps²"),
    ]


def _ng_forward(f: Callable[[Array], Any], x: Array, eps: float = 1e-6) -> Array:
    x = _f64(x)
    grad = np.zeros_like(x)
    base = float(f(x))
    for i in np.ndindex(x.shape):
        step = x.copy()
        step[i] += eps
        grad[i] = (float(f(step)) - base) / eps
    return grad


def _ng_by_h(f: Callable[[Array], Any], x: Array, eps: float = 1e-6) -> Array:
    return 2 * numerical_gradient_reference(f, x, eps)


def _ng_all_at_once(f: Callable[[Array], Any], x: Array, eps: float = 1e-6) -> Array:
    x = _f64(x)
    return np.full_like(x, (float(f(x + eps)) - float(f(x - eps))) / (2 * eps))


def _ng_fixed_eps(f: Callable[[Array], Any], x: Array, eps: float = 1e-6) -> Array:
    return numerical_gradient_reference(f, x, 1e-5)


NUMERICAL_GRADIENT = FunctionCheck(
    id="06.numerical_gradient",
    title="numerical_gradient(f, x, eps)",
    reference=numerical_gradient_reference,
    cases=_ng_cases,
    hidden_cases=_ng_hidden,
    tol=Tolerance(rtol=1e-6, atol=1e-7),
    mistakes=(
        Mistake("a forward difference", "use the centred difference (f(x + h eᵢ) − f(x − h eᵢ)) / 2h: "
                "its error shrinks like h², the one-sided one only like h", _ng_forward),
        Mistake("dividing by h instead of 2h", "the two probes are 2h apart", _ng_by_h),
        Mistake("every entry perturbed at once", "move one entry at a time (x + h eᵢ), and "
                "fill in entry i of the gradient", _ng_all_at_once),
        Mistake("the eps argument ignored", "use the eps you are given", _ng_fixed_eps),
    ),
)


# The modules. Mistakes are small numpy classes with one deliberate flaw each.



def _accumulate(grads: dict[str, Array], name: str, value: Array) -> None:
    old = grads[name]
    grads[name] = value if old.shape != value.shape else old + value


def linear_reference(W: Any, b: Any) -> L.Linear:
    """reference_impl's Linear with W (D, M) and b (M,) set after construction."""
    W = np.asarray(W)
    dtype = np.float32 if W.dtype == np.float32 else np.float64
    layer = L.Linear(W.shape[0], W.shape[1], rng=np.random.default_rng(0), dtype=dtype)
    layer.params["W"] = np.array(W, dtype=dtype)
    layer.params["b"] = np.array(b, dtype=dtype)
    layer.zero_grad()
    return layer


class _LinearFlawed:
    """y = x W + b with one flaw (named in ``flaw``); float64 throughout."""

    def __init__(self, W: Any, b: Any, *, flaw: str) -> None:
        self.flaw = flaw
        self.params = {"W": _f64(W).copy(), "b": _f64(b).copy()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.x = np.zeros(0)

    def forward(self, x: Any) -> Array:
        self.x = _f64(x)
        y = self.x @ self.params["W"]
        return y if self.flaw == "no_bias" else y + self.params["b"]

    def backward(self, dy: Any) -> Array:
        dy, x, W = _f64(dy), self.x, self.params["W"]
        dW = dy.T @ x if self.flaw == "dW_transposed" else x.T @ dy
        db = {"db_not_summed": dy, "db_mean": dy.mean(axis=0)}.get(self.flaw, dy.sum(axis=0))
        if self.flaw == "overwrite":
            self.grads = {"W": dW, "b": db}
        else:
            _accumulate(self.grads, "W", dW)
            _accumulate(self.grads, "b", db)
        return dy @ W if self.flaw == "dx_no_transpose" else dy @ W.T


def _linear_cases(rng: np.random.Generator) -> list[Case]:
    W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]])
    b = np.array([0.5, -1.0, 0.0])
    x = np.array([[1.0, 2.0], [-1.0, 0.0]])
    dy = np.array([[1.0, 0.0, 2.0], [0.5, -1.0, 1.0]])
    Ws = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0], [1.0, 0.0, 1.0]])
    xs = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0], [2.0, -1.0, 0.0], [1.0, 1.0, 1.0]])
    dys = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, -1.0, 2.0]])
    return [
        Case((W, b, x, dy), "2 examples, D = 2 → M = 3", batch=2),
        Case((W.T.copy(), np.array([1.0, 0.0]), np.array([[1.0, -1.0, 2.0]]),
              np.array([[2.0, -1.0]])), "a single example, D = 3 → M = 2"),
        Case((Ws, np.array([0.0, 1.0, 2.0]), xs, dys), "4 examples, square W (3, 3)", batch=4),
        Case((W, b, x, dy, np.array([[0.5, -1.0]]), np.array([[1.0, 1.0, -1.0]])),
             "forward and backward twice (batches of 2, then 1) without zero_grad: the "
             "parameter gradients must add up"),
    ]


def _linear_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d, m in ((5, 4, 3), (16, 8, 10), (3, 2, 7)):
        cases.append(Case((rng.normal(size=(d, m)), rng.normal(size=m), rng.normal(size=(n, d)),
                           rng.normal(size=(n, m))), f"random N={n}, D={d}, M={m}", batch=n))
    cases.append(Case((rng.normal(size=(6, 1)), rng.normal(size=1), rng.normal(size=(1, 6)),
                       rng.normal(size=(1, 1))), "one example, one output unit"))
    f32 = [a.astype(np.float32) for a in (rng.normal(size=(4, 3)), rng.normal(size=3),
                                          rng.normal(size=(5, 4)), rng.normal(size=(5, 3)))]
    cases.append(Case(tuple(f32), "float32 input", batch=5))
    cases.append(Case((rng.normal(size=(3, 3)), rng.normal(size=3),
                       rng.choice([-1000.0, 1000.0], size=(4, 3)), rng.normal(size=(4, 3))),
                      "inputs of ±1000", batch=4))
    cases.append(Case((rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(4, 3)),
                       np.zeros((4, 2))), "dy = 0: no gradient at all", batch=4))
    cases.append(Case((rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 3)),
                       rng.normal(size=(5, 4)), rng.normal(size=(2, 3)), rng.normal(size=(2, 4))),
                      "backward called twice (batches of 5 and 2): the gradients must add up"))
    cases.append(Case((np.array([[1, -2], [0, 3], [2, 1]]), np.array([1, 0]),
                       rng.normal(size=(4, 3)), rng.normal(size=(4, 2))),
                      "integer initial W and b: the parameters must hold floats", batch=4))
    return cases


def _linear_check(part: str, title: str, mistakes: tuple[Mistake, ...]) -> FunctionCheck:
    return FunctionCheck(
        id=f"06.linear.{part}", title=f"Linear: {title}", reference=linear_reference,
        cases=_linear_cases, hidden_cases=_linear_hidden, probe=probe("nb06.linear_part", part=part), tol=LOOSE,
        mistakes=mistakes,
    )


def _flawed_linear(flaw: str) -> Callable[[Any, Any], _LinearFlawed]:
    return partial(_LinearFlawed, flaw=flaw)


_OVERWRITE = Mistake("gradients overwritten, not accumulated", "a second backward must add to "
                     "grads (self.grads['W'] += ...), as when a weight is used twice",
                     _flawed_linear("overwrite"))

LINEAR_FORWARD = _linear_check("forward", "forward output y = x @ W + b", (
    Mistake("the bias left out", "y = x @ W + b", _flawed_linear("no_bias")),
))
LINEAR_DX = _linear_check("dx", "dx = dy @ W.T", (
    Mistake("W not transposed", "dx = dy @ W.T has x's shape (N, D): every input feeds the M "
            "outputs through its row of W", _flawed_linear("dx_no_transpose")),
))
LINEAR_DW = _linear_check("dw", "grads['W'] = x.T @ dy", (
    Mistake("dW transposed (dy.T @ x)", "dW has W's shape (D, M): dW = x.T @ dy",
            _flawed_linear("dW_transposed")),
    _OVERWRITE,
))
LINEAR_DB = _linear_check("db", "grads['b'] = dy summed over the batch", (
    Mistake("db not summed over the batch", "every example uses the same b, so db adds dy over "
            "the N rows: dy.sum(axis=0), of shape (M,)", _flawed_linear("db_not_summed")),
    Mistake("db averaged over the batch", "the 1/N is already inside dy (the loss is a mean): "
            "sum, do not average", _flawed_linear("db_mean")),
    _OVERWRITE,
))


class _ElementwiseFlawed:
    """An activation y = g(x) whose backward has one flaw; see ``flaw``."""

    def __init__(self, *, kind: str, flaw: str) -> None:
        self.kind, self.flaw = kind, flaw
        self.x: Array = np.zeros(0)
        self.y: Array = np.zeros(0)

    def forward(self, x: Any) -> Array:
        self.x = _f64(x)
        if self.kind == "relu":
            self.y = np.maximum(self.x, 0.0)
        else:
            self.y = sigmoid(-self.x if self.flaw == "exp_sign" else self.x)
        return self.y

    def backward(self, dy: Any) -> Array:
        dy, x, y = _f64(dy), self.x, self.y
        if self.kind == "relu":
            mask = {"ge": x >= 0, "lt": x < 0}.get(self.flaw, x > 0).astype(np.float64)
            return {"no_dy": mask, "identity": dy}.get(self.flaw, dy * mask)
        local = {"input": x * (1 - x), "no_one_minus": y}.get(self.flaw, y * (1 - y))
        return local if self.flaw == "no_dy" else dy * local


def _flawed(kind: str, flaw: str) -> Callable[[], _ElementwiseFlawed]:
    return partial(_ElementwiseFlawed, kind=kind, flaw=flaw)


def _unary_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]]), np.array([[1.0, 1.0, 1.0, 1.0, 1.0]])),
             "one row through the kink at 0, dy = 1"),
        Case((np.array([[1.0, -1.0], [0.0, 3.0], [-2.0, 0.25]]),
              np.array([[2.0, -1.0], [5.0, 0.5], [1.0, 4.0]])), "3 examples, a 0 input, any dy"),
        Case((np.array([[-1000.0, 1000.0], [1000.0, -1000.0]]), np.array([[1.0, 2.0], [3.0, 4.0]])),
             "inputs of ±1000: finite, without any overflow"),
    ]


def _unary_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(size=(6, 5)), rng.normal(size=(6, 5))), "random (6, 5)"),
        Case((np.array([[0.0, 0.0, 0.0]]), np.array([[1.0, -2.0, 3.0]])), "all inputs exactly 0"),
        Case((np.array([[-1000.0, 1000.0], [1000.0, -1000.0]]), np.ones((2, 2))), "inputs of ±1000"),
        Case((rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)),
             "float32 input"),
        Case((rng.normal(size=(1, 1)), rng.normal(size=(1, 1))), "a single number"),
        Case((np.array([[-2, 0, 3], [1, -1, 0]]), rng.normal(size=(2, 3))), "integer input x"),
    ]


def _unary_check(name: str, part: str, title: str, reference: Callable[[], Any],
                 mistakes: tuple[Mistake, ...], stable: bool = False) -> FunctionCheck:
    return FunctionCheck(
        id=f"06.{name}.{part}", title=title, reference=reference, cases=_unary_cases,
        hidden_cases=_unary_hidden, probe=probe("nb06.unary_part", part=part, stable=stable),
        tol=LOOSE,
        mistakes=mistakes,
    )


_RELU_KINK = Mistake("the gradient passed at x = 0", "ReLU's gradient is taken as 0 at x = 0: "
                     "the mask is x > 0, not x >= 0", _flawed("relu", "ge"))

RELU_FORWARD = _unary_check("relu", "forward", "ReLU: forward y = max(0, x)", L.ReLU, ())
RELU_DX = _unary_check("relu", "dx", "ReLU: dx = dy where x > 0", L.ReLU, (
    _RELU_KINK,
    Mistake("the mask alone", "multiply the mask by the incoming gradient dy", _flawed("relu", "no_dy")),
    Mistake("the gradient passed everywhere", "where the input was negative the output did not "
            "depend on it: dx = 0 there", _flawed("relu", "identity")),
    Mistake("the mask inverted", "the gradient passes where x > 0", _flawed("relu", "lt")),
))
SIGMOID_FORWARD = _unary_check("sigmoid", "forward", "Sigmoid: forward y = 1/(1 + e^(−x))",
                               L.Sigmoid, (
    Mistake("the sign of the exponent flipped", "σ(x) = 1/(1 + e^(−x)), so σ(2) ≈ 0.88",
            _flawed("sigmoid", "exp_sign")),
), stable=True)
SIGMOID_DX = _unary_check("sigmoid", "dx", "Sigmoid: dx = dy · y(1 − y)", L.Sigmoid, (
    Mistake("σ′ computed from the input", "σ′(x) = y(1 − y) with y = σ(x), the output you cached "
            "in forward, not x(1 − x)", _flawed("sigmoid", "input")),
    Mistake("the (1 − y) factor missing", "σ′ = y(1 − y)", _flawed("sigmoid", "no_one_minus")),
    Mistake("dy left out", "multiply the local derivative by the incoming gradient dy",
            _flawed("sigmoid", "no_dy")),
), stable=True)


# SoftmaxCrossEntropy: forward(logits, y) -> mean loss; backward() -> (p − y)/N.


class _SoftmaxCEFlawed:
    def __init__(self, *, flaw: str) -> None:
        self.flaw = flaw
        self.cache: tuple[Array, Array] = (np.zeros(0), np.zeros(0))

    def forward(self, logits: Any, y: Any) -> float:
        z = _f64(logits)
        n, c = z.shape
        logp = z - z.max(axis=1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
        target = np.eye(c)[np.asarray(y)]
        self.cache = (np.exp(logp), target)
        loss = -float(np.sum(target * logp))
        return loss if self.flaw == "sum" else loss / n

    def backward(self, dy: float = 1.0) -> Array:
        p, t = self.cache
        n = len(p)
        grads = {"no_mean": p - t, "sum": p - t, "sign": (t - p) / n, "no_target": p / n}
        return grads.get(self.flaw, (p - t) / n) * dy



def _sce_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 2.0]]), np.array([0, 2])),
             "2 examples, 3 classes", batch=2),
        Case((np.array([[0.0, 0.0]]), np.array([1])), "one example, equal logits: loss ln 2"),
        Case((np.array([[1000.0, 0.0, -1000.0]]), np.array([2])),
             "logits of ±1000: np.exp(1000) overflows, log-softmax does not"),
        Case((np.array([[1.0, -1.0], [0.5, 0.5], [-2.0, 3.0], [0.0, 1.0]]), np.array([0, 1, 0, 1])),
             "4 examples, 2 classes", batch=4),
    ]


def _sce_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, c in ((8, 5), (32, 10)):
        cases.append(Case((rng.normal(scale=2.0, size=(n, c)), rng.integers(0, c, size=n)),
                          f"random {n}×{c}", batch=n))
    cases.append(Case((np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0]]), np.array([2, 1])),
                      "logits of ±1000 (a naive exp overflows)", batch=2))
    cases.append(Case((rng.normal(size=(6, 4)).astype(np.float32), rng.integers(0, 4, size=6)),
                      "float32 logits", batch=6))
    cases.append(Case((rng.normal(size=(1, 10)), np.array([9])), "a single example, the last class"))
    cases.append(Case((rng.normal(size=(5, 3)), rng.integers(0, 3, size=5), 2.5),
                      "an upstream gradient dy = 2.5: backward(dy) scales by it", batch=5))
    cases.append(Case((rng.normal(size=(4, 6)), rng.integers(0, 6, size=4).astype(np.uint8)),
                      "labels stored as uint8", batch=4))
    return cases


def _sce_check(part: str, title: str, kind: Any, mistakes: tuple[Mistake, ...]) -> FunctionCheck:
    return FunctionCheck(
        id=f"06.softmax_ce.{part}", title=title, reference=L.SoftmaxCrossEntropy, cases=_sce_cases,
        hidden_cases=_sce_hidden, probe=probe("nb06.softmax_ce_part", part=part), kind=kind, tol=LOOSE, mistakes=mistakes,
    )


def _flawed_sce(flaw: str) -> Callable[[], _SoftmaxCEFlawed]:
    return partial(_SoftmaxCEFlawed, flaw=flaw)


SOFTMAX_CE_LOSS = _sce_check("loss", "SoftmaxCrossEntropy: forward, the mean loss", "float", (
    Mistake("the sum instead of the mean", "divide by N: the loss is a mean over the batch",
            _flawed_sce("sum")),
))
SOFTMAX_CE_DLOGITS = _sce_check("dlogits", "SoftmaxCrossEntropy: backward, (p − y)/N", "array", (
    Mistake("the 1/N missing", "the loss is a mean, so each row's gradient is divided by N: "
            "(p − y)/N", _flawed_sce("no_mean")),
    Mistake("the wrong sign", "the gradient is prediction minus target: (p − y)/N",
            _flawed_sce("sign")),
    Mistake("the target left out", "subtract the one-hot target: (p − y)/N",
            _flawed_sce("no_target")),
))


# The zoo: Multiply (a gate) and Max (routes the gradient).


class _MultiplyFlawed:
    def __init__(self, *, flaw: str) -> None:
        self.flaw = flaw
        self.a = self.b = np.zeros(0)

    def forward(self, a: Any, b: Any) -> Array:
        self.a, self.b = _f64(a), _f64(b)
        return self.a * self.b

    def backward(self, dy: Any) -> tuple[Array, Array]:
        dy, a, b = _f64(dy), self.a, self.b
        if self.flaw == "swapped":
            return dy * a, dy * b
        if self.flaw == "no_dy":
            return b.copy(), a.copy()
        return dy.copy(), dy.copy()



def _multiply_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([[2.0, -1.0, 3.0]]), np.array([[0.5, 4.0, 0.0]]), np.array([[1.0, 1.0, 1.0]])),
             "one row, dy = 1"),
        Case((np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.9, 0.1], [0.5, 1.0]]),
              np.array([[2.0, -1.0], [0.5, 3.0]])), "a (2, 2) gate b in (0, 1], any dy"),
    ]


def _multiply_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(size=(5, 4)), rng.uniform(size=(5, 4)), rng.normal(size=(5, 4))),
             "random (5, 4), a sigmoid-like gate"),
        Case((rng.normal(size=(3, 3)), np.zeros((3, 3)), rng.normal(size=(3, 3))),
             "a closed gate b = 0: nothing reaches a"),
        Case((np.full((2, 2), 1000.0), np.full((2, 2), -1000.0), rng.normal(size=(2, 2))),
             "a = 1000, b = −1000"),
        Case(tuple(rng.normal(size=(4, 2)).astype(np.float32) for _ in range(3)), "float32 input"),
        Case((rng.normal(size=(1, 1)), rng.normal(size=(1, 1)), rng.normal(size=(1, 1))),
             "a single number"),
    ]


def _multiply_check(part: str, title: str, mistakes: tuple[Mistake, ...]) -> FunctionCheck:
    return FunctionCheck(
        id=f"06.multiply.{part}", title=title, reference=L.Multiply, cases=_multiply_cases,
        hidden_cases=_multiply_hidden, probe=probe("nb06.multiply_part", part=part), tol=LOOSE, mistakes=mistakes,
    )


_SWAPPED = Mistake("the two gradients swapped", "da = dy · b and db = dy · a: each factor's "
                   "gradient is scaled by the other factor", partial(_MultiplyFlawed, flaw="swapped"))
_GATE_NO_DY = Mistake("dy left out", "multiply by the incoming gradient dy",
                      partial(_MultiplyFlawed, flaw="no_dy"))
_GATE_COPY = Mistake("dy copied unchanged", "that is the rule of an addition; for a product, "
                     "multiply dy by the other factor", partial(_MultiplyFlawed, flaw="copy"))

MULTIPLY_FORWARD = _multiply_check("forward", "Multiply: forward y = a ⊙ b", ())
MULTIPLY_DA = _multiply_check("da", "Multiply: da = dy ⊙ b", (_SWAPPED, _GATE_NO_DY, _GATE_COPY))
MULTIPLY_DB = _multiply_check("db", "Multiply: db = dy ⊙ a", (_SWAPPED, _GATE_NO_DY, _GATE_COPY))


class _MaxFlawed:
    def __init__(self, *, flaw: str) -> None:
        self.flaw = flaw
        self.x = np.zeros(0)

    def forward(self, x: Any) -> Array:
        self.x = _f64(x)
        return self.x.min(axis=-1) if self.flaw == "argmin" else self.x.max(axis=-1)

    def backward(self, dy: Any) -> Array:
        dy, x = _f64(dy), self.x
        if self.flaw == "everywhere":
            return np.broadcast_to(dy[:, None], x.shape).copy()
        if self.flaw == "ties":
            return (x == x.max(axis=-1, keepdims=True)) * dy[:, None]
        pick = np.argmin(x, axis=-1) if self.flaw == "argmin" else np.argmax(x, axis=-1)
        mask = np.zeros_like(x)
        mask[np.arange(len(x)), pick] = 1.0
        return mask if self.flaw == "no_dy" else mask * dy[:, None]


def _max_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([[1.0, 5.0, 2.0], [-1.0, -3.0, -2.0]]), np.array([1.0, 1.0])),
             "2 rows of 3, dy = 1"),
        Case((np.array([[0.5, 0.2], [3.0, 4.0], [2.0, -2.0]]), np.array([2.0, -1.0, 0.5])),
             "3 rows of 2, any dy"),
        Case((np.array([[1.0, 3.0, 3.0, 0.0]]), np.array([2.0])),
             "a tie: the first arg-max (as np.argmax picks) takes all of dy"),
    ]


def _max_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(size=(6, 5)), rng.normal(size=6)), "random (6, 5)"),
        Case((rng.normal(size=(1, 8)), rng.normal(size=1)), "a single row"),
        Case((np.array([[2.0, 2.0, 2.0], [0.0, 1.0, 1.0]]), np.array([1.0, -3.0])),
             "ties in every row"),
        Case((np.array([[-1000.0, 1000.0], [1000.0, -1000.0]]), np.array([1.0, 2.0])),
             "entries of ±1000"),
        Case((rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=4).astype(np.float32)),
             "float32 input"),
        Case((rng.normal(size=(3, 1)), rng.normal(size=3)), "one entry per row: it always wins"),
        Case((np.array([[3, 1, 3], [-2, -5, -1]]), np.array([0.5, 2.0])),
             "integer input: dx holds the float dy"),
    ]


def _max_check(part: str, title: str, mistakes: tuple[Mistake, ...]) -> FunctionCheck:
    return FunctionCheck(
        id=f"06.max.{part}", title=title, reference=L.Max, cases=_max_cases,
        hidden_cases=_max_hidden, probe=probe("nb06.unary_part", part=part),
        tol=LOOSE, mistakes=mistakes,
    )


MAX_FORWARD = _max_check("forward", "Max: forward y = max over the last axis", (
    Mistake("the minimum", "take the largest entry of each row", partial(_MaxFlawed, flaw="argmin")),
))
MAX_DX = _max_check("dx", "Max: dx = dy at the arg-max, 0 elsewhere", (
    Mistake("dy sent to every entry", "only the winner affected y: the others get 0",
            partial(_MaxFlawed, flaw="everywhere")),
    Mistake("dy sent to every tied maximum", "on a tie, route dy to the first arg-max only "
            "(np.argmax): the gradient must not be counted twice", partial(_MaxFlawed, flaw="ties")),
    Mistake("dy left out", "put dy, not 1, at the arg-max", partial(_MaxFlawed, flaw="no_dy")),
))


# Sequential: a chain of stand-in modules (nb06.Scale, Tile, Square), never the notebook's layers.


def sequential_reference(*modules: Any) -> L.Sequential:
    """reference_impl's Sequential over the given modules."""
    return L.Sequential(*modules)


class _SequentialFlawed:
    def __init__(self, *modules: Any, flaw: str) -> None:
        self.modules, self.flaw = list(modules), flaw

    def forward(self, x: Any) -> Any:
        for m in self.modules[:-1] if self.flaw == "skip_last" else self.modules:
            x = m.forward(x)
        return x

    def backward(self, dy: Any) -> Any:
        for m in reversed(self.modules[:-1] if self.flaw == "skip_last" else self.modules):
            dy = m.backward(dy)
        return dy

    def zero_grad(self) -> None:
        if self.flaw != "no_zero":
            for m in self.modules:
                m.zero_grad()

    def parameters(self) -> list[tuple[Array, Array]]:
        return [(m.params[k], m.grads[k]) for m in self.modules
                for k in list(m.params)[:1 if self.flaw == "first_only" else None]]


def _scale(rng: np.random.Generator, d: int) -> tuple[str, Array, Array]:
    return ("scale", np.round(rng.uniform(-2.0, 2.0, size=d), 2), np.round(rng.normal(size=d), 2))


def _seq_cases(rng: np.random.Generator) -> list[Case]:
    s1 = ("scale", np.array([1.0, -2.0]), np.array([0.5, 0.0]))
    s2 = ("scale", np.array([0.5, 1.0, -1.0, 2.0]), np.array([0.0, 1.0, 0.0, -1.0]))
    x = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, 1.0]])
    dy = np.array([[1.0, 0.0, 2.0, -1.0], [0.0, 1.0, 0.5, 0.5], [0.5, -0.5, 1.0, 0.0]])
    return [
        Case(((s1, ("tile",), ("square",), s2), x, dy),
             "Scale(2), Tile (2 → 4), Square, Scale(4) on 3 examples", batch=3),
        Case(((("scale", np.array([2.0, -1.0, 0.5]), np.array([1.0, 0.0, 0.0])),),
              np.array([[1.0, -1.0, 2.0]]), np.array([[1.0, 2.0, 3.0]])), "a single Scale(3)"),
    ]


def _seq_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case(((_scale(rng, 4), ("tile",), ("square",), _scale(rng, 8)), rng.normal(size=(5, 4)),
              rng.normal(size=(5, 8))), "random Scale, Tile, Square, Scale; 5 examples", batch=5),
        Case(((_scale(rng, 3), ("square",), _scale(rng, 3), ("tile",), _scale(rng, 6)),
              rng.normal(size=(4, 3)), rng.normal(size=(4, 6))), "five modules", batch=4),
        Case(((("tile",), _scale(rng, 4)), rng.normal(size=(1, 2)), rng.normal(size=(1, 4))),
             "a single example, a module without parameters first"),
    ]


def _seq_check(part: str, title: str, mistakes: tuple[Mistake, ...]) -> FunctionCheck:
    return FunctionCheck(
        id=f"06.sequential.{part}", title=title, reference=sequential_reference, cases=_seq_cases,
        hidden_cases=_seq_hidden, probe=probe("nb06.sequential_part", part=part), tol=LOOSE, mistakes=mistakes,
    )


SEQUENTIAL_FORWARD = _seq_check("forward", "Sequential: forward through every module", (
    Mistake("the last module skipped", "run every module, the last one included",
            partial(_SequentialFlawed, flaw="skip_last")),
))
SEQUENTIAL_DX = _seq_check("dx", "Sequential: backward through the modules in reverse", ())
SEQUENTIAL_PARAMETERS = _seq_check(
    "parameters", "Sequential: zero_grad, then parameters() in layer order", (
        Mistake("zero_grad does nothing", "zero_grad must reset every module's gradients, or "
                "each step adds to the last one's", partial(_SequentialFlawed, flaw="no_zero")),
        Mistake("parameters left out of parameters()", "return a (param, grad) pair for every "
                "entry of every module's params, W and b", partial(_SequentialFlawed, flaw="first_only")),
    ))


# SGD with momentum: v ← μv − αg; w ← w + v (μ = 0 is plain SGD), in place.


def sgd_reference(lr: float, momentum: float = 0.0) -> Momentum:
    """reference_impl's Momentum optimizer (plain SGD when momentum is 0)."""
    return Momentum(lr=lr, mu=momentum)


class _SGDFlawed:
    def __init__(self, lr: float, momentum: float = 0.0, *, flaw: str) -> None:
        self.lr, self.mu, self.flaw = lr, momentum, flaw
        self.v: dict[int, Array] = {}

    def step(self, pairs: Sequence[tuple[Array, Array]]) -> None:
        for i, (w, g) in enumerate(pairs):
            v = self.v.get(i, np.zeros_like(w)) if self.flaw != "reset" else np.zeros_like(w)
            if self.flaw == "plus":
                v = self.mu * v + self.lr * g
            elif self.flaw == "rebind":
                v = self.mu * v - self.lr * g
                self.v[i] = v
                w = w + v  # the mistake: a new array; the network keeps its old one
                continue
            elif self.flaw == "late":
                w += v
                v = self.mu * v - self.lr * g
                self.v[i] = v
                continue
            else:
                v = self.mu * v - self.lr * g
            self.v[i] = v
            w += v



def _sgd_cases(rng: np.random.Generator) -> list[Case]:
    w = [np.array([1.0, -2.0]), np.array([[0.5, 0.0], [1.0, 2.0]])]
    g1 = [np.array([0.5, 1.0]), np.array([[1.0, -1.0], [0.0, 2.0]])]
    g2 = [np.array([-1.0, 0.0]), np.array([[0.5, 0.5], [1.0, -2.0]])]
    return [
        Case((w, [g1], 0.1, 0.0), "one step of plain SGD, lr = 0.1"),
        Case((w, [g1, g2, g1], 0.1, 0.0), "three steps of plain SGD"),
        Case((w, [g1, g1, g2], 0.1, 0.9), "three steps with momentum 0.9"),
    ]


def _sgd_hidden(rng: np.random.Generator) -> list[Case]:
    shapes = [(3, 4), (4,), (4, 2), (2,)]
    w = [rng.normal(size=s) for s in shapes]
    steps = [[rng.normal(size=s) for s in shapes] for _ in range(6)]
    return [
        Case((w, steps, 0.05, 0.9), "six steps, four parameters, momentum 0.9"),
        Case((w, steps[:4], 0.5, 0.0), "four plain steps, lr = 0.5"),
        Case((w, steps, 0.01, 0.5), "momentum 0.5"),
        Case(([p.astype(np.float32) for p in w], steps[:3], 0.1, 0.9), "float32 parameters"),
        Case((w, [[np.zeros(s) for s in shapes]] * 3, 0.1, 0.9), "zero gradients: nothing moves"),
        Case(([rng.normal(size=3), rng.normal(size=3), rng.normal(size=(2, 2))],
              [[rng.normal(size=3), rng.normal(size=3), rng.normal(size=(2, 2))]
               for _ in range(4)], 0.1, 0.9),
             "two parameters of the same shape: each keeps its own velocity"),
        Case((w, steps[:4], 0.1, None), "SGD(lr) with the default momentum, 0: plain SGD"),
    ]


SGD = FunctionCheck(
    id="06.sgd",
    title="SGD(lr, momentum).step(pairs)",
    reference=sgd_reference,
    cases=_sgd_cases,
    hidden_cases=_sgd_hidden,
    probe=probe("nb06.sgd_path"),
    tol=LOOSE,
    mistakes=(
        Mistake("w = w + v rebinds a local name", "w = w + v builds a new array and rebinds the "
                "loop's name w to it, so the network's own arrays never change: update them in "
                "place, w += v", partial(_SGDFlawed, flaw="rebind")),
        Mistake("a step up the gradient", "w moves against the gradient: v = μv − lr·g, w += v",
                partial(_SGDFlawed, flaw="plus")),
        Mistake("the velocity forgotten between steps", "keep one velocity per parameter from "
                "step to step (a dict or list in self)", partial(_SGDFlawed, flaw="reset")),
        Mistake("the old velocity applied", "update the velocity first, then add the new one to w",
                partial(_SGDFlawed, flaw="late")),
    ),
)


# Capstone: the student's MLP trained by the student's train_mlp, scored on the test set.

def train_mlp_reference(X_train: Any, y_train: Any, *, seed: int, X_val: Any = None,
                        y_val: Any = None) -> tuple[L.Sequential, Any]:
    """A 64-64-10 ReLU MLP trained 10 epochs by momentum SGD (lr 0.05, μ 0.9, batches of 32)."""
    rng = np.random.default_rng(seed)
    model = L.mlp([64, 64, N_CLASSES], rng=rng)
    history = fit(model, Momentum(lr=0.05, mu=0.9), X_train, y_train, epochs=10, batch_size=32,
                  rng=rng, X_val=X_val, y_val=y_val)
    return model, history


def _test_order(check_id: str, hidden: bool, n: int) -> NDArray[np.intp]:
    """The order the test images are shown in: fixed per check and run."""
    return stable_rng(check_id, hidden).permutation(n)


def _capstone_cases(rng: np.random.Generator) -> list[Case]:
    order = _test_order("06.test_accuracy", False, len(digits_split().y_test))
    return [Case((0, order.astype(np.int64)), "seed 0, the notebook's test split")]


@functools.cache
def heldout_digits() -> tuple[Array, Array]:
    """The 180 digits the course does not ship (18 per class): X (180, 64) in [0, 1], y (180,).

    Students train on the shipped digits; the hidden capstone cases are these images,
    whose labels exist only on the grader's side.
    """
    with resources.as_file(resources.files("autograder.specs") / "data" / "digits_heldout.npz") as path:
        with np.load(path, allow_pickle=False) as archive:
            images, labels = archive["images"], archive["labels"]
    order = _test_order("06.test_accuracy", True, len(labels))
    X = images.reshape(len(images), -1).astype(np.float64) / 16.0
    return X[order], labels[order].astype(np.float64)


def _capstone_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case((seed, heldout_digits()[0]), f"seed {seed}, 180 held-out digits")
            for seed in (11, 12)]


def _capstone_truth(case: Case) -> Any:
    images = case.args[1]
    if images.ndim == 1:
        return digits_split().y_test[images.astype(np.intp)].astype(np.float64)
    X, y = heldout_digits()
    if images.shape != X.shape or not np.array_equal(images, X):
        raise ValueError("a hidden capstone case holds images other than the held-out digits")
    return y


TEST_ACCURACY = FunctionCheck(
    id="06.test_accuracy",
    title="train_mlp: test accuracy of your MLP on the digits",
    reference=train_mlp_reference,
    cases=_capstone_cases,
    hidden_cases=_capstone_hidden,
    probe=probe("nb06.predictions"),
    truth=_capstone_truth,
    compare="nb06.accuracy_at_least",
    hint="check your modules' checks first; then train longer or tune the learning rate "
         f"(momentum 0.9 with lr ≈ 0.05 works), and initialise W with a scale of about "
         f"sqrt(2 / fan_in), to reach {ACCURACY_THRESHOLD:.0%}",
)

FORBIDDEN = ("reference_impl.layers.linear", "reference_impl.layers.activation",
             "reference_impl.layers.loss", "reference_impl.layers.zoo",
             "reference_impl.layers.container", "reference_impl.gradcheck",
             "reference_impl.optimizers", "reference_impl.training")

register(
    DF_DX, DF_DY, N_PATHS_X, N_PATHS_Y, F_AND_GRAD,
    FORWARD_PASSES_GRAD, REVERSE_PASSES_GRAD, FORWARD_PASSES_JAC, REVERSE_PASSES_JAC,
    DC_DA, DC_DW, NUMERICAL_GRADIENT,
    LINEAR_FORWARD, LINEAR_DX, LINEAR_DW, LINEAR_DB,
    RELU_FORWARD, RELU_DX, SIGMOID_FORWARD, SIGMOID_DX,
    SOFTMAX_CE_LOSS, SOFTMAX_CE_DLOGITS,
    MULTIPLY_FORWARD, MULTIPLY_DA, MULTIPLY_DB, MAX_FORWARD, MAX_DX,
    SEQUENTIAL_FORWARD, SEQUENTIAL_DX, SEQUENTIAL_PARAMETERS, SGD, TEST_ACCURACY,
)
