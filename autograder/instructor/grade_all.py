"""``dlf grade``: grade every submission in parallel, resumably, and record the results.

A submission whose notebook, source notebook and grader are unchanged since its last
grading is not run again: re-running is idempotent and an interrupted run resumes
where it stopped. Results land in ``autograded/`` and in nbgrader's gradebook.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

import nbformat

from autograder import __version__
from autograder.grading import NotebookResult
from autograder.grading.batch import Job, grade_many
from autograder.instructor import gradebook
from autograder.instructor.workspace import Submission, Workspace
from autograder.progress import ProgressBar
from autograder.sandbox.limits import Limits


@dataclass
class GradeSummary:
    graded: int = 0
    reused: int = 0
    results: list[NotebookResult] = field(default_factory=list)
    seconds: float = 0.0


def fingerprint(sub: Submission) -> str:
    digest = hashlib.sha256()
    for part in (sub.path.read_bytes(), sub.assignment.source.read_bytes(), __version__.encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _cached(ws: Workspace, sub: Submission, key: str) -> NotebookResult | None:
    path = ws.result_dir(sub) / "result.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("fingerprint") != key:
        return None
    return NotebookResult.from_dict(data)


def _store(ws: Workspace, sub: Submission, key: str, result: NotebookResult) -> None:
    out = ws.result_dir(sub)
    out.mkdir(parents=True, exist_ok=True)
    if result.notebook is not None:
        nbformat.write(result.notebook, str(out / f"{sub.assignment.name}.ipynb"))
    data = result.to_dict() | {"fingerprint": key}
    tmp = out / "result.json.tmp"
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(out / "result.json")  # atomic: an interrupted run never leaves half a result


def grade_workspace(ws: Workspace, *, assignments: list[str] | None = None,
                    workers: int | None = None, limits: Limits | None = None,
                    force: bool = False, show_progress: bool = True) -> GradeSummary:
    start = time.monotonic()
    subs = ws.submissions(assignments)
    summary = GradeSummary()
    todo: list[tuple[Submission, str]] = []
    for sub in subs:
        key = fingerprint(sub)
        cached = None if force else _cached(ws, sub, key)
        if cached is not None:
            summary.results.append(cached)
            summary.reused += 1
        else:
            todo.append((sub, key))
    gradebook.register_assignments(ws, sorted({s.assignment.name for s in subs}))
    bar = ProgressBar(total=len(todo), label="grading", enabled=show_progress)
    keys = {(s.student, s.assignment.name): (s, k) for s, k in todo}

    jobs = [Job(sub.assignment.source, sub.path, sub.student, limits) for sub, _ in todo]
    with gradebook.GradebookWriter(ws) as books:

        def done(job: Job, result: NotebookResult) -> None:
            sub, key = keys[(job.student, job.source.parent.name)]
            _store(ws, sub, key, result)
            books.record(result)
            bar.advance()

        summary.results.extend(grade_many(jobs, workers=workers, on_done=done))
    bar.close()
    summary.graded = len(todo)
    summary.seconds = time.monotonic() - start
    order = {(s.student, s.assignment.name): i for i, s in enumerate(subs)}
    summary.results.sort(key=lambda r: order.get((r.student, r.assignment), 0))
    return summary


def load_results(ws: Workspace) -> list[NotebookResult]:
    """Every stored result, for feedback, export and report."""
    out = []
    for path in sorted(ws.autograded.glob("*/*/result.json")):
        try:
            out.append(NotebookResult.from_dict(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError):
            continue
    return out


