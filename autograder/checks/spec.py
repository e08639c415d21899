"""What a check is: cases to run, how to observe the student's answer, how to decide.

A check is split in two halves so that the verdict can be reached outside the
student's process:

- ``observe(answer, hidden=...)`` runs in the student's kernel. It calls the
  student's code and turns each result into a plain value (or the text of the
  exception it raised). It decides nothing.
- ``evaluate(observations, hidden=...)`` is pure: from those plain values and the
  reference implementation alone it returns a ``Verdict``. The course's grader runs
  it in its own process; a student working alone runs it in the kernel.
"""

from __future__ import annotations

import copy
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy

from autograder.checks import coerce
from autograder.checks.compare import (
    Tolerance,
    describe_array_difference,
    fmt,
    values_match,
)
from autograder.checks.diagnose import Mistake, generic_mistakes, matching_mistakes

Kind = Literal["array", "float", "int", "str", "bool"]
Observation = tuple[Literal["ok", "error"], Any]

_array_equal = numpy.array_equal


@dataclass(frozen=True)
class Case:
    """One input to a function check; ``label`` says in words what is special about it."""

    args: tuple[Any, ...]
    label: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    batch: int | None = None


@dataclass(frozen=True)
class Verdict:
    check_id: str
    title: str
    passed: bool
    message: str
    mistakes: tuple[str, ...] = ()
    n_cases: int = 0
    n_failed: int = 0

    def report(self) -> str:
        mark = "✓" if self.passed else "✗"
        return f"{mark} {self.title}: {self.message}"


class CheckFailed(AssertionError):
    """Raised in the notebook so nbgrader (and the student) see a failed check."""


