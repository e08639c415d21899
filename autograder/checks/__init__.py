"""The check library every test cell uses: ``check("01.count_parameters", count_parameters)``.

This package is the student's side of checking, and all of it: it runs the student's
answer on a check's cases, writes the plain values it observed to the grader's channel
(when a grader is listening) and prints a verdict that says what is wrong. Visible
verdicts come from data shipped with the course (``autograder/exercises``): the visible
cases' expected values and the outputs of known mistakes. It holds no reference
implementation, no hidden expected value and no right numeric or choice answer.

Where the grader's side is installed too (the instructor's environment, stock nbgrader)
``check`` asks it for the full verdict, hidden cases included. Under ``dlf grade`` the
grader decides every verdict in its own process from the recorded values.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from typing import Any

from autograder.checks import channel, exercises, guard
from autograder.checks.cases import Case
from autograder.checks.demos import NotReady, needs, record
from autograder.checks.exercises import CheckData
from autograder.checks.judge import (
    Verdict,
    choice_form,
    judge_cases,
    value_form,
)
from autograder.checks.observe import Observation, observe_cases, observe_choice, observe_value
from autograder.checks.values import decode, encode

_print = print


class CheckFailed(AssertionError):
    """Raised in the notebook so nbgrader (and the student) see a failed check."""


@functools.cache
def _grader_installed() -> bool:
    try:
        return importlib.util.find_spec("autograder.specs") is not None
    except (ImportError, ValueError):
        return False


def observe(data: CheckData, answer: Any, cases: Sequence[Case]) -> list[Observation]:
    """Run ``answer`` as the check ``data`` says; plain values only."""
    if data.type == "value":
        return observe_value(answer, data.kind)
    if data.type == "choice":
        return observe_choice(answer, data.kind)
    return observe_cases(answer, cases, data.probe.resolve(), data.kind,
                         callable_answer=data.callable_answer)


def student_verdict(data: CheckData, observations: Sequence[Observation]) -> Verdict:
    """The visible verdict from the shipped data alone."""
    # Numeric and choice answers ship their form only, not even their known wrong values.
    if data.type == "value":
        return value_form(data.id, data.title, observations, (), data.tol)
    if data.type == "choice":
        return choice_form(data.id, data.title, observations, data.options, data.kind,
                           data.length, ())
    if data.type == "property" or data.compare:
        from autograder.checks.findings import judge_findings

        return judge_findings(data, data.cases, observations, data.expected or None, hidden=False,
                              mistakes=data.mistakes)
    return judge_cases(check_id=data.id, title=data.title, tol=data.tol, cases=data.cases,
                       observations=observations, expected=data.expected,
                       mistakes=data.mistakes, hidden=False, shape_hint=data.shape_hint)


def roundtrip(observations: Sequence[Observation]) -> list[Observation]:
    """What the grader would read from the channel: encoded, then decoded as plain values."""
    return [(status, decode(encode(value), plain=True)) for status, value in observations]


def run_check(check_id: str, answer: Any, *, hidden: bool = False) -> Verdict:
    """Observe, record and decide, without printing."""
    data = exercises.get(check_id)
    notebook = exercises.notebook_of(check_id)
    full = _grader_installed()
    if not full:
        loaded = guard.loaded_forbidden(notebook)
        if loaded:
            observations: list[Observation] = [("error", "ImportError: " + guard.explain(notebook, loaded))]
            channel.emit(check_id, hidden, observations)
            return Verdict(check_id, data.title, False, guard.explain(notebook, loaded))
    cases: Sequence[Case] = data.cases
    if hidden:
        sent = exercises.hidden_cases(check_id)
        if sent is not None:
            cases = sent
        elif full:
            from autograder.specs import registry

            cases = registry.get(check_id).hidden_cases_for_student()
        else:
            return Verdict(check_id, data.title, True, "hidden checks run when your notebook is "
                           "graded", recorded=True)
    observations = observe(data, answer, cases)
    channel.emit(check_id, hidden, observations)
    if full:
        from autograder.specs import registry

        return registry.get(check_id).evaluate(roundtrip(observations), hidden=hidden)
    if hidden:
        return Verdict(check_id, data.title, True, "recorded for the grader", recorded=True)
    return student_verdict(data, observations)


def check(check_id: str, answer: Any, *, hidden: bool = False) -> None:
    """Check ``answer`` with the check ``check_id``; raise ``CheckFailed`` if it is wrong."""
    verdict = run_check(check_id, answer, hidden=hidden)
    if not hidden:  # what a demo cell's needs(...) reads
        record(answer, verdict.title, verdict.message, verdict.passed)
    if not verdict.passed:
        raise CheckFailed(verdict.report()) from None
    _print(verdict.report())


__all__ = ["CheckFailed", "NotReady", "Verdict", "check", "needs"]
