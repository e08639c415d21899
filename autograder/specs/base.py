"""The grader's side of a check: references, hidden cases, known mistakes and the verdict.

A check specification lives here, in the grader's process only. From it the release step
writes the visible half as data for the student's side (``visible_data``: cases, their
expected values and the outputs of the known mistakes on them); a grading run sends the
hidden cases' inputs, and only their inputs, into the sandbox (``hidden_data``); and
``evaluate`` turns the plain values a submission's process recorded into a verdict,
computing every expected value from the reference here.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy

from autograder.checks import values
from autograder.checks.cases import CALL, Case, Probe
from autograder.checks.compare import Tolerance
from autograder.checks.exercises import CheckData
from autograder.checks.findings import judge_findings
from autograder.checks.judge import (
    KnownMistake,
    Verdict,
    conform,
    judge_cases,
    judge_choice,
    judge_value,
)
from autograder.checks.observe import KindSpec, Observation, coerce_kind

_cache: dict[tuple[str, bool], tuple[list[Case], list[Any], list[KnownMistake]]] = {}


def stable_rng(check_id: str, hidden: bool) -> numpy.random.Generator:
    """The same cases on every run: the generator is seeded from the check id."""
    return numpy.random.default_rng(zlib.crc32(f"{check_id}|{hidden}".encode()))


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``impl`` is run through the check's probe like the reference."""

    name: str
    hint: str
    impl: Any = None


def _encode_tol(tol: Tolerance) -> list[float]:
    return [tol.rtol, tol.atol, tol.digits] if tol.digits else [tol.rtol, tol.atol]


def _encode_kind(kind: Any) -> Any:
    return list(kind) if isinstance(kind, tuple) else kind


