"""The visible half of every check, read from data: ``autograder/exercises/nbNN.json``.

The release step (``dlf release``) writes one file per notebook from the grader's check
specifications: for each check its title and kind, the probe that runs an answer, the
visible cases with their expected values and the outputs of the known mistakes on them.
Numeric and choice answers ship only their form (kind, precision, options): neither the
right answer nor its known wrong values, which are functions of it. Hidden cases are not in these files: their
inputs reach a sandbox from the grader when a notebook is graded (``channel``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from autograder.checks import values
from autograder.checks.cases import CALL, Case, Probe
from autograder.checks.compare import Tolerance
from autograder.checks.judge import KnownMistake

FORMAT = 1


@dataclass(frozen=True)
class CheckData:
    """What the student's side knows of one check."""

    id: str
    title: str
    type: str  # "function", "property", "value" or "choice"
    kind: Any = "array"
    tol: Tolerance = Tolerance()
    probe: Probe = CALL
    callable_answer: bool = True
    cases: tuple[Case, ...] = ()
    expected: tuple[Any, ...] = ()
    mistakes: tuple[KnownMistake, ...] = ()
    judge: str = ""  # a student-side function that judges one case (property checks)
    compare: str = ""  # a student-side function that compares one case (function checks)
    hint: str = ""
    shape_hint: str = ""
    options: str = ""
    length: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _kind(data: Any) -> Any:
    return tuple(data) if isinstance(data, list) else data


def parse(raw: dict[str, Any]) -> CheckData:
    """One check's entry of an exercises file."""
    cases = tuple(Case.decode(c) for c in raw.get("cases", []))
    expected = tuple(values.decode(v) for v in raw.get("expected", []))
    mistakes = tuple(KnownMistake(m["name"], m["hint"],
                                  tuple(values.decode(o) for o in m["outputs"]))
                     for m in raw.get("mistakes", []))
    tol = raw.get("tol", [1e-6, 1e-8])
    return CheckData(
        id=raw["id"], title=raw["title"], type=raw["type"], kind=_kind(raw.get("kind", "array")),
        tol=Tolerance(float(tol[0]), float(tol[1]), int(tol[2]) if len(tol) > 2 else 0),
        probe=Probe.decode(raw["probe"]) if "probe" in raw else CALL,
        callable_answer=bool(raw.get("callable_answer", True)),
        cases=cases, expected=expected, mistakes=mistakes, judge=raw.get("judge", ""),
        compare=raw.get("compare", ""), hint=raw.get("hint", ""),
        shape_hint=raw.get("shape_hint", ""), options=raw.get("options", ""),
        length=raw.get("length"),
        extra=values.decode(raw["extra"]) if "extra" in raw else {},
    )


def notebook_of(check_id: str) -> str:
    if not isinstance(check_id, str) or "." not in check_id:
        raise ValueError(f"a check id looks like '01.count_parameters', got {check_id!r}")
    return check_id.split(".", 1)[0]


_installed: dict[str, dict[str, Any]] = {}


def install(notebook: str, data: dict[str, Any]) -> None:
    """Use ``data`` as notebook ``notebook``'s exercises file (for tests of the library)."""
    _installed[notebook] = data
    _raw.cache_clear()
    get.cache_clear()


@functools.cache
def _raw(notebook: str) -> dict[str, Any]:
    if notebook in _installed:
        return _installed[notebook]
    name = f"nb{notebook}.json"
    try:
        text = resources.files("autograder.exercises").joinpath(name).read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        raise KeyError(f"no checks for notebook {notebook!r}: autograder/exercises/{name} is "
                       "missing (run `dlf release`)") from None
    data = json.loads(text)
    if data.get("format") != FORMAT:
        raise ValueError(f"autograder/exercises/{name} has format {data.get('format')}; this "
                         f"check library reads format {FORMAT}: update the course package")
    return data


def manifest(notebook: str) -> dict[str, Any]:
    """The notebook's own facts: which course modules its sandbox leaves out, and why."""
    return dict(_raw(notebook).get("notebook", {}))


@functools.cache
def get(check_id: str) -> CheckData:
    """The visible data of the check ``check_id``."""
    checks = _raw(notebook_of(check_id))["checks"]
    if check_id not in checks:
        known = ", ".join(sorted(checks))
        raise KeyError(f"unknown check {check_id!r}; this notebook has: {known}")
    return parse(checks[check_id])


def hidden_cases(check_id: str) -> tuple[Case, ...] | None:
    """The hidden cases the grader sent for ``check_id``, or None outside a grading sandbox."""
    from autograder.checks import channel

    blob = getattr(channel, "hidden_blob", b"")
    if not blob:
        return None
    return _hidden(blob).get(check_id, ())


@functools.lru_cache(maxsize=2)
def _hidden(blob: bytes) -> dict[str, tuple[Case, ...]]:
    data = json.loads(blob.decode("utf-8"))
    return {str(k): tuple(Case.decode(c) for c in v) for k, v in data.get("cases", {}).items()}
