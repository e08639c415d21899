"""The instructor's main job: build the release, then run every solution through the grader.

Each solution notebook must score full marks and each blank release notebook zero;
a notebook that does not is reported, and the pipeline fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from autograder.grading import NotebookResult, grade_notebook
from autograder.nb import release
from autograder.nb.course import ROOT, assignments
from autograder.progress import progress


@dataclass(frozen=True)
class PipelineRow:
    assignment: str
    solution: NotebookResult
    blank: NotebookResult
    seconds: float

    @property
    def ok(self) -> bool:
        s, b = self.solution, self.blank
        return s.score == s.max_score and b.score == 0 and not s.problems


@dataclass(frozen=True)
class PipelineReport:
    rows: list[PipelineRow]
    release_paths: list[Path]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)


def run_pipeline(*, root: Path = ROOT, names: list[str] | None = None) -> PipelineReport:
    paths = release.generate(root=root, names=names)
    chosen = [a for a in assignments(root) if names is None or a.name in names]
    rows = []
    for a in progress(chosen, total=len(chosen), label="executing notebooks"):
        t0 = time.monotonic()
        solution = grade_notebook(a.source, a.source, student="solution")
        blank = grade_notebook(a.source, a.release, student="blank release")
        rows.append(PipelineRow(a.name, solution, blank, time.monotonic() - t0))
    return PipelineReport(rows, paths)