@dataclass(frozen=True)
class FunctionCheck:
    """Checks a function (or a class, through ``probe``) against the reference on cases.

    ``compare`` names a student-side function ``(case, value, expected) -> Finding`` for
    results judged by a threshold rather than equality (a trained model's accuracy), and
    ``truth(case)``, when given, is the expected value itself (the labels of the images a
    model must classify) instead of the reference run through the probe.
    """

    id: str
    title: str
    reference: Any
    cases: Callable[[numpy.random.Generator], list[Case]]
    hidden_cases: Callable[[numpy.random.Generator], list[Case]] | None = None
    probe: Probe = CALL
    kind: KindSpec = "array"
    tol: Tolerance = Tolerance()
    mistakes: tuple[Mistake, ...] = ()
    compare: str = ""
    hint: str = ""
    callable_answer: bool = True
    truth: Callable[[Case], Any] | None = None
    shape_hint: str = ""  # what the result's shape follows from, said when a shape is wrong
    type: str = field(default="function", init=False)

    def make_cases(self, hidden: bool) -> list[Case]:
        maker = self.hidden_cases if hidden and self.hidden_cases else self.cases
        return maker(stable_rng(self.id, hidden))

    def run(self, impl: Any, case: Case) -> Any:
        """``impl`` through the probe on a private copy of the case, as a plain value."""
        return coerce_kind(self.probe.resolve()(impl, copy.deepcopy(case)), self.kind)

    def _expected(self, case: Case) -> Any:
        if self.truth is not None:
            return coerce_kind(self.truth(case), self.kind)
        return self.run(self.reference, case)

    def prepared(self, hidden: bool) -> tuple[list[Case], list[Any], list[KnownMistake]]:
        """Cases, expected values and the known mistakes' outputs, computed once per process."""
        key = (self.id, hidden)
        if key not in _cache:
            cases = self.make_cases(hidden)
            expected = [self._expected(c) for c in cases]
            mistakes = []
            for m in self.mistakes:
                outputs = []
                for case in cases:
                    try:
                        outputs.append(self.run(m.impl, case))
                    except Exception:
                        outputs.append(None)
                mistakes.append(KnownMistake(m.name, m.hint, tuple(outputs)))
            _cache[key] = (cases, expected, mistakes)
        return _cache[key]

    def data(self) -> CheckData:
        """What the student's side knows, as the objects it decodes them into."""
        cases, expected, mistakes = self.prepared(False)
        return CheckData(self.id, self.title, self.type, self.kind, self.tol, self.probe,
                         self.callable_answer, tuple(cases), tuple(expected), tuple(mistakes),
                         judge=getattr(self, "judge", ""), compare=self.compare, hint=self.hint,
                         shape_hint=self.shape_hint)

    def visible_data(self) -> dict[str, Any]:
        cases, expected, mistakes = self.prepared(False)
        out: dict[str, Any] = {
            "id": self.id, "title": self.title, "type": self.type,
            "kind": _encode_kind(self.kind), "tol": _encode_tol(self.tol),
            "probe": self.probe.encode(), "cases": [c.encode() for c in cases],
        }
        if not self.callable_answer:
            out["callable_answer"] = False
        if self.type == "function":  # a property check has no expected values
            out["expected"] = [values.encode(v) for v in expected]
            out["mistakes"] = [{"name": m.name, "hint": m.hint,
                                "outputs": [values.encode(o) for o in m.outputs]}
                               for m in mistakes]
        for name in ("compare", "hint", "shape_hint"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out

    def hidden_data(self) -> list[dict[str, Any]]:
        """The hidden cases' inputs, without their labels: what a sandbox may see."""
        cases, _, _ = self.prepared(True)
        return [c.encode(with_label=False) for c in cases]

    def hidden_cases_for_student(self) -> tuple[Case, ...]:
        return tuple(Case.decode(c) for c in self.hidden_data())

    def evaluate(self, observations: Sequence[Observation], *, hidden: bool = False) -> Verdict:
        cases, expected, mistakes = self.prepared(hidden)
        observations = conform(observations, self.kind)
        if self.compare:
            return judge_findings(self.data(), cases, observations, expected, hidden=hidden,
                                  mistakes=mistakes)
        return judge_cases(check_id=self.id, title=self.title, tol=self.tol, cases=cases,
                           observations=observations, expected=expected, mistakes=mistakes,
                           hidden=hidden, shape_hint=self.shape_hint)


@dataclass(frozen=True)
class PropertyCheck(FunctionCheck):
    """A check with no answer key: each case is judged by ``judge`` (a student-side function
    ``(case, value) -> Finding``), the same function on both sides."""

    reference: Any = None
    cases: Callable[[numpy.random.Generator], list[Case]] = lambda rng: []
    judge: str = ""
    type: str = field(default="property", init=False)

    def _expected(self, case: Case) -> Any:
        return None

    def evaluate(self, observations: Sequence[Observation], *, hidden: bool = False) -> Verdict:
        cases, _, _ = self.prepared(hidden)
        return judge_findings(self.data(), cases, conform(observations, self.kind), None,
                              hidden=hidden)

    def visible_data(self) -> dict[str, Any]:
        return super().visible_data() | {"judge": self.judge}


class _NoCases:
    """Numeric and choice answers: no cases, nothing for a sandbox to receive."""

    def hidden_data(self) -> list[dict[str, Any]]:
        return []

    def hidden_cases_for_student(self) -> tuple[Case, ...]:
        return ()


@dataclass(frozen=True)
class ValueCheck(_NoCases):
    """A numeric answer: a parameter count, a bound, a loss. ``expected`` may be computed."""

    id: str
    title: str
    expected: Callable[[], float | int]
    kind: Literal["int", "float"] = "float"
    tol: Tolerance = Tolerance(rtol=1e-3, atol=0.0)
    mistakes: tuple[tuple[float, str, str], ...] = ()
    type: str = field(default="value", init=False)

    def _mistakes(self) -> list[tuple[Any, str, str]]:
        return [(coerce_kind(v, self.kind), n, h) for v, n, h in self.mistakes]

    def visible_data(self) -> dict[str, Any]:
        # Only the form: a known wrong value is a function of the right one (its sign
        # flipped, a factor of N), so even the mistakes stay on the grader's side.
        return {"id": self.id, "title": self.title, "type": self.type, "kind": self.kind,
                "tol": _encode_tol(self.tol)}

    def evaluate(self, observations: Sequence[Observation], *, hidden: bool = False) -> Verdict:
        return judge_value(check_id=self.id, title=self.title,
                           observations=conform(observations, self.kind),
                           expected=coerce_kind(self.expected(), self.kind), tol=self.tol,
                           mistakes=self._mistakes())


@dataclass(frozen=True)
class ChoiceCheck(_NoCases):
    """A choice answer: an ordering of letters ("dfbaec") or a set of letters ("bd")."""

    id: str
    title: str
    expected: str
    options: str
    kind: Literal["order", "set"] = "order"
    mistakes: tuple[tuple[str, str, str], ...] = ()
    type: str = field(default="choice", init=False)

    def visible_data(self) -> dict[str, Any]:
        # A known wrong choice is the right one with a slip: it stays on the grader's side.
        return {"id": self.id, "title": self.title, "type": self.type, "kind": self.kind,
                "options": self.options,
                "length": len(self.expected) if self.kind == "order" else None}

    def evaluate(self, observations: Sequence[Observation], *, hidden: bool = False) -> Verdict:
        return judge_choice(check_id=self.id, title=self.title,
                            observations=conform(observations, self.kind),
                            expected=self.expected, options=self.options, kind=self.kind,
                            mistakes=self.mistakes)


Check = FunctionCheck | ValueCheck | ChoiceCheck
