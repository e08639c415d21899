"""Verdicts from observations and expected values: pure functions, the same on both sides.

The student's kernel calls them with the visible cases' expected values and the outputs
of the known mistakes on those cases, shipped as data (``autograder.exercises``); the
grader calls them with values it computes from its own references, for visible and
hidden cases alike. A hidden verdict's message never shows a hidden input, label or
expected value: it counts the failing cases and names the mistake, and the details
(for the instructor only) go to ``details``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy

from autograder.checks import coerce
from autograder.checks.cases import Case
from autograder.checks.compare import Tolerance, describe_array_difference, fmt, values_match
from autograder.checks.diagnose import generic_mistakes
from autograder.checks.observe import Observation

NOT_IMPLEMENTED = "not implemented yet: replace `raise NotImplementedError()` with your code"
NO_ANSWER = "no answer yet"


def is_unanswered(message: str) -> bool:
    """Does a check's message say the answer is still the release's placeholder?"""
    return NOT_IMPLEMENTED in message or NO_ANSWER in message


@dataclass(frozen=True)
class Verdict:
    """What a check concluded. ``recorded``: the answer was only recorded, to be judged when graded."""

    check_id: str
    title: str
    passed: bool
    message: str
    mistakes: tuple[str, ...] = ()
    n_cases: int = 0
    n_failed: int = 0
    recorded: bool = False
    details: tuple[str, ...] = ()

    def report(self) -> str:
        mark = "•" if self.recorded else "✓" if self.passed else "✗"
        return f"{mark} {self.title}: {self.message}"


@dataclass(frozen=True)
class KnownMistake:
    """A named wrong answer and what it returns on each case (None where it raised)."""

    name: str
    hint: str
    outputs: tuple[Any, ...]


def _fits(value: Any, kind: Any) -> bool:
    if isinstance(kind, tuple):
        return (isinstance(value, tuple) and len(value) == len(kind)
                and all(_fits(v, k) for v, k in zip(value, kind, strict=True)))
    if kind in ("array", "float_array"):
        return isinstance(value, numpy.ndarray)
    if kind == "float":
        return type(value) is float
    if kind == "int":
        return type(value) is int
    if kind == "bool":
        return type(value) is bool
    if kind in ("str", "order", "set"):
        return type(value) is str
    return True


def conform(observations: Sequence[Any], kind: Any) -> list[Observation]:
    """Observations as the grader may judge them: a record that does not hold the kind of
    value the check produces (only a forged one can) becomes an error observation."""
    out: list[Observation] = []
    for item in observations:
        if not (isinstance(item, tuple) and len(item) == 2):
            out.append(("error", "ValueError: a malformed observation"))
            continue
        status, value = item
        if status == "error" and isinstance(value, str):
            out.append((status, value))
        elif status == "ok" and _fits(value, kind):
            out.append((status, value))
        else:
            out.append(("error", f"TypeError: the record holds {type(value).__name__} where "
                                 f"the check produces {kind}"))
    return out


def explain_error(text: str, *, hidden: bool = False) -> str:
    if text.startswith("NotImplementedError"):
        return NOT_IMPLEMENTED
    if hidden:  # the message may quote hidden inputs (shapes, values): keep the type only
        return f"raised {text.split(':', 1)[0]}"
    return f"raised {text}"


def case_head(i: int, n: int, case: Case, hidden: bool) -> str:
    """How a failing case is named: by its label when visible, by its number only when hidden."""
    return f"case {i + 1} of {n}" if hidden else f"case {i + 1} of {n} ({case.label})"


def raised(i: int, n: int, case: Case, text: str, hidden: bool) -> tuple[str, str]:
    """(what the student reads, what the instructor reads) of a case that raised ``text``."""
    return (f"{case_head(i, n, case, hidden)}: {explain_error(text, hidden=hidden)}",
            f"case {i + 1} ({case.label}): raised {text}")


def _show_arg(a: Any) -> str:
    if isinstance(a, numpy.ndarray):
        return f"array of shape {a.shape}: {fmt(a)}"
    return fmt(a)


def difference(got: Any, expected: Any, tol: Tolerance) -> str:
    """One or two lines saying how ``got`` differs from ``expected``."""
    if isinstance(expected, numpy.ndarray) and isinstance(got, numpy.ndarray):
        return describe_array_difference(got, expected, tol)
    if isinstance(expected, tuple) and isinstance(got, tuple):
        for j, (g, e) in enumerate(zip(got, expected, strict=True)):
            if not values_match(g, e, tol):
                return f"output {j} of the tuple: {difference(g, e, tol)}"
    text = f"expected {fmt(expected)}, got {fmt(got)}"
    if isinstance(got, float) and isinstance(expected, float) and not math.isfinite(got) \
            and math.isfinite(expected):
        text += (" (NaN comes from 0 · log 0, inf − inf or inf / inf on the way" if math.isnan(got)
                 else " (inf comes from an overflow or a log of 0")
        text += ": clip probabilities before a log, and use the numerically stable form)"
    return text


def _kind_of_difference(got: Any, expected: Any, tol: Tolerance) -> str:
    """How a hidden case differs, without any value: shape, non-finite, or values."""
    if isinstance(expected, tuple) and isinstance(got, tuple):
        for j, (g, e) in enumerate(zip(got, expected, strict=True)):
            if not values_match(g, e, tol):
                return f"output {j} of the tuple: {_kind_of_difference(g, e, tol)}"
    if isinstance(expected, numpy.ndarray) and isinstance(got, numpy.ndarray):
        if got.shape != expected.shape:
            return "the result has the wrong shape"
        if bool(numpy.any(~numpy.isfinite(got) & numpy.isfinite(expected))):
            return "NaN or inf where a finite value was expected (use the numerically stable form)"
    if isinstance(got, float) and isinstance(expected, float) and not math.isfinite(got) \
            and math.isfinite(expected):
        return "NaN or inf where a finite value was expected (use the numerically stable form)"
    return "wrong values"


def judge_cases(*, check_id: str, title: str, tol: Tolerance, cases: Sequence[Case],
                observations: Sequence[Observation], expected: Sequence[Any],
                mistakes: Sequence[KnownMistake] = (), hidden: bool = False,
                shape_hint: str = "") -> Verdict:
    """Compare each observation with its case's expected value; name the mistake it resembles.

    A known mistake that gives the answer's result on every failing case is named in
    preference to one that only matches on the case shown (two mistakes can agree on one
    case and differ on the next). ``shape_hint`` says what the result's shape follows from,
    shown when a result has the wrong shape.
    """
    n = len(cases)
    where = "hidden" if hidden else "visible"

    def verdict(passed: bool, message: str, named: tuple[str, ...] = (), failed: int = 0,
                details: tuple[str, ...] = ()) -> Verdict:
        return Verdict(check_id, title, passed, message, named, n, failed, details=details)

    if len(observations) != n:
        return verdict(False, f"expected results for {n} cases, got {len(observations)}: the "
                       "check did not run on your code", failed=n)
    wrong = [i for i, (status, value) in enumerate(observations)
             if status == "ok" and not values_match(value, expected[i], tol)]
    everywhere = [(m.name, m.hint) for m in mistakes if wrong and all(
        m.outputs[i] is not None and values_match(observations[i][1], m.outputs[i], tol)
        for i in wrong)]
    failures: list[str] = []
    details: list[str] = []
    named: list[str] = []
    for i, (case, (status, value)) in enumerate(zip(cases, observations, strict=True)):
        head = case_head(i, n, case, hidden)
        if status == "error":
            shown, detail = raised(i, n, case, str(value), hidden)
            failures.append(shown)
            details.append(detail)
            continue
        want = expected[i]
        if i not in wrong:
            continue
        if hidden:
            lines = [f"{head}: {_kind_of_difference(value, want, tol)}"]
            details.append(f"case {i + 1} ({case.label}): {difference(value, want, tol)}")
        else:
            lines = [f"{head}: {difference(value, want, tol)}",
                     "    input:    " + ", ".join(_show_arg(a) for a in case.args),
                     f"    expected: {fmt(want)}",
                     f"    got:      {fmt(value)}"]
        if shape_hint and _shapes_differ(value, want):
            lines.append(f"    {shape_hint}")
        for name, hint in everywhere or which_mistakes(value, want, i, case, mistakes, tol):
            lines.append(f"    this looks like {name}: {hint}")
            named.append(name)
        failures.append("\n".join(lines))
    if not failures:
        return verdict(True, f"all {n} {where} cases pass")
    text = f"{len(failures)} of {n} {where} cases fail.\n" + failures[0]
    if len(failures) > 1:
        text += f"\n  (and {len(failures) - 1} more)"
    return verdict(False, text, tuple(dict.fromkeys(named)), len(failures), tuple(details))


def _shapes_differ(got: Any, expected: Any) -> bool:
    if isinstance(expected, tuple) and isinstance(got, tuple):
        return any(_shapes_differ(g, e) for g, e in zip(got, expected, strict=True))
    return (isinstance(got, numpy.ndarray) and isinstance(expected, numpy.ndarray)
            and got.shape != expected.shape)


def which_mistakes(got: Any, expected: Any, index: int, case: Case,
                   mistakes: Sequence[KnownMistake], tol: Tolerance) -> list[tuple[str, str]]:
    """The named mistakes whose output on this case equals the student's, else a generic one."""
    specific = [(m.name, m.hint) for m in mistakes
                if m.outputs[index] is not None and values_match(got, m.outputs[index], tol)]
    return specific or generic_mistakes(got, expected, case.batch)


