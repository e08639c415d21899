"""What a student may see of a graded notebook: never a hidden test's source, inputs or expectations.

Both feedback routes use this module: ``dlf feedback`` (from the grader's verdicts) and
``nbgrader generate_feedback`` (from the executed notebook, through
``autograder.instructor.nbgrader_feedback``). The rules:

- a test cell shows its source with the hidden block removed;
- a visible check shows its full message; a hidden one only whether it passed, and, when
  it failed, the names of the catalogued mistakes it recognised (names are fixed text,
  never a value computed from a hidden case);
- whether a message is hidden is decided by the ``check(..., hidden=True)`` call of the
  source test cell that produced it, never by the message's wording;
- raw outputs of a test cell are never shown (tracebacks quote hidden calls, and the
  kernel prints hidden verdicts), and neither are outputs of cells that ran after the
  first hidden check (student code may have kept the hidden inputs and printed them).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nbformat import NotebookNode

from autograder.grading import ItemResult
from autograder.nb.course import CheckCall, check_calls, is_test

HIDDEN_BLOCK = re.compile(r"[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.DOTALL)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_LINE = re.compile(r"(?:Cell In ?\[[^\]]*\], line (\d+))|(?:^-+> ?(\d+))", re.MULTILINE)
_VALUE_LIKE = re.compile(r"\d+\.\d+|\d{3,}")

HIDDEN_FAILED = "✗ a hidden check failed"
HIDDEN_PASSED = "✓ a hidden check passed"
HIDDEN_NOT_RUN = "· a hidden check did not run"
OUTPUTS_WITHHELD = ("(outputs of cells that ran after a hidden check are not shown here; "
                    "your own copy of the notebook has them)")


@dataclass(frozen=True)
class Line:
    """One line of feedback about a test cell: ``ok`` is None when the check did not run."""

    text: str
    ok: bool | None
    hidden: bool


def visible_source(source: str) -> str:
    return HIDDEN_BLOCK.sub("", source)


def has_hidden(source: str) -> bool:
    return "BEGIN HIDDEN TESTS" in source or any(c.hidden for c in _calls(source))


def _calls(source: str) -> list[CheckCall]:
    try:
        return check_calls(source)
    except SyntaxError:
        return []


def _mistake_names(names: Sequence[str], message: str) -> list[str]:
    """The catalogued mistakes a hidden message recognised, unless a name looks like a value."""
    return [n for n in dict.fromkeys(names) if n in message and not _VALUE_LIKE.search(n)]


def hidden_failure(mistakes: Sequence[str]) -> str:
    if not mistakes:
        return HIDDEN_FAILED
    return f"{HIDDEN_FAILED}; this looks like {' or '.join(mistakes)}"


def _group_sizes(n_messages: int, counts: list[int]) -> list[int] | None:
    """How many messages each (check, hidden) group produced, if only one split is possible.

    The grader writes one message for a group whose check did not run, else one per
    record (at least ``count``); any ambiguity (forged extra records) gives None.
    """
    if all(c == 1 for c in counts):  # the usual case: each group gave at least one message
        return [1] * len(counts) if n_messages == len(counts) else None
    if n_messages > 24:
        return None
    options = [[1, *range(max(c, 2), n_messages + 1)] for c in counts]
    found = None
    for sizes in itertools.product(*options):
        if sum(sizes) == n_messages:
            if found is not None:
                return None
            found = list(sizes)
    return found


def check_lines(source_cell: NotebookNode, item: ItemResult) -> list[Line]:
    """The feedback lines for one autograded item, from the grader's verdict messages."""
    full = item.points is not None and item.points >= item.max_points
    calls = _calls(source_cell.source)
    if not calls:  # a plain nbgrader test cell: its message is its error
        if full:
            return [Line("✓ the tests in this cell pass", True, False)]
        if has_hidden(source_cell.source):
            return [Line(HIDDEN_FAILED, False, True)]
        return [Line("✗ " + "\n".join(item.messages or ["the cell raised an error"]), False, False)]
    groups: dict[tuple[str, bool], int] = {}
    for call in calls:
        groups[(call.check_id, call.hidden)] = groups.get((call.check_id, call.hidden), 0) + 1
    sizes = _group_sizes(len(item.messages), list(groups.values()))
    if sizes is None:  # cannot tell which message came from which call: say nothing specific
        return [Line("✓ every check in this cell passes", True, False) if full
                else Line("✗ a check in this cell failed", False, True)]
    lines: list[Line] = []
    messages = iter(item.messages)
    first_hidden = next((i for i, key in enumerate(groups) if key[1]), len(groups))
    for index, ((check_id, hidden), size) in enumerate(zip(groups, sizes, strict=True)):
        for message in itertools.islice(messages, size):
            ok = True if message.startswith("✓") else (False if message.startswith("✗") else None)
            if hidden:
                text = (HIDDEN_PASSED if ok else hidden_failure(_mistake_names(item.mistakes, message))
                        if ok is False else HIDDEN_NOT_RUN)
                lines.append(Line(text, ok, True))
            elif ok is None and index > first_hidden:
                # "did not run" quotes the cell's error, which a hidden call before it may have raised
                lines.append(Line(f"· {check_id}: did not run (an earlier check in this cell failed)",
                                  None, False))
            else:
                lines.append(Line(message, ok, False))
    return lines


def _traceback_line(output: dict[str, Any]) -> int | None:
    text = _ANSI.sub("", "\n".join(output.get("traceback") or []))
    for match in _CELL_LINE.finditer(text):
        return int(match.group(1) or match.group(2))
    return None


def lines_from_outputs(cell: NotebookNode, *, mistake_catalogue: Sequence[str] = ()) -> list[Line]:
    """The feedback lines for a test cell as a kernel ran it (stock nbgrader's route).

    The failing call is found from the traceback's line number in the cell; when it
    cannot be found, the failure counts as hidden.
    """
    calls = _calls(cell.source)
    error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
    if not calls:
        if error is None:
            return [Line("✓ the tests in this cell pass", True, False)]
        if has_hidden(cell.source):
            return [Line(HIDDEN_FAILED, False, True)]
        return [Line(f"✗ {error.get('ename', 'Error')}: {error.get('evalue', '')}", False, False)]
    line = _traceback_line(error) if error is not None else None
    failing = next((i for i, c in enumerate(calls) if line is not None and c.lines[0] <= line <= c.lines[1]),
                   None)
    if error is not None and failing is None:
        failing = next((i for i, c in enumerate(calls) if c.hidden), len(calls) - 1)
        blame_hidden = True
    else:
        blame_hidden = failing is not None and calls[failing].hidden
    out: list[Line] = []
    for i, call in enumerate(calls):
        if error is None or (failing is not None and i < failing):
            out.append(Line(HIDDEN_PASSED if call.hidden else f"✓ {call.check_id}: passes", True, call.hidden))
        elif i == failing:
            evalue = str(error.get("evalue", "")) if error else ""
            if blame_hidden:
                out.append(Line(hidden_failure(_mistake_names(mistake_catalogue, evalue)), False, True))
            else:
                out.append(Line(evalue or f"✗ {call.check_id}: failed", False, False))
        else:
            out.append(Line(HIDDEN_NOT_RUN if call.hidden else
                            f"· {call.check_id}: did not run (an earlier check in this cell failed)",
                            None, call.hidden))
    return out


def first_hidden_test(cells: Sequence[NotebookNode]) -> int | None:
    """The index of the first test cell with a hidden part: outputs after it are withheld."""
    return next((i for i, c in enumerate(cells) if is_test(c) and has_hidden(c.source)), None)
