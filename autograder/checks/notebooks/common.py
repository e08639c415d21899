"""Probes every notebook uses: call the answer, with or without overflow raised."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks.cases import Case

UNSTABLE_HINT = ("a naive exp overflowed; rewrite the formula so every exp sees a "
                 "non-positive argument (the numerically stable form)")


def call(answer: Any, case: Case) -> Any:
    """The default probe: call the answer with the case's arguments."""
    return answer(*case.args, **case.kwargs)


def stable_call(answer: Any, case: Case, hint: str = UNSTABLE_HINT) -> Any:
    """Call the answer with overflow raised: a naive exp at ±1000 is reported as unstable."""
    try:
        with np.errstate(over="raise"):
            return answer(*case.args, **case.kwargs)
    except FloatingPointError as exc:
        raise FloatingPointError(f"unstable: {exc}; {hint}") from None


REGISTRY: dict[str, Any] = {"call": call, "stable_call": stable_call}
