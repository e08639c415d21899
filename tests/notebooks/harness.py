"""Run a notebook's answer and test cells in-process, for the mutation catalogues.

The answer cells of the source notebook are executed in order in one namespace (after
the setup cell), with one of them swapped for a mutant or an alternative; then the
test cells run as they would in the notebook. No kernel, no plots, no experiments.
"""

from __future__ import annotations

import contextlib
import io
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from autograder.checks import CheckFailed
from autograder.nb.course import Assignment, is_answer, is_test, nbgrader_meta, read

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Variant:
    cell: str
    name: str
    source: str


def catalogue(kind: str, assignment: Assignment) -> list[Variant]:
    """``kind`` is "mutants" or "alternatives"; the file is ``<kind>/<NN>.toml``."""
    path = HERE / kind / f"{assignment.number}.toml"
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text())
    key = "mutant" if kind == "mutants" else "alternative"
    return [Variant(v["cell"], v["name"], v["source"]) for v in data.get(key, [])]


@dataclass
class Score:
    points: float
    max_points: float
    failures: list[str]


class InProcessNotebook:
    def __init__(self, assignment: Assignment) -> None:
        self.assignment = assignment
        nb: NotebookNode = read(assignment.source)
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        self.setup = code_cells[0].source
        self.answers = {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if is_answer(c)}
        self.tests = [(nbgrader_meta(c)["grade_id"], float(nbgrader_meta(c).get("points", 0)),
                       c.source) for c in nb.cells if is_test(c)]

    def score(self, replace: Variant | None = None, *, stop_at_first_failure: bool = False) -> Score:
        if replace is not None and replace.cell not in self.answers:
            raise KeyError(f"{replace.name!r} replaces unknown answer cell {replace.cell!r}; "
                           f"answer cells: {sorted(self.answers)}")
        ns: dict[str, Any] = {"__name__": "__notebook__"}
        sink = io.StringIO()
        max_points = sum(p for _, p, _ in self.tests)
        with contextlib.redirect_stdout(sink):
            exec(compile(self.setup, "<setup>", "exec"), ns)
            for gid, src in self.answers.items():
                if replace is not None and gid == replace.cell:
                    src = replace.source
                try:
                    exec(compile(src, f"<answer {gid}>", "exec"), ns)
                except Exception:
                    continue  # a broken answer cell leaves its names undefined
            points, failures = 0.0, []
            for gid, pts, src in self.tests:
                try:
                    exec(compile(src, f"<test {gid}>", "exec"), ns)
                except (CheckFailed, Exception) as exc:
                    failures.append(f"{gid}: {type(exc).__name__}: {str(exc)[:300]}")
                    if stop_at_first_failure:
                        break
                    continue
                points += pts
        return Score(points, max_points, failures)