def judge_value(*, check_id: str, title: str, observations: Sequence[Observation], expected: Any,
                tol: Tolerance, mistakes: Sequence[tuple[Any, str, str]] = ()) -> Verdict:
    """A numeric answer against its expected value (the grader's side)."""
    form = value_form(check_id, title, observations, mistakes, tol)
    if not form.recorded:
        return form
    value = observations[0][1]
    precision = f" ({tol.describe()})" if tol.digits else ""
    if values_match(value, expected, tol):
        return Verdict(check_id, title, True, f"{fmt(value)} is right{precision}", n_cases=1)
    return Verdict(check_id, title, False, f"{fmt(value)} is not right{precision}", n_cases=1,
                   n_failed=1)


def value_form(check_id: str, title: str, observations: Sequence[Observation],
               mistakes: Sequence[tuple[Any, str, str]], tol: Tolerance) -> Verdict:
    """What can be said of a numeric answer without the answer key: is it a number, is it a
    known wrong one. Otherwise it is recorded, to be judged when the notebook is graded."""

    def fail(message: str, named: tuple[str, ...] = ()) -> Verdict:
        return Verdict(check_id, title, False, message, named, 1, 1)

    if len(observations) != 1:
        return fail("no answer was recorded")
    status, value = observations[0]
    if status == "error":
        text = str(value)
        if "None" in text or "ellipsis" in text:
            return fail("no answer yet: replace the placeholder with your number")
        return fail(f"the answer must be a number: {text}")
    if isinstance(value, float) and not math.isfinite(value):
        return fail(f"{fmt(value)} is not a number you can report: check the computation")
    for wrong, name, hint in mistakes:
        if values_match(value, wrong, tol):
            return fail(f"{fmt(value)} is not right; this looks like {name}: {hint}", (name,))
    how = f" {tol.describe()}" if tol.digits else ""
    return Verdict(check_id, title, True, f"{fmt(value)} is recorded; it is compared with the "
                   f"answer key{how} when your notebook is graded", n_cases=1, recorded=True)


