"""A plain nbgrader test cell's score: nbgrader's partial-credit rule, read from its outputs.

Grader side. A test cell without ``check`` calls (any nbgrader course's kind) is scored as
``nbgrader.utils.determine_grade`` (nbgrader 0.9) scores a code test cell, from the
outputs a Jupyter kernel gives it:

- an error, or any output on stderr (a warning too), scores 0;
- else the value the cell displays (its last expression: Jupyter's ``execute_result``;
  printing does not count) scores ``float(text)`` of its ``text/plain`` when that text
  reads as a number from 0 up to the cell's points; any other text, a negative number and
  NaN score full points;
- else (nothing displayed) full points.

nbgrader's ``IgnorePattern`` preprocessor, when a course enables it, drops stderr output
that matches its pattern before the rule is applied; so does this module.

Two values stop nbgrader with an exception instead of a score, so that it grades no cell
of that notebook: a number above the cell's points (``ValueError: partial credit cannot be
greater than maximum points for cell``) and an empty ``text/plain`` (``KeyError``). dlf
scores the first the cell's points (the most it can give) and the second full points, as
nbgrader does any text that is not a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PlainScore:
    points: float
    messages: list[str]


def partial_credit(text: str, max_points: float) -> float:
    """nbgrader's ``get_partial_grade`` on a ``text/plain`` value, capped at ``max_points``."""
    try:
        grade = float(text)
    except ValueError:
        return max_points  # not a number: nbgrader gives full points
    if grade >= 0.0:  # False for NaN, as in nbgrader
        return min(grade, max_points)
    return max_points  # negative: nbgrader calls it strange and gives full points


def score_plain_cell(*, max_points: float, ran: bool, error: str | None, stderr: str,
                     value: str | None, ignore_stderr: str | None = None) -> PlainScore:
    """The points of a plain test cell that ran (``ran``) with these outputs.

    ``stderr`` is what it wrote to stderr, ``value`` the ``text/plain`` of the value it
    displayed (None when it displayed none), ``ignore_stderr`` the course's
    ``IgnorePattern.pattern`` when that preprocessor is enabled.
    """
    if not ran or error is not None:
        return PlainScore(0.0, [error or "the cell did not run"])
    if stderr and not (ignore_stderr and re.search(ignore_stderr, stderr)):
        first = next((ln for ln in stderr.splitlines() if ln.strip()), stderr.strip())
        return PlainScore(0.0, [f"the cell wrote to stderr, which nbgrader scores 0: {first[:300]}"])
    if value is None:
        return PlainScore(max_points, [])
    points = partial_credit(value, max_points) if value else max_points
    shown = value if len(value) <= 60 else value[:57] + "…"
    if points < max_points:
        return PlainScore(points, [f"partial credit: the cell's value {shown} gives {points:g} of "
                                   f"{max_points:g} points"])
    if _number(value) > max_points:
        return PlainScore(max_points, [f"the cell's value {shown} is more than its {max_points:g} "
                                       "points: it scores its points (nbgrader stops on this value)"])
    return PlainScore(max_points, [])


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")
