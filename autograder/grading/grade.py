"""Grade one submission: every verdict is decided here, in the grader's process."""

from __future__ import annotations

import functools
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from autograder.grading.assemble import assemble
from autograder.nb.checksums import is_unchanged
from autograder.nb.course import ROOT, check_calls, is_test, is_written, nbgrader_meta
from autograder.sandbox.executor import Execution, execute
from autograder.sandbox.isolate import private_paths
from autograder.sandbox.limits import Limits
from autograder.specs import registry
from autograder.specs.export import hidden_blob


@dataclass
class ItemResult:
    """One graded cell: an autograded test or a manually graded written answer."""

    grade_id: str
    kind: str  # "autograded" or "manual"
    max_points: float
    points: float | None  # None: waits for manual grading
    messages: list[str] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)
    # For the instructor only: what hidden cases failed on (their labels, expected values).
    details: list[str] = field(default_factory=list)

    @property
    def needs_manual_grade(self) -> bool:
        return self.points is None


@dataclass
class NotebookResult:
    assignment: str
    student: str
    items: list[ItemResult]
    problems: list[str] = field(default_factory=list)
    notebook: NotebookNode | None = None
    seconds: float = 0.0
    isolation: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(i.points or 0.0 for i in self.items)

    @property
    def max_score(self) -> float:
        return sum(i.max_points for i in self.items)

    def item(self, grade_id: str) -> ItemResult:
        return next(i for i in self.items if i.grade_id == grade_id)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the executed notebook, as plain JSON-able data."""
        return {
            "assignment": self.assignment, "student": self.student,
            "score": self.score, "max_score": self.max_score,
            "problems": self.problems, "seconds": round(self.seconds, 3),
            "isolation": self.isolation,
            "items": [asdict(i) for i in self.items],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NotebookResult:
        items = [ItemResult(**i) for i in data["items"]]
        return cls(data["assignment"], data["student"], items, list(data["problems"]), None,
                   float(data.get("seconds", 0.0)), list(data.get("isolation", [])))


def grade_notebook(source: Path, submission: Path, *, student: str = "student",
                   limits: Limits | None = None, hide: list[Path] | None = None) -> NotebookResult:
    """Run ``submission`` with the tests of ``source`` and score it from the observed values."""
    src = _read_source(source)
    assignment = source.parent.name
    problems: list[str] = []
    try:
        sub = nbformat.read(str(submission), as_version=4)
    except Exception as exc:
        problems.append(f"the notebook could not be read ({type(exc).__name__}: {exc}); "
                        "every autograded item scores 0")
        return NotebookResult(assignment, student, _empty_items(src, problems[0]), problems)
    to_run = assemble(src, sub)
    with tempfile.TemporaryDirectory(prefix="dlf-work-") as tmp:
        work = Path(tmp)
        for extra in submission.parent.iterdir():
            if extra.is_file() and extra.suffix != ".ipynb":
                shutil.copy(extra, work / extra.name)
        hidden = [*private_paths(ROOT), *(hide or []), submission.parent.resolve()]
        ids = [call.check_id for cell in src.cells if is_test(cell)
               for call in check_calls(cell.source) if call.hidden]
        run = execute(to_run, workdir=work, limits=limits or Limits(), hide=hidden,
                      hidden=hidden_blob(ids))
    if run.fatal:
        problems.append(run.fatal)
    for index, error in sorted(run.errors.items()):
        if error.startswith("CellTimeout"):
            problems.append(f"cell {index + 1}: {error.partition(': ')[2]}")
    items = [_score_cell(cell, run) for cell in _graded_cells(src)]
    return NotebookResult(assignment, student, items, problems, run.notebook, run.seconds,
                          run.isolation)


def _read_source(path: Path) -> NotebookNode:
    """The source notebook, read once per process for all the submissions of a class."""
    stat = path.stat()
    return _read_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _read_cached(path: str, mtime_ns: int, size: int) -> NotebookNode:
    return nbformat.read(path, as_version=4)


def _graded_cells(src: NotebookNode) -> list[NotebookNode]:
    return [c for c in src.cells if is_test(c) or is_written(c)]


def _empty_items(src: NotebookNode, reason: str) -> list[ItemResult]:
    return [ItemResult(nbgrader_meta(c)["grade_id"], "manual" if is_written(c) else "autograded",
                       float(nbgrader_meta(c).get("points", 0)),
                       None if is_written(c) else 0.0, [reason]) for c in _graded_cells(src)]


def _score_cell(src_cell: NotebookNode, run: Execution) -> ItemResult:
    meta = nbgrader_meta(src_cell)
    gid, max_points = meta["grade_id"], float(meta.get("points", 0))
    if is_written(src_cell):
        # nbgrader's rule: an answer unchanged from the release (by checksum) scores 0 by itself.
        answer = next((c for c in run.notebook.cells
                       if nbgrader_meta(c).get("grade_id") == gid and not is_test(c)), None)
        if is_unchanged(answer, src_cell):
            return ItemResult(gid, "manual", max_points, 0.0, ["no answer written: 0 points"])
        return ItemResult(gid, "manual", max_points, None, ["waits for manual grading"])
    index = next((i for i, c in enumerate(run.notebook.cells)
                  if nbgrader_meta(c).get("grade_id") == gid and is_test(c)), None)
    if index is None:  # pragma: no cover - assemble always restores test cells
        return ItemResult(gid, "autograded", max_points, 0.0, ["the test cell is missing"])
    expected = check_calls(src_cell.source)
    error = run.errors.get(index)
    if not expected:  # a plain nbgrader test cell: it passes when it raises nothing
        ok = error is None and index in _executed(run)
        return ItemResult(gid, "autograded", max_points, max_points if ok else 0.0,
                          [] if ok else [error or "the cell did not run"])
    records = run.records.get(index, [])
    messages: list[str] = []
    mistakes: list[str] = []
    details: list[str] = []
    passed = True
    wanted: dict[tuple[str, bool], int] = {}
    for call in expected:
        wanted[(call.check_id, call.hidden)] = wanted.get((call.check_id, call.hidden), 0) + 1
    for (check_id, hidden), count in wanted.items():
        # Every record for this check must pass: an extra, forged record cannot help.
        found = [r for r in records if r["id"] == check_id and r["hidden"] == hidden]
        if len(found) < count:
            passed = False
            if error and error.startswith("CheckFailed"):
                why = ": an earlier check in this cell failed"
            elif error and error.startswith("NameError"):
                why = (f" ({_last_line(error)}: write your answer in its cell, replacing "
                       "`raise NotImplementedError()`, and run that cell)")
            elif error:
                why = f" ({_last_line(error)})"
            else:
                why = " (the kernel had stopped)" if run.fatal else ""
            messages.append(f"{check_id}: the check did not run{why}")
            continue
        spec = registry.get(check_id)
        for record in found:
            verdict = spec.evaluate(record["obs"], hidden=hidden)
            messages.append(verdict.report())
            mistakes.extend(verdict.mistakes)
            details.extend(f"{check_id}: {d}" for d in verdict.details)
            passed = passed and verdict.passed
    return ItemResult(gid, "autograded", max_points, max_points if passed else 0.0,
                      messages, mistakes, details)


def _executed(run: Execution) -> set[int]:
    return {i for i, c in enumerate(run.notebook.cells)
            if c.cell_type == "code" and c.get("execution_count") is not None}


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else text[:300]
