"""The instructor's main job: build the release, then run every solution through the grader.

Each solution notebook must score full marks and each blank release notebook zero;
a notebook that does not is reported, and the pipeline fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from autograder.grading import NotebookResult
from autograder.grading.batch import Job, grade_many
from autograder.nb import release
from autograder.nb.course import ROOT, assignments
from autograder.progress import progress


@dataclass(frozen=True)
class PipelineRow:
    assignment: str
    solution: NotebookResult
    blank: NotebookResult

    @property
    def ok(self) -> bool:
        s, b = self.solution, self.blank
        return s.score == s.max_score and b.score == 0 and not s.problems


@dataclass(frozen=True)
class PipelineReport:
    rows: list[PipelineRow]
    release_paths: list[Path]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)


def run_pipeline(*, root: Path = ROOT, names: list[str] | None = None,
                 workers: int | None = None) -> PipelineReport:
    paths = release.generate(root=root, names=names)
    chosen = [a for a in assignments(root) if names is None or a.name in names]
    jobs = [Job(a.source, path, who) for a in chosen
            for path, who in ((a.source, "solution"), (a.release, "blank release"))]
    bar = progress(range(len(jobs)), total=len(jobs), label="executing notebooks")
    next(bar)
    t0 = time.monotonic()

    def tick(job: Job, result: NotebookResult) -> None:
        next(bar, None)

    results = grade_many(jobs, workers=workers, on_done=tick)
    next(bar, None)
    seconds = time.monotonic() - t0
    rows = [PipelineRow(a.name, results[2 * i], results[2 * i + 1]) for i, a in enumerate(chosen)]
    return PipelineReport(rows, paths, seconds)
