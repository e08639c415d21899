"""The check library every test cell uses: ``check("01.count_parameters", count_parameters)``.

In a notebook, ``check`` runs the student's answer on the check's cases, prints a
verdict that says what is wrong (input, expected against got, and the known mistake
the answer resembles) and raises ``CheckFailed`` when it fails, so stock nbgrader
scores the cell. When the course's grader runs the notebook it also sends the plain
values out of the kernel, and decides the grade itself from them.
"""

from __future__ import annotations

import os
from typing import Any

from autograder.checks import registry
from autograder.checks.channel import ENV, Channel
from autograder.checks.spec import CheckFailed, Verdict

_channel = Channel(os.environ.get(ENV))
_print = print


def check(check_id: str, answer: Any, *, hidden: bool = False) -> None:
    """Check ``answer`` with the check ``check_id``; raise ``CheckFailed`` if it is wrong."""
    spec = registry.get(check_id)
    observations = spec.observe(answer, hidden=hidden)
    _channel.emit(check_id, hidden, observations)
    verdict = spec.evaluate(observations, hidden=hidden)
    _print(verdict.report())
    if not verdict.passed:
        raise CheckFailed(verdict.report()) from None


__all__ = ["CheckFailed", "Verdict", "check"]
