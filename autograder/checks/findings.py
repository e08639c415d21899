"""Checks judged case by case by a property of the result, not by equality with one value.

A dropout mask is random, so its check looks at what was drawn (the fraction dropped,
the scale of the survivors); hand-set XOR weights pass whenever they separate the
points with a margin; a trained model passes above an accuracy threshold. The function
that judges one case is registered by name on the student's side
(``autograder.checks.notebooks``) and returns a ``Finding``; the grader calls the same
function with its own expected values for hidden cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autograder.checks.cases import Case
from autograder.checks.judge import KnownMistake, Verdict, case_head, raised
from autograder.checks.observe import Observation

if TYPE_CHECKING:
    from autograder.checks.exercises import CheckData


@dataclass(frozen=True)
class Finding:
    """One case's outcome: ``text`` says what was measured or what is wrong."""

    ok: bool
    text: str = ""
    mistake: str = ""


def judge_findings(data: CheckData, cases: Sequence[Case], observations: Sequence[Observation],
                   expected: Sequence[Any] | None, *, hidden: bool,
                   mistakes: Sequence[KnownMistake] = ()) -> Verdict:
    """Apply the check's judge (or compare) to every case and sum up.

    With ``compare``, a failing case is also compared with each known mistake's output on
    it, by the same function, to name the mistake.
    """
    from autograder.checks.notebooks import lookup

    n = len(cases)
    where = "hidden" if hidden else "visible"
    if len(observations) != n:
        return Verdict(data.id, data.title, False, f"expected results for {n} cases, got "
                       f"{len(observations)}: the check did not run on your code", (), n, n)
    fn = lookup(data.compare or data.judge)
    passes: list[str] = []
    failures: list[str] = []
    named: list[str] = []
    details: list[str] = []
    for i, (case, (status, value)) in enumerate(zip(cases, observations, strict=True)):
        head = case_head(i, n, case, hidden)
        if status == "error":
            shown, detail = raised(i, n, case, str(value), hidden)
            failures.append(shown)
            details.append(detail)
            continue
        finding: Finding = (fn(case, value, expected[i]) if data.compare and expected is not None
                            else fn(case, value))
        if finding.ok:
            if finding.text:
                passes.append(finding.text)
            continue
        text = f"{head}: {finding.text}"
        if finding.mistake:
            named.append(finding.mistake)
        elif data.compare:
            for m in mistakes:
                if m.outputs[i] is not None and fn(case, value, m.outputs[i]).ok:
                    text += f"\n    this looks like {m.name}: {m.hint}"
                    named.append(m.name)
                    break
        failures.append(text)
        details.append(f"case {i + 1} ({case.label}): {finding.text}")
    if not failures:
        notes = f" ({'; '.join(passes)})" if passes else ""
        return Verdict(data.id, data.title, True, f"all {n} {where} cases pass{notes}", (), n, 0)
    text = f"{len(failures)} of {n} {where} cases fail.\n" + "\n".join(failures[:1] if hidden else failures[:3])
    if data.hint:
        text += f"\n  hint: {data.hint}"
    return Verdict(data.id, data.title, False, text, tuple(dict.fromkeys(named)), n,
                   len(failures), details=tuple(details))