def judge_choice(*, check_id: str, title: str, observations: Sequence[Observation],
                 expected: str, options: str, kind: str,
                 mistakes: Sequence[tuple[str, str, str]] = ()) -> Verdict:
    """A choice answer against the right letters (the grader's side)."""
    form = choice_form(check_id, title, observations, options, kind, len(expected), mistakes)
    if not form.recorded:
        return form
    value = observations[0][1]
    if coerce.str_equal(canonical(value, kind), canonical(expected, kind)):
        return Verdict(check_id, title, True, "right", n_cases=1)
    if kind == "order":
        prefix = 0
        while prefix < len(value) and value[prefix] == expected[prefix]:
            prefix += 1
        return Verdict(check_id, title, False, f"not right: the first {prefix} step(s) are in "
                       "place; the rest are out of order", n_cases=1, n_failed=1)
    n_wrong = len(set(value) ^ set(expected))
    return Verdict(check_id, title, False, f"not right: {n_wrong} statement(s) misjudged",
                   n_cases=1, n_failed=1)


def canonical(text: str, kind: str) -> str:
    return "".join(sorted(set(text))) if kind == "set" else text


def choice_form(check_id: str, title: str, observations: Sequence[Observation], options: str,
                kind: str, length: int | None, mistakes: Sequence[tuple[str, str, str]]) -> Verdict:
    """What can be said of a choice answer without the answer key; otherwise it is recorded."""

    def fail(message: str, named: tuple[str, ...] = ()) -> Verdict:
        return Verdict(check_id, title, False, message, named, 1, 1)

    if len(observations) != 1:
        return fail("no answer was recorded")
    status, value = observations[0]
    if status == "error":
        return fail(f"the answer must be a string of letters: {value}")
    if not value:
        return fail("no answer yet: write your letters between the quotes")
    unknown = sorted(set(value) - set(options))
    if unknown:
        return fail(f"{', '.join(map(repr, unknown))} is not an option; "
                    f"choose from {', '.join(options)}")
    if kind == "order":
        if len(value) != len(set(value)):
            return fail("each option must appear exactly once")
        if length is not None and len(value) != length:
            return fail(f"the order must use all {length} options")
    for wrong, name, hint in mistakes:
        if coerce.str_equal(canonical(value, kind), canonical(wrong, kind)):
            return fail(f"not right; this looks like {name}: {hint}", (name,))
    return Verdict(check_id, title, True, f"{value!r} is recorded; it is compared with the answer "
                   "key when your notebook is graded", n_cases=1, recorded=True)
