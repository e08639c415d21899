"""Notebook 2 on the student's side: the functions its finite-difference cases differentiate.

None of them is an activation the notebook asks for: a case must never hand student code
the answer to another exercise of the same notebook.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks.values import Named


def _cube(z: Any) -> Any:
    return np.asarray(z) ** 3


def _softplus(z: Any) -> Any:
    z = np.asarray(z, dtype=np.float64)
    return np.logaddexp(0.0, z)


CUBE = Named("nb02.cube", "f(z) = z³", _cube)
SIN = Named("nb02.sin", "f(z) = sin z", np.sin)
EXP = Named("nb02.exp", "f(z) = eᶻ", np.exp)
SOFTPLUS = Named("nb02.softplus", "f(z) = ln(1 + eᶻ)", _softplus)
GAUSS = Named("nb02.gauss", "f(z) = e^(−z²)", lambda z: np.exp(-np.square(np.asarray(z))))

UNSTABLE_HINT = ("an exp overflowed (e^z is inf in float64 once z > 709). Rewrite the formula "
                 "so that exp only ever sees numbers <= 0: e^(−|z|) for the sigmoid, z − max(z) "
                 "for softmax. np.where evaluates both branches, so it does not protect an exp.")

REGISTRY: dict[str, Any] = {"cube": CUBE, "sin": SIN, "exp": EXP, "softplus": SOFTPLUS,
                            "gauss": GAUSS}
