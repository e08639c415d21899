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
from pathlib import Path
from typing import Any

import nbformat

from autograder import __version__
from autograder.cluster.client import grade_on_cluster
from autograder.grading import NotebookResult
from autograder.grading.batch import Job, grade_many
from autograder.instructor import gradebook
from autograder.instructor.gradebook import disk_full_is_clear
from autograder.instructor.workspace import Submission, Workspace, WorkspaceError
from autograder.nb.course import ROOT
from autograder.progress import ProgressBar
from autograder.sandbox.limits import Limits


@dataclass
class GradeSummary:
    graded: int = 0
    reused: int = 0
    reconciled: int = 0  # results already on disk that the gradebook was missing
    results: list[NotebookResult] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # folders with no single notebook to grade
    seconds: float = 0.0
    refused_workers: list[str] = field(default_factory=list)  # Dask workers of another grader


# Bumped when what a result holds changes, so older results are graded again.
RESULT_RULES = "2: blank written answers score 0 by nbgrader's checksum rule"


def fingerprint(sub: Submission) -> str:
    digest = hashlib.sha256()
    for part in (sub.path.read_bytes(), sub.assignment.source.read_bytes(), __version__.encode(),
                 RESULT_RULES.encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _previous(ws: Workspace, sub: Submission) -> dict[str, Any]:
    try:
        data = json.loads((ws.result_dir(sub) / "result.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _store(ws: Workspace, sub: Submission, key: str, result: NotebookResult) -> None:
    out = ws.result_dir(sub)
    out.mkdir(parents=True, exist_ok=True)
    if result.notebook is not None:
        tmp_nb = out / f".{sub.assignment.name}.ipynb.tmp"
        nbformat.write(result.notebook, str(tmp_nb))
        tmp_nb.replace(out / f"{sub.assignment.name}.ipynb")
    data = result.to_dict() | {"fingerprint": key, "submission": _sha(sub.path)}
    tmp = out / "result.json.tmp"
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(out / "result.json")  # atomic: an interrupted run never leaves half a result


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def grade_workspace(ws: Workspace, *, assignments: list[str] | None = None,
                    workers: int | None = None, limits: Limits | None = None,
                    force: bool = False, show_progress: bool = True,
                    scheduler: str | None = None) -> GradeSummary:
    """Grade what changed, record each result in the gradebook first, then on disk.

    The gradebook row is committed before ``result.json`` is written, so a crash or a
    full disk between the two leaves no result the gradebook lacks: the next run grades
    that submission again. Results from before this rule (or a restored gradebook) are
    reconciled at the start of every run.

    With ``scheduler`` (a Dask scheduler's address) the notebooks are graded on that
    cluster (``autograder.cluster``) and recorded here, in batches; ``workers`` is unused.
    """
    start = time.monotonic()
    ws.require()
    ws.check_assignments(assignments)
    scan = ws.scan(assignments)
    subs = scan.submissions
    if not subs and not scan.refused:
        raise WorkspaceError(f"no submission to grade in {ws.submitted}"
                             + (f" for {', '.join(assignments)}" if assignments else "")
                             + f": import some first (dlf import SOURCE --workspace {ws.path})")
    summary = GradeSummary(refused=scan.refused)
    todo: list[tuple[Submission, str, bool]] = []
    cached: list[tuple[Submission, NotebookResult]] = []
    for sub in subs:
        key = fingerprint(sub)
        before = _previous(ws, sub)
        changed = bool(before) and before.get("submission") not in (None, _sha(sub.path))
        if not force and before.get("fingerprint") == key:
            try:
                cached.append((sub, NotebookResult.from_dict(before)))
                continue
            except (KeyError, TypeError, ValueError):
                pass
        todo.append((sub, key, changed))
    with disk_full_is_clear(ws.path):
        gradebook.register_assignments(ws, sorted({s.assignment.name for s in subs}))
    keys = {(s.student, s.assignment.name): (s, k, c) for s, k, c in todo}
    jobs = [Job(sub.assignment.source, sub.path, sub.student, limits) for sub, _, _ in todo]
    with gradebook.GradebookWriter(ws) as books:
        recorded = books.recorded() if cached else {}
        for sub, result in cached:
            if not books.matches(result, recorded):
                books.record(result, sub)
                summary.reconciled += 1
            summary.results.append(result)
            summary.reused += 1
        bar = ProgressBar(total=len(todo), label="grading", enabled=show_progress)

        def done(job: Job, result: NotebookResult) -> None:
            sub, key, changed = keys[(job.student, job.source.parent.name)]
            books.record(result, sub, content_changed=changed)
            with disk_full_is_clear(ws.autograded):
                _store(ws, sub, key, result)
            bar.advance()

        def done_batch(batch: list[tuple[Job, NotebookResult]]) -> None:
            rows = []
            for job, result in batch:
                sub, _, changed = keys[(job.student, job.source.parent.name)]
                rows.append((result, sub, changed))
            books.record_many(rows)
            for job, result in batch:
                sub, key, _ = keys[(job.student, job.source.parent.name)]
                with disk_full_is_clear(ws.autograded):
                    _store(ws, sub, key, result)
                bar.advance()

        try:
            if scheduler:
                if ws.root.resolve() != ROOT.resolve():
                    raise WorkspaceError(f"--scheduler grades the installed course's assignments "
                                         f"({ROOT}); this workspace's course is {ws.root}")
                run = grade_on_cluster(jobs, address=scheduler, on_batch=done_batch)
                summary.results.extend(run.results[i] for i in sorted(run.results))
                summary.refused.extend(run.not_graded)
                summary.refused_workers = run.refused_workers
            else:
                summary.results.extend(grade_many(jobs, workers=workers, on_done=done))
        finally:
            bar.close()
    summary.graded = len(summary.results) - len(cached)
    summary.seconds = time.monotonic() - start
    order = {(s.student, s.assignment.name): i for i, s in enumerate(subs)}
    summary.results.sort(key=lambda r: order.get((r.student, r.assignment), 0))
    return summary


def load_results(ws: Workspace) -> list[NotebookResult]:
    """Every stored result: the grader's messages, problems and mistakes (scores come from the gradebook)."""
    out = []
    for data in load_raw(ws).values():
        try:
            out.append(NotebookResult.from_dict(data))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def load_raw(ws: Workspace) -> dict[tuple[str, str], dict[str, Any]]:
    """Every stored ``result.json`` as plain data, by (student, assignment); fields added later
    by the sandbox (``flags``) are read with ``.get``."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(ws.autograded.glob("*/*/result.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            out[(path.parent.parent.name, path.parent.name)] = data
    return out