def _coerce(value: Any, kind: Kind | tuple[Kind, ...]) -> Any:
    if isinstance(kind, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(kind):
            raise coerce.CoercionError(
                f"expected a tuple of {len(kind)} values ({', '.join(kind)}), "
                f"got {type(value).__name__}"
            )
        return tuple(_coerce(v, k) for v, k in zip(value, kind, strict=True))
    if kind == "array":
        return coerce.as_array(value).astype(numpy.float64)
    if kind == "float":
        return coerce.as_float(value)
    if kind == "int":
        return coerce.as_int(value)
    if kind == "bool":
        if not isinstance(value, (bool, numpy.bool_)):
            raise coerce.CoercionError(f"expected True or False, got {type(value).__name__}")
        return bool(value)
    return coerce.as_str(value)


def _error_text(exc: BaseException) -> str:
    name = type(exc).__name__
    try:
        text = str(exc)
    except Exception:
        text = "(the exception could not be printed)"
    return f"{name}: {text}"[:500]


def _explain_error(text: str) -> str:
    if text.startswith("NotImplementedError"):
        return "not implemented yet: replace `raise NotImplementedError()` with your code"
    return f"raised {text}"


def stable_rng(check_id: str, hidden: bool) -> numpy.random.Generator:
    """The same inputs in the student's kernel and in the grader: seeded from the id."""
    return numpy.random.default_rng(zlib.crc32(f"{check_id}|{hidden}".encode()))


class Named:
    """A function handed to the student's code that prints by name in failure messages."""

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name = name
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return self.name


def call(answer: Any, case: Case) -> Any:
    """The default probe: call the answer with the case's arguments."""
    return answer(*case.args, **case.kwargs)


@dataclass(frozen=True)
class FunctionCheck:
    """Checks a function (or a class, through ``probe``) against the reference on cases."""

    id: str
    title: str
    reference: Any
    cases: Callable[[numpy.random.Generator], list[Case]]
    hidden_cases: Callable[[numpy.random.Generator], list[Case]] | None = None
    probe: Callable[[Any, Case], Any] = call
    kind: Kind | tuple[Kind, ...] = "array"
    tol: Tolerance = Tolerance()
    mistakes: tuple[Mistake, ...] = ()

    def make_cases(self, hidden: bool) -> list[Case]:
        maker = self.hidden_cases if hidden and self.hidden_cases else self.cases
        return maker(stable_rng(self.id, hidden))

    def observe(self, answer: Any, *, hidden: bool = False) -> list[Observation]:
        out: list[Observation] = []
        if not callable(answer):
            return [("error", f"TypeError: expected a function or class, got {type(answer).__name__}")]
        for case in self.make_cases(hidden):
            args = copy.deepcopy(case.args)
            try:
                value = _coerce(self.probe(answer, Case(args, case.label, case.kwargs)), self.kind)
            except BaseException as exc:  # SystemExit from student code is an answer too
                out.append(("error", _error_text(exc)))
                continue
            if not all(_same(a, b) for a, b in zip(args, case.args, strict=True)):
                out.append(("error", "ValueError: your code changed its input in place; "
                            "work on a copy (x = x.copy()) or build a new array"))
                continue
            out.append(("ok", value))
        return out

    def _expected(self, impl: Any, case: Case) -> Any:
        return _coerce(self.probe(impl, copy.deepcopy(case)), self.kind)

    def evaluate(self, observations: Sequence[Observation], *, hidden: bool = False) -> Verdict:
        cases = self.make_cases(hidden)
        where = "hidden" if hidden else "visible"
        if len(observations) != len(cases):
            return self._verdict(False, f"expected results for {len(cases)} cases, got "
                                 f"{len(observations)}: the check did not run on your code",
                                 n=len(cases), failed=len(cases))
        failures: list[str] = []
        named: list[str] = []
        for i, (case, (status, value)) in enumerate(zip(cases, observations, strict=True)):
            head = f"case {i + 1} of {len(cases)} ({case.label})"
            if status == "error":
                failures.append(f"{head}: {_explain_error(str(value))}")
                continue
            expected = self._expected(self.reference, case)
            if values_match(value, expected, self.tol):
                continue
            lines = [f"{head}: {self._difference(value, expected)}"]
            if not hidden:
                lines.append("    input:    " + ", ".join(_show_arg(a) for a in case.args))
                lines.append(f"    expected: {fmt(expected)}")
                lines.append(f"    got:      {fmt(value)}")
            for mistake in self._which_mistakes(value, expected, case):
                lines.append(f"    this looks like {mistake[0]}: {mistake[1]}")
                named.append(mistake[0])
            failures.append("\n".join(lines))
        if not failures:
            return self._verdict(True, f"all {len(cases)} {where} cases pass", n=len(cases))
        text = f"{len(failures)} of {len(cases)} {where} cases fail.\n" + failures[0]
        if len(failures) > 1:
            text += f"\n  (and {len(failures) - 1} more)"
        return self._verdict(False, text, mistakes=tuple(dict.fromkeys(named)),
                             n=len(cases), failed=len(failures))

    def _difference(self, got: Any, expected: Any) -> str:
        if isinstance(expected, numpy.ndarray) and isinstance(got, numpy.ndarray):
            return describe_array_difference(got, expected, self.tol)
        if isinstance(expected, tuple) and isinstance(got, tuple):
            for j, (g, e) in enumerate(zip(got, expected, strict=True)):
                if not values_match(g, e, self.tol):
                    part = self._difference(g, e)
                    return f"output {j} of the tuple: {part}"
        text = f"expected {fmt(expected)}, got {fmt(got)}"
        if isinstance(got, float) and isinstance(expected, float) and not math.isfinite(got) \
                and math.isfinite(expected):
            text += " (an overflow or a log of 0: use the numerically stable form)"
        return text

    def _which_mistakes(self, got: Any, expected: Any, case: Case) -> list[tuple[str, str]]:
        candidates = []
        for mistake in self.mistakes:
            try:
                candidates.append((mistake, self._expected(mistake.impl, case)))
            except Exception:
                continue
        specific = [(m.name, m.hint) for m in matching_mistakes(got, candidates, self.tol)]
        return specific or generic_mistakes(got, expected, case.batch)

    def _verdict(self, passed: bool, message: str, *, mistakes: tuple[str, ...] = (),
                 n: int = 0, failed: int = 0) -> Verdict:
        return Verdict(self.id, self.title, passed, message, mistakes, n, failed)


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, numpy.ndarray):
        return isinstance(a, numpy.ndarray) and a.shape == b.shape and bool(
            _array_equal(a, b, equal_nan=True))
    return True


def _show_arg(a: Any) -> str:
    if isinstance(a, numpy.ndarray):
        return f"array of shape {a.shape}: {fmt(a)}"
    return fmt(a)


@dataclass(frozen=True)
class ValueCheck:
    """A numeric answer: a parameter count, a bound, a loss. ``expected`` may be computed."""

    id: str
    title: str
    expected: Callable[[], float | int]
    kind: Literal["int", "float"] = "float"
    tol: Tolerance = Tolerance(rtol=1e-3, atol=0.0)
    mistakes: tuple[tuple[float, str, str], ...] = ()

    def observe(self, answer: Any, *, hidden: bool = False) -> list[Observation]:
        try:
            return [("ok", _coerce(answer, self.kind))]
        except BaseException as exc:
            return [("error", _error_text(exc))]

    def evaluate(self, observations: Sequence[Observation], *, hidden: bool = False) -> Verdict:
        if len(observations) != 1:
            return Verdict(self.id, self.title, False, "no answer was recorded", n_cases=1, n_failed=1)
        status, value = observations[0]
        if status == "error":
            text = str(value)
            if "None" in text or "ellipsis" in text:
                return Verdict(self.id, self.title, False,
                               "no answer yet: replace the placeholder with your number",
                               n_cases=1, n_failed=1)
            return Verdict(self.id, self.title, False, f"the answer must be a number: {text}",
                           n_cases=1, n_failed=1)
        expected = _coerce(self.expected(), self.kind)
        if values_match(value, expected, self.tol):
            return Verdict(self.id, self.title, True, f"{fmt(value)} is right", n_cases=1)
        for wrong, name, hint in self.mistakes:
            if values_match(value, _coerce(wrong, self.kind), self.tol):
                return Verdict(self.id, self.title, False, f"{fmt(value)} is not right; "
                               f"this looks like {name}: {hint}", (name,), 1, 1)
        return Verdict(self.id, self.title, False, f"{fmt(value)} is not right", n_cases=1,
                       n_failed=1)


@dataclass(frozen=True)
class ChoiceCheck:
    """A choice answer: an ordering of letters ("dfbaec") or a set of letters ("bd")."""

    id: str
    title: str
    expected: str
    options: str
    kind: Literal["order", "set"] = "order"
    mistakes: tuple[tuple[str, str, str], ...] = ()

    def observe(self, answer: Any, *, hidden: bool = False) -> list[Observation]:
        try:
            if isinstance(answer, (set, frozenset, list, tuple)) and self.kind == "set":
                text = "".join(sorted(coerce.as_str(a) for a in answer))
            else:
                text = coerce.as_str(answer)
            return [("ok", "".join(ch for ch in text.lower() if ch.isalnum()))]
        except BaseException as exc:
            return [("error", _error_text(exc))]

    def evaluate(self, observations: Sequence[Observation], *, hidden: bool = False) -> Verdict:
        def fail(msg: str, mistakes: tuple[str, ...] = ()) -> Verdict:
            return Verdict(self.id, self.title, False, msg, mistakes, 1, 1)

        if len(observations) != 1:
            return fail("no answer was recorded")
        status, value = observations[0]
        if status == "error":
            return fail(f"the answer must be a string of letters: {value}")
        if not value:
            return fail("no answer yet: write your letters between the quotes")
        unknown = sorted(set(value) - set(self.options))
        if unknown:
            return fail(f"{', '.join(map(repr, unknown))} is not an option; "
                        f"choose from {', '.join(self.options)}")
        for wrong, name, hint in self.mistakes:
            if coerce.str_equal(self._canon(value), self._canon(wrong)):
                return fail(f"not right; this looks like {name}: {hint}", (name,))
        if coerce.str_equal(self._canon(value), self._canon(self.expected)):
            return Verdict(self.id, self.title, True, "right", n_cases=1)
        if self.kind == "order":
            if len(value) != len(set(value)):
                return fail("each option must appear exactly once")
            if len(value) != len(self.expected):
                return fail(f"the order must use all {len(self.expected)} options")
            prefix = 0
            while prefix < len(value) and value[prefix] == self.expected[prefix]:
                prefix += 1
            return fail(f"not right: the first {prefix} step(s) are in place; "
                        "the rest are out of order")
        n_wrong = len(set(value) ^ set(self.expected))
        return fail(f"not right: {n_wrong} statement(s) misjudged")

    def _canon(self, text: str) -> str:
        return "".join(sorted(set(text))) if self.kind == "set" else text


Check = FunctionCheck | ValueCheck | ChoiceCheck
